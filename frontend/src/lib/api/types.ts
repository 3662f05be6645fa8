/**
 * The HTTP API's request and response shapes, the runtime settings and the realtime messages.
 *
 * This file is the one place that describes what the backend sends and accepts. It will be generated
 * from the backend's OpenAPI document (itself generated from `presso-core`'s route table and serde
 * types: `api.rs`, `usecases/views.rs`, `config.rs`, `menu.rs`, `qr.rs`, `events.rs`); until then it
 * is written by hand to match them, with the same names. Every other module imports these types from
 * here and never declares a wire shape of its own, so regenerating this file is the whole of an API
 * change on the client side.
 *
 * All timestamps are epoch milliseconds (JSON numbers). All API paths start with `apiBase` (`/api`).
 */

/** Milliseconds since the Unix epoch. */
export type Timestamp = number

/** `GET /config.json` (`RuntimeSettings`): how the apps find everything else. */
export interface RuntimeConfig {
  region: string
  userPoolId: string
  userPoolClientId: string
  /** Cognito identity provider endpoint: the apps POST its JSON 1.1 protocol here. */
  cognitoEndpoint: string
  /** Prefix of every HTTP API path: `/api`. */
  apiBase: string
  /** MQTT over WebSocket: `ws://host:port/mqtt`, `wss://…`, or a path on this origin. */
  mqttUrl: string
  /** `jwt`: the CONNECT password is the user-pool ID token. */
  mqttAuth: 'jwt' | string
  defaultEventId: string
  /** The order app's URL; QR codes carry `<orderAppUrl>?eventId=E&token=T`. */
  orderAppUrl: string
}

/** RFC 9457 problem document (`application/problem+json`) of every non-2xx API answer. */
export interface ProblemDetails {
  /** `urn:serverlesspresso:problem:<code>`. */
  type: string
  title: string
  status: number
  detail?: string
  /** Stable machine-readable reason, e.g. `invalid_code`, `no_tokens_remaining`, `drink_unavailable`. */
  code?: string
  /** When trying again makes sense (e.g. the next QR window). */
  retryAfterSeconds?: number
  instance?: string
}

// ---------------------------------------------------------------------------------------------------
// Store configuration and menu: GET/PUT /api/events/{eventId}/config, PUT /api/events/{eventId}/store
// ---------------------------------------------------------------------------------------------------

export type StoreState = 'closed' | 'open' | 'paused'

export interface ModifierOption {
  id: string
  /** "Oat" */
  name: string
  available: boolean
}

/** A group of options of which the customer picks up to `maxChoices` (at least one if `required`). */
export interface Modifier {
  id: string
  /** "Milk" */
  name: string
  required: boolean
  maxChoices: number
  options: ModifierOption[]
}

export interface Drink {
  id: string
  /** "Flat White" */
  name: string
  /** An icon name. */
  icon: string
  available: boolean
  modifiers: Modifier[]
}

export interface Menu {
  drinks: Drink[]
}

/** `ConfigView`: an event's store state, limits and menu (public). */
export interface ConfigView {
  storeState: StoreState
  eventId: string
  open: boolean
  paused: boolean
  drinksPerBarcode: number
  maxOrdersInQueue: number
  maxOrdersPerUser: number
  secondsPerDrink: number
  menu: Menu
  version: number
  updatedAt: Timestamp
}

export interface AvailabilityUpdate {
  /** Drink id → available. */
  drinks?: Record<string, boolean>
  /** Option id → available. */
  options?: Record<string, boolean>
}

/** `PUT /api/events/{eventId}/config` (admin): absent fields stay as they are. */
export interface ConfigUpdate {
  open?: boolean
  paused?: boolean
  drinksPerBarcode?: number
  maxOrdersInQueue?: number
  maxOrdersPerUser?: number
  secondsPerDrink?: number
  /** Replaces the whole menu. */
  menu?: Menu
  /** Marks drinks and options sold out or available again; applied after `menu`. */
  availability?: AvailabilityUpdate
}

/** `PUT /api/events/{eventId}/store` (admin). */
export interface StoreStateRequest {
  state: StoreState
}

// ---------------------------------------------------------------------------------------------------
// QR codes: GET/POST /api/qr-code
// ---------------------------------------------------------------------------------------------------

/** One event's code for one 5-minute window and the orders it is still good for. */
export interface QrBucket {
  eventId: string
  windowId: number
  /** The code the QR URL carries. */
  code: string
  startTs: Timestamp
  endTs: Timestamp
  /** Scans are still accepted until then (a grace period after `endTs`). */
  validUntil: Timestamp
  availableTokens: number
  tokensPerWindow: number
  createdAt: Timestamp
}

/** `GET /api/qr-code?eventId=E` (admin). */
export interface QrCodeView {
  bucket: QrBucket
  storeState: StoreState
}

/**
 * Lifecycle of an order: `pending` (scan accepted, waiting for the drink) → `submitted` (drink given)
 * → `queued` (numbered) → `inProgress` (a barista makes it) → `completed`; or `cancelled`,
 * `timedOut`, `rejected` (store closed, paused or full when the workflow checked), `failed`.
 */
