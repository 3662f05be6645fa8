import { describe, expect, it } from 'vitest'
import { applyOrderEvent, eventKind, formatAge, formatWait, groupIdenticalDrinks, mergeOrder, orderPhase } from '../orders'
import type { DrinkOrder, OrderView, RealtimeMessage } from '../../api/types'

const msg = (type: string, detail: Partial<RealtimeMessage['detail']> = {}): RealtimeMessage => ({
  type,
  detail: { eventId: 'E', orderId: 'o1', ...detail },
})

const order = (over: Partial<OrderView> = {}): OrderView => ({
  orderId: 'o1',
  eventId: 'E',
  userId: 'u1',
  state: 'pending',
  robot: false,
  createdAt: 1000,
  updatedAt: 1000,
  ...over,
})

const drink = (drinkId: string, ...options: string[]): DrinkOrder => ({
  drinkId,
  drink: drinkId[0]!.toUpperCase() + drinkId.slice(1),
  icon: drinkId,
  modifiers: options.map((o) => ({ modifier: 'm', option: o, name: o[0]!.toUpperCase() + o.slice(1) })),
})

describe('eventKind', () => {
  it.each([
    ['Validator.NewOrder', 'newOrder'],
    ['OrderManager.OrderSubmitted', 'submitted'],
    ['OrderProcessor.WaitingCompletion', 'numbered'],
    ['OrderManager.WaitingCompletion', 'waiting'],
    ['OrderManager.MakeOrder', 'make'],
    ['OrderManager.UnmakeOrder', 'unmake'],
    ['OrderManager.OrderCompleted', 'completed'],
    ['OrderManager.OrderCancelled', 'cancelled'],
    ['OrderProcessor.OrderTimeOut', 'timedOut'],
    ['OrderProcessor.ShopUnavailable', 'rejected'],
    ['OrderProcessor.OrderFailed', 'failed'],
    ['OrderProcessor.orderFinished', 'finished'],
    ['ConfigService.ConfigChanged', 'config'],
    ['Something.Else', 'other'],
  ])('%s means %s', (type, kind) => expect(eventKind(type)).toBe(kind))
})

