import type { IncomingMessage, ServerResponse } from 'node:http'
import fc from 'fast-check'
import { logout } from '../../lib/index'
import type { LogoutMiddleware } from '../../lib/index'
import { ISSUER } from '../support/app.js'
import { mint, useTestKey } from '../support/jwt.js'
import { propertyParams } from '../support/properties.js'

/**
 * guard must refuse a request when any credential it can read belongs to a logged-out session,
 * whatever the order of `accessToken.from` and whatever junk the other sources hold. Driven without
 * sockets: a request is a plain object with the headers and the session a real one would carry.
 */
const key = useTestKey('ES256')
const SOURCES = ['header', 'cookie:access_token', 'cookie:other_token', 'session:accessToken'] as const
type SourceName = (typeof SOURCES)[number]

let revoked: string
let fresh: string
let foreign: string
const byOrder = new Map<string, LogoutMiddleware>()

beforeAll(async () => {
  revoked = await mint(key, { iss: ISSUER, sid: 'gone', sub: 'alice' })
  fresh = await mint(key, { iss: ISSUER, sid: 'live', sub: 'bob' })
  // Signed by a key the app does not trust: it verifies as nothing.
  foreign = `${fresh.slice(0, fresh.lastIndexOf('.'))}.${'A'.repeat(86)}`
})

/** One middleware per ordering of the sources, sharing nothing; `gone` is logged out in each. */
async function middlewareFor(order: readonly SourceName[]): Promise<LogoutMiddleware> {
  const id = order.join(',')
  let mw = byOrder.get(id)
  if (!mw) {
    mw = logout({ accessToken: { jwks: { keys: [key.jwk] }, issuer: ISSUER, from: [...order] } })
    await mw.revoke({ sid: 'gone' })
    byOrder.set(id, mw)
  }
  return mw
}

type Value =
  | { kind: 'none' }
  | { kind: 'junk'; text: string }
  | { kind: 'fresh' }
  | { kind: 'foreign' }
  | { kind: 'revoked' }

const junk = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,40}$/)
const value: fc.Arbitrary<Value> = fc.oneof(
  fc.constant<Value>({ kind: 'none' }),
  junk.map<Value>((text) => ({ kind: 'junk', text })),
  fc.constant<Value>({ kind: 'fresh' }),
  fc.constant<Value>({ kind: 'foreign' }),
)

function tokenOf(v: Value): string | undefined {
  switch (v.kind) {
    case 'none':
      return undefined
    case 'junk':
      return v.text
    case 'fresh':
      return fresh
    case 'foreign':
      return foreign
    case 'revoked':
      return revoked
  }
}

/** A request carrying `values` in the four places, and what guard did with it. */
async function run(mw: LogoutMiddleware, values: Record<SourceName, Value>): Promise<'refused' | 'next'> {
  const headers: Record<string, string> = {}
  const header = tokenOf(values.header)
  if (header !== undefined) headers.authorization = `Bearer ${header}`
  const cookies = (['cookie:access_token', 'cookie:other_token'] as const).flatMap((s) => {
    const t = tokenOf(values[s])
    return t === undefined ? [] : [`${s.slice('cookie:'.length)}=${t}`]
  })
  if (cookies.length > 0) headers.cookie = cookies.join('; ')
  const inSession = tokenOf(values['session:accessToken'])
  const session = { accessToken: inSession, destroy: (cb: (err?: unknown) => void) => cb() }
  const req = { method: 'GET', url: '/api', headers, session, socket: {} } as unknown as IncomingMessage
  const answer = new Promise<'refused' | 'next'>((resolve) => {
    const res = {
      statusCode: 200,
      headersSent: false,
      setHeader: () => undefined,
      getHeader: () => undefined,
      removeHeader: () => undefined,
      end(this: { statusCode: number }) {
        resolve(this.statusCode === 401 ? 'refused' : 'next')
      },
    } as unknown as ServerResponse
    mw.guard(req, res, () => resolve('next'))
  })
  return answer
}

const placed = fc.record({
  order: fc.shuffledSubarray([...SOURCES], { minLength: 4, maxLength: 4 }),
  values: fc.record({
    header: value,
    'cookie:access_token': value,
    'cookie:other_token': value,
    'session:accessToken': value,
  }),
})

describe('property: guard refuses a revoked credential wherever it sits', () => {
  it('refuses when the revoked token is in any source, whatever the others hold and the order', async () => {
    await fc.assert(
      fc.asyncProperty(placed, fc.constantFrom(...SOURCES), async ({ order, values }, where) => {
        const mw = await middlewareFor(order as SourceName[])
        expect(await run(mw, { ...values, [where]: { kind: 'revoked' } })).toBe('refused')
      }),
      propertyParams(1000),
    )
  })

  it('lets through any mix of junk, foreign and live tokens with no revoked one', async () => {
    await fc.assert(
      fc.asyncProperty(placed, async ({ order, values }) => {
        const mw = await middlewareFor(order as SourceName[])
        expect(await run(mw, values)).toBe('next')
      }),
      propertyParams(1000),
    )
  })
})
