/** The order app: a customer's phone, opened from the QR code on the display. */
import { bootApp } from '@lib/boot'
import OrderApp from './OrderApp.vue'
import HistoryView from './views/HistoryView.vue'
import JourneyView from './views/JourneyView.vue'
import OrderView from './views/OrderView.vue'
import ScanView from './views/ScanView.vue'
import StartView from './views/StartView.vue'
import { takeScanFromLocation } from './scanUrl'

takeScanFromLocation()

void bootApp({
  name: 'order',
  root: OrderApp,
  routes: [
    { path: '/', name: 'start', component: StartView },
    { path: '/scan', name: 'scan', component: ScanView },
    { path: '/orders/:id', name: 'order', component: OrderView, meta: { auth: true } },
    { path: '/orders/:id/journey', name: 'journey', component: JourneyView, meta: { auth: true } },
    { path: '/history', name: 'history', component: HistoryView, meta: { auth: true } },
    { path: '/:pathMatch(.*)*', redirect: '/' },
  ],
  setup({ router, services }) {
    router.beforeEach((to) => (to.meta.auth && !services.auth.user ? { name: 'start' } : true))
    router.afterEach(() => {
      // Move focus to the new screen so screen readers announce it.
      requestAnimationFrame(() => document.getElementById('main')?.focus({ preventScroll: true }))
    })
    services.auth.onChange((user) => {
      if (!user && router.currentRoute.value.meta.auth) void router.replace({ name: 'start' })
    })
  },
})
