import { describe, expect, it } from 'vitest'
import { clockOffset, formatCountdown, qrPanelState, qrUrl, WINDOW_MS } from '../qrWindow'
import type { QrCodeResponse } from '../../api/types'

const END = 1_700_000_099_999
const qr = (over: Partial<QrCodeResponse> = {}): QrCodeResponse => ({
  eventId: 'E',
  token: 'AbC123',
  windowStart: END - WINDOW_MS + 1,
  windowEnds: END,
  remaining: 10,
  ...over,
})
const open = { storeOpen: true, paused: false }

describe('qrPanelState', () => {
  it.each([
    // ms before the window ends, drinks left, expected phase, expected seconds shown
    [WINDOW_MS - 1, 10, 'show', 285],
    [60_000, 10, 'show', 45],
    [15_001, 3, 'show', 1],
    [15_000, 3, 'turning', 15],
    [14_001, 3, 'turning', 15],
    [1, 3, 'turning', 1],
    [0, 3, 'turning', 0],
    [-5_000, 3, 'turning', 0],
    [120_000, 0, 'soldOut', 120],
    [5_000, 0, 'soldOut', 5],
  ])('%i ms before the end with %i drinks left is %s (%i s)', (msLeft, remaining, phase, seconds) => {
    const state = qrPanelState({ qr: qr({ remaining }), now: END - msLeft, ...open })
    expect(state.phase).toBe(phase)
    expect(state.secondsLeft).toBe(seconds)
  })

  it('asks for the next code only once the window is over', () => {
    expect(qrPanelState({ qr: qr(), now: END - 1, ...open }).needsNextCode).toBe(false)
    expect(qrPanelState({ qr: qr(), now: END, ...open }).needsNextCode).toBe(true)
    expect(qrPanelState({ qr: null, now: END, ...open })).toMatchObject({ phase: 'loading', needsNextCode: true })
  })

  it('shows the store as closed or paused before anything else', () => {
    expect(qrPanelState({ qr: qr(), now: END - 60_000, storeOpen: false, paused: false }).phase).toBe('closed')
    expect(qrPanelState({ qr: qr(), now: END - 60_000, storeOpen: true, paused: true }).phase).toBe('paused')
  })

  it('reports the share of the window still ahead', () => {
    expect(qrPanelState({ qr: qr(), now: END - WINDOW_MS / 2, ...open }).fractionLeft).toBeCloseTo(0.5, 3)
    expect(qrPanelState({ qr: qr({ windowStart: undefined }), now: END - WINDOW_MS / 4, ...open }).fractionLeft).toBeCloseTo(0.25, 3)
  })
})

describe('QR helpers', () => {
  it.each([
    [0, '0:00'],
    [9, '0:09'],
    [75, '1:15'],
    [300, '5:00'],
    [-3, '0:00'],
  ])('formats %i s as %s', (s, text) => expect(formatCountdown(s)).toBe(text))

  it('builds the order URL from the event and the code, escaping both', () => {
    expect(qrUrl(qr({ eventId: 're:Invent 26', token: 'a+b' }), 'http://192.168.1.5:8080/order/')).toBe(
      'http://192.168.1.5:8080/order/?eventId=re%3AInvent+26&token=a%2Bb',
    )
    expect(qrUrl(qr({ url: 'https://x/order/?eventId=E&token=T' }), 'ignored')).toBe('https://x/order/?eventId=E&token=T')
  })

  it('measures the server clock offset from the round trip midpoint', () => {
    expect(clockOffset(10_500, 1_000, 2_000)).toBe(9_000)
    expect(clockOffset(undefined, 1_000, 2_000)).toBe(0)
  })
})
