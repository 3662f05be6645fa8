/**
 * Whether live updates are flowing, for the "Live / Reconnecting" badge, and the glue that reconnects
 * as soon as the browser says the network is back or the page becomes visible again.
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { ConnectionStatus } from '../realtime'
import { services } from '../services'

export const useConnectionStore = defineStore('connection', () => {
  const { realtime } = services()
  const status = ref<ConnectionStatus>(realtime.status)
  const browserOnline = ref(globalThis.navigator?.onLine ?? true)

  realtime.onStatus((s) => {
    status.value = s
  })

  if (typeof window !== 'undefined') {
    window.addEventListener('online', () => {
      browserOnline.value = true
      realtime.nudge()
    })
    window.addEventListener('offline', () => {
      browserOnline.value = false
    })
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') realtime.nudge()
    })
  }

  return { status, browserOnline }
})