export type OrderStatus =
  | 'pending'
  | 'submitted'
  | 'queued'
  | 'inProgress'
  | 'completed'
  | 'cancelled'
  | 'timedOut'
  | 'rejected'
  | 'failed'

/** `POST /api/qr-code?eventId=E&token=T` (signed in): the new order. */
export interface NewOrderView {
  orderId: string
  eventId: string
  state: OrderStatus
  /** Until when the customer may give the drink. */
  drinkDeadline: Timestamp
}

// ---------------------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------------------

export type CancelledBy = 'customer' | 'barista'
/** Which wait timed out: the customer's choice or the barista. */
export type Wait = 'drink' | 'barista'
export type RejectReason = 'storeClosed' | 'storePaused' | 'atCapacity'

export interface ChosenOption {
  /** Modifier id. */
  modifier: string
  /** Option id. */
  option: string
  /** "Oat" */
  name: string
}

/** A validated drink, resolved against the menu. */
export interface DrinkOrder {
  drinkId: string
  drink: string
  icon: string
  /** In menu order. */
  modifiers: ChosenOption[]
}

/** `OrderView`: an order as its owner and the baristas see it. */
export interface OrderView {
  orderId: string
  eventId: string
  userId: string
  /** The customer's first name. */
  displayName?: string
  state: OrderStatus
  orderNumber?: number
  drinkOrder?: DrinkOrder
  /** Who is making (or made) it. */
  baristaUserId?: string
  cancelledBy?: CancelledBy
  timedOutWait?: Wait
  rejectReason?: RejectReason
  robot: boolean
  createdAt: Timestamp
  updatedAt: Timestamp
  /** Pending orders: until when the drink may be given. */
  drinkDeadline?: Timestamp
  submittedAt?: Timestamp
  queuedAt?: Timestamp
  finishedAt?: Timestamp
  /** Queued and in-progress orders on `GET /api/orders/{id}`: 1 = next. */
  queuePosition?: number
  estimatedWaitSeconds?: number
}

/** `PUT /api/orders/{id}` body: the drink and options, each by id (or display name). */
export interface DrinkRequest {
  drink: string
  modifiers: string[]
}

/** The `action` of `PUT /api/orders/{id}?action=…`: baristas all four, the owner `cancel`. */
export type OrderAction = 'make' | 'unmake' | 'complete' | 'cancel'

/** One element of `GET /api/orders/{id}/journey`. */
export interface JourneyEntry {
  orderId: string
  at: Timestamp
  detailType: string
  state: string
  /** A sentence explaining the step. */
  Message: string
  detail: Record<string, unknown>
}

// ---------------------------------------------------------------------------------------------------
// Realtime: MQTT messages `{"type": <detail-type>, "detail": {...}}`
// ---------------------------------------------------------------------------------------------------

export const DETAIL_TYPES = [
  'Validator.NewOrder',
  'OrderProcessor.WorkflowStarted',
  'OrderProcessor.ShopUnavailable',
  'OrderProcessor.WaitingCompletion',
  'OrderProcessor.OrderTimeOut',
  'OrderProcessor.orderFinished',
  'OrderProcessor.OrderFailed',
  'OrderManager.OrderSubmitted',
  'OrderManager.WaitingCompletion',
  'OrderManager.MakeOrder',
  'OrderManager.UnmakeOrder',
  'OrderManager.OrderCompleted',
  'OrderManager.OrderCancelled',
  'ConfigService.ConfigChanged',
] as const

export type DetailType = (typeof DETAIL_TYPES)[number]

/** `Validator.NewOrder`'s view of the QR window after the scan. */
export interface BucketSnapshot {
  windowId: number
  availableTokens: number
  tokensPerWindow: number
  validUntil: Timestamp
}

/**
 * The detail of any message; which fields are present depends on the type. `OrderManager.*` details
 * carry the whole order as the apps show it (`OrderDetail`); `ConfigService.ConfigChanged` carries
 * `state` (a store state) and `config`.
 */
export interface EventDetail {
  eventId: string
  orderId?: string
  userId?: string
  /** An order status, or the store state for `ConfigService.ConfigChanged`. */
  state?: OrderStatus | StoreState
  displayName?: string
  /** A number; older producers send a numeric string. */
  orderNumber?: number | string
  drinkOrder?: DrinkOrder
  baristaUserId?: string
  cancelledBy?: CancelledBy
  robot?: boolean
  /** When the order last changed. */
  TS?: Timestamp
  Message?: string
  /** `Validator.NewOrder`. */
  bucket?: BucketSnapshot
  /** `OrderProcessor.ShopUnavailable`. */
  reason?: RejectReason
  /** `OrderProcessor.OrderTimeOut`: `Customer timedout` or `Barista timedout`. */
  cause?: string
  /** `OrderProcessor.orderFinished`. */
  outcome?: string
  /** `ConfigService.ConfigChanged`. */
  config?: ConfigView
}

export interface RealtimeMessage {
  type: DetailType | string
  detail: EventDetail
}
