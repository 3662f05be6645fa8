import { describe, expect, it } from 'vitest'
import { RealtimeConnection, parseMessage, type ConnectOptions, type MqttLikeClient, type ResyncInfo, type Scheduler } from '../connection'

type Listener = (...args: never[]) => void

/** A scripted MQTT client: the test decides when it connects, drops or answers a SUBSCRIBE. */
class FakeClient implements MqttLikeClient {
  readonly listeners = new Map<string, Listener[]>()
  readonly subscriptions: string[][] = []
  readonly unsubscriptions: string[][] = []
  subAck: (topics: string[]) => number[] = (topics) => topics.map(() => 1)
  ended = false

  constructor(
    readonly url: string,
    readonly options: ConnectOptions,
  ) {}

  on(event: string, listener: Listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener])
    return this
  }
  emit(event: string, ...args: unknown[]) {
    for (const l of this.listeners.get(event) ?? []) (l as (...a: unknown[]) => void)(...args)
  }
  subscribe(topics: string[], _o: { qos: 0 | 1 }, cb: (e: Error | null, g?: Array<{ topic: string; qos: number }>) => void) {
    this.subscriptions.push(topics)
    const codes = this.subAck(topics)
    cb(null, topics.map((topic, i) => ({ topic, qos: codes[i]! })))
    return this
  }
  unsubscribe(topics: string[]) {
    this.unsubscriptions.push(topics)
    return this
  }
  end() {
    this.ended = true
    return this
  }
}

/** Virtual time: timers run only when the test advances the clock. */
class FakeScheduler implements Scheduler {
  now = 0
  private timers: Array<{ at: number; cb: () => void; id: number }> = []
  private nextId = 1
  setTimeout(cb: () => void, ms: number) {
    const id = this.nextId++
    this.timers.push({ at: this.now + ms, cb, id })
    return id
  }
  clearTimeout(id: unknown) {
    this.timers = this.timers.filter((t) => t.id !== id)
  }
  get delays() {
    return this.timers.map((t) => t.at - this.now)
  }
  advance(ms: number) {
    this.now += ms
    const due = this.timers.filter((t) => t.at <= this.now)
    this.timers = this.timers.filter((t) => t.at > this.now)
    for (const t of due) t.cb()
  }
}

const flush = () => new Promise<void>((r) => setTimeout(r, 0))

function setup(opts: { token?: () => string | null } = {}) {
  const clients: FakeClient[] = []
  const scheduler = new FakeScheduler()
  const credentialCalls: boolean[] = []
  const conn = new RealtimeConnection({
    url: 'ws://presso/mqtt',
    factory: (url, options) => {
      const c = new FakeClient(url, options)
      clients.push(c)
      return c
    },
    credentials: opts.token
      ? async (force) => {
          credentialCalls.push(force)
          return opts.token!()
        }
      : undefined,
    scheduler,
    random: () => 0.5,
    baseDelayMs: 1000,
    maxDelayMs: 8000,
  })
  const resyncs: ResyncInfo[] = []
  conn.onResync((info) => {
    resyncs.push(info)
  })
  const statuses: string[] = []
  conn.onStatus((s) => statuses.push(s))
  return { conn, clients, scheduler, resyncs, statuses, credentialCalls }
}

