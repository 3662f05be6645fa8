import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { configView, orderView } from '@lib/testing/fixtures'
import { installFakeServices } from '@lib/testing/services'
import { useBoardStore } from '../board'

const START = Date.UTC(2026, 10, 23, 20, 0, 0)
const order = (n: number, over: Parameters<typeof orderView>[1] = {}) =>
  orderView(n, { displayName: `Name ${n}`, createdAt: START - 60_000, updatedAt: START - 60_000, ...over })

/**
 * A fake API whose QR windows follow the (fake) clock plus `serverAhead()`, as the server's do: window 1
 * starts at START.
 */
function setup(opts: { admin?: boolean; qrFails?: () => boolean; configFails?: boolean; serverAhead?: () => number } = {}) {
  const services = installFakeServices(
    (req) => {
      if (req.url === '/api/events/E/config') return opts.configFails ? { status: 503, body: {} } : { body: configView() }
      if (req.url.startsWith('/api/orders?')) {
        const state = new URL(req.url, 'http://x').searchParams.get('state')
        if (state === 'completed') return { body: [order(1, { state: 'completed', finishedAt: START - 30_000 })] }
        if (state === 'inProgress') return { body: [order(3, { state: 'inProgress', baristaUserId: 'b' })] }
        return { body: [order(2)] }
      }
      if (req.url === '/api/qr-code?eventId=E') {
        if (opts.qrFails?.()) throw new TypeError('offline')
        const serverNow = Date.now() + (opts.serverAhead?.() ?? 0)
        const window = Math.floor((serverNow - START) / 300_000) + 1
        const endTs = START + window * 300_000 - 1
        const bucket = {
          eventId: 'E',
          windowId: window,
          code: `code-${window}`,
          startTs: endTs - 299_999,
          endTs,
          validUntil: endTs + 15_000,
          availableTokens: 10,
          tokensPerWindow: 10,
          createdAt: endTs - 299_999,
        }
        return { body: { bucket, storeState: 'open' } }
      }
      return { status: 404, body: {} }
    },
    opts.admin === false ? null : { sub: 'admin', givenName: 'Bea', groups: ['admin'] },
  )
  setActivePinia(createPinia())
  return { board: useBoardStore(), services }
}

