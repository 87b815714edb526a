// The API client: the server's JSON error shape becomes an ApiError naming the field; what is not
// that shape still gives a code and a message; a 401 ends the session only when a token was sent.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, api, configureClient, withQuery } from '../src/api/client'

function answer(status: number, body: string, statusText = '') {
  return vi.fn(async () => new Response(body, { status, statusText }))
}

describe('api client', () => {
  let token: string | null
  let ended: number
  beforeEach(() => {
    token = null
    ended = 0
    configureClient(
      () => token,
      () => ended++,
    )
  })
  afterEach(() => vi.unstubAllGlobals())

  it('parses the error body into status, code, field and message', async () => {
    vi.stubGlobal('fetch', answer(422, JSON.stringify({ error: { code: 'invalid', field: 'inputs.distance_km', message: 'distance_km is at most 300' } })))
    const e = await api.post('/api/v1/quantify', { x: 1 }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ApiError)
    const err = e as ApiError
    expect(err.status).toBe(422)
    expect(err.code).toBe('invalid')
    expect(err.field).toBe('inputs.distance_km')
    expect(err.message).toBe('distance_km is at most 300')
  })

  it('falls back to http_STATUS and the status text when the body is not the error shape', async () => {
    vi.stubGlobal('fetch', answer(502, '<html>bad gateway</html>', 'Bad Gateway'))
    const err = (await api.get('/api/v1/me').catch((x: unknown) => x)) as ApiError
    expect(err.code).toBe('http_502')
    expect(err.field).toBe('')
    expect(err.message).toBe('Bad Gateway')

    vi.stubGlobal('fetch', answer(409, JSON.stringify({ error: { code: 42, field: null } }), 'Conflict'))
    const odd = (await api.get('/x').catch((x: unknown) => x)) as ApiError
    expect(odd.code).toBe('http_409')
    expect(odd.field).toBe('')
    expect(odd.message).toBe('Conflict')
  })

  it('turns a network failure into status 0, code network', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        throw new TypeError('Failed to fetch')
      }),
    )
    const err = (await api.get('/api/v1/regions').catch((x: unknown) => x)) as ApiError
    expect(err.status).toBe(0)
    expect(err.code).toBe('network')
    expect(err.message).toBe('Failed to fetch')
  })

  it('ends the session on a 401 only when the request carried a token', async () => {
    vi.stubGlobal('fetch', answer(401, JSON.stringify({ error: { code: 'unauthorized', message: 'sign in' } })))
    await api.get('/api/v1/me').catch(() => undefined)
    expect(ended).toBe(0)
    token = 'abc'
    await api.get('/api/v1/me').catch(() => undefined)
    expect(ended).toBe(1)
  })

  it('sends JSON with the bearer token and answers the parsed body', async () => {
    token = 'tok-1'
    const fetch = answer(201, JSON.stringify({ id: 7 }))
    vi.stubGlobal('fetch', fetch)
    const body = await api.post<{ id: number }>('/api/v1/cards', { partner_id: 1, card_token: 'tok_6222' })
    expect(body.id).toBe(7)
    const [path, init] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(path).toBe('/api/v1/cards')
    expect(init.method).toBe('POST')
    expect(init.body).toBe('{"partner_id":1,"card_token":"tok_6222"}')
    const headers = init.headers as Record<string, string>
    expect(headers.authorization).toBe('Bearer tok-1')
    expect(headers['content-type']).toBe('application/json')
  })

  it('answers undefined for an empty success body', async () => {
    vi.stubGlobal('fetch', answer(200, ''))
    await expect(api.del('/api/v1/api-keys/3')).resolves.toBeUndefined()
  })
})

describe('withQuery', () => {
  it('leaves out empty, null and undefined values and encodes the rest', () => {
    expect(withQuery('/a')).toBe('/a')
    expect(withQuery('/a', { x: '', y: null, z: undefined })).toBe('/a')
    expect(withQuery('/api/v1/stats/top', { by: 'region', n: 30, q: 'a b&c' })).toBe('/api/v1/stats/top?by=region&n=30&q=a+b%26c')
  })
})
