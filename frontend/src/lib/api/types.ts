/**
 * The HTTP API's request and response shapes, the runtime settings and the realtime messages.
 *
 * This file is the one place that describes what the backend sends and accepts. It will be generated
 * from the backend's OpenAPI document; until then it is written by hand to match that document. Every
 * other module imports these types from here and never declares a wire shape of its own, so that
 * regenerating this file is the whole of an API change on the client side.
 *
 * All timestamps are epoch milliseconds. All paths live under `apiBase` (`/api`).
 */

/** `GET /config.json`: how the apps find everything else. */
export interface RuntimeConfig {
  region: string
  userPoolId: string
  userPoolClientId: string
  /** Cognito identity provider endpoint: the apps POST its JSON 1.1 protocol here. */
  cognitoEndpoint: string
  /** Prefix of every HTTP API path, `/api`. */
  apiBase: string
  /** MQTT over WebSocket, e.g. `ws://127.0.0.1:8080/mqtt` or `wss://…/mqtt`. */
  mqttUrl: string
  /** How MQTT connections authenticate: `jwt` = the ID token as the CONNECT password. */
  mqttAuth: 'jwt' | string
  defaultEventId: string
  /** Base URL of the order app; QR codes point at `<orderAppUrl>?eventId=E&token=T`. */
  orderAppUrl: string
}

/** RFC 9457 error body (`application/problem+json`) of every non-2xx API answer. */
export interface ProblemDetails {
  /** A URI (or a short slug) naming the kind of problem, e.g. `…/problems/code-expired`. */
  type: string
  title: string
  status: number
  detail?: string
  instance?: string
}

// ---------------------------------------------------------------------------------------------------
// QR codes: GET/POST /api/qr-code
// ---------------------------------------------------------------------------------------------------

/** `GET /api/qr-code?eventId=E` (admin): the code of the current 5-minute window. */
export interface QrCodeResponse {
  eventId: string
  /** The code to put in the QR URL. */
  token: string
  /** First instant of the window (epoch ms). */
  windowStart?: number
  /** Last instant of the window (epoch ms); the code is refused shortly after. */
  windowEnds: number
  /** Drinks that can still be ordered with this code. */
  remaining: number
  /** Drinks the window started with (`drinksPerBarcode`). */
  total?: number
  /** The URL to encode; when absent the display builds it from `orderAppUrl`. */
  url?: string
  /** The server's clock when it answered (epoch ms), so displays can correct their own. */
  serverTime?: number
}

/** `POST /api/qr-code?eventId=E&token=T` (signed in): a verified scan creates an order. */
export interface QrVerifyResponse {
  orderId: string
}

// ---------------------------------------------------------------------------------------------------
// Event configuration: GET/PUT /api/events/{eventId}/config
// ---------------------------------------------------------------------------------------------------

export interface ModifierOption {
  name: string
  /** False when the bar has run out of it (e.g. oat milk). */
  available: boolean
}

export interface ModifierGroup {
  /** e.g. "Milk". */
  name: string
  options: ModifierOption[]
  /** When true the customer must pick one option of this group. */
  required?: boolean
}

export interface MenuItem {
  drink: string
  icon?: string
  available: boolean
  modifiers: ModifierGroup[]
}

/** `GET /api/events/{eventId}/config` (public). */
export interface EventConfig {
  eventId: string
  storeOpen: boolean
  /** Open but not taking new orders for a moment (the queue drains). */
  paused: boolean
  menu: MenuItem[]
  /** Orders per QR window. */
  drinksPerBarcode: number
  /** Orders waiting for a barista before new ones are refused. */
  maxOrdersInQueue: number
  /** Unfinished orders one customer may have at once. */
  maxOrdersPerUser: number
  updatedAt?: number
}

/** `PUT /api/events/{eventId}/config` (admin): a merge patch, the fields given replace the stored ones. */
export type EventConfigPatch = Partial<Omit<EventConfig, 'eventId' | 'updatedAt'>>

// ---------------------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------------------

