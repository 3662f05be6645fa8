import { describe, expect, it } from 'vitest'
import { AuthError, AuthSession } from '../cognito'
import { TokenStore } from '../tokenStore'
import { fakeFetch, fakeJwt, MemoryStorage, type RecordedRequest } from '../../testing/fakes'

const ENDPOINT = 'http://127.0.0.1:8080/'
const CLIENT = 'client-123'
const HOUR = 3600

function tokens(sub: string, extra: Record<string, unknown> = {}) {
  return {
    AuthenticationResult: {
      IdToken: fakeJwt({ sub, email: 'ana@example.com', given_name: 'Ana', exp: 2_000_000_000, ...extra }),
      AccessToken: fakeJwt({ sub, exp: 2_000_000_000 }),
      RefreshToken: `refresh-${sub}`,
      ExpiresIn: HOUR,
      TokenType: 'Bearer',
    },
  }
}

function target(req: RecordedRequest): string {
  return req.headers['x-amz-target'] ?? ''
}

function session(handler: Parameters<typeof fakeFetch>[0], now = () => 1_000_000) {
  const fetch = fakeFetch(handler)
  const storage = new MemoryStorage()
  const auth = new AuthSession(ENDPOINT, CLIENT, { fetch, store: new TokenStore(storage), now })
  return { fetch, storage, auth }
}

