import { request as httpRequest } from 'node:http'
import type { RequestListener, ServerResponse } from 'node:http'
import express from 'express'
import session from 'express-session'
import request from 'supertest'
import { LogoutError, logout, oidc } from '../../lib/index.js'
import { DEFAULT_JWKS_MAX_BYTES } from '../../lib/tokens/jwks.js'
import { DEFAULT_MAX_LENGTH, resolveVerifierConfig } from '../../lib/options/access-token.js'
import { createVerifier } from '../../lib/tokens/access-token.js'
import { mint, useTestKey } from '../support/jwt.js'
import { listen } from '../support/serve.js'
import type { Listening } from '../support/serve.js'

const ISSUER = 'https://idp.example.com/'
// A short kid, so the smallest JWKS documents below stay under their 200 bytes.
const key = useTestKey('ES256', 'k-ES256')
const servers: Listening[] = []

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
})

async function serve(handler: RequestListener): Promise<Listening> {
  const server = await listen(handler)
  servers.push(server)
  return server
}

/** A signed token of exactly `bytes` characters: a `pad` claim and a header member are grown to fit. */
async function tokenOfLength(bytes: number): Promise<string> {
  const base = (await mint(key, { iss: ISSUER, sid: 's1', pad: '' }, { x: '' })).length
  // Each pad character adds 4/3 of a base64url character: start just below the estimate.
  for (let pad = Math.max(0, Math.floor(((bytes - base) * 3) / 4) - 8); pad < bytes; pad++) {
    for (const extra of ['', 'a', 'aa']) {
      const jwt = await mint(key, { iss: ISSUER, sid: 's1', pad: 'p'.repeat(pad) }, { x: extra })
      if (jwt.length === bytes) return jwt
      if (jwt.length > bytes + 4) break
    }
  }
  throw new Error(`no token of length ${bytes}`)
}

function verifier(options: Record<string, unknown>) {
  return createVerifier(resolveVerifierConfig({ issuer: ISSUER, ...options }), undefined)
}

/** A JWKS document padded with trailing spaces to exactly `bytes` bytes. */
function jwksOfSize(bytes: number, keys = [key.jwk]): string {
  const body = JSON.stringify({ keys })
  return body + ' '.repeat(bytes - Buffer.byteLength(body))
}

function sendJwks(res: ServerResponse, body: string, chunked: boolean): void {
  const headers: Record<string, string | number> = { 'content-type': 'application/json' }
  if (!chunked) headers['content-length'] = Buffer.byteLength(body)
  res.writeHead(200, headers)
  // Several writes, so a streaming reader meets the limit mid-body.
  for (let i = 0; i < body.length; i += 64 * 1024) res.write(body.slice(i, i + 64 * 1024))
  res.end()
}

describe('accessToken.maxLength (default 16384 bytes)', () => {
  it('accepts a token of exactly the default limit and refuses one byte more, unread', async () => {
    const v = verifier({ jwks: { keys: [key.jwk] } })
    const atLimit = await tokenOfLength(DEFAULT_MAX_LENGTH)
    expect((await v.verify(atLimit)).token?.sid).toBe('s1')
    const over = await tokenOfLength(DEFAULT_MAX_LENGTH + 1)
    expect((await v.verify(over)).error?.code).toBe('ERR_TOKEN_TOO_LARGE')
  })

  it('counts bytes, not characters: a multi-byte token over the limit in bytes is refused', async () => {
    const v = verifier({ jwks: { keys: [key.jwk] }, maxLength: 64 })
    expect((await v.verify('é'.repeat(33))).error?.code).toBe('ERR_TOKEN_TOO_LARGE')
    expect((await v.verify('a'.repeat(64))).error?.code).toBe('ERR_TOKEN_INVALID')
  })

  it.each([[0], [63], [1.5], [Number.NaN], ['16384']])('refuses maxLength %p with a TypeError', (value) => {
    expect(() => resolveVerifierConfig({ maxLength: value })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }),
    )
  })
})

