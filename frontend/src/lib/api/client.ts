/**
 * Typed calls of the app's HTTP API and of `/config.json`.
 *
 * One method per route; each sends the ID token as `Authorization: Bearer` when a token source is
 * given. It never retries or caches: stores decide when to call again.
 */
import { HttpClient, type FetchLike } from './http'
import type {
  ConfigUpdate,
  ConfigView,
  DrinkRequest,
  JourneyEntry,
  NewOrderView,
  OrderAction,
  OrderStatus,
  OrderView,
  QrCodeView,
  RuntimeConfig,
  StoreState,
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

  currentQrCode(eventId: string): Promise<QrCodeView> {
    return this.call('GET', '/qr-code', { eventId })
  }

  verifyQrCode(eventId: string, token: string): Promise<NewOrderView> {
    return this.call('POST', '/qr-code', { eventId, token })
  }

  // Event configuration ------------------------------------------------------------------------

  eventConfig(eventId: string): Promise<ConfigView> {
    return this.call('GET', `/events/${encodeURIComponent(eventId)}/config`)
  }

  updateEventConfig(eventId: string, update: ConfigUpdate): Promise<ConfigView> {
    return this.call('PUT', `/events/${encodeURIComponent(eventId)}/config`, undefined, update)
  }

  setStoreState(eventId: string, state: StoreState): Promise<ConfigView> {
    return this.call('PUT', `/events/${encodeURIComponent(eventId)}/store`, undefined, { state })
  }

  // Orders -------------------------------------------------------------------------------------

  async orders(eventId: string, state: OrderStatus, limit?: number): Promise<OrderView[]> {
    const list = await this.call<OrderView[] | { orders?: OrderView[] }>('GET', '/orders', {
      eventId,
      state,
      limit: limit === undefined ? undefined : String(limit),
    })
    return asList(list)
  }

  async myOrders(eventId?: string): Promise<OrderView[]> {
    return asList(await this.call<OrderView[] | { orders?: OrderView[] }>('GET', '/myOrders', { eventId }))
  }

  order(orderId: string): Promise<OrderView> {
    return this.call('GET', `/orders/${encodeURIComponent(orderId)}`)
  }

  submitDrink(orderId: string, drink: DrinkRequest): Promise<OrderView | undefined> {
    return this.call('PUT', `/orders/${encodeURIComponent(orderId)}`, undefined, drink)
  }

  orderAction(orderId: string, action: OrderAction): Promise<OrderView | undefined> {
    return this.call('PUT', `/orders/${encodeURIComponent(orderId)}`, { action })
  }

  async journey(orderId: string): Promise<JourneyEntry[]> {
    const list = await this.call<JourneyEntry[] | { events?: JourneyEntry[] }>('GET', `/orders/${encodeURIComponent(orderId)}/journey`)
    return Array.isArray(list) ? list : (list?.events ?? [])
  }
}

/** Lists are JSON arrays; an `{orders: [...]}` page is accepted too. */
function asList(list: OrderView[] | { orders?: OrderView[] } | undefined): OrderView[] {
  return Array.isArray(list) ? list : (list?.orders ?? [])
}
