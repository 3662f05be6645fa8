/**
 * Passwordless sign-in against a Cognito user pool (or presso's compatible subset).
 *
 * New users: `SignUp` (email as username, `email` and `given_name` attributes) → `ConfirmSignUp` with the
 * emailed code → `InitiateAuth(USER_AUTH)` with the session ConfirmSignUp returned, which signs them in
 * without a second code. Returning users: `InitiateAuth(USER_AUTH, PREFERRED_CHALLENGE=EMAIL_OTP)` →
 * `RespondToAuthChallenge(EMAIL_OTP)`. Tokens are renewed with `REFRESH_TOKEN_AUTH`.
 *
 * `AuthSession` owns the tokens: it persists them, refreshes the ID token shortly before it expires (one
 * refresh at a time, however many callers ask) and tells listeners when the user changes. It never
 * keeps a code or an email beyond the flow that needs it.
 */
import { ApiError, AwsJsonClient, type FetchLike } from '../api'
import { decodeJwt, groupsOf, type IdTokenClaims } from './jwt'
import { TokenStore, type StoredTokens } from './tokenStore'

const SERVICE = 'AWSCognitoIdentityProviderService'
/** Refresh this long before expiry, so a request never leaves with a token about to lapse. */
const REFRESH_MARGIN_MS = 2 * 60 * 1000

interface AuthenticationResult {
  IdToken?: string
  AccessToken?: string
  RefreshToken?: string
  ExpiresIn?: number
}

interface AuthResponse {
  AuthenticationResult?: AuthenticationResult
  ChallengeName?: string
  Session?: string
  ChallengeParameters?: Record<string, string>
  AvailableChallenges?: string[]
}

/** Why a sign-in step failed, in words for the person signing in. */
export class AuthError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'AuthError'
  }
}

/** A flow that waits for the emailed code. */
export interface PendingCode {
  kind: 'confirm-sign-up' | 'sign-in'
  username: string
  /** Where the code went, as Cognito reports it (e.g. `j***@e***`). */
  destination?: string
  session?: string
}

export interface SignedInUser {
  sub: string
  email: string
  givenName: string
  groups: string[]
  claims: IdTokenClaims
}

export type Clock = () => number

export class AuthSession {
  private readonly cognito: AwsJsonClient
  private tokens: StoredTokens | null
  private refreshing: Promise<string | null> | null = null
  private readonly listeners = new Set<(user: SignedInUser | null) => void>()

  constructor(
    endpoint: string,
    private readonly clientId: string,
    options: { fetch?: FetchLike; store?: TokenStore; now?: Clock } = {},
  ) {
    this.cognito = new AwsJsonClient(endpoint, SERVICE, options.fetch)
    this.store = options.store ?? new TokenStore()
    this.now = options.now ?? Date.now
    this.tokens = this.store.load()
  }

  private readonly store: TokenStore
  private readonly now: Clock

  get user(): SignedInUser | null {
    return userFrom(this.tokens)
  }

