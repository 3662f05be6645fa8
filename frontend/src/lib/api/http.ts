/**
 * The one module that calls `fetch`.
 *
 * Everything that talks HTTP (the app's API, `/config.json`, Cognito's JSON protocol) goes through
 * `HttpClient`, which turns non-2xx answers into `ApiError` with the server's problem details. Tests
 * pass a fake `fetch`; nothing else in the apps may reach the network another way.
 */
import type { ProblemDetails } from './types'

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

/** Every failed request: an HTTP error with the server's problem details, or a network failure. */
export class ApiError extends Error {
  readonly status: number
  readonly problem: ProblemDetails

  constructor(problem: ProblemDetails) {
    super(problem.detail ?? problem.title)
    this.name = 'ApiError'
    this.status = problem.status
    this.problem = problem
  }

  /** True when the request never got an answer (offline, DNS, connection reset). */
  get isNetwork(): boolean {
    return this.status === 0
  }

  /**
   * The problem's stable code: `code` when the server sends it, else the last segment of `type`
   * (`urn:serverlesspresso:problem:invalid_code` → `invalid_code`).
   */
  get kind(): string {
    if (this.problem.code) return this.problem.code.toLowerCase()
    const t = this.problem.type ?? ''
    const cut = Math.max(t.lastIndexOf('/'), t.lastIndexOf(':'))
    return (cut >= 0 ? t.slice(cut + 1) : t).toLowerCase()
  }
}

export const defaultFetch: FetchLike = (input, init) => globalThis.fetch(input, init)

export interface RequestOptions {
  method?: string
  headers?: Record<string, string>
  /** Sent as JSON unless it is already a string. */
  body?: unknown
  signal?: AbortSignal
}

export class HttpClient {
  constructor(private readonly fetchImpl: FetchLike = defaultFetch) {}

  /** Sends a request and parses the JSON answer (undefined for an empty body). */
  async request<T>(url: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
    let body: string | undefined
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
      headers['content-type'] ??= 'application/json'
    }
    let response: Response
    try {
      response = await this.fetchImpl(url, {
        method: options.method ?? 'GET',
        headers,
        body,
        signal: options.signal,
        cache: 'no-store',
      })
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === 'AbortError') throw cause
      throw new ApiError({
        type: 'network',
        title: 'No connection',
        status: 0,
        detail: 'The server could not be reached. Check the connection and try again.',
      })
    }
    const text = await response.text()
    const parsed = parseJson(text)
    if (!response.ok) throw new ApiError(toProblem(response, parsed, text))
    return parsed as T
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * Builds problem details from any error body: RFC 9457 from the app's API, `{message}` from API
 * Gateway's authorizer, `{__type, message}` from AWS JSON protocols, or plain text.
 */
function toProblem(response: Response, parsed: unknown, text: string): ProblemDetails {
  const status = response.status
  const fallbackTitle = response.statusText || `HTTP ${status}`
  if (parsed && typeof parsed === 'object') {
    const o = parsed as Record<string, unknown>
    const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined)
    if (str('title') || str('type')) {
      return {
        type: str('type') ?? 'about:blank',
        title: str('title') ?? fallbackTitle,
        status: typeof o.status === 'number' ? o.status : status,
        detail: str('detail'),
        code: str('code'),
        retryAfterSeconds: typeof o.retryAfterSeconds === 'number' ? o.retryAfterSeconds : undefined,
        instance: str('instance'),
      }
    }
    const awsType = str('__type')
    const message = str('message') ?? str('Message')
    if (awsType) {
      // AWS sends `__type` either bare or as `namespace#Name`.
      const name = awsType.slice(awsType.lastIndexOf('#') + 1)
      return { type: name, title: name, status, detail: message }
    }
    if (message) return { type: 'about:blank', title: fallbackTitle, status, detail: message }
  }
  return { type: 'about:blank', title: fallbackTitle, status, detail: text.trim() || undefined }
}
