/**
 * Order state on the client: folding realtime events into orders, and what each app derives from them.
 *
 * Events may arrive twice, out of order, or after a refetch already showed their effect, so every
 * update is idempotent: a final state is never left, and an event older than what is known
 * (by its `TS`) does not change the state.
 */
import type { EventDetail, OrderStatus, OrderView, RealtimeMessage, Wait } from '../api/types'
import { describeDrink } from './menu'

export type OrderEventKind =
  | 'newOrder'
  | 'started'
  | 'submitted'
  | 'numbered'
  | 'waiting'
  | 'make'
  | 'unmake'
  | 'completed'
  | 'cancelled'
  | 'timedOut'
  | 'rejected'
  | 'failed'
  | 'finished'
  | 'config'
  | 'other'

/** Maps a detail-type to what it means. */
export function eventKind(type: string): OrderEventKind {
  switch (type) {
    case 'Validator.NewOrder':
      return 'newOrder'
    case 'OrderProcessor.WorkflowStarted':
      return 'started'
    case 'OrderManager.OrderSubmitted':
      return 'submitted'
    case 'OrderProcessor.WaitingCompletion':
      return 'numbered'
    case 'OrderManager.WaitingCompletion':
      return 'waiting'
    case 'OrderManager.MakeOrder':
      return 'make'
    case 'OrderManager.UnmakeOrder':
      return 'unmake'
    case 'OrderManager.OrderCompleted':
      return 'completed'
    case 'OrderManager.OrderCancelled':
      return 'cancelled'
    case 'OrderProcessor.OrderTimeOut':
      return 'timedOut'
    case 'OrderProcessor.ShopUnavailable':
      return 'rejected'
    case 'OrderProcessor.OrderFailed':
      return 'failed'
    case 'OrderProcessor.orderFinished':
    case 'OrderProcessor.OrderFinished':
      return 'finished'
    case 'ConfigService.ConfigChanged':
      return 'config'
  }
  return 'other'
}

const TERMINAL: ReadonlySet<OrderStatus> = new Set(['completed', 'cancelled', 'timedOut', 'rejected', 'failed'])
const STATUSES: ReadonlySet<string> = new Set(['pending', 'submitted', 'queued', 'inProgress', ...TERMINAL])

/** The state each kind of event implies when its detail does not say. */
const IMPLIED: Partial<Record<OrderEventKind, OrderStatus>> = {
  newOrder: 'pending',
  started: 'pending',
  submitted: 'submitted',
  numbered: 'queued',
  waiting: 'queued',
  make: 'inProgress',
  unmake: 'queued',
  completed: 'completed',
  cancelled: 'cancelled',
  timedOut: 'timedOut',
  rejected: 'rejected',
  failed: 'failed',
}

export function isFinal(order: Pick<OrderView, 'state'>): boolean {
  return TERMINAL.has(order.state)
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
  return undefined
}

function statusOf(detail: EventDetail, kind: OrderEventKind): OrderStatus | undefined {
  if (typeof detail.state === 'string' && STATUSES.has(detail.state)) return detail.state as OrderStatus
  return IMPLIED[kind]
}

function waitFromCause(cause: string | undefined): Wait {
  return cause && /barista/i.test(cause) ? 'barista' : 'drink'
}

/**
 * Applies one realtime message to the order it concerns. Returns the updated order, or null when the
 * message is not about an order.
 */
