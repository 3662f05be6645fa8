/**
 * Typed calls of the app's HTTP API and of `/config.json`.
 *
 * One method per route; each sends the ID token as `Authorization: Bearer` when a token source is
 * given. It never retries or caches: stores decide when to call again.
 */
import { HttpClient, type FetchLike } from './http'
import type {
  EventConfig,
  EventConfigPatch,
  Order,
  OrderAction,
  OrderJourney,
  OrderList,
  OrderState,
  QrCodeResponse,
  QrVerifyResponse,
  RuntimeConfig,
  SubmitDrinkRequest,
} from './types'

/** Returns a valid ID token (refreshing it if needed), or null when signed out. */
export type TokenSource = () => Promise<string | null>

/** Reads the runtime settings the host serves next to the apps. */
export async function loadRuntimeConfig(fetchImpl?: FetchLike, url = '/config.json'): Promise<RuntimeConfig> {
  const config = await new HttpClient(fetchImpl).request<RuntimeConfig>(url)
  if (!config || typeof config !== 'object' || typeof config.apiBase !== 'string') {
    throw new Error(`${url} is not a runtime configuration`)
  }
  return config
}

export class PressoApi {
  private readonly http: HttpClient

  constructor(
    private readonly apiBase: string,
    private readonly token: TokenSource = async () => null,
    fetchImpl?: FetchLike,
  ) {
    this.http = new HttpClient(fetchImpl)
  }

  private async call<T>(method: string, path: string, query?: Record<string, string | undefined>, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {}
    const jwt = await this.token()
    if (jwt) headers.authorization = `Bearer ${jwt}`
    return this.http.request<T>(this.url(path, query), { method, headers, body })
  }

  private url(path: string, query?: Record<string, string | undefined>): string {
    const base = this.apiBase.replace(/\/+$/, '')
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, v)
    const qs = params.toString()
    return `${base}${path}${qs ? `?${qs}` : ''}`
  }

  // QR codes -----------------------------------------------------------------------------------

  currentQrCode(eventId: string): Promise<QrCodeResponse> {
    return this.call('GET', '/qr-code', { eventId })
  }

  verifyQrCode(eventId: string, token: string): Promise<QrVerifyResponse> {
    return this.call('POST', '/qr-code', { eventId, token })
  }

  // Event configuration ------------------------------------------------------------------------

  eventConfig(eventId: string): Promise<EventConfig> {
    return this.call('GET', `/events/${encodeURIComponent(eventId)}/config`)
  }

  updateEventConfig(eventId: string, patch: EventConfigPatch): Promise<EventConfig> {
    return this.call('PUT', `/events/${encodeURIComponent(eventId)}/config`, undefined, patch)
  }

  // Orders -------------------------------------------------------------------------------------

  async orders(eventId: string, state: OrderState): Promise<Order[]> {
    const list = await this.call<OrderList | Order[]>('GET', '/orders', { eventId, state })
    return Array.isArray(list) ? list : (list?.orders ?? [])
  }

  async myOrders(): Promise<Order[]> {
    const list = await this.call<OrderList | Order[]>('GET', '/myOrders')
    return Array.isArray(list) ? list : (list?.orders ?? [])
  }

  order(orderId: string): Promise<Order> {
    return this.call('GET', `/orders/${encodeURIComponent(orderId)}`)
  }

  submitDrink(orderId: string, choice: SubmitDrinkRequest): Promise<Order | undefined> {
    return this.call('PUT', `/orders/${encodeURIComponent(orderId)}`, undefined, choice)
  }

  orderAction(orderId: string, action: OrderAction): Promise<Order | undefined> {
    return this.call('PUT', `/orders/${encodeURIComponent(orderId)}`, { action }, {})
  }

  journey(orderId: string): Promise<OrderJourney> {
    return this.call('GET', `/orders/${encodeURIComponent(orderId)}/journey`)
  }
}
