/**
 * Turns API errors into sentences a customer or barista can act on.
 *
 * The problem's `code` names the case (the backend's stable codes, `invalid_code` and so on; a
 * hyphenated spelling is read the same); the status is the fallback when a code is unknown, and the
 * server's own `detail` is shown when nothing better is known.
 */
import { ApiError } from './http'

export interface ErrorMessage {
  title: string
  detail: string
  /** Whether trying the same thing again may work. */
  retry: boolean
}

const BY_CODE: Array<[RegExp, ErrorMessage]> = [
  [/^no_tokens_remaining$|sold_out|tokens_exhausted/, {
    title: 'No drinks left for this code',
    detail: 'All drinks for this code have been claimed. A new code appears on the screen within a few minutes.',
    retry: false,
  }],
  [/^invalid_code$|expired|code_invalid|invalid_token/, {
    title: 'This QR code has expired',
    detail: 'Codes change every few minutes. Scan the code on the screen at the coffee bar again.',
    retry: false,
  }],
  [/^too_many_open_orders$|order_limit/, {
    title: 'You already have an order',
    detail: 'Pick up your current drink before ordering another one.',
    retry: false,
  }],
  [/^store_closed$/, {
    title: 'The coffee bar is closed',
    detail: 'We are not taking orders at the moment. Please come back soon.',
    retry: false,
  }],
  [/^store_paused$/, {
    title: 'Orders are paused',
    detail: 'The baristas are catching up. Please try again in a few minutes.',
    retry: true,
  }],
  [/queue_full|at_capacity/, {
    title: 'The queue is full right now',
    detail: 'Our baristas have plenty to make. Please try again in a few minutes.',
    retry: true,
  }],
  [/^(unknown_drink|drink_unavailable|unknown_modifier|unknown_option|ambiguous_option|option_unavailable|duplicate_option|missing_choice|too_many_choices)$/, {
    title: 'That choice is not available',
    detail: 'Part of your choice is no longer on the menu. Please choose again.',
    retry: true,
  }],
  [/^customer_cannot_cancel_once_being_made$/, {
    title: 'Too late to cancel',
    detail: 'A barista is already making your drink.',
    retry: false,
  }],
  [/^(order_already_completed|order_already_cancelled|order_finished|order_already_being_made|order_not_queued|order_not_being_made|drink_already_submitted|drink_not_submitted|conflict)$/, {
    title: 'Already changed',
    detail: 'Someone changed this order first. The screen shows its latest state.',
    retry: false,
  }],
  [/^(unavailable)$/, {
    title: 'The coffee bar is busy',
    detail: 'Please try again in a moment.',
    retry: true,
  }],
]

export function describeError(error: unknown): ErrorMessage {
  if (!(error instanceof ApiError)) {
    return { title: 'Something went wrong', detail: error instanceof Error ? error.message : String(error), retry: true }
  }
  if (error.isNetwork) {
    return { title: 'No connection', detail: 'We could not reach the coffee bar. Check your connection and try again.', retry: true }
  }
  const code = error.kind.replace(/-/g, '_')
  for (const [pattern, message] of BY_CODE) {
    if (pattern.test(code)) return { ...message, detail: error.problem.detail || message.detail }
  }
  const detail = error.problem.detail ?? ''
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
      return { title: error.problem.title || 'Request refused', detail, retry: false }
  }
}
