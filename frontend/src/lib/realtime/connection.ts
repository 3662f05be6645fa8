/**
 * A self-healing MQTT subscription for live updates.
 *
 * It connects over WebSocket with the ID token as the CONNECT password (or anonymously, for public
 * topics), subscribes to the topics the app wants, and hands every `{type, detail}` message to the
 * listeners. When the connection drops it reconnects with exponential back-off and jitter, asking for
 * a fresh token each time (a token that expired while offline must not lock the app out), subscribes
 * again and then calls the resync hooks so stores refetch what they missed while offline — MQTT with a
 * clean session does not replay it.
 *
 * It never publishes: the broker refuses client publishes anyway, and state changes go through the API.
 * The MQTT library is behind `ClientFactory`, so tests drive the logic with a fake client.
 */
import type { RealtimeMessage } from '../api/types'

export type ConnectionStatus = 'idle' | 'connecting' | 'online' | 'offline'

/** The part of an mqtt.js client this module uses. */
export interface MqttLikeClient {
  on(event: 'connect', listener: () => void): unknown
  on(event: 'message', listener: (topic: string, payload: Uint8Array | string) => void): unknown
  on(event: 'close' | 'offline', listener: () => void): unknown
  on(event: 'error', listener: (error: Error & { code?: number }) => void): unknown
  subscribe(
    topics: string[],
    options: { qos: 0 | 1 },
    callback: (error: Error | null | undefined, granted?: Array<{ topic: string; qos: number }>) => void,
  ): unknown
  unsubscribe(topics: string[]): unknown
  end(force?: boolean): unknown
}

export interface ConnectOptions {
  clientId: string
  username?: string
  password?: string
}

/** Makes a client; may load the MQTT library on first use (it is kept off the apps' first paint). */
export type ClientFactory = (url: string, options: ConnectOptions) => MqttLikeClient | Promise<MqttLikeClient>

/** Returns the CONNECT password: the ID token, or null to connect anonymously. */
export type CredentialSource = (forceRefresh: boolean) => Promise<string | null>

export interface Scheduler {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface ResyncInfo {
  /** False for the first connection, true after every reconnect. */
  reconnect: boolean
}

export interface RealtimeOptions {
  url: string
  factory: ClientFactory
  /** Omit for an anonymous connection (public topics only). */
  credentials?: CredentialSource
  scheduler?: Scheduler
  random?: () => number
  /** First retry delay; it doubles on every failed attempt up to `maxDelayMs`. */
  baseDelayMs?: number
  maxDelayMs?: number
}

/** SUBACK return code for a refused subscription. */
const SUBACK_FAILURE = 128
/** CONNACK codes meaning the credentials were refused (bad user name or password, not authorised). */
const CONNACK_AUTH_REFUSED = new Set([4, 5, 134, 135])

const realScheduler: Scheduler = {
  setTimeout: (cb, ms) => globalThis.setTimeout(cb, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
}

export class RealtimeConnection {
  private client: MqttLikeClient | null = null
  private readonly topics = new Set<string>()
  private readonly refused = new Set<string>()
  private readonly messageListeners = new Set<(message: RealtimeMessage, topic: string) => void>()
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>()
  private readonly resyncHooks = new Set<(info: ResyncInfo) => void | Promise<void>>()
  private retryTimer: unknown = null
  private attempt = 0
  private everOnline = false
  private authRefused = false
  private stopped = true
  private generation = 0
  private _status: ConnectionStatus = 'idle'
  private readonly scheduler: Scheduler
  private readonly random: () => number
  private readonly baseDelayMs: number
  private readonly maxDelayMs: number

  constructor(private readonly options: RealtimeOptions) {
    this.scheduler = options.scheduler ?? realScheduler
    this.random = options.random ?? Math.random
    this.baseDelayMs = options.baseDelayMs ?? 1000
    this.maxDelayMs = options.maxDelayMs ?? 30_000
  }

  get status(): ConnectionStatus {
    return this._status
  }

  /** Topics the broker refused (SUBACK 0x80); they are not asked for again until `setTopics`. */
  get refusedTopics(): string[] {
    return [...this.refused]
  }

  onMessage(listener: (message: RealtimeMessage, topic: string) => void): () => void {
    this.messageListeners.add(listener)
    return () => this.messageListeners.delete(listener)
  }

  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener)
    return () => this.statusListeners.delete(listener)
  }

  /** Called each time the subscriptions are (re)established: the moment to refetch state. */
  onResync(hook: (info: ResyncInfo) => void | Promise<void>): () => void {
    this.resyncHooks.add(hook)
    return () => this.resyncHooks.delete(hook)
  }

  /** Replaces the wanted topics; while online, subscribes and unsubscribes the difference. */
  setTopics(topics: string[]): void {
    const next = new Set(topics)
    const added = [...next].filter((t) => !this.topics.has(t))
    const removed = [...this.topics].filter((t) => !next.has(t))
    this.topics.clear()
    for (const t of next) this.topics.add(t)
    this.refused.clear()
    if (this._status !== 'online' || !this.client) return
    if (removed.length) this.client.unsubscribe(removed)
    if (added.length) this.subscribe(this.client, added, this.generation, false)
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    void this.connect()
  }

