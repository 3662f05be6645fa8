import { describe, expect, it } from 'vitest'
import { describeChoice, describeDrink, hasOrderableDrink, startChoice, toggleOption, validateChoice, type DrinkChoice } from '../menu'
import type { Drink, Modifier } from '../../api/types'

const opt = (id: string, available = true) => ({ id, name: id[0]!.toUpperCase() + id.slice(1), available })
const milk = (oat = true): Modifier => ({ id: 'milk', name: 'Milk', required: true, maxChoices: 1, options: [opt('regular'), opt('oat', oat)] })
const syrup: Modifier = { id: 'syrup', name: 'Syrup', required: false, maxChoices: 2, options: [opt('vanilla'), opt('caramel'), opt('hazelnut')] }

const menu: Drink[] = [
  { id: 'flat-white', name: 'Flat White', icon: 'fw', available: true, modifiers: [milk(false)] },
  { id: 'cappuccino', name: 'Cappuccino', icon: 'c', available: false, modifiers: [] },
  { id: 'double-espresso', name: 'Double Espresso', icon: 'e', available: true, modifiers: [] },
  { id: 'latte', name: 'Latte', icon: 'l', available: true, modifiers: [milk(), syrup] },
  { id: 'oat-latte', name: 'Oat Latte', icon: 'l', available: true, modifiers: [{ ...milk(false), options: [opt('oat', false)] }] },
]

const choice = (drink: string | null, options: Record<string, string[]> = {}): DrinkChoice => ({ drink, options })

describe('validateChoice', () => {
  it.each([
    ['no drink', choice(null), /Choose a drink/],
    ['an unknown drink', choice('mocha'), /no longer on the menu/],
    ['a sold-out drink', choice('cappuccino'), /Cappuccino is sold out/],
  ])('refuses %s', (_name, c, message) => {
    const v = validateChoice(menu, c)
    expect(v.ok).toBe(false)
    expect(v.drinkError).toMatch(message)
  })

  it.each([
    ['a missing milk', choice('flat-white', { milk: [] }), 'milk', /Choose a milk/],
    ['a sold-out milk', choice('flat-white', { milk: ['oat'] }), 'milk', /Oat is sold out/],
    ['a made-up milk', choice('flat-white', { milk: ['cream'] }), 'milk', /no longer on the menu/],
    ['a group with nothing left', choice('oat-latte', { milk: [] }), 'milk', /No milk option is left/],
    ['too many syrups', choice('latte', { milk: ['regular'], syrup: ['vanilla', 'caramel', 'hazelnut'] }), 'syrup', /at most 2/],
  ])('refuses %s next to its group', (_name, c, group, message) => {
    const v = validateChoice(menu, c)
    expect(v.ok).toBe(false)
    expect(v.modifierErrors[group]).toMatch(message)
  })

  it('accepts a valid choice and sends ids in menu order', () => {
    expect(validateChoice(menu, choice('latte', { milk: ['oat'], syrup: ['caramel', 'vanilla'] }))).toEqual({
      ok: true,
      modifierErrors: {},
      request: { drink: 'latte', modifiers: ['oat', 'vanilla', 'caramel'] },
    })
    expect(validateChoice(menu, choice('double-espresso')).request).toEqual({ drink: 'double-espresso', modifiers: [] })
  })

  it('lets an optional group stay empty', () => {
    expect(validateChoice(menu, choice('latte', { milk: ['regular'], syrup: [] })).request).toEqual({ drink: 'latte', modifiers: ['regular'] })
  })
})

describe('choosing options', () => {
  it('pre-selects the first available option of required groups only', () => {
    expect(startChoice(menu[0]!)).toEqual({ drink: 'flat-white', options: { milk: ['regular'] } })
    expect(startChoice(menu[3]!)).toEqual({ drink: 'latte', options: { milk: ['regular'], syrup: [] } })
  })

  it('swaps a one-choice option and keeps a required one picked', () => {
    let c = startChoice(menu[3]!)
    c = toggleOption(c, milk(), 'oat')
    expect(c.options.milk).toEqual(['oat'])
    c = toggleOption(c, milk(), 'oat')
    expect(c.options.milk).toEqual(['oat'])
  })

  it('toggles multi-choice options, dropping the oldest past the limit', () => {
    let c = startChoice(menu[3]!)
    c = toggleOption(c, syrup, 'vanilla')
    c = toggleOption(c, syrup, 'caramel')
    c = toggleOption(c, syrup, 'hazelnut')
    expect(c.options.syrup).toEqual(['caramel', 'hazelnut'])
    c = toggleOption(c, syrup, 'caramel')
    expect(c.options.syrup).toEqual(['hazelnut'])
  })

  it('knows whether anything can be ordered', () => {
    expect(hasOrderableDrink(menu)).toBe(true)
    expect(hasOrderableDrink([menu[1]!, menu[4]!])).toBe(false)
  })

  it('describes a choice and an order by name', () => {
    expect(describeChoice(menu, choice('latte', { milk: ['oat'], syrup: ['vanilla'] }))).toBe('Latte · Oat · Vanilla')
    expect(describeChoice(menu, choice(null))).toBe('Nothing chosen yet')
    expect(describeDrink({ drink: 'Flat White', modifiers: [{ name: 'Oat' }, 'None'] })).toBe('Flat White · Oat')
    expect(describeDrink(undefined)).toBe('Drink not chosen yet')
  })
})
