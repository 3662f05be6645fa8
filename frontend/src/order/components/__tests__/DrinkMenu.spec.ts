import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { Drink } from '@lib/api'
import DrinkMenu from '../DrinkMenu.vue'

const latte = (oat = true): Drink => ({
  id: 'latte',
  name: 'Latte',
  icon: 'latte',
  available: true,
  modifiers: [
    { id: 'milk', name: 'Milk', required: true, maxChoices: 1, options: [{ id: 'regular', name: 'Regular', available: true }, { id: 'oat', name: 'Oat', available: oat }] },
    { id: 'syrup', name: 'Syrup', required: false, maxChoices: 2, options: [{ id: 'vanilla', name: 'Vanilla', available: true }, { id: 'caramel', name: 'Caramel', available: true }] },
  ],
})
const cappuccino: Drink = { id: 'cappuccino', name: 'Cappuccino', icon: 'c', available: false, modifiers: [] }
const menu = [latte(), cappuccino]

describe('DrinkMenu', () => {
  it('disables sold-out drinks and labels them', () => {
    const w = mount(DrinkMenu, { props: { menu, busy: false } })
    expect(w.find('input[value="cappuccino"]').attributes('disabled')).toBeDefined()
    expect(w.text()).toContain('Sold out')
  })

  it('pre-selects the first option, lets the customer change it and submits the choice', async () => {
    const w = mount(DrinkMenu, { props: { menu, busy: false } })
    await w.find('input[value="latte"]').setValue(true)
    expect((w.find('input[value="regular"]').element as HTMLInputElement).checked).toBe(true)
    await w.find('input[value="oat"]').trigger('change')
    await w.find('input[value="vanilla"]').trigger('change')
    expect(w.find('.summary').text()).toContain('Latte · Oat · Vanilla')
    expect(w.text()).toContain('Optional, up to 2')
    await w.find('form').trigger('submit')
    expect(w.emitted('submit')).toEqual([[{ drink: 'latte', options: { milk: ['oat'], syrup: ['vanilla'] } }]])
  })

  it('says next to the group when the chosen option sells out, and does not submit', async () => {
    const w = mount(DrinkMenu, { props: { menu, busy: false } })
    await w.find('input[value="latte"]').setValue(true)
    await w.find('input[value="oat"]').trigger('change')
    await w.setProps({ menu: [latte(false), cappuccino] })
    expect(w.find('[role="alert"]').text()).toContain('Oat is sold out')
    await w.find('form').trigger('submit')
    expect(w.emitted('submit')).toBeUndefined()
  })

  it('cannot be sent before a drink is chosen', () => {
    const w = mount(DrinkMenu, { props: { menu, busy: false } })
    expect(w.find('button[type="submit"]').attributes('disabled')).toBeDefined()
  })
})
