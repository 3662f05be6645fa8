/**
 * The services one app instance runs on: runtime settings, the signed-in session, the API client and
 * the realtime connection, created once at start-up from `/config.json`.
 *
 * Stores reach them through `services()`; tests install fakes with `provideServices()`. Start-up never
 * gives up: a display rebooting during a network outage waits for the server (or uses the settings it
 * saw last) instead of showing an error forever.
 */
import { PressoApi, loadRuntimeConfig, type FetchLike, type RuntimeConfig } from './api'
import { AuthSession } from './auth'
import { RealtimeConnection, mqttJsFactory } from './realtime'

export interface Services {
  config: RuntimeConfig
  eventId: string
  auth: AuthSession
  api: PressoApi
  realtime: RealtimeConnection
}

let current: Services | null = null

export function provideServices(services: Services | null): void {
  current = services
}

export function services(): Services {
  if (!current) throw new Error('services() used before start-up finished')
  return current
}

const CONFIG_CACHE_KEY = 'presso.config'

/** Loads `/config.json`, retrying with back-off; falls back to the last settings seen once it has them. */
export async function loadConfigPatiently(options: { fetch?: FetchLike; wait?: (ms: number) => Promise<void>; storage?: Storage } = {}): Promise<RuntimeConfig> {
  const storage = options.storage ?? globalThis.localStorage
  const wait = options.wait ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)))
  let delay = 1000
  for (;;) {
    try {
      const config = await loadRuntimeConfig(options.fetch)
      try {
        storage?.setItem(CONFIG_CACHE_KEY, JSON.stringify(config))
      } catch {
        // Storage full or disabled: nothing to cache.
      }
      return config
    } catch {
      const cached = storage?.getItem(CONFIG_CACHE_KEY)
      if (cached) {
        try {
          return JSON.parse(cached) as RuntimeConfig
        } catch {
          storage?.removeItem(CONFIG_CACHE_KEY)
        }
      }
      await wait(delay)
      delay = Math.min(delay * 2, 15_000)
    }
  }
}

/** The event this page is for: `?eventId=` first, then the last one used by this app, then the default. */
export function pickEventId(config: RuntimeConfig, app: string, search = globalThis.location?.search ?? ''): string {
  const key = `presso.${app}.eventId`
  const fromUrl = new URLSearchParams(search).get('eventId')?.trim()
  if (fromUrl) {
    try {
      globalThis.localStorage?.setItem(key, fromUrl)
    } catch {
      // Not remembered; the URL still works.
    }
    return fromUrl
  }
  return globalThis.localStorage?.getItem(key) || config.defaultEventId || 'default'
}

export async function startServices(app: string): Promise<Services> {
  const config = await loadConfigPatiently()
  const eventId = pickEventId(config, app)
  const auth = new AuthSession(config.cognitoEndpoint, config.userPoolClientId)
  const api = new PressoApi(config.apiBase, () => auth.idToken())
  const realtime = new RealtimeConnection({
    url: absoluteWsUrl(config.mqttUrl),
    factory: mqttJsFactory,
    credentials: (force) => (force ? auth.refresh() : auth.idToken()),
  })
  const s = { config, eventId, auth, api, realtime }
  provideServices(s)
  return s
}

/** Accepts a path (`/mqtt`) as well as a full URL, so one config works behind any host name. */
export function absoluteWsUrl(url: string, location: Pick<Location, 'protocol' | 'host'> | undefined = globalThis.location): string {
  if (/^wss?:\/\//.test(url) || !location) return url
  if (/^https?:\/\//.test(url)) return url.replace(/^http/, 'ws')
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${scheme}//${location.host}${url.startsWith('/') ? '' : '/'}${url}`
}
