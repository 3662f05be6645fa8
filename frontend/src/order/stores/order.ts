/**
 * The customer's side: the event's menu, the order in hand, past orders and journeys.
 *
 * A scanned code is verified right after sign-in and then dropped from the URL, so a reload never
 * spends a second drink. The current order is followed on the user's own topic and refetched after
 * every change (the server computes the queue position and the wait) and after any reconnect.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { ConfigView, JourneyEntry, OrderView, RealtimeMessage } from '@lib/api'
import { describeError, type ErrorMessage } from '@lib/api'
import { applyOrderEvent, eventKind, isFinal, mergeOrder, validateChoice, type DrinkChoice } from '@lib/domain'
import { configTopic, userTopic } from '@lib/realtime'
import { services } from '@lib/services'
import { useAuthStore } from '@lib/stores'

const PENDING_TOKEN_KEY = 'presso.order.pendingScan'
/** While waiting for a barista, refresh the queue position this often even without events. */
const POSITION_REFRESH_MS = 20_000

export interface PendingScan {
  eventId: string
  token: string
}

/** Reads `?eventId=&token=` from a scanned URL (or the page's own). */
export function scanFromUrl(url: string, fallbackEventId: string): PendingScan | null {
  try {
    const u = new URL(url, 'http://local/')
    const token = u.searchParams.get('token')?.trim()
    if (!token) return null
    return { eventId: u.searchParams.get('eventId')?.trim() || fallbackEventId, token }
  } catch {
    return null
  }
}

