import { describe, expect, it } from 'vitest'
import { clockOffset, formatCountdown, qrPanelState, qrUrl, WINDOW_MS } from '../qrWindow'
import type { QrBucket } from '../../api/types'

const END = 1_700_000_099_999
const bucket = (over: Partial<QrBucket> = {}): QrBucket => ({
  eventId: 'E',
  windowId: 5_666_667,
  code: 'AbC123',
  startTs: END - WINDOW_MS + 1,
  endTs: END,
  validUntil: END + 15_000,
  availableTokens: 10,
  tokensPerWindow: 10,
  createdAt: END - WINDOW_MS + 1,
  ...over,
})

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
  ])('%i ms before the end with %i drinks left is %s (%i s)', (msLeft, availableTokens, phase, seconds) => {
    const state = qrPanelState({ bucket: bucket({ availableTokens }), now: END - msLeft, storeState: 'open' })
    expect(state.phase).toBe(phase)
    expect(state.secondsLeft).toBe(seconds)
  })

  it('asks for the next code only once the window is over', () => {
    expect(qrPanelState({ bucket: bucket(), now: END - 1, storeState: 'open' }).needsNextCode).toBe(false)
    expect(qrPanelState({ bucket: bucket(), now: END, storeState: 'open' }).needsNextCode).toBe(true)
    expect(qrPanelState({ bucket: null, now: END, storeState: 'open' })).toMatchObject({ phase: 'loading', needsNextCode: true })
  })

  it('shows the store as closed or paused before anything else', () => {
    expect(qrPanelState({ bucket: bucket(), now: END - 60_000, storeState: 'closed' }).phase).toBe('closed')
    expect(qrPanelState({ bucket: bucket(), now: END - 60_000, storeState: 'paused' }).phase).toBe('paused')
  })

  it('reports the share of the window still ahead', () => {
    expect(qrPanelState({ bucket: bucket(), now: END - WINDOW_MS / 2, storeState: 'open' }).fractionLeft).toBeCloseTo(0.5, 3)
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
    expect(qrUrl({ eventId: 're:Invent 26', code: 'a+b' }, 'http://192.168.1.5:8080/order/')).toBe(
      'http://192.168.1.5:8080/order/?eventId=re%3AInvent+26&token=a%2Bb',
    )
    expect(qrUrl({ eventId: 'E', code: 'T' }, 'http://x/order/?stale=1')).toBe('http://x/order/?eventId=E&token=T')
  })

  it("measures how far the server's clock is from ours by the window it handed out", () => {
    expect(clockOffset({ startTs: 1000, endTs: 2000 }, 1500)).toBe(0)
    expect(clockOffset({ startTs: 1000, endTs: 2000 }, 400)).toBe(600)
    expect(clockOffset({ startTs: 1000, endTs: 2000 }, 2600)).toBe(-600)
  })

  it('keeps an earlier clock correction that the bucket does not contradict', () => {
    // Corrected by 600 ms when the window was first read; read again 500 ms later, still inside it.
    expect(clockOffset({ startTs: 1000, endTs: 2000 }, 900, 600)).toBe(600)
    // A correction the new window rules out moves just far enough to fit it.
    expect(clockOffset({ startTs: 3000, endTs: 4000 }, 1000, 600)).toBe(2000)
    expect(clockOffset({ startTs: 1000, endTs: 2000 }, 1800, 600)).toBe(200)
  })
})