describe('useBoardStore', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: START, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  })
  afterEach(() => vi.useRealTimers())

  it('shows the current code and the queue', async () => {
    const { board } = setup()
    board.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(board.panel.phase).toBe('show')
    expect(board.qr?.code).toBe('code-1')
    expect(board.preparing.map((o) => o.orderNumber)).toEqual([2, 3])
    expect(board.ready.map((o) => o.orderNumber)).toEqual([1])
    board.stop()
  })

  it('hides the code in its last 15 seconds and fetches the next one when the window ends', async () => {
    const { board } = setup()
    board.start()
    await vi.advanceTimersByTimeAsync(0)
    await vi.advanceTimersByTimeAsync(300_000 - 15_000)
    expect(board.panel.phase).toBe('turning')
    expect(board.qr?.code).toBe('code-1')
    await vi.advanceTimersByTimeAsync(16_000)
    expect(board.qr?.code).toBe('code-2')
    expect(board.panel.phase).toBe('show')
    board.stop()
  })

  it('keeps trying for the next code while the server is unreachable', async () => {
    let offline = false
    const { board, services } = setup({ qrFails: () => offline })
    board.start()
    await vi.advanceTimersByTimeAsync(0)
    offline = true
    const attempts = () => services.fetch.requests.filter((r) => r.url === '/api/qr-code?eventId=E').length
    await vi.advanceTimersByTimeAsync(210_000)
    const before = attempts()
    await vi.advanceTimersByTimeAsync(120_000)
    expect(before).toBeGreaterThan(3)
    // Backed off to one try every 30 s, across the end of the window too.
    expect(attempts() - before).toBeLessThanOrEqual(5)
    expect(board.qr?.code).toBe('code-1')
    offline = false
    await vi.advanceTimersByTimeAsync(31_000)
    expect(board.qr?.code).toBe('code-2')
    board.stop()
  })

  it("re-reads the code every 15 s, so a server whose clock moved on gets its new code shown", async () => {
    let ahead = 0
    const { board } = setup({ serverAhead: () => ahead })
    board.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(board.qr?.code).toBe('code-1')
    await vi.advanceTimersByTimeAsync(14_000)
    expect(board.panel.secondsLeft).toBe(300 - 15 - 14)
    // The server's clock jumps past the window (a development server's POST /_presso/clock).
    ahead = 300_000
    await vi.advanceTimersByTimeAsync(2_000)
    expect(board.qr?.code).toBe('code-2')
    expect(board.panel.phase).toBe('show')
    // The display now counts down on the server's clock, and re-reading the window keeps it there.
    const left = board.panel.secondsLeft
    await vi.advanceTimersByTimeAsync(30_000)
    expect(board.qr?.code).toBe('code-2')
    expect(board.panel.secondsLeft).toBe(left - 30)
    board.stop()
  })

  it('fetches the code at once when a scan shows the server is in a newer window', async () => {
    const { board, services } = setup()
    board.start()
    await vi.advanceTimersByTimeAsync(0)
    const reads = () => services.fetch.requests.filter((r) => r.url === '/api/qr-code?eventId=E').length
    const before = reads()
    board.onMessage({
      type: 'Validator.NewOrder',
      detail: { eventId: 'E', orderId: 'x', state: 'pending', bucket: { windowId: 2, availableTokens: 9, tokensPerWindow: 10, validUntil: START + 615_000 } },
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(reads()).toBe(before + 1)
    board.stop()
  })

  it('counts drinks down from live scans and hides the code when none are left', async () => {
    const { board } = setup()
    board.start()
    await vi.advanceTimersByTimeAsync(0)
    const snapshot = (availableTokens: number, windowId = 1) => ({ windowId, availableTokens, tokensPerWindow: 10, validUntil: START + 315_000 })
    board.onMessage({ type: 'Validator.NewOrder', detail: { eventId: 'E', orderId: 'x', state: 'pending', bucket: snapshot(1) } })
    expect(board.qr?.availableTokens).toBe(1)
    board.onMessage({ type: 'Validator.NewOrder', detail: { eventId: 'E', orderId: 'z', state: 'pending', bucket: snapshot(7, 99) } })
    expect(board.qr?.availableTokens).toBe(1)
    board.onMessage({ type: 'Validator.NewOrder', detail: { eventId: 'E', orderId: 'y', state: 'pending', bucket: snapshot(0) } })
    expect(board.panel.phase).toBe('soldOut')
    board.stop()
  })

  it('moves orders to ready and drops them ten minutes later', async () => {
    const { board } = setup()
    board.start()
    await vi.advanceTimersByTimeAsync(0)
    board.onMessage({ type: 'OrderManager.OrderCompleted', detail: { eventId: 'E', orderId: 'o2', state: 'completed', TS: START } })
    expect(board.preparing.map((o) => o.orderNumber)).toEqual([3])
    expect(board.ready.map((o) => o.orderNumber)).toEqual([2, 1])
    await vi.advanceTimersByTimeAsync(10 * 60_000 + 1000)
    expect(board.ready).toEqual([])
    board.stop()
  })

  it('shows the store closed when the configuration says so', async () => {
    const { board } = setup()
    board.start()
    await vi.advanceTimersByTimeAsync(0)
    board.onMessage({ type: 'ConfigService.ConfigChanged', detail: { eventId: 'E', state: 'closed', config: configView({ storeState: 'closed', open: false }) } })
    expect(board.panel.phase).toBe('closed')
    board.stop()
  })

  it('shows the code even when the configuration could not be loaded', async () => {
    const { board } = setup({ configFails: true })
    board.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(board.config).toBeNull()
    expect(board.panel.phase).toBe('show')
    board.stop()
  })

  it('asks nothing of the admin API before a barista signs in', async () => {
    const { board, services } = setup({ admin: false })
    board.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(services.fetch.requests.map((r) => r.url)).toEqual(['/api/events/E/config'])
    board.stop()
  })
})