describe('AuthSession', () => {
  it('signs a new user up, confirms the code and signs in with the confirmation session', async () => {
    const { fetch, auth, storage } = session((req) => {
      switch (target(req)) {
        case 'AWSCognitoIdentityProviderService.SignUp':
          return { body: { UserConfirmed: false, UserSub: 'u-1', CodeDeliveryDetails: { Destination: 'a***@e***' } } }
        case 'AWSCognitoIdentityProviderService.ConfirmSignUp':
          return { body: { Session: 'confirm-session' } }
        case 'AWSCognitoIdentityProviderService.InitiateAuth':
          return { body: tokens('u-1') }
      }
      return { status: 400, body: { __type: 'InvalidAction', message: target(req) } }
    })

    const pending = await auth.signUp('  Ana@Example.com ', ' Ana ')
    expect(pending).toMatchObject({ kind: 'confirm-sign-up', username: 'ana@example.com', destination: 'a***@e***' })
    const user = await auth.submitCode(pending, ' 123 456 ')

    expect(user).toMatchObject({ sub: 'u-1', givenName: 'Ana', email: 'ana@example.com' })
    const [signUp, confirm, initiate] = fetch.requests
    expect(signUp!.url).toBe(ENDPOINT)
    expect(signUp!.method).toBe('POST')
    expect(signUp!.headers['content-type']).toBe('application/x-amz-json-1.1')
    expect(signUp!.body).toEqual({
      ClientId: CLIENT,
      Username: 'ana@example.com',
      UserAttributes: [
        { Name: 'email', Value: 'ana@example.com' },
        { Name: 'given_name', Value: 'Ana' },
      ],
    })
    expect(confirm!.body).toEqual({ ClientId: CLIENT, Username: 'ana@example.com', ConfirmationCode: '123456' })
    expect(initiate!.body).toEqual({
      AuthFlow: 'USER_AUTH',
      ClientId: CLIENT,
      AuthParameters: { USERNAME: 'ana@example.com' },
      Session: 'confirm-session',
    })
    expect(JSON.parse(storage.data.get('presso.auth')!)).toMatchObject({ refreshToken: 'refresh-u-1' })
  })

  it('signs a returning user in with an emailed one-time code', async () => {
    const { fetch, auth } = session((req) => {
      if (target(req).endsWith('.InitiateAuth')) {
        return { body: { ChallengeName: 'EMAIL_OTP', Session: 's-1', ChallengeParameters: { CODE_DELIVERY_DESTINATION: 'a***@e***' } } }
      }
      if (target(req).endsWith('.RespondToAuthChallenge')) return { body: tokens('u-2') }
      return { status: 400, body: {} }
    })

    const pending = await auth.startSignIn('ana@example.com')
    expect(pending).toMatchObject({ kind: 'sign-in', session: 's-1', destination: 'a***@e***' })
    const user = await auth.submitCode(pending, '654321')

    expect(user.sub).toBe('u-2')
    expect(fetch.requests[0]!.body).toEqual({
      AuthFlow: 'USER_AUTH',
      ClientId: CLIENT,
      AuthParameters: { USERNAME: 'ana@example.com', PREFERRED_CHALLENGE: 'EMAIL_OTP' },
    })
    expect(fetch.requests[1]!.body).toEqual({
      ClientId: CLIENT,
      ChallengeName: 'EMAIL_OTP',
      Session: 's-1',
      ChallengeResponses: { USERNAME: 'ana@example.com', EMAIL_OTP_CODE: '654321' },
    })
  })

  it('chooses the email code when the pool offers a choice of challenges', async () => {
    const { fetch, auth } = session((req) => {
      if (target(req).endsWith('.InitiateAuth')) return { body: { ChallengeName: 'SELECT_CHALLENGE', Session: 's-0', AvailableChallenges: ['EMAIL_OTP'] } }
      return { body: { ChallengeName: 'EMAIL_OTP', Session: 's-1' } }
    })
    const pending = await auth.startSignIn('ana@example.com')
    expect(pending.session).toBe('s-1')
    expect(fetch.requests[1]!.body).toMatchObject({ ChallengeName: 'SELECT_CHALLENGE', ChallengeResponses: { ANSWER: 'EMAIL_OTP' } })
  })

  it.each([
    ['CodeMismatchException', /not right/],
    ['ExpiredCodeException', /expired/],
    ['UserNotFoundException', /no account/],
    ['UsernameExistsException', /already an account/],
    ['LimitExceededException', /Too many/],
  ])('explains %s in words', async (type, message) => {
    const { auth } = session(() => ({ status: 400, body: { __type: `com.amazonaws#${type}`, message: 'raw' } }))
    const error = await auth.signUp('ana@example.com', 'Ana').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthError)
    expect((error as AuthError).code).toBe(type)
    expect((error as AuthError).message).toMatch(message)
  })

  it('keeps the user signed in across a reload', async () => {
    const storage = new MemoryStorage()
    const fetch = fakeFetch(() => ({ body: tokens('u-3') }))
    const first = new AuthSession(ENDPOINT, CLIENT, { fetch, store: new TokenStore(storage) })
    await first.submitCode({ kind: 'sign-in', username: 'ana@example.com', session: 's' }, '1')
    const second = new AuthSession(ENDPOINT, CLIENT, { fetch, store: new TokenStore(storage) })
    expect(second.user?.sub).toBe('u-3')
  })

  it('refreshes an ID token that is about to expire, once for concurrent callers', async () => {
    let clock = 1_000_000
    let refreshes = 0
    const { fetch, auth } = session((req) => {
      const body = req.body as { AuthFlow?: string }
      if (body.AuthFlow === 'REFRESH_TOKEN_AUTH') {
        refreshes++
        const t = tokens('u-4', { n: refreshes })
        delete (t.AuthenticationResult as { RefreshToken?: string }).RefreshToken
        return { body: t }
      }
      return { body: tokens('u-4') }
    }, () => clock)
    await auth.submitCode({ kind: 'sign-in', username: 'ana@example.com', session: 's' }, '1')
    const original = await auth.idToken()

    clock += (HOUR - 60) * 1000
    const [a, b] = await Promise.all([auth.idToken(), auth.idToken()])

    expect(refreshes).toBe(1)
    expect(a).toBe(b)
    expect(a).not.toBe(original)
    const refresh = fetch.requests.find((r) => (r.body as { AuthFlow?: string }).AuthFlow === 'REFRESH_TOKEN_AUTH')
    expect(refresh!.body).toEqual({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: CLIENT, AuthParameters: { REFRESH_TOKEN: 'refresh-u-4' } })
    // Cognito omits the refresh token on refresh: the old one is kept for the next time.
    clock += (HOUR - 60) * 1000
    await auth.idToken()
    expect(refreshes).toBe(2)
  })

  it('signs the user out when the refresh token is refused', async () => {
    let clock = 0
    const { auth } = session((req) => {
      if ((req.body as { AuthFlow?: string }).AuthFlow === 'REFRESH_TOKEN_AUTH') {
        return { status: 400, body: { __type: 'NotAuthorizedException', message: 'Refresh Token has expired' } }
      }
      return { body: tokens('u-5') }
    }, () => clock)
    const seen: Array<string | null> = []
    auth.onChange((u) => seen.push(u?.sub ?? null))
    await auth.submitCode({ kind: 'sign-in', username: 'x@example.com', session: 's' }, '1')
    clock += HOUR * 1000

    expect(await auth.idToken()).toBeNull()
    expect(auth.user).toBeNull()
    expect(seen).toEqual(['u-5', null])
  })

  it('keeps the tokens when a refresh fails for lack of network', async () => {
    let clock = 0
    let offline = false
    const { auth } = session(() => {
      if (offline) throw new TypeError('Failed to fetch')
      return { body: tokens('u-6') }
    }, () => clock)
    await auth.submitCode({ kind: 'sign-in', username: 'x@example.com', session: 's' }, '1')
    offline = true
    clock += HOUR * 1000
    expect(await auth.idToken()).not.toBeNull()
    expect(auth.user?.sub).toBe('u-6')
  })
})
