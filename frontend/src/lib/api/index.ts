/** The API layer: the only code that performs HTTP requests. */
export * from './types'
export { ApiError, HttpClient, defaultFetch, type FetchLike } from './http'
export { AwsJsonClient } from './awsJson'
export { PressoApi, loadRuntimeConfig, type TokenSource } from './client'
export { describeError, type ErrorMessage } from './problems'
