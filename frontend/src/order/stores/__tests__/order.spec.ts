import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { OrderView } from '@lib/api'
import { configView, orderView } from '@lib/testing/fixtures'
import { installFakeServices, settle } from '@lib/testing/services'
import type { FakeRoute } from '@lib/testing/fakes'
import { scanFromUrl, useOrderStore } from '../order'

const CONFIG = configView()
const base: OrderView = orderView(1, { state: 'pending', orderNumber: undefined, drinkOrder: undefined, userId: 'u1' })

function setup(extra: FakeRoute = () => undefined as never) {
  const services = installFakeServices(
    async (req) => {
      const custom = await extra(req)
      if (custom) return custom
      if (req.url === '/api/events/E/config') return { body: CONFIG }
      if (req.url === '/api/myOrders') return { body: [] }
      if (req.url === '/api/orders/o1' && req.method === 'GET') return { body: { ...base, drinkDeadline: 301_000 } }
      if (req.url.startsWith('/api/qr-code')) return { body: { orderId: 'o1', eventId: 'E', state: 'pending', drinkDeadline: 301_000 } }
      if (req.method === 'PUT') return { status: 204 }
      return { status: 404, body: {} }
    },
    { sub: 'u1', givenName: 'Ana' },
  )
  sessionStorage.clear()
  setActivePinia(createPinia())
  return { store: useOrderStore(), services }
}

describe('useOrderStore', () => {
  beforeEach(() => sessionStorage.clear())

  it('spends a scanned code once and follows the new order', async () => {
    const { store, services } = setup()
    store.rememberScan({ eventId: 'E', token: 'T1' })
    expect(JSON.parse(sessionStorage.getItem('presso.order.pendingScan')!)).toEqual({ eventId: 'E', token: 'T1' })
    expect(await store.redeemScan()).toBe('o1')
    await settle()
    expect(store.pendingScan).toBeNull()
    expect(sessionStorage.getItem('presso.order.pendingScan')).toBeNull()
    expect(store.current).toMatchObject({ orderId: 'o1', state: 'pending', drinkDeadline: 301_000 })
    expect(services.fetch.requests.filter((r) => r.method === 'POST').map((r) => r.url)).toEqual(['/api/qr-code?eventId=E&token=T1'])
    expect(await store.redeemScan()).toBeNull()
  })

  it.each([
    [400, 'invalid_code', 'This QR code has expired'],
    [429, 'no_tokens_remaining', 'No drinks left for this code'],
    [429, 'too_many_open_orders', 'You already have an order'],
    [409, 'store_closed', 'The coffee bar is closed'],
  ])('explains a refused scan (%i %s)', async (status, code, title) => {
    const { store } = setup((req) =>
      req.method === 'POST' ? { status, body: { type: `urn:serverlesspresso:problem:${code}`, title: 'x', status, code, detail: '' } } : (undefined as never),
    )
    store.rememberScan({ eventId: 'E', token: 'T' })
    expect(await store.redeemScan()).toBeNull()
    expect(store.error?.title).toBe(title)
    expect(store.pendingScan).toBeNull()
  })

  it('sends only a valid choice, in the API shape', async () => {
    const { store, services } = setup()
    store.start()
    await store.open('o1')
    await settle()
    expect(await store.submit({ drink: 'mocha', options: {} })).toBe(false)
    expect(await store.submit({ drink: 'latte', options: { milk: ['oat'] } })).toBe(false)
    expect(services.fetch.requests.some((r) => r.method === 'PUT')).toBe(false)

    expect(await store.submit({ drink: 'latte', options: { milk: ['regular'] } })).toBe(true)
    const put = services.fetch.requests.find((r) => r.method === 'PUT')!
    expect(put.url).toBe('/api/orders/o1')
    expect(put.body).toEqual({ drink: 'latte', modifiers: ['regular'] })
    expect(store.current?.state).toBe('submitted')
    store.stop()
  })

  it('shows why the server refused a choice and reloads the menu', async () => {
    const { store, services } = setup((req) =>
      req.method === 'PUT'
        ? { status: 422, body: { type: 'urn:serverlesspresso:problem:drink_unavailable', title: 'Unprocessable Content', status: 422, code: 'drink_unavailable', detail: 'Latte just sold out.' } }
        : (undefined as never),
    )
    store.start()
    await store.open('o1')
    await settle()
    const configLoads = () => services.fetch.requests.filter((r) => r.url === '/api/events/E/config').length
    const before = configLoads()
    expect(await store.submit({ drink: 'latte', options: { milk: ['regular'] } })).toBe(false)
    await settle()
    expect(store.error).toMatchObject({ title: 'That choice is not available', detail: 'Latte just sold out.' })
    expect(configLoads()).toBe(before + 1)
    store.stop()
  })

  it('follows its order through realtime events', async () => {
    const { store } = setup()
    store.start()
    await store.open('o1')
    store.onMessage({ type: 'OrderManager.MakeOrder', detail: { eventId: 'E', orderId: 'o1', state: 'inProgress', baristaUserId: 'b', TS: 5000 } })
    expect(store.current).toMatchObject({ state: 'inProgress', baristaUserId: 'b' })
    store.onMessage({ type: 'OrderManager.OrderCompleted', detail: { eventId: 'E', orderId: 'o1', state: 'completed', TS: 6000 } })
    expect(store.current?.state).toBe('completed')
    expect(store.history[0]?.state).toBe('completed')
    store.stop()
  })

  it('applies a configuration change from the config topic', async () => {
    const { store } = setup()
    store.start()
    await settle()
    store.onMessage({ type: 'ConfigService.ConfigChanged', detail: { eventId: 'E', state: 'closed', config: configView({ storeState: 'closed', open: false }) } })
    expect(store.storeOpen).toBe(false)
    store.stop()
  })

  it('cancels its order', async () => {
    const { store, services } = setup()
    await store.open('o1')
    expect(await store.cancel()).toBe(true)
    expect(store.current?.state).toBe('cancelled')
    expect(services.fetch.requests.find((r) => r.method === 'PUT')?.url).toBe('/api/orders/o1?action=cancel')
  })
})

describe('scanFromUrl', () => {
  it.each([
    ['http://bar/order/?eventId=NYC&token=abc', { eventId: 'NYC', token: 'abc' }],
    ['http://bar/order/?token=abc', { eventId: 'default', token: 'abc' }],
    ['http://bar/order/?eventId=NYC', null],
    ['just text', null],
  ])('reads %s', (url, expected) => expect(scanFromUrl(url, 'default')).toEqual(expected))
})