describe('accessToken.jwksMaxBytes (default 524288 bytes)', () => {
  it.each([
    ['Content-Length', false],
    ['chunked', true],
  ])('with %s: exactly the default limit is read, one byte more is refused', async (_, chunked) => {
    const token = await mint(key, { iss: ISSUER, sid: 's1' })
    const exact = await serve((_req, res) => sendJwks(res, jwksOfSize(DEFAULT_JWKS_MAX_BYTES), chunked))
    expect((await verifier({ jwks: `${exact.url}/jwks` }).verify(token)).token?.sid).toBe('s1')
    const over = await serve((_req, res) => sendJwks(res, jwksOfSize(DEFAULT_JWKS_MAX_BYTES + 1), chunked))
    const refused = await verifier({ jwks: `${over.url}/jwks` }).verify(token)
    expect(refused.error).toBeInstanceOf(LogoutError)
    expect(refused.error?.code).toBe('ERR_JWKS_UNAVAILABLE')
    expect(refused.error?.status).toBe(503)
    expect(refused.error?.message).toContain(`${DEFAULT_JWKS_MAX_BYTES} bytes`)
  })

  it('honours a smaller configured limit at its boundary', async () => {
    const token = await mint(key, { iss: ISSUER, sid: 's2' })
    const size = 4096
    const exact = await serve((_req, res) => sendJwks(res, jwksOfSize(size), true))
    const over = await serve((_req, res) => sendJwks(res, jwksOfSize(size + 1), true))
    expect((await verifier({ jwks: `${exact.url}/j`, jwksMaxBytes: size }).verify(token)).token?.sid).toBe(
      's2',
    )
    const refused = await verifier({ jwks: `${over.url}/j`, jwksMaxBytes: size }).verify(token)
    expect(refused.error?.code).toBe('ERR_JWKS_UNAVAILABLE')
  })

  it('stops reading an endless body instead of buffering it', async () => {
    let written = 0
    const endless = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = ' '.repeat(64 * 1024)
      const pump = (): void => {
        while (written < 64 * 1024 * 1024 && res.write(chunk)) written += chunk.length
        if (written < 64 * 1024 * 1024 && !res.destroyed) res.once('drain', pump)
      }
      res.on('close', () => res.off('drain', pump))
      pump()
    })
    const token = await mint(key, { iss: ISSUER, sid: 's3' })
    const refused = await verifier({ jwks: `${endless.url}/j` }).verify(token)
    expect(refused.error?.code).toBe('ERR_JWKS_UNAVAILABLE')
    expect(written).toBeLessThan(16 * 1024 * 1024)
  })

  it.each([[0], [1023], [2.5], ['big']])('refuses jwksMaxBytes %p with a TypeError', (value) => {
    expect(() => resolveVerifierConfig({ jwksMaxBytes: value })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }),
    )
  })
})

describe('accessToken.jwksTimeout (default 5000 ms)', () => {
  it('gives up on a JWKS server that never answers, within the timeout', async () => {
    const hung = await serve(() => undefined)
    const token = await mint(key, { iss: ISSUER, sid: 's4' })
    const started = Date.now()
    const refused = await verifier({ jwks: `${hung.url}/j`, jwksTimeout: 300 }).verify(token)
    expect(refused.error?.code).toBe('ERR_JWKS_UNAVAILABLE')
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('gives up on a body that trickles past the timeout', async () => {
    const slow = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"keys":')
      setTimeout(() => res.end('[]}'), 1500).unref()
    })
    const token = await mint(key, { iss: ISSUER, sid: 's5' })
    const refused = await verifier({ jwks: `${slow.url}/j`, jwksTimeout: 300 }).verify(token)
    expect(refused.error?.code).toBe('ERR_JWKS_UNAVAILABLE')
  })

  it('accepts an answer that arrives before the timeout', async () => {
    const late = await serve((_req, res) => setTimeout(() => sendJwks(res, jwksOfSize(200), false), 100))
    const token = await mint(key, { iss: ISSUER, sid: 's6' })
    expect((await verifier({ jwks: `${late.url}/j`, jwksTimeout: 2000 }).verify(token)).token?.sid).toBe('s6')
  })

  it('does not follow a redirect from the JWKS URL', async () => {
    const target = await serve((_req, res) => sendJwks(res, jwksOfSize(200), false))
    const redirecting = await serve((_req, res) => {
      res.writeHead(302, { location: `${target.url}/jwks` })
      res.end()
    })
    const token = await mint(key, { iss: ISSUER, sid: 's7' })
    const refused = await verifier({ jwks: `${redirecting.url}/j` }).verify(token)
    expect(refused.error?.code).toBe('ERR_JWKS_UNAVAILABLE')
    expect(target.hits).toEqual([])
  })
})

