import { describe, expect, it } from 'vitest'
import { ApiError, PressoApi, describeError, loadRuntimeConfig } from '..'
import { fakeFetch } from '../../testing/fakes'

describe('PressoApi', () => {
  it('sends the ID token and builds the routes under apiBase', async () => {
    const fetch = fakeFetch((req) => {
      if (req.url.startsWith('/api/orders?')) return { body: { orders: [{ orderId: 'o1' }] } }
      if (req.url === '/api/myOrders') return { body: [{ orderId: 'o2' }] }
      return { status: 204 }
    })
    const api = new PressoApi('/api/', async () => 'jwt-token', fetch)
    expect(await api.orders('my event', 'CREATED')).toEqual([{ orderId: 'o1' }])
    expect(await api.myOrders()).toEqual([{ orderId: 'o2' }])
    await api.orderAction('o/1', 'make')
    await api.submitDrink('o1', { drink: 'Latte', modifiers: ['Oat'] })
    await api.verifyQrCode('E', 'T+1')
    await api.updateEventConfig('E', { storeOpen: true })

    expect(fetch.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /api/orders?eventId=my+event&state=CREATED',
      'GET /api/myOrders',
      'PUT /api/orders/o%2F1?action=make',
      'PUT /api/orders/o1',
      'POST /api/qr-code?eventId=E&token=T%2B1',
      'PUT /api/events/E/config',
    ])
    expect(fetch.requests.every((r) => r.headers.authorization === 'Bearer jwt-token')).toBe(true)
    expect(fetch.requests[3]!.body).toEqual({ drink: 'Latte', modifiers: ['Oat'] })
    expect(fetch.requests[5]!.body).toEqual({ storeOpen: true })
  })

  it('sends no Authorization header when signed out', async () => {
    const fetch = fakeFetch(() => ({ body: { eventId: 'E' } }))
    await new PressoApi('/api', undefined, fetch).eventConfig('E')
    expect(fetch.requests[0]!.headers.authorization).toBeUndefined()
  })

  it('turns problem+json into an ApiError', async () => {
    const fetch = fakeFetch(() => ({
      status: 410,
      contentType: 'application/problem+json',
      body: { type: 'https://presso.dev/problems/code-expired', title: 'Code expired', status: 410, detail: 'The window ended.' },
    }))
    const error = await new PressoApi('/api', undefined, fetch).verifyQrCode('E', 'T').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).kind).toBe('code-expired')
    expect((error as ApiError).status).toBe(410)
    expect(describeError(error)).toMatchObject({ title: 'This QR code has expired', detail: 'The window ended.' })
  })

  it("reads API Gateway's 401 body", async () => {
    const fetch = fakeFetch(() => ({ status: 401, body: { message: 'Unauthorized' } }))
    const error = (await new PressoApi('/api', undefined, fetch).myOrders().catch((e: unknown) => e)) as ApiError
    expect(error.status).toBe(401)
    expect(describeError(error).title).toBe('Please sign in again')
  })

  it('reports a network failure as status 0', async () => {
    const fetch = fakeFetch(() => {
      throw new TypeError('Failed to fetch')
    })
    const error = (await new PressoApi('/api', undefined, fetch).myOrders().catch((e: unknown) => e)) as ApiError
    expect(error.isNetwork).toBe(true)
    expect(describeError(error).title).toBe('No connection')
  })
})

describe('describeError', () => {
  const problem = (type: string, status: number) => new ApiError({ type, title: 't', status })
  it.each([
    ['https://x/problems/no-tokens-remaining', 409, 'No drinks left for this code'],
    ['invalid-code', 400, 'This QR code has expired'],
    ['queue-full', 503, 'The queue is full right now'],
    ['store-closed', 409, 'The coffee bar is closed'],
    ['unavailable-drink', 422, 'That choice is not available'],
    ['bad-modifiers', 422, 'That choice is not available'],
    ['order-limit', 409, 'You already have an order'],
    ['about:blank', 404, 'Not found'],
    ['about:blank', 500, 'The coffee bar had a problem'],
  ])('says %s (%i) as "%s"', (type, status, title) => {
    expect(describeError(problem(type, status)).title).toBe(title)
  })
})

describe('loadRuntimeConfig', () => {
  it('reads /config.json', async () => {
    const fetch = fakeFetch(() => ({ body: { apiBase: '/api', mqttUrl: 'ws://x/mqtt', defaultEventId: 'default' } }))
    expect((await loadRuntimeConfig(fetch)).defaultEventId).toBe('default')
    expect(fetch.requests[0]!.url).toBe('/config.json')
  })

  it('refuses something that is not a configuration', async () => {
    const fetch = fakeFetch(() => ({ body: '<html>', contentType: 'text/html' }))
    await expect(loadRuntimeConfig(fetch)).rejects.toThrow(/not a runtime configuration/)
  })
})
