/**
 * The display's state: the event's configuration, the current QR code and the orders on the board.
 *
 * It loads everything over HTTP, then follows the admin and config topics. After any reconnect it
 * loads everything again, since messages sent while it was offline are gone. The QR code is fetched
 * again when its window ends, retrying with back-off while the server is unreachable, and re-read
 * every `QR_REFRESH_MS` in between: the window follows the server's clock, which the display only
 * learns from the buckets it is given, so a display whose clock lags (or a server whose clock was
 * moved on) replaces a code the server has left within the grace the server allows for it.
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { ConfigView, OrderView, QrBucket, RealtimeMessage, StoreState } from '@lib/api'
import { describeError } from '@lib/api'
import {
  applyOrderEvent,
  byOrderNumber,
  clockOffset,
  eventKind,
  finishedAt,
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
/** Re-read the current code this often: no longer than the 15 s a code stays valid after its window. */
export const QR_REFRESH_MS = 15_000

export const useBoardStore = defineStore('board', () => {
  const { api, realtime, eventId, config: runtime } = services()
  const auth = useAuthStore()

  const config = ref<ConfigView | null>(null)
  const qr = shallowRef<QrBucket | null>(null)
  const skewMs = ref(0)
  const orders = ref<Record<string, OrderView>>({})
  const now = ref(Date.now())
  const problem = ref<string | null>(null)
  let qrInFlight = false
  let nextQrAttemptAt = 0
  /** When the code was last read successfully; the next periodic read is due `QR_REFRESH_MS` later. */
  let qrReadAt = 0
  let qrRetryDelay = 2000
  let timer: ReturnType<typeof setInterval> | null = null
  let started = false

  const serverNow = computed(() => now.value + skewMs.value)
  /** What the QR answer said, for when the configuration could not be loaded (yet). */
  const qrStoreState = ref<StoreState | null>(null)
  // Unknown is not closed: a display that is offline at start-up keeps trying for a code.
  const storeState = computed<StoreState>(() => config.value?.storeState ?? qrStoreState.value ?? 'open')
  const panel = computed(() => qrPanelState({ bucket: qr.value, now: serverNow.value, storeState: storeState.value }))

  const preparing = computed(() =>
    Object.values(orders.value).filter(isInProduction).sort(byOrderNumber).slice(0, BOARD_ROWS),
  )
  const ready = computed(() =>
    Object.values(orders.value)
      .filter((o) => o.state === 'completed' && now.value - finishedAt(o) < READY_SHOWN_MS)
      .sort((a, b) => finishedAt(b) - finishedAt(a))
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
      const lists = await Promise.all([
        api.orders(eventId, 'queued'),
        api.orders(eventId, 'inProgress'),
        api.orders(eventId, 'completed', BOARD_ROWS * 2),
      ])
      const next: Record<string, OrderView> = {}
      for (const o of lists.flat()) next[o.orderId] = mergeOrder(orders.value[o.orderId], o)
      orders.value = next
      problem.value = null
    } catch (e) {
      problem.value = describeError(e).title
    }
  }

  async function loadQr() {
    if (!auth.isAdmin || qrInFlight) return
    qrInFlight = true
    try {
      const view = await api.currentQrCode(eventId)
      skewMs.value = clockOffset(view.bucket, Date.now(), skewMs.value)
      qr.value = view.bucket
      qrReadAt = Date.now()
      qrStoreState.value = view.storeState
      if (config.value && config.value.storeState !== view.storeState) void loadConfig()
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
      const b = message.detail.bucket
      if (b && qr.value && b.windowId === qr.value.windowId) qr.value = { ...qr.value, availableTokens: b.availableTokens }
      // Someone scanned a newer window's code: the server has moved on, so this display is behind.
      else if (b && qr.value && b.windowId > qr.value.windowId) void loadQr()
    }
    const id = message.detail.orderId
    if (!id) return
    const updated = applyOrderEvent(orders.value[id], message, Date.now())
    if (updated) orders.value = { ...orders.value, [id]: updated }
  }

  function tick() {
    now.value = Date.now()
    const due = panel.value.needsNextCode || now.value - qrReadAt >= QR_REFRESH_MS
    if (due && storeState.value !== 'closed' && now.value >= nextQrAttemptAt) void loadQr()
    // Forget finished orders once they left the board, so a display running for days stays small.
    const cutoff = now.value - READY_SHOWN_MS
    const stale = Object.values(orders.value).filter(
      (o) => !isInProduction(o) && finishedAt(o) < cutoff,
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
    storeState,
    problem,
    start,
    stop,
    userChanged,
    onMessage,
    refreshAll,
  }
})