  stop(): void {
    this.stopped = true
    this.generation++
    this.cancelRetry()
    this.dropClient()
    this.setStatus('idle')
  }

  /** Reconnects now instead of waiting out the back-off (the browser came back online, say). */
  nudge(): void {
    if (this.stopped || this._status === 'online' || this._status === 'connecting') return
    this.cancelRetry()
    this.attempt = 0
    void this.connect()
  }

  /** Reconnects with a fresh token (after the user signed in, out, or the token was refreshed). */
  restart(): void {
    this.stop()
    this.everOnline = false
    this.attempt = 0
    this.start()
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation
    this.setStatus('connecting')
    let password: string | null = null
    if (this.options.credentials) {
      try {
        password = await this.options.credentials(this.authRefused)
      } catch {
        password = null
      }
      if (generation !== this.generation) return
    }
    this.authRefused = false
    const connectOptions: ConnectOptions = {
      clientId: `serverlesspresso-${Math.floor(this.random() * 1e9).toString(36)}`,
    }
    if (password) {
      connectOptions.username = 'jwt'
      connectOptions.password = password
    }
    let client: MqttLikeClient
    try {
      client = await this.options.factory(this.options.url, connectOptions)
    } catch {
      if (generation === this.generation) this.scheduleRetry(generation)
      return
    }
    if (generation !== this.generation) {
      // Stopped or restarted while the library loaded: this client is not wanted any more.
      client.end(true)
      return
    }
    this.client = client
    client.on('connect', () => {
      if (generation !== this.generation) return
      this.attempt = 0
      this.subscribe(client, [...this.topics], generation, true)
    })
    client.on('message', (topic, payload) => {
      if (generation !== this.generation) return
      const message = parseMessage(payload)
      if (message) for (const l of this.messageListeners) l(message, topic)
    })
    client.on('error', (error) => {
      if (generation !== this.generation) return
      if (typeof error.code === 'number' && CONNACK_AUTH_REFUSED.has(error.code)) this.authRefused = true
      this.lost(generation)
    })
    client.on('close', () => this.lost(generation))
    client.on('offline', () => this.lost(generation))
  }

  private subscribe(client: MqttLikeClient, topics: string[], generation: number, announce: boolean): void {
    const wanted = topics.filter((t) => !this.refused.has(t))
    const done = () => {
      if (generation !== this.generation || !announce) return
      this.setStatus('online')
      const reconnect = this.everOnline
      this.everOnline = true
      for (const hook of this.resyncHooks) {
        try {
          void Promise.resolve(hook({ reconnect })).catch(() => undefined)
        } catch {
          // A failing hook must not stop the others.
        }
      }
    }
    if (wanted.length === 0) {
      done()
      return
    }
    client.subscribe(wanted, { qos: 1 }, (error, granted) => {
      if (generation !== this.generation) return
      if (error) {
        this.lost(generation)
        return
      }
      for (const g of granted ?? []) if (g.qos === SUBACK_FAILURE) this.refused.add(g.topic)
      done()
    })
  }

  private lost(generation: number): void {
    if (generation !== this.generation || this.stopped) return
    this.generation++
    this.dropClient()
    this.setStatus('offline')
    this.scheduleRetry(this.generation)
  }

  private scheduleRetry(generation: number): void {
    if (this.stopped || generation !== this.generation) return
    this.cancelRetry()
    const delay = this.backoffDelay(this.attempt++)
    this.setStatus('offline')
    this.retryTimer = this.scheduler.setTimeout(() => {
      this.retryTimer = null
      if (!this.stopped) void this.connect()
    }, delay)
  }

  /** Exponential back-off with "equal jitter": between half and all of the capped delay. */
  backoffDelay(attempt: number): number {
    const capped = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(attempt, 20))
    return Math.round(capped / 2 + (this.random() * capped) / 2)
  }

  private cancelRetry(): void {
    if (this.retryTimer !== null) this.scheduler.clearTimeout(this.retryTimer)
    this.retryTimer = null
  }

  private dropClient(): void {
    const client = this.client
    this.client = null
    if (client) {
      try {
        client.end(true)
      } catch {
        // Already closed.
      }
    }
  }

  private setStatus(status: ConnectionStatus): void {
    if (this._status === status) return
    this._status = status
    for (const l of this.statusListeners) l(status)
  }
}

/** Parses `{"type": …, "detail": {…}}`; anything else is ignored rather than trusted. */
export function parseMessage(payload: Uint8Array | string): RealtimeMessage | null {
  try {
    const text = typeof payload === 'string' ? payload : new TextDecoder().decode(payload)
    const parsed = JSON.parse(text) as unknown
    if (!parsed || typeof parsed !== 'object') return null
    const { type, detail } = parsed as { type?: unknown; detail?: unknown }
    if (typeof type !== 'string') return null
    const d = detail && typeof detail === 'object' ? (detail as RealtimeMessage['detail']) : ({} as RealtimeMessage['detail'])
    return { type, detail: d }
  } catch {
    return null
  }
}
