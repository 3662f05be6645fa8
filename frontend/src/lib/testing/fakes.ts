/** Test doubles shared by the unit tests: a scripted `fetch`, unsigned JWTs, an in-memory storage. */
import type { FetchLike } from '../api/http'
import type { KeyValueStorage } from '../auth/tokenStore'

export interface RecordedRequest {
  url: string
  method: string
  headers: Record<string, string>
  body: unknown
}

export type FakeRoute = (req: RecordedRequest) => { status?: number; body?: unknown; contentType?: string } | Promise<{ status?: number; body?: unknown; contentType?: string }>

/** A `fetch` that answers from a handler and records every request. */
export function fakeFetch(handler: FakeRoute): FetchLike & { requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = []
  const fn = (async (input: string, init?: RequestInit) => {
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries((init?.headers as Record<string, string>) ?? {})) headers[k.toLowerCase()] = v
    let body: unknown = init?.body
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body)
      } catch {
        // keep the text
      }
    }
    const req: RecordedRequest = { url: input, method: init?.method ?? 'GET', headers, body }
    requests.push(req)
    const res = await handler(req)
    const status = res.status ?? 200
    const text = res.body === undefined ? '' : typeof res.body === 'string' ? res.body : JSON.stringify(res.body)
    return new Response(status === 204 ? null : text, {
      status,
      headers: { 'content-type': res.contentType ?? 'application/json' },
    })
  }) as FetchLike & { requests: RecordedRequest[] }
  fn.requests = requests
  return fn
}

function b64url(text: string): string {
  const bytes = new TextEncoder().encode(text)
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** An unsigned JWT with the given claims (the client never verifies signatures). */
export function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.c2ln`
}

export class MemoryStorage implements KeyValueStorage {
  readonly data = new Map<string, string>()
  getItem(key: string) {
    return this.data.get(key) ?? null
  }
  setItem(key: string, value: string) {
    this.data.set(key, value)
  }
  removeItem(key: string) {
    this.data.delete(key)
  }
}
