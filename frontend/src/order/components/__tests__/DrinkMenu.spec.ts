import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { MenuItem } from '@lib/api'
import DrinkMenu from '../DrinkMenu.vue'

const menu: MenuItem[] = [
  { drink: 'Latte', available: true, modifiers: [{ name: 'Milk', options: [{ name: 'Regular', available: true }, { name: 'Oat', available: true }] }] },
  { drink: 'Cappuccino', available: false, modifiers: [] },
]

describe('DrinkMenu', () => {
  it('disables sold-out drinks and labels them', () => {
    const w = mount(DrinkMenu, { props: { menu, busy: false } })
    const cappuccino = w.find('input[value="Cappuccino"]')
    expect(cappuccino.attributes('disabled')).toBeDefined()
    expect(w.text()).toContain('Sold out')
  })

  it('pre-selects the first option and submits the choice', async () => {
    const w = mount(DrinkMenu, { props: { menu, busy: false } })
    await w.find('input[value="Latte"]').setValue(true)
    expect((w.find('input[value="Regular"]').element as HTMLInputElement).checked).toBe(true)
    await w.find('input[value="Oat"]').setValue(true)
    expect(w.find('.summary').text()).toContain('Latte · Oat')
    await w.find('form').trigger('submit')
    expect(w.emitted('submit')).toEqual([[{ drink: 'Latte', modifiers: { Milk: 'Oat' } }]])
  })

  it('says next to the group when the chosen option sells out, and does not submit', async () => {
    const w = mount(DrinkMenu, { props: { menu, busy: false } })
    await w.find('input[value="Latte"]').setValue(true)
    await w.find('input[value="Oat"]').setValue(true)
    const soldOut: MenuItem[] = [
      { ...menu[0]!, modifiers: [{ name: 'Milk', options: [{ name: 'Regular', available: true }, { name: 'Oat', available: false }] }] },
      menu[1]!,
    ]
    await w.setProps({ menu: soldOut })
    expect(w.find('[role="alert"]').text()).toContain('Oat is sold out')
    await w.find('form').trigger('submit')
    expect(w.emitted('submit')).toBeUndefined()
  })

  it('cannot be sent before a drink is chosen', () => {
    const w = mount(DrinkMenu, { props: { menu, busy: false } })
    expect(w.find('button[type="submit"]').attributes('disabled')).toBeDefined()
  })
})