describe('OIDC discovery limits (oidc({ timeout }) default 5000 ms; 512 KiB body)', () => {
  const MAX_BODY = 512 * 1024

  function discoveryOfSize(issuer: string, bytes: number): string {
    const body = JSON.stringify({ issuer, end_session_endpoint: `${issuer}/end` })
    return body + ' '.repeat(bytes - Buffer.byteLength(body))
  }

  it('refuses a discovery server that hangs, within the timeout', async () => {
    const hung = await serve(() => undefined)
    const provider = oidc({ issuer: hung.url, clientId: 'app', timeout: 300 })
    const started = Date.now()
    await expect(Promise.resolve(provider.metadata())).rejects.toMatchObject({
      code: 'ERR_PROVIDER_DISCOVERY',
      status: 502,
    })
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('reads a discovery document of exactly 512 KiB and refuses one byte more', async () => {
    let issuer = ''
    let size = MAX_BODY
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(discoveryOfSize(issuer, size))
    })
    issuer = server.url
    await expect(Promise.resolve(oidc({ issuer, clientId: 'app' }).metadata())).resolves.toEqual(
      expect.objectContaining({ jwksUri: undefined }),
    )
    size = MAX_BODY + 1
    await expect(Promise.resolve(oidc({ issuer, clientId: 'app' }).metadata())).rejects.toMatchObject({
      code: 'ERR_PROVIDER_DISCOVERY',
    })
  })
})

const CHUNKED_FORM = { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' }

describe('request body limit (16384 bytes)', () => {
  const app = express()
  app.use(session({ secret: 'limits-test-secret', resave: false, saveUninitialized: false }))
  app.use(logout({ baseURL: 'https://app.example.com' }))

  function form(bytes: number): string {
    const prefix = 'pad='
    return prefix + 'x'.repeat(bytes - prefix.length)
  }

  it('reads a form body of exactly 16384 bytes', async () => {
    const res = await request(app)
      .post('/logout')
      .type('form')
      .send(form(16 * 1024))
    expect(res.status).toBe(303)
    expect(res.headers['cache-control']).toBe('no-store')
  })

  it('refuses 16385 bytes declared by Content-Length with 413 and no-store', async () => {
    const res = await request(app)
      .post('/logout')
      .type('form')
      .set('accept', 'application/json')
      .send(form(16 * 1024 + 1))
    expect(res.status).toBe(413)
    expect(res.body.error).toBe('ERR_BODY_TOO_LARGE')
    expect(res.headers['cache-control']).toBe('no-store')
  })

  it.each([
    [16 * 1024, 303],
    [16 * 1024 + 1, 413],
  ])('streamed in chunks with no Content-Length: %d bytes answer %d', async (bytes, status) => {
    const server = await listen(app)
    try {
      const port = Number(new URL(server.url).port)
      const answer = await new Promise<{ status: number; cacheControl: unknown }>((resolve, reject) => {
        const req = httpRequest(
          { port, host: '127.0.0.1', method: 'POST', path: '/logout', headers: CHUNKED_FORM },
          (res) => {
            res.resume()
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, cacheControl: res.headers['cache-control'] }),
            )
          },
        )
        req.on('error', reject)
        const body = form(bytes)
        for (let i = 0; i < body.length; i += 4096) req.write(body.slice(i, i + 4096))
        req.end()
      })
      expect(answer).toEqual({ status, cacheControl: 'no-store' })
    } finally {
      await server.close()
    }
  })
})
