/**
 * Starts one of the apps: services from `/config.json`, Pinia, the router, the shared theme, and a
 * realtime connection that follows the signed-in user (a new user means a new MQTT password).
 *
 * Routes use hash history, so a reload of any screen works whatever the host serves for deep paths,
 * and the QR code's `?eventId=&token=` query stays the page's own.
 */
import { createPinia } from 'pinia'
import { createApp, type Component } from 'vue'
import { createRouter, createWebHashHistory, type RouteRecordRaw, type Router } from 'vue-router'
import './ui/theme.css'
import { startServices, type Services } from './services'

export interface BootOptions {
  name: string
  root: Component
  routes: RouteRecordRaw[]
  /** Runs after the router exists and before mounting (navigation guards, stores to start). */
  setup?: (context: { router: Router; services: Services }) => void
}

export async function bootApp(options: BootOptions): Promise<void> {
  const services = await startServices(options.name)
  const app = createApp(options.root)
  const pinia = createPinia()
  app.use(pinia)
  const router = createRouter({
    history: createWebHashHistory(),
    routes: options.routes,
    scrollBehavior: () => ({ top: 0 }),
  })
  options.setup?.({ router, services })
  app.use(router)

  let lastSub = services.auth.user?.sub ?? null
  services.auth.onChange((user) => {
    const sub = user?.sub ?? null
    if (sub !== lastSub) {
      lastSub = sub
      services.realtime.restart()
    }
  })
  // A page in the back/forward cache must not hold a socket open; it reconnects when shown again.
  window.addEventListener('pagehide', () => services.realtime.stop())
  window.addEventListener('pageshow', (e) => {
    if (e.persisted) services.realtime.start()
  })

  await router.isReady().catch(() => undefined)
  app.mount('#app')
}
