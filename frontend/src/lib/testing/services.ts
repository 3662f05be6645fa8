/** Services wired to fakes, so stores and components run in tests without a network or a broker. */
import { PressoApi, type RuntimeConfig } from '../api'
import { AuthSession, TokenStore } from '../auth'
import { RealtimeConnection, type MqttLikeClient } from '../realtime'
import { provideServices, type Services } from '../services'
import { fakeFetch, fakeJwt, MemoryStorage, type FakeRoute } from './fakes'

export const TEST_CONFIG: RuntimeConfig = {
  region: 'us-east-1',
  userPoolId: 'pool',
  userPoolClientId: 'client',
  cognitoEndpoint: 'http://presso.test/',
  apiBase: '/api',
  mqttUrl: 'ws://presso.test/mqtt',
  mqttAuth: 'jwt',
  defaultEventId: 'E',
  orderAppUrl: 'http://presso.test/order/',
}

export interface TestUser {
  sub: string
  givenName: string
  groups?: string[]
}

/** A client that never connects: stores under test get their messages through `onMessage`. */
const silentClient = (): MqttLikeClient => ({
  on: () => undefined,
  subscribe: () => undefined,
  unsubscribe: () => undefined,
  end: () => undefined,
})

export function installFakeServices(routes: FakeRoute, user: TestUser | null = null): Services & { fetch: ReturnType<typeof fakeFetch> } {
  const fetch = fakeFetch(routes)
  const storage = new MemoryStorage()
  if (user) {
    storage.setItem(
      'presso.auth',
      JSON.stringify({
        idToken: fakeJwt({ sub: user.sub, given_name: user.givenName, exp: 4_000_000_000, 'cognito:groups': user.groups ?? [] }),
        accessToken: 'a',
        refreshToken: 'r',
        expiresAt: Date.now() + 3_600_000,
        username: `${user.givenName.toLowerCase()}@example.com`,
      }),
    )
  }
  const auth = new AuthSession(TEST_CONFIG.cognitoEndpoint, TEST_CONFIG.userPoolClientId, { fetch, store: new TokenStore(storage) })
  const api = new PressoApi(TEST_CONFIG.apiBase, () => auth.idToken(), fetch)
  const realtime = new RealtimeConnection({ url: TEST_CONFIG.mqttUrl, factory: silentClient })
  const services = { config: TEST_CONFIG, eventId: 'E', auth, api, realtime }
  provideServices(services)
  return { ...services, fetch }
}

/** Lets pending promise callbacks run. */
export const settle = () => new Promise<void>((r) => setTimeout(r, 0))