export function applyOrderEvent(existing: OrderView | undefined, message: RealtimeMessage, now: number): OrderView | null {
  const d = message.detail
  const orderId = d.orderId
  const kind = eventKind(message.type)
  if (!orderId || kind === 'config' || kind === 'other') return null
  const at = toNumber(d.TS) ?? now
  const base: OrderView = existing ?? {
    orderId,
    eventId: d.eventId,
    userId: d.userId ?? '',
    state: 'pending',
    robot: d.robot ?? false,
    createdAt: at,
    updatedAt: at,
  }
  const next: OrderView = { ...base }
  if (d.displayName) next.displayName = d.displayName
  if (d.userId) next.userId = d.userId
  const orderNumber = toNumber(d.orderNumber)
  if (orderNumber !== undefined) next.orderNumber = orderNumber
  if (d.drinkOrder) next.drinkOrder = d.drinkOrder
  if (kind === 'finished') return next

  const status = statusOf(d, kind)
  // Stale events (older than what is known) and anything after a final state change no state.
  const stale = existing !== undefined && toNumber(d.TS) !== undefined && at < existing.updatedAt
  if (!status || isFinal(base) || stale) return next

  next.state = status
  next.updatedAt = Math.max(base.updatedAt, at)
  // Back in the queue means nobody is making it; otherwise the detail says who is (or made it).
  if (status === 'queued') next.baristaUserId = undefined
  else if (d.baristaUserId) next.baristaUserId = d.baristaUserId
  if (d.cancelledBy) next.cancelledBy = d.cancelledBy
  if (status === 'timedOut') next.timedOutWait = waitFromCause(d.cause)
  if (status === 'rejected' && d.reason) next.rejectReason = d.reason
  if (TERMINAL.has(status)) next.finishedAt = next.finishedAt ?? at
  return next
}

/** Merges a fetched order over a known one, keeping what the fetch leaves out. */
export function mergeOrder(known: OrderView | undefined, fetched: OrderView): OrderView {
  if (!known) return fetched
  // A refetch can be older than an event already applied: never undo a final state with it.
  if (isFinal(known) && !isFinal(fetched)) return { ...fetched, ...known }
  return { ...known, ...fetched }
}

/** Where an order stands, from the customer's point of view. */
export type OrderPhase = 'choosing' | 'received' | 'queued' | 'making' | 'ready' | 'cancelled' | 'timedOut' | 'rejected' | 'failed'

export function orderPhase(order: OrderView): OrderPhase {
  switch (order.state) {
    case 'pending':
      return 'choosing'
    case 'submitted':
      return 'received'
    case 'queued':
      return 'queued'
    case 'inProgress':
      return 'making'
    case 'completed':
      return 'ready'
    default:
      return order.state
  }
}

/** Orders at the bar: numbered and not finished. */
export function isInProduction(order: OrderView): boolean {
  return order.state === 'queued' || order.state === 'inProgress'
}

/** When an order finished (for "ready" lists). */
export function finishedAt(order: OrderView): number {
  return order.finishedAt ?? order.updatedAt ?? order.createdAt
}

export function byOrderNumber(a: OrderView, b: OrderView): number {
  return (a.orderNumber ?? Number.MAX_SAFE_INTEGER) - (b.orderNumber ?? Number.MAX_SAFE_INTEGER) || a.createdAt - b.createdAt
}

/** "#12" */
export function orderLabel(order: Pick<OrderView, 'orderNumber'>): string {
  return order.orderNumber === undefined ? '—' : `#${order.orderNumber}`
}

export interface DrinkGroup {
  key: string
  label: string
  orders: OrderView[]
}

/** Groups identical drinks (same drink and options), so one barista can make them together. */
export function groupIdenticalDrinks(orders: OrderView[]): DrinkGroup[] {
  const groups = new Map<string, DrinkGroup>()
  for (const order of orders) {
    const drink = order.drinkOrder
    const key = drink ? `${drink.drinkId}\u0000${drink.modifiers.map((m) => m.option).sort().join('\u0000')}` : '\u0000'
    let group = groups.get(key)
    if (!group) {
      group = { key, label: describeDrink(drink), orders: [] }
      groups.set(key, group)
    }
    group.orders.push(order)
  }
  return [...groups.values()].sort((a, b) => byOrderNumber(a.orders[0]!, b.orders[0]!))
}

/** "4m 05s" since a moment. */
export function formatAge(since: number, now: number): string {
  const s = Math.max(0, Math.floor((now - since) / 1000))
  const m = Math.floor(s / 60)
  return m > 0 ? `${m}m ${String(s % 60).padStart(2, '0')}s` : `${s}s`
}

/** "about 4 min" for an estimated wait. */
export function formatWait(seconds: number | undefined): string | null {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return null
  if (seconds < 60) return 'less than a minute'
  const minutes = Math.round(seconds / 60)
  return `about ${minutes} min`
}
