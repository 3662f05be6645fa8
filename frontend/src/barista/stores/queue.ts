/**
 * The barista's queue: orders in three lanes, one-tap actions held for five seconds so they can be
 * undone, store controls and sold-out switches.
 *
 * A held action already shows its effect (the card moves), but nothing is sent until the undo window
 * closes; if the server then refuses it, the card moves back and the reason is shown. After a
 * reconnect the whole queue is reloaded, because events sent while offline are lost.
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { ConfigUpdate, ConfigView, OrderAction, OrderView, RealtimeMessage, StoreState } from '@lib/api'
import { describeError } from '@lib/api'
import {
  applyOrderEvent,
  byOrderNumber,
  eventKind,
  finishedAt,
  groupIdenticalDrinks,
  isInProduction,
  mergeOrder,
  orderLabel,
  UndoQueue,
  type HeldAction,
} from '@lib/domain'
import { adminTopic, configTopic } from '@lib/realtime'
import { services } from '@lib/services'
import { useAuthStore } from '@lib/stores'
import { playChime } from '@lib/ui/chime'

/** Completed orders stay in the "Ready" lane this long. */
export const READY_LANE_MS = 5 * 60 * 1000

export interface HeldOrderAction {
  orderId: string
  action: OrderAction
}

const VERBS: Record<OrderAction, string> = {
  make: 'Making',
  unmake: 'Back to new',
  complete: 'Ready',
  cancel: 'Cancelled',
}

/** What an order looks like once an action on it has gone through. */
export function withAction(order: OrderView, action: OrderAction, me: string, now: number): OrderView {
  switch (action) {
    case 'make':
      return { ...order, state: 'inProgress', baristaUserId: me }
    case 'unmake':
      return { ...order, state: 'queued', baristaUserId: undefined }
    case 'complete':
      return { ...order, state: 'completed', finishedAt: now }
    case 'cancel':
      return { ...order, state: 'cancelled', cancelledBy: 'barista', finishedAt: now }
  }
}

