/**
 * The display's state: the event's configuration, the current QR code and the orders on the board.
 *
 * It loads everything over HTTP, then follows the admin and config topics. After any reconnect it
 * loads everything again, since messages sent while it was offline are gone. The QR code is fetched
 * again when its window ends, retrying with back-off while the server is unreachable.
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { EventConfig, Order, QrCodeResponse, RealtimeMessage } from '@lib/api'
import { describeError } from '@lib/api'
import {
  applyOrderEvent,
  byOrderNumber,
  clockOffset,
  eventKind,
  isInProduction,
  mergeOrder,
  qrPanelState,
} from '@lib/domain'
import { adminTopic, configTopic } from '@lib/realtime'
import { services } from '@lib/services'
import { useAuthStore } from '@lib/stores'

/** Ready orders stay on the board this long. */
export const READY_SHOWN_MS = 10 * 60 * 1000
/** Entries per column: what a TV shows at a readable size. */
export const BOARD_ROWS = 12

export const useBoardStore = defineStore('board', () => {
  const { api, realtime, eventId, config: runtime } = services()
  const auth = useAuthStore()

  const config = ref<EventConfig | null>(null)
  const qr = shallowRef<QrCodeResponse | null>(null)
  const skewMs = ref(0)
  const orders = ref<Record<string, Order>>({})
  const now = ref(Date.now())
  const problem = ref<string | null>(null)
  let qrInFlight = false
  let nextQrAttemptAt = 0
  let qrRetryDelay = 2000
  let timer: ReturnType<typeof setInterval> | null = null
  let started = false

  const serverNow = computed(() => now.value + skewMs.value)
  const storeOpen = computed(() => config.value?.storeOpen ?? false)
  const paused = computed(() => config.value?.paused ?? false)
  const panel = computed(() =>
    qrPanelState({ qr: qr.value, now: serverNow.value, storeOpen: storeOpen.value, paused: paused.value }),
  )

  const preparing = computed(() =>
    Object.values(orders.value).filter(isInProduction).sort(byOrderNumber).slice(0, BOARD_ROWS),
  )
  const ready = computed(() =>
    Object.values(orders.value)
      .filter((o) => o.state === 'COMPLETED' && now.value - (o.completedAt ?? o.updatedAt ?? o.createdAt) < READY_SHOWN_MS)
      .sort((a, b) => (b.completedAt ?? 0) - (a.completedAt ?? 0))
      .slice(0, BOARD_ROWS),
  )

  async function loadConfig() {
    try {
      config.value = await api.eventConfig(eventId)
    } catch (e) {
      problem.value = describeError(e).title
    }
  }

  async function loadOrders() {
    if (!auth.isAdmin) return
    try {
      const [open, done] = await Promise.all([api.orders(eventId, 'CREATED'), api.orders(eventId, 'COMPLETED')])
      const next: Record<string, Order> = {}
      for (const o of [...open, ...done]) next[o.orderId] = mergeOrder(orders.value[o.orderId], o)
      orders.value = next
      problem.value = null
    } catch (e) {
      problem.value = describeError(e).title
    }
  }

  async function loadQr() {
    if (!auth.isAdmin || qrInFlight) return
    qrInFlight = true
    const sentAt = Date.now()
    try {
      const code = await api.currentQrCode(eventId)
      skewMs.value = clockOffset(code.serverTime, sentAt, Date.now())
      qr.value = code
      qrRetryDelay = 2000
      nextQrAttemptAt = 0
    } catch (e) {
      problem.value = describeError(e).title
      nextQrAttemptAt = Date.now() + qrRetryDelay
      qrRetryDelay = Math.min(qrRetryDelay * 2, 30_000)
    } finally {
      qrInFlight = false
    }
  }

  function refreshAll() {
    void loadConfig()
    void loadOrders()
    void loadQr()
  }

  function onMessage(message: RealtimeMessage) {
    if (message.detail.eventId && message.detail.eventId !== eventId) return
    const kind = eventKind(message.type)
    if (kind === 'config') {
      if (message.detail.config) config.value = message.detail.config
      else void loadConfig()
      return
    }
    if (kind === 'newOrder') {
      const left = message.detail.remaining ?? message.detail.bucket?.availableTokens
      if (typeof left === 'number' && qr.value) qr.value = { ...qr.value, remaining: left }
    }
    const id = message.detail.orderId
    if (!id) return
    const updated = applyOrderEvent(orders.value[id], message, Date.now())
    if (updated) orders.value = { ...orders.value, [id]: updated }
  }

  function tick() {
    now.value = Date.now()
    if (panel.value.needsNextCode && storeOpen.value && Date.now() >= nextQrAttemptAt) void loadQr()
    // Forget finished orders once they left the board, so a display running for days stays small.
    const cutoff = now.value - READY_SHOWN_MS
    const stale = Object.values(orders.value).filter(
      (o) => o.state !== 'CREATED' && (o.completedAt ?? o.updatedAt ?? o.createdAt) < cutoff,
    )
    if (stale.length) {
      const next = { ...orders.value }
      for (const o of stale) delete next[o.orderId]
      orders.value = next
    }
  }

  function topics(): string[] {
    return auth.isAdmin ? [adminTopic(eventId), configTopic(eventId)] : [configTopic(eventId)]
  }

  function start() {
    if (started) return
    started = true
    realtime.onMessage(onMessage)
    realtime.onResync(() => refreshAll())
    realtime.setTopics(topics())
    realtime.start()
    refreshAll()
    timer = setInterval(tick, 1000)
  }

  /** The signed-in user changed: new topics, fresh data. */
  function userChanged() {
    realtime.setTopics(topics())
    if (!auth.isAdmin) {
      orders.value = {}
      qr.value = null
    }
    refreshAll()
  }

  function stop() {
    if (timer) clearInterval(timer)
    timer = null
  }

  return {
    eventId,
    orderAppUrl: runtime.orderAppUrl,
    config,
    qr,
    orders,
    now,
    serverNow,
    panel,
    preparing,
    ready,
    storeOpen,
    paused,
    problem,
    start,
    stop,
    userChanged,
    onMessage,
    refreshAll,
  }
})