export const useOrderStore = defineStore('order', () => {
  const { api, realtime, eventId: defaultEventId } = services()
  const auth = useAuthStore()

  const config = ref<ConfigView | null>(null)
  const current = ref<OrderView | null>(null)
  const history = ref<OrderView[]>([])
  const journeys = ref<Record<string, JourneyEntry[]>>({})
  const busy = ref(false)
  const error = ref<ErrorMessage | null>(null)
  const pendingScan = ref<PendingScan | null>(readPendingScan())
  const eventId = ref(pendingScan.value?.eventId ?? defaultEventId)
  let started = false
  let positionTimer: ReturnType<typeof setInterval> | null = null

  const storeOpen = computed(() => (config.value?.storeState ?? 'open') !== 'closed')
  const paused = computed(() => config.value?.storeState === 'paused')
  const menu = computed(() => config.value?.menu.drinks ?? [])
  const activeOrder = computed(() => history.value.find((o) => !isFinal(o) && o.eventId === eventId.value) ?? null)

  function readPendingScan(): PendingScan | null {
    try {
      const raw = sessionStorage.getItem(PENDING_TOKEN_KEY)
      if (!raw) return null
      const scan = JSON.parse(raw) as Partial<PendingScan>
      if (typeof scan.token !== 'string' || !scan.token) return null
      return { token: scan.token, eventId: scan.eventId || defaultEventId }
    } catch {
      return null
    }
  }

  /** Keeps a scanned code until the customer is signed in to use it. */
  function rememberScan(scan: PendingScan) {
    pendingScan.value = scan
    eventId.value = scan.eventId
    try {
      sessionStorage.setItem(PENDING_TOKEN_KEY, JSON.stringify(scan))
    } catch {
      // Kept in memory only.
    }
    updateTopics()
  }

  function forgetScan() {
    pendingScan.value = null
    try {
      sessionStorage.removeItem(PENDING_TOKEN_KEY)
    } catch {
      // Nothing stored.
    }
  }

  async function loadConfig() {
    try {
      config.value = await api.eventConfig(eventId.value)
    } catch (e) {
      if (!config.value) error.value = describeError(e)
    }
  }

  async function loadHistory() {
    if (!auth.signedIn) return
    try {
      const orders = await api.myOrders()
      history.value = orders.sort((a, b) => b.createdAt - a.createdAt)
    } catch {
      // History is a convenience; the current order has its own error display.
    }
  }

  async function loadOrder(orderId: string) {
    try {
      const fetched = await api.order(orderId)
      current.value = mergeOrder(current.value?.orderId === orderId ? current.value : undefined, fetched)
      if (fetched.eventId && fetched.eventId !== eventId.value) {
        eventId.value = fetched.eventId
        updateTopics()
        void loadConfig()
      }
      upsertHistory(current.value)
      error.value = null
    } catch (e) {
      error.value = describeError(e)
    }
  }

  function upsertHistory(order: OrderView) {
    const rest = history.value.filter((o) => o.orderId !== order.orderId)
    history.value = [order, ...rest].sort((a, b) => b.createdAt - a.createdAt)
  }

  /** Spends the scanned code: the server creates the order and answers with its id. */
  async function redeemScan(): Promise<string | null> {
    const scan = pendingScan.value
    if (!scan || !auth.signedIn) return null
    busy.value = true
    error.value = null
    try {
      const created = await api.verifyQrCode(scan.eventId, scan.token)
      const orderId = created.orderId
      forgetScan()
      const now = Date.now()
      current.value = {
        orderId,
        eventId: created.eventId ?? scan.eventId,
        userId: auth.user?.sub ?? '',
        state: created.state ?? 'pending',
        drinkDeadline: created.drinkDeadline,
        robot: false,
        createdAt: now,
        updatedAt: now,
      }
      upsertHistory(current.value)
      void loadOrder(orderId)
      return orderId
    } catch (e) {
      forgetScan()
      error.value = describeError(e)
      return null
    } finally {
      busy.value = false
    }
  }

  /** Sends the drink choice after checking it against the live menu. */
  async function submit(choice: DrinkChoice): Promise<boolean> {
    const order = current.value
    if (!order || !config.value) return false
    const check = validateChoice(menu.value, choice)
    if (!check.ok || !check.request) return false
    busy.value = true
    error.value = null
    try {
      const updated = await api.submitDrink(order.orderId, check.request)
      const base: OrderView = { ...order, state: 'submitted', submittedAt: Date.now() }
      current.value = updated && typeof updated === 'object' && 'orderId' in updated ? mergeOrder(base, updated) : base
      upsertHistory(current.value)
      void loadOrder(order.orderId)
      return true
    } catch (e) {
      error.value = describeError(e)
      // The menu may have changed under the customer: show the new one.
      void loadConfig()
      return false
    } finally {
      busy.value = false
    }
  }

  async function cancel(): Promise<boolean> {
    const order = current.value
    if (!order) return false
    busy.value = true
    error.value = null
    try {
      const updated = await api.orderAction(order.orderId, 'cancel')
      const base: OrderView = { ...order, state: 'cancelled', cancelledBy: 'customer', finishedAt: Date.now() }
      current.value = updated && typeof updated === 'object' && 'orderId' in updated ? mergeOrder(base, updated) : base
      upsertHistory(current.value)
      return true
    } catch (e) {
      error.value = describeError(e)
      void loadOrder(order.orderId)
      return false
    } finally {
      busy.value = false
    }
  }

  async function loadJourney(orderId: string): Promise<JourneyEntry[] | null> {
    try {
      const j = await api.journey(orderId)
      journeys.value = { ...journeys.value, [orderId]: j }
      return j
    } catch (e) {
      error.value = describeError(e)
      return null
    }
  }

  function onMessage(message: RealtimeMessage) {
    const kind = eventKind(message.type)
    if (kind === 'config') {
      if (message.detail.eventId && message.detail.eventId !== eventId.value) return
      if (message.detail.config) config.value = message.detail.config
      else void loadConfig()
      return
    }
    if (kind === 'rejected') void loadConfig()
    const id = message.detail.orderId
    if (!id) return
    if (current.value?.orderId === id) {
      const updated = applyOrderEvent(current.value, message, Date.now())
      if (updated) {
        current.value = updated
        upsertHistory(updated)
      }
      void loadOrder(id)
    } else {
      const known = history.value.find((o) => o.orderId === id)
      const updated = applyOrderEvent(known, message, Date.now())
      if (updated && known) upsertHistory(updated)
    }
  }

  function updateTopics() {
    const topics = [configTopic(eventId.value)]
    if (auth.user) topics.push(userTopic(auth.user.sub))
    realtime.setTopics(topics)
  }

  function start() {
    if (started) return
    started = true
    realtime.onMessage(onMessage)
    realtime.onResync(() => refresh())
    updateTopics()
    realtime.start()
    refresh()
    positionTimer = setInterval(() => {
      const o = current.value
      if (o && (o.state === 'queued' || o.state === 'inProgress') && document.visibilityState === 'visible') void loadOrder(o.orderId)
    }, POSITION_REFRESH_MS)
  }

  function refresh() {
    void loadConfig()
    void loadHistory()
    if (current.value) void loadOrder(current.value.orderId)
  }

  function userChanged() {
    updateTopics()
    if (!auth.signedIn) {
      current.value = null
      history.value = []
    } else {
      void loadHistory()
    }
  }

  function stop() {
    if (positionTimer) clearInterval(positionTimer)
  }

  /** Opens an order by id (from the URL): it becomes the one followed live. */
  async function open(orderId: string) {
    if (current.value?.orderId !== orderId) {
      current.value = history.value.find((o) => o.orderId === orderId) ?? null
    }
    await loadOrder(orderId)
  }

  return {
    eventId,
    config,
    current,
    history,
    journeys,
    busy,
    error,
    pendingScan,
    storeOpen,
    paused,
    menu,
    activeOrder,
    rememberScan,
    forgetScan,
    redeemScan,
    submit,
    cancel,
    open,
    loadJourney,
    loadHistory,
    loadConfig,
    onMessage,
    start,
    stop,
    userChanged,
  }
})
