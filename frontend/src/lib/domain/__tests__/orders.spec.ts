import { describe, expect, it } from 'vitest'
import { applyOrderEvent, eventKind, formatAge, formatWait, groupIdenticalDrinks, mergeOrder, orderPhase } from '../orders'
import type { Order, RealtimeMessage } from '../../api/types'

const msg = (type: string, detail: Partial<RealtimeMessage['detail']> = {}): RealtimeMessage => ({
  type,
  detail: { eventId: 'E', orderId: 'o1', ...detail },
})

const order = (over: Partial<Order> = {}): Order => ({
  orderId: 'o1',
  eventId: 'E',
  userId: 'u1',
  state: 'CREATED',
  createdAt: 1000,
  ...over,
})

describe('eventKind', () => {
  it.each([
    ['OrderManager.WaitingCompletion', 'waiting'],
    ['OrderManager.MakeOrder', 'make'],
    ['OrderManager.UnmakeOrder', 'unmake'],
    ['OrderManager.OrderCompleted', 'completed'],
    ['OrderManager.OrderNYC-COMPLETED', 'completed'],
    ['OrderManager.OrderCancelled', 'cancelled'],
    ['OrderManager.OrderNYC-CANCELLED', 'cancelled'],
    ['OrderProcessor.OrderTimeOut', 'timedOut'],
    ['ConfigService.ConfigChanged', 'config'],
    ['Something.Else', 'other'],
  ])('%s means %s', (type, kind) => expect(eventKind(type)).toBe(kind))
})

describe('applyOrderEvent', () => {
  it('builds an order from WaitingCompletion with its number, drink and name', () => {
    const o = applyOrderEvent(
      undefined,
      msg('OrderManager.WaitingCompletion', {
        orderNumber: '12',
        userId: 'u1',
        displayName: 'Ana',
        drinkOrder: { drink: 'Latte', modifiers: ['Oat'] },
        TS: 5000,
      }),
      9000,
    )
    expect(o).toMatchObject({ orderId: 'o1', orderNumber: 12, displayName: 'Ana', state: 'CREATED', createdAt: 5000 })
    expect(orderPhase(o!)).toBe('queued')
  })

  it('follows make, unmake and complete', () => {
    let o: Order | null = order({ orderNumber: 3, drinkOrder: { drink: 'Latte', modifiers: [] } })
    o = applyOrderEvent(o, msg('OrderManager.MakeOrder', { baristaUserId: 'b1', baristaName: 'Bo' }), 2000)
    expect(o).toMatchObject({ baristaUserId: 'b1', baristaName: 'Bo' })
    expect(orderPhase(o!)).toBe('making')
    o = applyOrderEvent(o!, msg('OrderManager.MakeOrder', { baristaUserId: '' }), 2100)
    expect(orderPhase(o!)).toBe('queued')
    o = applyOrderEvent(o!, msg('OrderManager.MakeOrder', { baristaUserId: 'b1' }), 2200)
    o = applyOrderEvent(o!, msg('OrderManager.UnmakeOrder'), 2300)
    expect(o!.baristaUserId).toBe('')
    o = applyOrderEvent(o!, msg('OrderManager.OrderCompleted', { time: 3000 }), 3100)
    expect(o).toMatchObject({ state: 'COMPLETED', completedAt: 3000 })
    expect(orderPhase(o!)).toBe('ready')
  })

  it('never moves an order out of a final state', () => {
    const done = order({ state: 'CANCELLED' })
    expect(applyOrderEvent(done, msg('OrderManager.OrderCompleted'), 1)!.state).toBe('CANCELLED')
    expect(applyOrderEvent(done, msg('OrderManager.MakeOrder', { baristaUserId: 'b' }), 1)!.baristaUserId).toBeUndefined()
    expect(applyOrderEvent(done, msg('OrderProcessor.OrderTimeOut'), 1)!.state).toBe('CANCELLED')
  })

  it('is idempotent when an event arrives twice', () => {
    const once = applyOrderEvent(order(), msg('OrderManager.OrderCompleted', { time: 50 }), 60)
    const twice = applyOrderEvent(once!, msg('OrderManager.OrderCompleted', { time: 50 }), 70)
    expect(twice).toEqual(once)
  })

  it('records why an order timed out', () => {
    const o = applyOrderEvent(order(), msg('OrderProcessor.OrderTimeOut', { reason: 'customer-timeout' }), 1)
    expect(o).toMatchObject({ state: 'TIMED_OUT', reason: 'customer-timeout' })
    expect(orderPhase(o!)).toBe('timedOut')
  })

  it('ignores messages without an order', () => {
    expect(applyOrderEvent(undefined, { type: 'ConfigService.ConfigChanged', detail: { eventId: 'E' } }, 1)).toBeNull()
    expect(applyOrderEvent(undefined, msg('Unknown.Type'), 1)).toBeNull()
  })
})

describe('order helpers', () => {
  it.each([
    [order(), 'choosing'],
    [order({ drinkOrder: { drink: 'Latte', modifiers: [] } }), 'received'],
    [order({ drinkOrder: { drink: 'Latte', modifiers: [] }, orderNumber: 1 }), 'queued'],
    [order({ drinkOrder: { drink: 'Latte', modifiers: [] }, orderNumber: 1, baristaUserId: 'b' }), 'making'],
    [order({ state: 'COMPLETED' }), 'ready'],
    [order({ state: 'CANCELLED' }), 'cancelled'],
    [order({ state: 'TIMED_OUT' }), 'timedOut'],
  ])('%# is in phase %s', (o, phase) => expect(orderPhase(o)).toBe(phase))

  it('keeps a final state an older refetch does not know yet', () => {
    expect(mergeOrder(order({ state: 'COMPLETED' }), order({ state: 'CREATED', orderNumber: 4 }))).toMatchObject({
      state: 'COMPLETED',
      orderNumber: 4,
    })
    expect(mergeOrder(order(), order({ state: 'CANCELLED' })).state).toBe('CANCELLED')
  })

  it('groups identical drinks whatever the order of their options', () => {
    const groups = groupIdenticalDrinks([
      order({ orderId: 'a', orderNumber: 5, drinkOrder: { drink: 'Latte', modifiers: ['Oat', 'Vanilla'] } }),
      order({ orderId: 'b', orderNumber: 2, drinkOrder: { drink: 'Americano', modifiers: [] } }),
      order({ orderId: 'c', orderNumber: 7, drinkOrder: { drink: 'Latte', modifiers: ['Vanilla', 'Oat'] } }),
      order({ orderId: 'd', orderNumber: 9, drinkOrder: { drink: 'Latte', modifiers: ['Regular'] } }),
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
