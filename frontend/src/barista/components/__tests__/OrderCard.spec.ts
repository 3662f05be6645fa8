import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { orderView } from '@lib/testing/fixtures'
import OrderCard from '../OrderCard.vue'

const NOW = 10_000_000

describe('OrderCard', () => {
  it('offers Cancel and Make on a new order and reports the tap', async () => {
    const w = mount(OrderCard, { props: { order: orderView(3, { createdAt: NOW - 30_000 }), lane: 'new', now: NOW, mySub: 'me' } })
    expect(w.text()).toContain('#3')
    expect(w.text()).toContain('Guest 3')
    expect(w.text()).toContain('Latte')
    expect(w.text()).toContain('Oat')
    expect(w.text()).toContain('30s')
    await w.findAll('button').find((b) => b.text() === 'Make')!.trigger('click')
    expect(w.emitted('act')).toEqual([['make']])
  })

  it('says who is making an order in progress', () => {
    const mine = mount(OrderCard, { props: { order: orderView(4, { state: 'inProgress', baristaUserId: 'me' }), lane: 'progress', now: NOW, mySub: 'me' } })
    expect(mine.text()).toContain('Made by You')
    const theirs = mount(OrderCard, { props: { order: orderView(4, { state: 'inProgress', baristaUserId: 'x' }), lane: 'progress', now: NOW, mySub: 'me' } })
    expect(theirs.text()).toContain('Made by Another barista')
    expect(theirs.find('button[aria-label="Cancel order 4"]').exists()).toBe(true)
  })

  it('marks late orders so they stand out', () => {
    const w = mount(OrderCard, { props: { order: orderView(5, { createdAt: NOW - 400_000 }), lane: 'new', now: NOW, mySub: 'me' } })
    expect(w.find('article').classes()).toContain('late')
  })

  it('shows how long ago a ready order was finished, without actions', () => {
    const w = mount(OrderCard, { props: { order: orderView(6, { state: 'completed', finishedAt: NOW - 65_000 }), lane: 'ready', now: NOW, mySub: 'me' } })
    expect(w.text()).toContain('ready 1m 05s ago')
    expect(w.findAll('button')).toHaveLength(0)
  })
})