describe('applyOrderEvent', () => {
  it('builds an order from WaitingCompletion with its number, drink and name', () => {
    const o = applyOrderEvent(
      undefined,
      msg('OrderManager.WaitingCompletion', { state: 'queued', orderNumber: 12, userId: 'u1', displayName: 'Ana', drinkOrder: drink('latte', 'oat'), TS: 5000 }),
      9000,
    )
    expect(o).toMatchObject({ orderId: 'o1', orderNumber: 12, displayName: 'Ana', state: 'queued', createdAt: 5000 })
    expect(orderPhase(o!)).toBe('queued')
  })

  it('reads an order number sent as a string', () => {
    expect(applyOrderEvent(order(), msg('OrderProcessor.WaitingCompletion', { orderNumber: '40' }), 1)!.orderNumber).toBe(40)
  })

  it('follows make, unmake and complete', () => {
    let o: OrderView | null = order({ state: 'queued', orderNumber: 3, drinkOrder: drink('latte') })
    o = applyOrderEvent(o, msg('OrderManager.MakeOrder', { state: 'inProgress', baristaUserId: 'b1', TS: 2000 }), 2000)
    expect(o).toMatchObject({ state: 'inProgress', baristaUserId: 'b1' })
    expect(orderPhase(o!)).toBe('making')
    o = applyOrderEvent(o!, msg('OrderManager.UnmakeOrder', { state: 'queued', TS: 2100 }), 2100)
    expect(o).toMatchObject({ state: 'queued', baristaUserId: undefined })
    o = applyOrderEvent(o!, msg('OrderManager.MakeOrder', { state: 'inProgress', baristaUserId: 'b2', TS: 2200 }), 2200)
    o = applyOrderEvent(o!, msg('OrderManager.OrderCompleted', { state: 'completed', baristaUserId: 'b2', TS: 3000 }), 3100)
    expect(o).toMatchObject({ state: 'completed', finishedAt: 3000, baristaUserId: 'b2' })
    expect(orderPhase(o!)).toBe('ready')
  })

  it('never moves an order out of a final state', () => {
    const done = order({ state: 'cancelled' })
    expect(applyOrderEvent(done, msg('OrderManager.OrderCompleted', { state: 'completed' }), 1)!.state).toBe('cancelled')
    expect(applyOrderEvent(done, msg('OrderManager.MakeOrder', { state: 'inProgress', baristaUserId: 'b' }), 1)!.baristaUserId).toBeUndefined()
  })

  it('ignores a state older than what is known', () => {
    const o = order({ state: 'inProgress', baristaUserId: 'b', updatedAt: 5000 })
    expect(applyOrderEvent(o, msg('OrderManager.WaitingCompletion', { state: 'queued', TS: 4000 }), 6000)!.state).toBe('inProgress')
  })

  it('is idempotent when an event arrives twice', () => {
    const once = applyOrderEvent(order({ state: 'inProgress' }), msg('OrderManager.OrderCompleted', { state: 'completed', TS: 50 }), 60)
    const twice = applyOrderEvent(once!, msg('OrderManager.OrderCompleted', { state: 'completed', TS: 50 }), 70)
    expect(twice).toEqual(once)
  })

  it.each([
    ['Customer timedout', 'drink'],
    ['Barista timedout', 'barista'],
  ])('records which wait timed out (%s)', (cause, wait) => {
    const o = applyOrderEvent(order(), msg('OrderProcessor.OrderTimeOut', { state: 'timedOut', cause }), 1)
    expect(o).toMatchObject({ state: 'timedOut', timedOutWait: wait })
    expect(orderPhase(o!)).toBe('timedOut')
  })

  it('records why the shop refused an order', () => {
    const o = applyOrderEvent(order(), msg('OrderProcessor.ShopUnavailable', { state: 'rejected', reason: 'atCapacity' }), 1)
    expect(o).toMatchObject({ state: 'rejected', rejectReason: 'atCapacity' })
  })

  it('ignores messages without an order', () => {
    expect(applyOrderEvent(undefined, { type: 'ConfigService.ConfigChanged', detail: { eventId: 'E' } }, 1)).toBeNull()
    expect(applyOrderEvent(undefined, msg('Unknown.Type'), 1)).toBeNull()
  })
})

describe('order helpers', () => {
  it.each([
    ['pending', 'choosing'],
    ['submitted', 'received'],
    ['queued', 'queued'],
    ['inProgress', 'making'],
    ['completed', 'ready'],
    ['cancelled', 'cancelled'],
    ['timedOut', 'timedOut'],
    ['rejected', 'rejected'],
    ['failed', 'failed'],
  ] as const)('state %s is phase %s', (state, phase) => expect(orderPhase(order({ state }))).toBe(phase))

  it('keeps a final state an older refetch does not know yet', () => {
    expect(mergeOrder(order({ state: 'completed' }), order({ state: 'queued', orderNumber: 4 }))).toMatchObject({ state: 'completed', orderNumber: 4 })
    expect(mergeOrder(order(), order({ state: 'cancelled' })).state).toBe('cancelled')
  })

  it('groups identical drinks whatever the order of their options', () => {
    const groups = groupIdenticalDrinks([
      order({ orderId: 'a', orderNumber: 5, drinkOrder: drink('latte', 'oat', 'vanilla') }),
      order({ orderId: 'b', orderNumber: 2, drinkOrder: drink('americano') }),
      order({ orderId: 'c', orderNumber: 7, drinkOrder: drink('latte', 'vanilla', 'oat') }),
      order({ orderId: 'd', orderNumber: 9, drinkOrder: drink('latte', 'regular') }),
    ])
    expect(groups.map((g) => [g.label, g.orders.map((o) => o.orderId)])).toEqual([
      ['Americano', ['b']],
      ['Latte · Oat · Vanilla', ['a', 'c']],
      ['Latte · Regular', ['d']],
    ])
  })

  it.each([
    [0, '0s'],
    [59_000, '59s'],
    [65_000, '1m 05s'],
    [-1, '0s'],
  ])('shows an age of %i ms as %s', (ms, text) => expect(formatAge(0, ms)).toBe(text))

  it.each([
    [undefined, null],
    [30, 'less than a minute'],
    [150, 'about 3 min'],
  ])('shows a wait of %s s as %s', (s, text) => expect(formatWait(s)).toBe(text))
})
