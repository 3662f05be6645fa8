import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { OrderView } from '@lib/api'
import { configView, drinkOrder, orderView as order } from '@lib/testing/fixtures'
import { installFakeServices } from '@lib/testing/services'
import type { RecordedRequest } from '@lib/testing/fakes'
import { useQueueStore } from '../queue'

vi.mock('@lib/ui/chime', () => ({ playChime: vi.fn(), unlockChime: vi.fn() }))
import { playChime } from '@lib/ui/chime'

function setup(reject?: (req: RecordedRequest) => boolean) {
  const actions: RecordedRequest[] = []
  const services = installFakeServices(
    (req) => {
      if (req.url.startsWith('/api/orders?')) {
        const state = new URL(req.url, 'http://x').searchParams.get('state')
        if (state === 'completed') return { body: [order(1, { state: 'completed', finishedAt: Date.now() })] }
        if (state === 'inProgress') return { body: [order(4, { state: 'inProgress', baristaUserId: 'b-other' })] }
        return { body: [order(2), order(3), order(5)] }
      }
      if (req.url === '/api/events/E/config') return { body: configView() }
      if (req.url === '/api/events/E/store') {
        const state = (req.body as { state: 'open' | 'paused' | 'closed' }).state
        return { body: configView({ storeState: state, open: state !== 'closed', paused: state === 'paused' }) }
      }
      if (req.method === 'PUT') {
        actions.push(req)
        if (reject?.(req)) return { status: 409, body: { type: 'already-completed', title: 'Conflict', status: 409, detail: 'Order already completed.' } }
        return { status: 204 }
      }
      return { status: 404, body: {} }
    },
    { sub: 'b-me', givenName: 'Bea', groups: ['admin'] },
  )
  setActivePinia(createPinia())
  const queue = useQueueStore()
  return { queue, actions, services }
}

const numbers = (orders: OrderView[]) => orders.map((o) => o.orderNumber)

describe('useQueueStore', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.mocked(playChime).mockClear()
  })

  it('sorts orders into new, in progress and ready lanes', async () => {
    const { queue } = setup()
    queue.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(numbers(queue.newOrders)).toEqual([2, 3, 5])
    expect(numbers(queue.inProgress)).toEqual([4])
    expect(numbers(queue.readyOrders)).toEqual([1])
    expect(queue.storeState).toBe('open')
  })

  it('moves a card at once but sends the action only after five seconds', async () => {
    const { queue, actions } = setup()
    queue.start()
    await vi.advanceTimersByTimeAsync(0)
    queue.act(queue.newOrders[0]!, 'make')
    expect(numbers(queue.inProgress)).toEqual([2, 4])
    expect(queue.inProgress[0]!.baristaUserId).toBe('b-me')
    await vi.advanceTimersByTimeAsync(4900)
    expect(actions).toEqual([])
    await vi.advanceTimersByTimeAsync(100)
    expect(actions.map((a) => a.url)).toEqual(['/api/orders/o2?action=make'])
    expect(numbers(queue.inProgress)).toEqual([2, 4])
    expect(queue.held).toEqual([])
  })

  it('sends nothing when the barista undoes in time', async () => {
    const { queue, actions } = setup()
    queue.start()
    await vi.advanceTimersByTimeAsync(0)
    queue.act(queue.newOrders[1]!, 'cancel')
    expect(numbers(queue.newOrders)).toEqual([2, 5])
    queue.undoAction(queue.held[0]!.id)
    expect(numbers(queue.newOrders)).toEqual([2, 3, 5])
    await vi.advanceTimersByTimeAsync(10_000)
    expect(actions).toEqual([])
  })

  it('puts the card back and says why when the server refuses', async () => {
    const { queue } = setup(() => true)
    queue.start()
    await vi.advanceTimersByTimeAsync(0)
    queue.act(queue.inProgress[0]!, 'complete')
    expect(numbers(queue.readyOrders)).toEqual([4, 1])
    await vi.advanceTimersByTimeAsync(5000)
    expect(queue.problem).toMatch(/Ready #4 did not go through: Order already completed/)
    expect(numbers(queue.inProgress)).toEqual([4])
  })

  it('chimes when a new order reaches the queue, once', async () => {
    const { queue } = setup()
    queue.start()
    await vi.advanceTimersByTimeAsync(0)
    const msg = {
      type: 'OrderManager.WaitingCompletion',
      detail: { eventId: 'E', orderId: 'o9', state: 'queued' as const, orderNumber: 9, drinkOrder: drinkOrder('latte', 'oat'), TS: Date.now() },
    }
    queue.onMessage(msg)
    queue.onMessage(msg)
    expect(numbers(queue.newOrders)).toEqual([2, 3, 5, 9])
    expect(playChime).toHaveBeenCalledTimes(1)
    expect(queue.announcement).toBe('New order #9 for a guest: Latte')
    queue.soundOn = false
    queue.onMessage({ ...msg, detail: { ...msg.detail, orderId: 'o10', orderNumber: 10 } })
    expect(playChime).toHaveBeenCalledTimes(1)
  })

  it('ignores events of another event', async () => {
    const { queue } = setup()
    queue.start()
    await vi.advanceTimersByTimeAsync(0)
    queue.onMessage({ type: 'OrderManager.OrderCancelled', detail: { eventId: 'OTHER', orderId: 'o2', state: 'cancelled' } })
    expect(numbers(queue.newOrders)).toEqual([2, 3, 5])
  })

  it('groups identical drinks and makes a whole group in one go', async () => {
    const { queue, actions } = setup()
    queue.start()
    await vi.advanceTimersByTimeAsync(0)
    const latte = queue.newGroups.find((g) => g.label === 'Latte · Oat')!
    expect(latte.orders.map((o) => o.orderNumber)).toEqual([3, 5])
    queue.actOnGroup(latte.orders, 'make')
    await vi.advanceTimersByTimeAsync(5000)
    expect(actions.map((a) => a.url).sort()).toEqual(['/api/orders/o3?action=make', '/api/orders/o5?action=make'])
  })

  it('switches the store and marks an option sold out through the config API', async () => {
    const { queue, services } = setup()
    queue.start()
    await vi.advanceTimersByTimeAsync(0)
    await queue.setStoreState('paused')
    expect(queue.storeState).toBe('paused')
    await queue.setOptionAvailable('oat', false)
    await queue.setDrinkAvailable('mocha', true)
    const puts = services.fetch.requests.filter((r) => r.method === 'PUT' && r.url.startsWith('/api/events/E/'))
    expect(puts.map((p) => [p.url, p.body])).toEqual([
      ['/api/events/E/store', { state: 'paused' }],
      ['/api/events/E/config', { availability: { options: { oat: false } } }],
      ['/api/events/E/config', { availability: { drinks: { mocha: true } } }],
    ])
  })
})
