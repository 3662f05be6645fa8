/**
 * Keeps the signed-in user's tokens in `localStorage`, so a reload (or a display that lost power)
 * comes back signed in. Holds nothing but Cognito's own tokens.
 */

export interface StoredTokens {
  idToken: string
  accessToken: string
  refreshToken: string
  /** Epoch ms at which the ID and access tokens expire. */
  expiresAt: number
  /** The username Cognito knows the user by (their email). */
  username: string
}

export interface KeyValueStorage {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

export class TokenStore {
  constructor(
    private readonly storage: KeyValueStorage | undefined = globalThis.localStorage,
    private readonly key = 'presso.auth',
  ) {}

  load(): StoredTokens | null {
    try {
      const raw = this.storage?.getItem(this.key)
      if (!raw) return null
      const t = JSON.parse(raw) as Partial<StoredTokens>
      if (typeof t.idToken !== 'string' || typeof t.refreshToken !== 'string' || typeof t.expiresAt !== 'number') {
        return null
      }
      return {
        idToken: t.idToken,
        accessToken: typeof t.accessToken === 'string' ? t.accessToken : '',
        refreshToken: t.refreshToken,
        expiresAt: t.expiresAt,
        username: typeof t.username === 'string' ? t.username : '',
      }
    } catch {
      return null
    }
  }

  save(tokens: StoredTokens): void {
    try {
      this.storage?.setItem(this.key, JSON.stringify(tokens))
    } catch {
      // Private browsing or a full storage: the session still works until the page reloads.
    }
  }

  clear(): void {
    try {
      this.storage?.removeItem(this.key)
    } catch {
      // Nothing to clear.
    }
  }
}
