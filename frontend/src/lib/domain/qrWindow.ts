/**
 * What the display's QR panel shows at a given instant.
 *
 * A code is good for one 5-minute window and a number of drinks. The panel hides it once the drinks
 * are used up and during the last seconds of the window (so nobody scans a code that dies in their
 * hand; the server still accepts it for a grace period), and asks for the next code once the window
 * has ended. Pure: time comes in as an argument.
 */
import type { QrBucket, StoreState } from '../api/types'

/** Hide the code this long before its window ends. */
export const HIDE_BEFORE_END_MS = 15_000
/** Windows last five minutes. */
export const WINDOW_MS = 5 * 60 * 1000

export type QrPhase = 'loading' | 'closed' | 'paused' | 'show' | 'soldOut' | 'turning'

export interface QrPanelState {
  phase: QrPhase
  /** Whole seconds until the code is hidden (`show`) or the next code appears (`soldOut`, `turning`). */
  secondsLeft: number
  /** Share of the window still ahead, 0..1, for a progress bar. */
  fractionLeft: number
  /** True once the window is over: time to fetch the next code. */
  needsNextCode: boolean
}

export interface QrPanelInput {
  bucket: QrBucket | null
  /** The server's clock: the local clock plus the measured offset. */
  now: number
  storeState: StoreState
}

export function qrPanelState({ bucket, now, storeState }: QrPanelInput): QrPanelState {
  if (storeState === 'closed') return { phase: 'closed', secondsLeft: 0, fractionLeft: 0, needsNextCode: false }
  if (storeState === 'paused') return { phase: 'paused', secondsLeft: 0, fractionLeft: 0, needsNextCode: false }
  if (!bucket) return { phase: 'loading', secondsLeft: 0, fractionLeft: 0, needsNextCode: true }
  const msLeft = bucket.endTs - now
  const length = Math.max(1, bucket.endTs - bucket.startTs)
  const fractionLeft = clamp(msLeft / length, 0, 1)
  if (msLeft <= 0) return { phase: 'turning', secondsLeft: 0, fractionLeft: 0, needsNextCode: true }
  const secondsToEnd = Math.ceil(msLeft / 1000)
  if (bucket.availableTokens <= 0) return { phase: 'soldOut', secondsLeft: secondsToEnd, fractionLeft, needsNextCode: false }
  if (msLeft <= HIDE_BEFORE_END_MS) return { phase: 'turning', secondsLeft: secondsToEnd, fractionLeft, needsNextCode: false }
  return { phase: 'show', secondsLeft: Math.ceil((msLeft - HIDE_BEFORE_END_MS) / 1000), fractionLeft, needsNextCode: false }
}

/** `m:ss` for a countdown. */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

/** The URL a QR code carries: the order app with the event and the code. */
export function qrUrl(bucket: Pick<QrBucket, 'eventId' | 'code'>, orderAppUrl: string): string {
  const base = orderAppUrl.includes('?') ? orderAppUrl.slice(0, orderAppUrl.indexOf('?')) : orderAppUrl
  const params = new URLSearchParams({ eventId: bucket.eventId, token: bucket.code })
  return `${base}?${params.toString()}`
}

/**
 * How far the server's clock is from ours, as far as a fresh bucket tells: the server handed out the
 * window containing its "now", so the server's clock read somewhere in `[startTs, endTs]` when the
 * answer arrived. The previous estimate (`previous`, 0 when there is none) is kept unless the bucket
 * proves it wrong; then it moves just far enough to fit. So a local clock outside the window is
 * corrected by at least the distance to it, and re-reading the same window does not reset a
 * correction already made. (A development server whose clock was moved forward shows up here.)
 */
export function clockOffset(bucket: Pick<QrBucket, 'startTs' | 'endTs'>, receivedAt: number, previous = 0): number {
  return clamp(previous, bucket.startTs - receivedAt, bucket.endTs - receivedAt)
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v))
}
