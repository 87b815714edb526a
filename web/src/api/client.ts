// The one way the app talks to the server: JSON over fetch, errors turned into ApiError with the
// server's {"error": {"code", "field", "message"}} shape (docs/api.md, src/api/error_response.cpp).

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly field: string

  constructor(status: number, code: string, field: string, message: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
  }
}

interface ErrorBody {
  error?: { code?: unknown; field?: unknown; message?: unknown }
}

type TokenSource = () => string | null
type UnauthorizedHandler = () => void

let tokenSource: TokenSource = () => null
let onUnauthorized: UnauthorizedHandler = () => {}

//! The session store registers where the bearer token comes from and what a 401 means.
export function configureClient(source: TokenSource, unauthorized: UnauthorizedHandler): void {
  tokenSource = source
  onUnauthorized = unauthorized
}

export type Query = Record<string, string | number | undefined | null>

export function withQuery(path: string, query?: Query): string {
  if (!query) return path
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const text = params.toString()
  return text ? `${path}?${text}` : path
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const token = tokenSource()
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let response: Response
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (e) {
    throw new ApiError(0, 'network', '', e instanceof Error ? e.message : String(e))
  }
  const text = await response.text()
  let parsed: unknown = undefined
  if (text) {
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
  }
  if (!response.ok) {
    const err = (parsed as ErrorBody | undefined)?.error
    const apiError = new ApiError(
      response.status,
      typeof err?.code === 'string' ? err.code : 'http_' + response.status,
      typeof err?.field === 'string' ? err.field : '',
      typeof err?.message === 'string' ? err.message : response.statusText,
    )
    // A 401 on a request that carried a token means the session ended (expired, signed out).
    if (response.status === 401 && token) onUnauthorized()
    throw apiError
  }
  return parsed as T
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', withQuery(path, query)),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, body ?? {}),
  del: <T>(path: string) => request<T>('DELETE', path),
}
