import { describe, expect, it } from 'vitest'
import { describeDrink, hasOrderableDrink, startChoice, validateChoice, type DrinkChoice } from '../menu'
import type { MenuItem } from '../../api/types'

const menu: MenuItem[] = [
  {
    drink: 'Flat White',
    available: true,
    modifiers: [{ name: 'Milk', options: [{ name: 'Regular', available: true }, { name: 'Oat', available: false }] }],
  },
  { drink: 'Cappuccino', available: false, modifiers: [] },
  { drink: 'Double Espresso', available: true, modifiers: [] },
  {
    drink: 'Latte',
    available: true,
    modifiers: [
      { name: 'Milk', options: [{ name: 'Oat', available: false }] },
      { name: 'Syrup', required: false, options: [{ name: 'Vanilla', available: true }] },
    ],
  },
]

const choice = (drink: string | null, modifiers: Record<string, string | null> = {}): DrinkChoice => ({ drink, modifiers })

describe('validateChoice', () => {
  it.each([
    ['no drink', choice(null), /Choose a drink/],
    ['an unknown drink', choice('Mocha'), /no longer on the menu/],
    ['a sold-out drink', choice('Cappuccino'), /Cappuccino is sold out/],
  ])('refuses %s', (_name, c, message) => {
    const v = validateChoice(menu, c)
    expect(v.ok).toBe(false)
    expect(v.drinkError).toMatch(message)
  })

  it.each([
    ['a missing milk', choice('Flat White', { Milk: null }), 'Milk', /Choose a milk/],
    ['a sold-out milk', choice('Flat White', { Milk: 'Oat' }), 'Milk', /Oat is sold out/],
    ['a made-up milk', choice('Flat White', { Milk: 'Cream' }), 'Milk', /not a milk option/],
    ['a group with nothing left', choice('Latte', { Milk: null }), 'Milk', /No milk option is left/],
  ])('refuses %s next to its group', (_name, c, group, message) => {
    const v = validateChoice(menu, c)
    expect(v.ok).toBe(false)
    expect(v.modifierErrors[group]).toMatch(message)
  })

  it('accepts a valid choice and sends options in menu order', () => {
    expect(validateChoice(menu, choice('Flat White', { Milk: 'Regular' }))).toEqual({
      ok: true,
      modifierErrors: {},
      request: { drink: 'Flat White', modifiers: ['Regular'] },
    })
    expect(validateChoice(menu, choice('Double Espresso')).request).toEqual({ drink: 'Double Espresso', modifiers: [] })
  })

  it('lets an optional group stay empty', () => {
    const v = validateChoice(
      [{ drink: 'Tea', available: true, modifiers: [{ name: 'Syrup', required: false, options: [{ name: 'Honey', available: true }] }] }],
      choice('Tea', { Syrup: null }),
    )
    expect(v.request).toEqual({ drink: 'Tea', modifiers: [] })
  })
})

describe('menu helpers', () => {
  it('pre-selects the first available option of required groups only', () => {
    expect(startChoice(menu[0]!)).toEqual({ drink: 'Flat White', modifiers: { Milk: 'Regular' } })
    expect(startChoice(menu[3]!)).toEqual({ drink: 'Latte', modifiers: { Milk: null, Syrup: null } })
  })

  it('knows whether anything can be ordered', () => {
    expect(hasOrderableDrink(menu)).toBe(true)
    expect(hasOrderableDrink([menu[1]!, menu[3]!])).toBe(false)
  })

  it.each([
    [{ drink: 'Americano', modifiers: [] }, 'Americano'],
    [{ drink: 'Flat White', modifiers: ['Oat', 'None'] }, 'Flat White · Oat'],
    [undefined, 'Drink not chosen yet'],
  ])('describes %j as %s', (drink, text) => expect(describeDrink(drink)).toBe(text))
})
