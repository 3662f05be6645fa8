/**
 * Takes the scanned code out of the page URL (`/order/?eventId=E&token=T`) before anything else runs:
 * it is kept for this tab until the customer has signed in, and removed from the address bar so a
 * reload or a shared link never spends it twice.
 */
const PENDING_TOKEN_KEY = 'presso.order.pendingScan'

export function takeScanFromLocation(location: Location = window.location, history: History = window.history): void {
  const params = new URLSearchParams(location.search)
  const token = params.get('token')?.trim()
  if (!token) return
  const eventId = params.get('eventId')?.trim() || ''
  try {
    sessionStorage.setItem(PENDING_TOKEN_KEY, JSON.stringify({ eventId, token }))
  } catch {
    // Without session storage the code is lost on reload; the customer scans again.
  }
  params.delete('token')
  const rest = params.toString()
  history.replaceState(history.state, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`)
}