export const useQueueStore = defineStore('queue', () => {
  const { api, realtime, eventId } = services()
  const auth = useAuthStore()

  const orders = ref<Record<string, OrderView>>({})
  const config = ref<ConfigView | null>(null)
  const held = shallowRef<HeldAction<HeldOrderAction>[]>([])
  const problem = ref<string | null>(null)
  const savingConfig = ref(false)
  const soundOn = ref(true)
  const grouped = ref(false)
  const now = ref(Date.now())
  const loaded = ref(false)
  /** The latest arrival, in words, for screen readers (announced politely). */
  const announcement = ref('')
  let started = false
  let timer: ReturnType<typeof setInterval> | null = null

  const me = computed(() => auth.user?.sub ?? '')

  const undo = new UndoQueue<HeldOrderAction>({
    onError: (action, error) => {
      problem.value = `${action.label} did not go through: ${describeError(error).detail || describeError(error).title}`
      void loadOrders()
    },
  })
  undo.onChange(() => {
    held.value = undo.pending
  })

  /** Orders as the barista sees them: with held actions already applied. */
  const view = computed(() => {
    const result: Record<string, OrderView> = { ...orders.value }
    for (const h of held.value) {
      const o = result[h.payload.orderId]
      if (o) result[h.payload.orderId] = withAction(o, h.payload.action, me.value, h.dueAt)
    }
    return Object.values(result)
  })

  const newOrders = computed(() => view.value.filter((o) => o.state === 'queued').sort(byOrderNumber))
  const inProgress = computed(() => view.value.filter((o) => o.state === 'inProgress').sort(byOrderNumber))
  const readyOrders = computed(() =>
    view.value
      .filter((o) => o.state === 'completed' && now.value - finishedAt(o) < READY_LANE_MS)
      .sort((a, b) => finishedAt(b) - finishedAt(a)),
  )
  const newGroups = computed(() => groupIdenticalDrinks(newOrders.value))
  /** Null until the configuration is known: the switch then shows no state rather than a wrong one. */
  const storeState = computed<StoreState | null>(() => config.value?.storeState ?? null)

  async function loadOrders() {
    try {
      const lists = await Promise.all([
        api.orders(eventId, 'queued'),
        api.orders(eventId, 'inProgress'),
        api.orders(eventId, 'completed', 20),
      ])
      const next: Record<string, OrderView> = {}
      for (const o of lists.flat()) next[o.orderId] = mergeOrder(orders.value[o.orderId], o)
      orders.value = next
      loaded.value = true
    } catch (e) {
      problem.value = describeError(e).title
    }
  }

  async function loadConfig() {
    try {
      config.value = await api.eventConfig(eventId)
    } catch (e) {
      problem.value = describeError(e).title
    }
  }

  function onMessage(message: RealtimeMessage) {
    if (message.detail.eventId && message.detail.eventId !== eventId) return
    const kind = eventKind(message.type)
    if (kind === 'config') {
      if (message.detail.config) config.value = message.detail.config
      else void loadConfig()
      return
    }
    const id = message.detail.orderId
    if (!id) return
    const before = orders.value[id]
    const updated = applyOrderEvent(before, message, Date.now())
    if (!updated) return
    orders.value = { ...orders.value, [id]: updated }
    const arrived = isInProduction(updated) && !(before && isInProduction(before))
    if (arrived) {
      announcement.value = `New order ${orderLabel(updated)} for ${updated.displayName || 'a guest'}: ${updated.drinkOrder?.drink ?? 'a drink'}`
      if (soundOn.value) playChime()
    }
  }

  /** One tap: the action shows at once and is sent after the undo window. */
  function act(order: OrderView, action: OrderAction) {
    problem.value = null
    now.value = Date.now()
    const label = `${VERBS[action]} ${orderLabel(order)}`
    undo.hold(order.orderId, label, { orderId: order.orderId, action }, async ({ orderId, action: a }) => {
      const result = await api.orderAction(orderId, a)
      const current = orders.value[orderId]
      const next =
        result && typeof result === 'object' && 'orderId' in result
          ? mergeOrder(current, result)
          : current && withAction(current, a, me.value, Date.now())
      if (next) orders.value = { ...orders.value, [orderId]: next }
    })
  }

  function actOnGroup(group: OrderView[], action: OrderAction) {
    for (const o of group) act(o, action)
  }

  function undoAction(id: number) {
    undo.undo(id)
  }

  async function saveConfig(work: () => Promise<ConfigView>) {
    savingConfig.value = true
    problem.value = null
    try {
      config.value = await work()
    } catch (e) {
      const m = describeError(e)
      problem.value = `${m.title}. ${m.detail}`
    } finally {
      savingConfig.value = false
    }
  }

  function setStoreState(state: StoreState) {
    return saveConfig(() => api.setStoreState(eventId, state))
  }

  function updateConfig(update: ConfigUpdate) {
    return saveConfig(() => api.updateEventConfig(eventId, update))
  }

  /** Sold out (false) or back (true): a drink by id. */
  function setDrinkAvailable(drinkId: string, available: boolean) {
    return updateConfig({ availability: { drinks: { [drinkId]: available } } })
  }

  /** Sold out (false) or back (true): an option by id (oat milk, say). */
  function setOptionAvailable(optionId: string, available: boolean) {
    return updateConfig({ availability: { options: { [optionId]: available } } })
  }

  function start() {
    if (started) return
    started = true
    realtime.onMessage(onMessage)
    realtime.onResync(() => {
      void loadOrders()
      void loadConfig()
    })
    realtime.setTopics([adminTopic(eventId), configTopic(eventId)])
    realtime.start()
    void loadOrders()
    void loadConfig()
    timer = setInterval(() => {
      now.value = Date.now()
    }, 1000)
    window.addEventListener('pagehide', () => void undo.flush())
  }

  function stop() {
    if (timer) clearInterval(timer)
    timer = null
    void undo.flush()
  }

  return {
    eventId,
    orders,
    config,
    held,
    problem,
    savingConfig,
    soundOn,
    grouped,
    now,
    loaded,
    announcement,
    me,
    newOrders,
    inProgress,
    readyOrders,
    newGroups,
    storeState,
    start,
    stop,
    act,
    actOnGroup,
    undoAction,
    onMessage,
    loadOrders,
    setStoreState,
    setDrinkAvailable,
    setOptionAvailable,
  }
})
