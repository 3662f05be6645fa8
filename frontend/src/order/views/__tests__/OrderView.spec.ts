import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { OrderView as Order } from '@lib/api'
import { configView, orderView } from '@lib/testing/fixtures'
import { installFakeServices } from '@lib/testing/services'
import OrderView from '../OrderView.vue'

async function show(order: Order) {
  installFakeServices(
    (req) => {
      if (req.url === '/api/events/E/config') return { body: configView() }
      if (req.url === `/api/orders/${order.orderId}`) return { body: order }
      return { body: [] }
    },
    { sub: 'u1', givenName: 'Ana' },
  )
  const pinia = createPinia()
  setActivePinia(pinia)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: { template: '<p/>' } },
      { path: '/orders/:id', name: 'order', component: OrderView },
      { path: '/orders/:id/journey', name: 'journey', component: { template: '<p/>' } },
    ],
  })
  await router.push(`/orders/${order.orderId}`)
  const w = mount({ template: '<RouterView />' }, { global: { plugins: [pinia, router] } })
  await flushPromises()
  return w
}

describe('OrderView', () => {
  it('shows the number, the queue position and the wait, and offers to cancel', async () => {
    const w = await show(orderView(7, { userId: 'u1', queuePosition: 2, estimatedWaitSeconds: 180 }))
    expect(w.find('h1').text()).toBe('You are in the queue')
    expect(w.text()).toContain('7')
    expect(w.text()).toContain('about 3 min')
    expect(w.find('[aria-current="step"]').text()).toContain('In the queue')
    expect(w.text()).toContain('Cancel order')
  })

  it('no longer offers to cancel once the drink is being made', async () => {
    const w = await show(orderView(7, { userId: 'u1', state: 'inProgress', baristaUserId: 'b' }))
    expect(w.find('h1').text()).toBe('Your drink is being made')
    expect(w.text()).not.toContain('Cancel order')
  })

  it('shows the menu while the drink is not chosen', async () => {
    const w = await show(orderView(7, { userId: 'u1', state: 'pending', orderNumber: undefined, drinkOrder: undefined }))
    expect(w.text()).toContain('Choose your drink')
  })

  it.each([
    [{ state: 'timedOut', timedOutWait: 'drink' }, 'This order timed out', 'Having trouble deciding?'],
    [{ state: 'timedOut', timedOutWait: 'barista' }, 'This order timed out', 'could not get to your drink'],
    [{ state: 'rejected', rejectReason: 'atCapacity' }, 'We could not take this order', 'The queue was full'],
    [{ state: 'cancelled', cancelledBy: 'barista' }, 'Order cancelled', 'The bar cancelled this order'],
    [{ state: 'completed' }, 'Ready for pickup!', 'Collect it at the bar'],
  ] as const)('explains %j', async (over, headline, explanation) => {
    const w = await show(orderView(7, { userId: 'u1', ...over }))
    expect(w.find('h1').text()).toBe(headline)
    expect(w.text()).toContain(explanation)
  })
})
