/** Sign-in, tokens and claims, shared by the three apps. */
export { AuthError, AuthSession, type PendingCode, type SignedInUser } from './cognito'
export { decodeJwt, groupsOf, isAdmin, type IdTokenClaims } from './jwt'
export { TokenStore, type KeyValueStorage, type StoredTokens } from './tokenStore'