  onChange(listener: (user: SignedInUser | null) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  // Sign-up ------------------------------------------------------------------------------------

  /** Registers a new user; Cognito emails them a confirmation code. */
  async signUp(email: string, givenName: string): Promise<PendingCode> {
    const username = normaliseEmail(email)
    const res = await this.run<{ CodeDeliveryDetails?: { Destination?: string } }>('SignUp', {
      ClientId: this.clientId,
      Username: username,
      UserAttributes: [
        { Name: 'email', Value: username },
        { Name: 'given_name', Value: givenName.trim() },
      ],
    })
    return { kind: 'confirm-sign-up', username, destination: res?.CodeDeliveryDetails?.Destination }
  }

  /** Sends a new confirmation code to a user who signed up but never confirmed. */
  async resendConfirmation(email: string): Promise<PendingCode> {
    const username = normaliseEmail(email)
    const res = await this.run<{ CodeDeliveryDetails?: { Destination?: string } }>('ResendConfirmationCode', {
      ClientId: this.clientId,
      Username: username,
    })
    return { kind: 'confirm-sign-up', username, destination: res?.CodeDeliveryDetails?.Destination }
  }

  // Sign-in ------------------------------------------------------------------------------------

  /** Asks Cognito to email a one-time sign-in code. */
  async startSignIn(email: string): Promise<PendingCode> {
    const username = normaliseEmail(email)
    let res = await this.run<AuthResponse>('InitiateAuth', {
      AuthFlow: 'USER_AUTH',
      ClientId: this.clientId,
      AuthParameters: { USERNAME: username, PREFERRED_CHALLENGE: 'EMAIL_OTP' },
    })
    // A pool that ignores the preference offers a choice instead: choose the email code.
    if (res.ChallengeName === 'SELECT_CHALLENGE') {
      res = await this.run<AuthResponse>('RespondToAuthChallenge', {
        ClientId: this.clientId,
        ChallengeName: 'SELECT_CHALLENGE',
        Session: res.Session,
        ChallengeResponses: { USERNAME: username, ANSWER: 'EMAIL_OTP' },
      })
    }
    if (res.AuthenticationResult) {
      this.accept(res.AuthenticationResult, username)
      return { kind: 'sign-in', username }
    }
    if (res.ChallengeName !== 'EMAIL_OTP') {
      throw new AuthError('UnsupportedChallenge', `This account needs a sign-in method the app does not offer (${res.ChallengeName ?? 'none'}).`)
    }
    return {
      kind: 'sign-in',
      username,
      session: res.Session,
      destination: res.ChallengeParameters?.CODE_DELIVERY_DESTINATION,
    }
  }

  /** Completes either flow with the emailed code. */
  async submitCode(pending: PendingCode, code: string): Promise<SignedInUser> {
    const answer = code.replace(/\s+/g, '')
    if (pending.kind === 'confirm-sign-up') {
      const confirmed = await this.run<{ Session?: string }>('ConfirmSignUp', {
        ClientId: this.clientId,
        Username: pending.username,
        ConfirmationCode: answer,
      })
      if (!confirmed?.Session) {
        throw new AuthError('SignInRequired', 'Your email is confirmed. Ask for a sign-in code to continue.')
      }
      const res = await this.run<AuthResponse>('InitiateAuth', {
        AuthFlow: 'USER_AUTH',
        ClientId: this.clientId,
        AuthParameters: { USERNAME: pending.username },
        Session: confirmed.Session,
      })
      return this.finish(res, pending.username)
    }
    const res = await this.run<AuthResponse>('RespondToAuthChallenge', {
      ClientId: this.clientId,
      ChallengeName: 'EMAIL_OTP',
      Session: pending.session,
      ChallengeResponses: { USERNAME: pending.username, EMAIL_OTP_CODE: answer },
    })
    return this.finish(res, pending.username)
  }

  signOut(): void {
    this.tokens = null
    this.store.clear()
    this.emit()
  }

  // Tokens -------------------------------------------------------------------------------------

  /**
   * The ID token to send to the API and the MQTT broker, refreshed when it is about to expire.
   * Null when signed out or when the refresh token was refused (the user is then signed out).
   */
  async idToken(): Promise<string | null> {
    const tokens = this.tokens
    if (!tokens) return null
    if (tokens.expiresAt - REFRESH_MARGIN_MS > this.now()) return tokens.idToken
    return this.refresh()
  }

  /** Renews the tokens now; concurrent callers share one request. */
  refresh(): Promise<string | null> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null
    })
    return this.refreshing
  }

  private async doRefresh(): Promise<string | null> {
    const tokens = this.tokens
    if (!tokens) return null
    try {
      const res = await this.run<AuthResponse>('InitiateAuth', {
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        ClientId: this.clientId,
        AuthParameters: { REFRESH_TOKEN: tokens.refreshToken },
      })
      if (!res.AuthenticationResult?.IdToken) throw new AuthError('NotAuthorizedException', 'Please sign in again.')
      this.accept(res.AuthenticationResult, tokens.username, tokens.refreshToken)
      return this.tokens?.idToken ?? null
    } catch (error) {
      // Offline: keep the tokens, the next call tries again. Refused: the session is over.
      if (error instanceof AuthError && error.code === 'NetworkError') return tokens.idToken
      this.signOut()
      return null
    }
  }

  private finish(res: AuthResponse, username: string): SignedInUser {
    if (!res.AuthenticationResult) {
      throw new AuthError('UnexpectedChallenge', `Sign-in needs another step the app does not offer (${res.ChallengeName ?? 'none'}).`)
    }
    this.accept(res.AuthenticationResult, username)
    const user = this.user
    if (!user) throw new AuthError('InvalidToken', 'The sign-in service returned an unreadable token.')
    return user
  }

  private accept(result: AuthenticationResult, username: string, previousRefresh?: string): void {
    const idToken = result.IdToken
    const refreshToken = result.RefreshToken ?? previousRefresh
    if (!idToken || !refreshToken || !decodeJwt(idToken)) {
      throw new AuthError('InvalidToken', 'The sign-in service returned an unreadable token.')
    }
    this.tokens = {
      idToken,
      accessToken: result.AccessToken ?? '',
      refreshToken,
      expiresAt: this.now() + (result.ExpiresIn ?? 3600) * 1000,
      username,
    }
    this.store.save(this.tokens)
    this.emit()
  }

  private emit(): void {
    const user = this.user
    for (const l of this.listeners) l(user)
  }

  private async run<T>(operation: string, input: object): Promise<T> {
    try {
      return await this.cognito.call<T>(operation, input)
    } catch (error) {
      throw toAuthError(error)
    }
  }
}

function normaliseEmail(email: string): string {
  return email.trim().toLowerCase()
}

function userFrom(tokens: StoredTokens | null): SignedInUser | null {
  if (!tokens) return null
  const claims = decodeJwt(tokens.idToken)
  if (!claims) return null
  return {
    sub: claims.sub,
    email: typeof claims.email === 'string' ? claims.email : tokens.username,
    givenName: typeof claims.given_name === 'string' ? claims.given_name : '',
    groups: groupsOf(claims),
    claims,
  }
}

const MESSAGES: Record<string, string> = {
  CodeMismatchException: 'That code is not right. Check the email and try again.',
  ExpiredCodeException: 'That code has expired. Ask for a new one.',
  UserNotFoundException: 'There is no account for this email yet. Create one first.',
  UsernameExistsException: 'There is already an account for this email. Sign in instead.',
  UserNotConfirmedException: 'This email is not confirmed yet. Enter the code we sent, or ask for a new one.',
  NotAuthorizedException: 'Sign-in was refused. Ask for a new code and try again.',
  LimitExceededException: 'Too many attempts. Wait a few minutes and try again.',
  TooManyRequestsException: 'Too many attempts. Wait a few minutes and try again.',
  InvalidParameterException: 'Please check the email address and name.',
  CodeDeliveryFailureException: 'We could not send the email. Check the address and try again.',
}

function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error
  if (error instanceof ApiError) {
    if (error.isNetwork) return new AuthError('NetworkError', 'The sign-in service could not be reached. Check the connection.')
    const code = error.problem.type
    return new AuthError(code, MESSAGES[code] ?? error.problem.detail ?? error.problem.title)
  }
  return new AuthError('Unknown', error instanceof Error ? error.message : String(error))
}
