/** Domain values in the API's shapes, for tests. */
import type { ConfigView, Drink, DrinkOrder, OrderView } from '../api/types'

export function drinkOrder(drinkId: string, ...options: string[]): DrinkOrder {
  const title = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)
  return {
    drinkId,
    drink: title(drinkId),
    icon: drinkId,
    modifiers: options.map((o) => ({ modifier: 'milk', option: o, name: title(o) })),
  }
}

export function orderView(n: number, over: Partial<OrderView> = {}): OrderView {
  return {
    orderId: `o${n}`,
    eventId: 'E',
    userId: `u${n}`,
    displayName: `Guest ${n}`,
    state: 'queued',
    orderNumber: n,
    drinkOrder: n % 2 ? drinkOrder('latte', 'oat') : drinkOrder('americano'),
    robot: false,
    createdAt: 1000 + n,
    updatedAt: 1000 + n,
    ...over,
  }
}

export const LATTE: Drink = {
  id: 'latte',
  name: 'Latte',
  icon: 'latte',
  available: true,
  modifiers: [
    {
      id: 'milk',
      name: 'Milk',
      required: true,
      maxChoices: 1,
      options: [
        { id: 'regular', name: 'Regular', available: true },
        { id: 'oat', name: 'Oat', available: false },
      ],
    },
  ],
}

export const MOCHA: Drink = { id: 'mocha', name: 'Mocha', icon: 'mocha', available: false, modifiers: [] }

export function configView(over: Partial<ConfigView> = {}): ConfigView {
  return {
    storeState: 'open',
    eventId: 'E',
    open: true,
    paused: false,
    drinksPerBarcode: 10,
    maxOrdersInQueue: 20,
    maxOrdersPerUser: 1,
    secondsPerDrink: 90,
    menu: { drinks: [LATTE, MOCHA] },
    version: 1,
    updatedAt: 1,
    ...over,
  }
}
