/**
 * Turns API errors into sentences a customer or barista can act on.
 *
 * The problem `type` names the case; the status is the fallback when a type is unknown, and the
 * server's own `detail` is shown when nothing better is known.
 */
import { ApiError } from './http'

export interface ErrorMessage {
  title: string
  detail: string
  /** Whether trying the same thing again may work. */
  retry: boolean
}

const BY_KIND: Array<[RegExp, ErrorMessage]> = [
  [/sold-out|no-tokens|tokens-exhausted|window-full|drinks-exhausted/, {
    title: 'No drinks left for this code',
    detail: 'All drinks for this code have been claimed. A new code appears on the screen within a few minutes.',
    retry: false,
  }],
  [/expired|invalid-code|code-invalid|unknown-code|bad-code|invalid-token/, {
    title: 'This QR code has expired',
    detail: 'Codes change every few minutes. Scan the code on the screen at the coffee bar again.',
    retry: false,
  }],
  [/queue-full|capacity|too-many-orders|busy/, {
    title: 'The queue is full right now',
    detail: 'Our baristas have plenty to make. Please try again in a few minutes.',
    retry: true,
  }],
  [/store-closed|closed|shop-unavailable|paused/, {
    title: 'The coffee bar is closed',
    detail: 'We are not taking orders at the moment. Please come back soon.',
    retry: false,
  }],
  [/order-limit|max-orders|limit/, {
    title: 'You already have an order',
    detail: 'Pick up your current drink before ordering another one.',
    retry: false,
  }],
  [/unknown-drink|unavailable-drink|drink-unavailable|invalid-choice|bad-modifiers|invalid-modifier|invalid-drink/, {
    title: 'That choice is not available',
    detail: 'Part of your choice is no longer on the menu. Please choose again.',
    retry: true,
  }],
  [/order-timed-out|timed-out|timeout/, {
    title: 'This order timed out',
    detail: 'The order waited too long. Scan the code on the screen to start again.',
    retry: false,
  }],
]

export function describeError(error: unknown): ErrorMessage {
  if (!(error instanceof ApiError)) {
    return { title: 'Something went wrong', detail: error instanceof Error ? error.message : String(error), retry: true }
  }
  if (error.isNetwork) {
    return { title: 'No connection', detail: 'We could not reach the coffee bar. Check your connection and try again.', retry: true }
  }
  const kind = error.kind
  if (kind && kind !== 'about:blank') {
    for (const [pattern, message] of BY_KIND) {
      if (pattern.test(kind)) return { ...message, detail: error.problem.detail ?? message.detail }
    }
  }
  const detail = error.problem.detail ?? error.problem.title
  switch (error.status) {
    case 401:
      return { title: 'Please sign in again', detail: 'Your session has ended.', retry: false }
    case 403:
      return { title: 'Not allowed', detail: detail || 'This account may not do that.', retry: false }
    case 404:
      return { title: 'Not found', detail: detail || 'It does not exist (any more).', retry: false }
    case 409:
      return { title: 'Already changed', detail: detail || 'Someone else changed it first.', retry: false }
    case 429:
      return { title: 'Too many requests', detail: detail || 'Please wait a moment and try again.', retry: true }
    default:
      if (error.status >= 500) return { title: 'The coffee bar had a problem', detail: detail || 'Please try again.', retry: true }
      return { title: error.problem.title || 'Request refused', detail: detail || '', retry: false }
  }
}