/**
 * Lifecycle state of an order.
 * - `CREATED`: the QR scan was accepted; the order waits for the drink choice, then for a barista
 *   (it has an `orderNumber` once the drink is chosen, a `baristaUserId` while someone makes it);
 * - `COMPLETED`: ready for pickup; `CANCELLED`; `TIMED_OUT` (see `reason`).
 */
export type OrderState = 'CREATED' | 'COMPLETED' | 'CANCELLED' | 'TIMED_OUT'

export interface DrinkOrder {
  drink: string
  /** The chosen option name of each modifier group, in menu order. */
  modifiers: string[]
  icon?: string
}

export interface Order {
  orderId: string
  eventId: string
  userId: string
  /** The customer's first name (`given_name`), shown on the display and to baristas. */
  displayName?: string
  state: OrderState
  /** Human-readable number, allocated once the drink is chosen. */
  orderNumber?: number
  drinkOrder?: DrinkOrder
  /** Who is making it; absent or empty when nobody has claimed it. */
  baristaUserId?: string
  baristaName?: string
  createdAt: number
  updatedAt?: number
  completedAt?: number
  /** Why it timed out or was cancelled: `customer-timeout`, `barista-timeout`, … */
  reason?: string
  /** Only on `GET /api/orders/{id}` while waiting: 1 = next to be made. */
  queuePosition?: number
  estimatedWaitSeconds?: number
  /** Only on `GET /api/orders/{id}`: whether the caller may still cancel it. */
  cancellable?: boolean
}

/** `GET /api/orders?eventId=E&state=S` (admin) and `GET /api/myOrders`. */
export interface OrderList {
  orders: Order[]
  nextToken?: string
}

/** `PUT /api/orders/{id}`: the customer's choice. */
export interface SubmitDrinkRequest {
  drink: string
  modifiers: string[]
}

/** `PUT /api/orders/{id}?action=A`. Barista actions need the `admin` group; a customer may `cancel`. */
export type OrderAction = 'make' | 'unmake' | 'complete' | 'cancel'

/** One step of `GET /api/orders/{id}/journey`. */
export interface JourneyEvent {
  /** The detail-type, e.g. `OrderManager.MakeOrder`. */
  type: string
  time: number
  /** A sentence explaining the step. */
  message?: string
}

export interface OrderJourney {
  orderId: string
  events: JourneyEvent[]
}

// ---------------------------------------------------------------------------------------------------
// Realtime: MQTT messages `{"type": <detail-type>, "detail": {...}}`
// ---------------------------------------------------------------------------------------------------

export const DETAIL_TYPES = [
  'Validator.NewOrder',
  'OrderProcessor.WorkflowStarted',
  'OrderProcessor.ShopUnavailable',
  'OrderManager.WaitingCompletion',
  'OrderManager.MakeOrder',
  'OrderManager.UnmakeOrder',
  'OrderManager.OrderCompleted',
  'OrderManager.OrderCancelled',
  'OrderProcessor.OrderTimeOut',
  'OrderProcessor.OrderFinished',
  'ConfigService.ConfigChanged',
] as const

export type DetailType = (typeof DETAIL_TYPES)[number]

/** The detail of order events; which fields are present depends on the type. */
export interface OrderEventDetail {
  eventId: string
  orderId?: string
  userId?: string
  displayName?: string
  state?: OrderState
  orderNumber?: number | string
  drinkOrder?: DrinkOrder
  baristaUserId?: string
  baristaName?: string
  reason?: string
  /** `Validator.NewOrder`: drinks left in the current QR window. */
  remaining?: number
  /** The reference's shape of the same count, accepted too. */
  bucket?: { availableTokens?: number }
  /** `ConfigService.ConfigChanged`: the new configuration, when the publisher includes it. */
  config?: EventConfig
  storeOpen?: boolean
  paused?: boolean
  time?: number
  TS?: number
}

export interface RealtimeMessage {
  type: DetailType | string
  detail: OrderEventDetail
}
