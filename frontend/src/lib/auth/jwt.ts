/**
 * Reads (never verifies) the claims of Cognito tokens.
 *
 * The client only needs the claims to show a name, pick the user's MQTT topic and know when to
 * refresh; the server verifies every token it receives, so nothing here is a security decision.
 */

export interface IdTokenClaims {
  sub: string
  email?: string
  given_name?: string
  /** Seconds since the epoch. */
  exp: number
  'cognito:groups'?: string[] | string
  [claim: string]: unknown
}

/** Decodes the payload of a JWT; null when the string is not a JWT with a JSON payload. */
export function decodeJwt(token: string): IdTokenClaims | null {
  const parts = token.split('.')
  if (parts.length !== 3 || !parts[1]) return null
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/')
    const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4)
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0))
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as unknown
    if (!claims || typeof claims !== 'object') return null
    const c = claims as IdTokenClaims
    if (typeof c.sub !== 'string' || typeof c.exp !== 'number') return null
    return c
  } catch {
    return null
  }
}

/**
 * The user's groups. A raw JWT carries a JSON array; API Gateway flattens it to `"[admin barista]"`
 * and some tools to `"admin,barista"`, so all three forms are read.
 */
export function groupsOf(claims: IdTokenClaims | null): string[] {
  const raw = claims?.['cognito:groups']
  if (Array.isArray(raw)) return raw.filter((g): g is string => typeof g === 'string')
  if (typeof raw === 'string') {
    return raw
      .replace(/^\[|\]$/g, '')
      .split(/[\s,]+/)
      .filter(Boolean)
  }
  return []
}

export function isAdmin(claims: IdTokenClaims | null): boolean {
  return groupsOf(claims).includes('admin')
}
