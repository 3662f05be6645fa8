/**
 * AWS JSON 1.1 protocol calls (used for Cognito's identity provider).
 *
 * An operation is a POST to the service endpoint with `X-Amz-Target: <Service>.<Operation>` and a JSON
 * body; errors come back as `{__type, message}`, which `HttpClient` turns into an `ApiError` whose
 * `problem.type` is the bare AWS error name (e.g. `CodeMismatchException`).
 */
import { HttpClient, type FetchLike } from './http'

export class AwsJsonClient {
  private readonly http: HttpClient

  constructor(
    private readonly endpoint: string,
    private readonly service: string,
    fetchImpl?: FetchLike,
  ) {
    this.http = new HttpClient(fetchImpl)
  }

  call<T>(operation: string, input: object): Promise<T> {
    return this.http.request<T>(this.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `${this.service}.${operation}`,
      },
      body: JSON.stringify(input),
    })
  }
}
