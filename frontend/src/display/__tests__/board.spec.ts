import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { EventConfig, Order } from '@lib/api'
import { installFakeServices } from '@lib/testing/services'
import { useBoardStore } from '../stores/board'

const START = Date.UTC(2026, 10, 23, 20, 0, 0)
const CONFIG: EventConfig = { eventId: 'E', storeOpen: true, paused: false, drinksPerBarcode: 10, maxOrdersInQueue: 10, maxOrdersPerUser: 1, menu: [] }
const order = (n: number, over: Partial<Order> = {}): Order => ({
  orderId: `o${n}`,
  eventId: 'E',
  userId: 'u',
  displayName: `Name ${n}`,
  state: 'CREATED',
  orderNumber: n,
  drinkOrder: { drink: 'Latte', modifiers: [] },
  createdAt: START - 60_000,
  ...over,
})

function setup(opts: { admin?: boolean; qrFails?: () => boolean } = {}) {
  let window = 0
  const services = installFakeServices(
    (req) => {
      if (req.url === '/api/events/E/config') return { body: CONFIG }
      if (req.url.startsWith('/api/orders?')) {
        return { body: { orders: req.url.includes('COMPLETED') ? [order(1, { state: 'COMPLETED', completedAt: START - 30_000 })] : [order(3), order(2)] } }
      }
      if (req.url === '/api/qr-code?eventId=E') {
        if (opts.qrFails?.()) throw new TypeError('offline')
        window++
        const windowEnds = START + window * 300_000 - 1
        return { body: { eventId: 'E', token: `code-${window}`, windowEnds, windowStart: windowEnds - 299_999, remaining: 10 } }
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
    expect(board.qr?.token).toBe('code-1')
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
    expect(board.qr?.token).toBe('code-1')
    await vi.advanceTimersByTimeAsync(16_000)
    expect(board.qr?.token).toBe('code-2')
    expect(board.panel.phase).toBe('show')
    board.stop()
  })

  it('keeps trying for the next code while the server is unreachable', async () => {
    let offline = false
    const { board, services } = setup({ qrFails: () => offline })
    board.start()
    await vi.advanceTimersByTimeAsync(0)
    offline = true
    await vi.advanceTimersByTimeAsync(300_000 + 30_000)
    const attempts = services.fetch.requests.filter((r) => r.url === '/api/qr-code?eventId=E').length
    expect(attempts).toBeGreaterThan(3)
    expect(attempts).toBeLessThan(15)
    offline = false
    await vi.advanceTimersByTimeAsync(31_000)
    expect(board.qr?.token).toBe('code-2')
    board.stop()
  })

  it('counts drinks down from live scans and hides the code when none are left', async () => {
    const { board } = setup()
    board.start()
    await vi.advanceTimersByTimeAsync(0)
    board.onMessage({ type: 'Validator.NewOrder', detail: { eventId: 'E', orderId: 'x', remaining: 1 } })
    expect(board.qr?.remaining).toBe(1)
    board.onMessage({ type: 'Validator.NewOrder', detail: { eventId: 'E', orderId: 'y', bucket: { availableTokens: 0 } } })
    expect(board.panel.phase).toBe('soldOut')
    board.stop()
  })

  it('moves orders to ready and drops them ten minutes later', async () => {
    const { board } = setup()
    board.start()
    await vi.advanceTimersByTimeAsync(0)
    board.onMessage({ type: 'OrderManager.OrderCompleted', detail: { eventId: 'E', orderId: 'o2', time: START } })
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
    board.onMessage({ type: 'ConfigService.ConfigChanged', detail: { eventId: 'E', config: { ...CONFIG, storeOpen: false } } })
    expect(board.panel.phase).toBe('closed')
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