describe('RealtimeConnection', () => {
  it('connects with the ID token as the password and subscribes to the wanted topics', async () => {
    const { conn, clients, statuses, resyncs } = setup({ token: () => 'jwt-1' })
    conn.setTopics(['serverlesspresso-user-u1', 'serverlesspresso-config-E'])
    conn.start()
    await flush()
    expect(clients).toHaveLength(1)
    expect(clients[0]!.url).toBe('ws://presso/mqtt')
    expect(clients[0]!.options).toMatchObject({ username: 'jwt', password: 'jwt-1' })
    expect(clients[0]!.options.clientId).toMatch(/^serverlesspresso-/)

    clients[0]!.emit('connect')
    expect(clients[0]!.subscriptions).toEqual([['serverlesspresso-user-u1', 'serverlesspresso-config-E']])
    expect(conn.status).toBe('online')
    expect(statuses).toEqual(['connecting', 'online'])
    expect(resyncs).toEqual([{ reconnect: false }])
  })

  it('connects anonymously when there is no token', async () => {
    const { conn, clients } = setup()
    conn.start()
    await flush()
    expect(clients[0]!.options.username).toBeUndefined()
    expect(clients[0]!.options.password).toBeUndefined()
  })

  it('reconnects with growing delays, resubscribes and asks the stores to refetch', async () => {
    const { conn, clients, scheduler, resyncs } = setup({ token: () => 'jwt' })
    conn.setTopics(['serverlesspresso-admin-E'])
    conn.start()
    await flush()
    clients[0]!.emit('connect')

    clients[0]!.emit('close')
    expect(conn.status).toBe('offline')
    expect(clients[0]!.ended).toBe(true)
    expect(scheduler.delays).toEqual([750])

    scheduler.advance(750)
    await flush()
    expect(clients).toHaveLength(2)
    clients[1]!.emit('error', Object.assign(new Error('ECONNREFUSED'), {}))
    expect(scheduler.delays).toEqual([1500])
    scheduler.advance(1500)
    await flush()
    clients[2]!.emit('close')
    expect(scheduler.delays).toEqual([3000])
    scheduler.advance(3000)
    await flush()
    clients[3]!.emit('offline')
    expect(scheduler.delays).toEqual([6000])
    scheduler.advance(6000)
    await flush()
    clients[4]!.emit('close')
    // Capped at maxDelayMs.
    expect(scheduler.delays).toEqual([6000])
    scheduler.advance(6000)
    await flush()

    clients[5]!.emit('connect')
    expect(clients[5]!.subscriptions).toEqual([['serverlesspresso-admin-E']])
    expect(resyncs).toEqual([{ reconnect: false }, { reconnect: true }])

    // A success resets the back-off.
    clients[5]!.emit('close')
    expect(scheduler.delays).toEqual([750])
  })

  it('ignores events from a client it already gave up on', async () => {
    const { conn, clients, scheduler, resyncs } = setup({ token: () => 'jwt' })
    conn.start()
    await flush()
    clients[0]!.emit('close')
    clients[0]!.emit('close')
    clients[0]!.emit('connect')
    expect(scheduler.delays).toHaveLength(1)
    expect(resyncs).toEqual([])
    expect(conn.status).toBe('offline')
  })

  it('asks for a fresh token after the broker refused the old one', async () => {
    let token = 'expired'
    const { conn, clients, scheduler, credentialCalls } = setup({ token: () => token })
    conn.start()
    await flush()
    clients[0]!.emit('error', Object.assign(new Error('Connection refused: Not authorized'), { code: 5 }))
    token = 'fresh'
    scheduler.advance(10_000)
    await flush()
    expect(credentialCalls).toEqual([false, true])
    expect(clients[1]!.options.password).toBe('fresh')
  })

  it('remembers topics the broker refused and does not ask for them again', async () => {
    const { conn, clients, scheduler } = setup({ token: () => 'jwt' })
    conn.setTopics(['serverlesspresso-admin-E', 'serverlesspresso-config-E'])
    conn.start()
    await flush()
    clients[0]!.subAck = (topics) => topics.map((t) => (t.includes('admin') ? 128 : 1))
    clients[0]!.emit('connect')
    expect(conn.refusedTopics).toEqual(['serverlesspresso-admin-E'])
    expect(conn.status).toBe('online')

    clients[0]!.emit('close')
    scheduler.advance(10_000)
    await flush()
    clients[1]!.emit('connect')
    expect(clients[1]!.subscriptions).toEqual([['serverlesspresso-config-E']])
  })

  it('subscribes and unsubscribes the difference when the topics change while online', async () => {
    const { conn, clients } = setup({ token: () => 'jwt' })
    conn.setTopics(['a', 'b'])
    conn.start()
    await flush()
    clients[0]!.emit('connect')
    conn.setTopics(['b', 'c'])
    expect(clients[0]!.unsubscriptions).toEqual([['a']])
    expect(clients[0]!.subscriptions).toEqual([['a', 'b'], ['c']])
  })

  it('delivers parsed messages and drops malformed ones', async () => {
    const { conn, clients } = setup()
    const seen: unknown[] = []
    conn.onMessage((m, topic) => seen.push([topic, m.type, m.detail.orderId]))
    conn.start()
    await flush()
    clients[0]!.emit('connect')
    const enc = new TextEncoder()
    clients[0]!.emit('message', 't', enc.encode(JSON.stringify({ type: 'OrderManager.MakeOrder', detail: { orderId: 'o1', eventId: 'E' } })))
    clients[0]!.emit('message', 't', enc.encode('not json'))
    clients[0]!.emit('message', 't', enc.encode('{"detail":{}}'))
    expect(seen).toEqual([['t', 'OrderManager.MakeOrder', 'o1']])
  })

  it('reconnects at once when nudged, and stays down once stopped', async () => {
    const { conn, clients, scheduler } = setup()
    conn.start()
    await flush()
    clients[0]!.emit('close')
    conn.nudge()
    await flush()
    expect(clients).toHaveLength(2)
    expect(scheduler.delays).toEqual([])

    conn.stop()
    expect(conn.status).toBe('idle')
    expect(clients[1]!.ended).toBe(true)
    clients[1]!.emit('close')
    scheduler.advance(60_000)
    await flush()
    expect(clients).toHaveLength(2)
  })

  it('drops a client that finished loading after the connection was stopped', async () => {
    let release: (c: FakeClient) => void = () => undefined
    const made: FakeClient[] = []
    const conn = new RealtimeConnection({
      url: 'ws://presso/mqtt',
      factory: (url, options) =>
        new Promise<FakeClient>((resolve) => {
          const c = new FakeClient(url, options)
          made.push(c)
          release = resolve
        }),
      scheduler: new FakeScheduler(),
    })
    conn.start()
    await flush()
    conn.stop()
    release(made[0]!)
    await flush()
    expect(made[0]!.ended).toBe(true)
    expect(made[0]!.listeners.size).toBe(0)
    expect(conn.status).toBe('idle')
  })

  it('keeps calling the other resync hooks when one fails', async () => {
    const { conn, clients, resyncs } = setup()
    conn.onResync(() => {
      throw new Error('boom')
    })
    conn.onResync(async () => {
      throw new Error('async boom')
    })
    const after: boolean[] = []
    conn.onResync((i) => {
      after.push(i.reconnect)
    })
    conn.start()
    await flush()
    clients[0]!.emit('connect')
    await flush()
    expect(resyncs).toHaveLength(1)
    expect(after).toEqual([false])
  })
})

describe('parseMessage', () => {
  it.each([
    ['{"type":"ConfigService.ConfigChanged","detail":{"eventId":"E"}}', 'ConfigService.ConfigChanged'],
    ['{"type":"X"}', 'X'],
    ['[]', null],
    ['"text"', null],
    ['{', null],
  ])('reads %s', (payload, type) => {
    expect(parseMessage(payload)?.type ?? null).toBe(type)
  })
})
