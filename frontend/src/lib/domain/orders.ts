/**
 * Order state on the client: folding realtime events into orders, and what each app derives from them.
 *
 * Events may arrive twice, out of order, or after a refetch already showed their effect, so every
 * update is idempotent and never moves an order back from a final state.
 */
import type { Order, OrderEventDetail, OrderState, RealtimeMessage } from '../api/types'
import { describeDrink } from './menu'

export type OrderEventKind =
  | 'newOrder'
  | 'started'
  | 'waiting'
  | 'make'
  | 'unmake'
  | 'completed'
  | 'cancelled'
  | 'timedOut'
  | 'finished'
  | 'shopUnavailable'
  | 'config'
  | 'other'

/** Maps a detail-type to what it means; the reference's per-event names are recognised too. */
export function eventKind(type: string): OrderEventKind {
  switch (type) {
    case 'Validator.NewOrder':
      return 'newOrder'
    case 'OrderProcessor.WorkflowStarted':
      return 'started'
    case 'OrderManager.WaitingCompletion':
    case 'OrderProcessor.WaitingCompletion':
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
    case 'OrderProcessor.OrderFinished':
    case 'OrderProcessor.orderFinished':
      return 'finished'
    case 'OrderProcessor.ShopUnavailable':
      return 'shopUnavailable'
    case 'ConfigService.ConfigChanged':
      return 'config'
  }
  if (/^OrderManager\.Order.*-COMPLETED$/.test(type)) return 'completed'
  if (/^OrderManager\.Order.*-CANCELLED$/.test(type)) return 'cancelled'
  return 'other'
}

const FINAL: ReadonlySet<OrderState> = new Set(['COMPLETED', 'CANCELLED', 'TIMED_OUT'])

export function isFinal(order: Pick<Order, 'state'>): boolean {
  return FINAL.has(order.state)
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
  return undefined
}

function eventTime(detail: OrderEventDetail, now: number): number {
  return toNumber(detail.time) ?? toNumber(detail.TS) ?? now
}

/**
 * Applies one realtime message to the order it concerns. Returns the updated order, or null when the
 * message is not about an order (or is about one this client cannot build from the message alone).
 */
export function applyOrderEvent(existing: Order | undefined, message: RealtimeMessage, now: number): Order | null {
  const d = message.detail
  const orderId = d.orderId
  if (!orderId) return null
  const kind = eventKind(message.type)
  const base: Order = existing ?? {
    orderId,
    eventId: d.eventId,
    userId: d.userId ?? '',
    state: 'CREATED',
    createdAt: eventTime(d, now),
  }
  const next: Order = { ...base }
  if (d.displayName) next.displayName = d.displayName
  if (d.userId) next.userId = d.userId
  const orderNumber = toNumber(d.orderNumber)
  if (orderNumber !== undefined) next.orderNumber = orderNumber
  if (d.drinkOrder) next.drinkOrder = d.drinkOrder
  const final = isFinal(base)
  switch (kind) {
    case 'newOrder':
    case 'started':
    case 'waiting':
      break
    case 'make':
      if (!final) {
        next.baristaUserId = d.baristaUserId ?? ''
        next.baristaName = d.baristaUserId ? d.baristaName : undefined
      }
      break
    case 'unmake':
      if (!final) {
        next.baristaUserId = ''
        next.baristaName = undefined
      }
      break
    case 'completed':
      if (!final) {
        next.state = 'COMPLETED'
        next.completedAt = eventTime(d, now)
      }
      break
    case 'cancelled':
      if (!final) next.state = 'CANCELLED'
      break
    case 'timedOut':
      if (!final) {
        next.state = 'TIMED_OUT'
        next.reason = d.reason
      }
      break
    default:
      if (!existing) return null
  }
  next.updatedAt = eventTime(d, now)
  return next
}

/** Merges a fetched order over a known one, keeping what the fetch leaves out. */
export function mergeOrder(known: Order | undefined, fetched: Order): Order {
  if (!known) return fetched
  // A refetch can be older than an event already applied: never undo a final state with it.
  if (isFinal(known) && !isFinal(fetched)) return { ...fetched, ...known }
  return { ...known, ...fetched }
}

/** Where an order stands, from the customer's point of view. */
export type OrderPhase = 'choosing' | 'received' | 'queued' | 'making' | 'ready' | 'cancelled' | 'timedOut'

export function orderPhase(order: Order): OrderPhase {
  switch (order.state) {
    case 'COMPLETED':
      return 'ready'
    case 'CANCELLED':
      return 'cancelled'
    case 'TIMED_OUT':
      return 'timedOut'
  }
  if (!order.drinkOrder) return 'choosing'
  if (order.orderNumber === undefined) return 'received'
  return order.baristaUserId ? 'making' : 'queued'
}

/** Orders waiting at the bar (they have a number and nobody made them yet or they are being made). */
export function isInProduction(order: Order): boolean {
  return order.state === 'CREATED' && order.orderNumber !== undefined
}

export function byOrderNumber(a: Order, b: Order): number {
  return (a.orderNumber ?? Number.MAX_SAFE_INTEGER) - (b.orderNumber ?? Number.MAX_SAFE_INTEGER) || a.createdAt - b.createdAt
}

/** "#12" */
export function orderLabel(order: Pick<Order, 'orderNumber'>): string {
  return order.orderNumber === undefined ? '—' : `#${order.orderNumber}`
}

export interface DrinkGroup {
  key: string
  label: string
  orders: Order[]
}

/** Groups identical drinks (same drink and options), so one barista can make them together. */
export function groupIdenticalDrinks(orders: Order[]): DrinkGroup[] {
  const groups = new Map<string, DrinkGroup>()
  for (const order of orders) {
    const drink = order.drinkOrder
    const key = drink ? `${drink.drink}\u0000${[...drink.modifiers].sort().join('\u0000')}` : '\u0000'
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
