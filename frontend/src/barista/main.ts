/** The barista app: the queue on a tablet, store controls and sold-out switches. */
import { bootApp } from '@lib/boot'
import BaristaApp from './BaristaApp.vue'
import BaristaSignInView from './views/BaristaSignInView.vue'
import MenuView from './views/MenuView.vue'
import QueueView from './views/QueueView.vue'

void bootApp({
  name: 'barista',
  root: BaristaApp,
  routes: [
    { path: '/', name: 'queue', component: QueueView, meta: { admin: true } },
    { path: '/menu', name: 'menu', component: MenuView, meta: { admin: true } },
    { path: '/sign-in', name: 'sign-in', component: BaristaSignInView },
    { path: '/:pathMatch(.*)*', redirect: '/' },
  ],
  setup({ router, services }) {
    router.beforeEach((to) => {
      const user = services.auth.user
      if (to.meta.admin && !user?.groups.includes('admin')) return { name: 'sign-in', query: { next: to.fullPath } }
      return true
    })
    services.auth.onChange((user) => {
      if (!user?.groups.includes('admin') && router.currentRoute.value.meta.admin) void router.replace({ name: 'sign-in' })
    })
  },
})
