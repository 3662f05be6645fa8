import { describe, expect, it } from 'vitest'
import { ApiError, PressoApi, describeError, loadRuntimeConfig } from '..'
import { fakeFetch } from '../../testing/fakes'

describe('PressoApi', () => {
  it('sends the ID token and builds the routes under apiBase', async () => {
    const fetch = fakeFetch((req) => {
      if (req.url.startsWith('/api/orders?')) return { body: [{ orderId: 'o1' }] }
      if (req.url === '/api/myOrders') return { body: [{ orderId: 'o2' }] }
      return { status: 204 }
    })
    const api = new PressoApi('/api/', async () => 'jwt-token', fetch)
    expect(await api.orders('my event', 'inProgress')).toEqual([{ orderId: 'o1' }])
    expect(await api.orders('E', 'completed', 10)).toEqual([{ orderId: 'o1' }])
    expect(await api.myOrders()).toEqual([{ orderId: 'o2' }])
    await api.orderAction('o/1', 'make')
    await api.submitDrink('o1', { drink: 'latte', modifiers: ['oat'] })
    await api.verifyQrCode('E', 'T+1')
    await api.updateEventConfig('E', { availability: { options: { oat: false } } })
    await api.setStoreState('E', 'paused')
    await api.journey('o1')

    expect(fetch.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /api/orders?eventId=my+event&state=inProgress',
      'GET /api/orders?eventId=E&state=completed&limit=10',
      'GET /api/myOrders',
      'PUT /api/orders/o%2F1?action=make',
      'PUT /api/orders/o1',
      'POST /api/qr-code?eventId=E&token=T%2B1',
      'PUT /api/events/E/config',
      'PUT /api/events/E/store',
      'GET /api/orders/o1/journey',
    ])
    expect(fetch.requests.every((r) => r.headers.authorization === 'Bearer jwt-token')).toBe(true)
    expect(fetch.requests[4]!.body).toEqual({ drink: 'latte', modifiers: ['oat'] })
    expect(fetch.requests[6]!.body).toEqual({ availability: { options: { oat: false } } })
    expect(fetch.requests[7]!.body).toEqual({ state: 'paused' })
  })

  it('sends no Authorization header when signed out', async () => {
    const fetch = fakeFetch(() => ({ body: { eventId: 'E' } }))
    await new PressoApi('/api', undefined, fetch).eventConfig('E')
    expect(fetch.requests[0]!.headers.authorization).toBeUndefined()
  })

  it('turns problem+json into an ApiError', async () => {
    const fetch = fakeFetch(() => ({
      status: 429,
      contentType: 'application/problem+json',
      body: {
        type: 'urn:serverlesspresso:problem:no_tokens_remaining',
        title: 'Too Many Requests',
        status: 429,
        detail: 'this QR code has been used up: the next one appears at the next window',
        code: 'no_tokens_remaining',
        retryAfterSeconds: 9,
      },
    }))
    const error = await new PressoApi('/api', undefined, fetch).verifyQrCode('E', 'T').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).kind).toBe('no_tokens_remaining')
    expect((error as ApiError).problem.retryAfterSeconds).toBe(9)
    expect(describeError(error)).toMatchObject({ title: 'No drinks left for this code', detail: 'this QR code has been used up: the next one appears at the next window' })
  })

  it('reads the code from the problem type when no code field is sent', async () => {
    const fetch = fakeFetch(() => ({ status: 400, body: { type: 'urn:serverlesspresso:problem:invalid_code', title: 'Bad Request', status: 400 } }))
    const error = (await new PressoApi('/api', undefined, fetch).verifyQrCode('E', 'T').catch((e: unknown) => e)) as ApiError
    expect(error.kind).toBe('invalid_code')
    expect(describeError(error).title).toBe('This QR code has expired')
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
  const problem = (code: string, status: number) =>
    new ApiError({ type: code ? `urn:serverlesspresso:problem:${code}` : 'about:blank', title: 't', status, code: code || undefined })
  it.each([
    ['no_tokens_remaining', 429, 'No drinks left for this code'],
    ['invalid_code', 400, 'This QR code has expired'],
    ['too_many_open_orders', 429, 'You already have an order'],
    ['store_closed', 409, 'The coffee bar is closed'],
    ['store_paused', 409, 'Orders are paused'],
    ['drink_unavailable', 422, 'That choice is not available'],
    ['option_unavailable', 422, 'That choice is not available'],
    ['missing_choice', 422, 'That choice is not available'],
    ['customer_cannot_cancel_once_being_made', 409, 'Too late to cancel'],
    ['order_already_completed', 409, 'Already changed'],
    ['unavailable', 503, 'The coffee bar is busy'],
    ['', 404, 'Not found'],
    ['', 500, 'The coffee bar had a problem'],
  ])('says %s (%i) as "%s"', (code, status, title) => {
    expect(describeError(problem(code, status)).title).toBe(title)
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
