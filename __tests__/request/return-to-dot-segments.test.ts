import fc from 'fast-check'
import { compileReturnTo, type ReturnToPolicy } from '../../lib/request/return-to'
import { propertyParams } from '../support/properties.js'

/*
 * A `/*` prefix entry keeps a value on the app's origin, but a backend that normalises what the
 * WHATWG parser leaves alone (`..;` as Tomcat's path parameters do, `%252e%252e` decoded twice)
 * would serve a path outside the prefix. So a value matched only through a prefix entry is refused
 * when one of its path segments is a dot segment (RFC 3986 §3.3) once fully percent-decoded, with or
 * without a `;params` suffix. Exact entries are compared on the whole normalised value and keep
 * accepting what they accepted.
 */

const BASE = new URL('https://app.example.com')
const ALLOWED = ['/docs/*', 'https://partner.example/docs/*', '/bye', '/exact/..;/x']

function refused(p: ReturnToPolicy, raw: string): void {
  const result = p.resolve(raw)
  expect([raw, result.ok]).toEqual([raw, false])
  if (!result.ok) expect(result.message).toMatch(/^returnTo .* is not allowed$/)
}

function accepted(p: ReturnToPolicy, raw: string): void {
  const result = p.resolve(raw)
  expect([raw, result.ok]).toEqual([raw, true])
}

/** `char` percent-encoded `depth` times (0: as is), hex digits in the case asked for. */
function encode(char: string, depth: number, upper = false): string {
  if (depth === 0) return char
  const hex = char.charCodeAt(0).toString(16).padStart(2, '0')
  return `%${'25'.repeat(depth - 1)}${upper ? hex.toUpperCase() : hex}`
}

const withBase = compileReturnTo({ allowed: ALLOWED, baseURL: BASE })
const withoutBase = compileReturnTo({ allowed: ALLOWED })

const hostile: string[] = [
  '/docs/..;/admin',
  '/docs/..;x/admin',
  '/docs/..;jsessionid=1/admin',
  '/docs/.;/admin',
  '/docs/.;x/admin',
  '/docs/a/..;/..;/admin',
  '/docs/..;',
  '/docs/%252e%252e/admin',
  '/docs/%252E%252e/admin',
  '/docs/%25252e%25252e/admin',
  '/docs/%2525252e%2525252e/admin',
  '/docs/.%252e/admin',
  '/docs/%252e./admin',
  '/docs/%2e%252e/admin',
  '/docs/%252e/admin',
  '/docs/%252e%252e%253b/admin',
  '/docs/%2e%2e;/admin',
  '/docs/%2e%2e%3b/admin',
  '/docs/..%3b/admin',
  '/docs/..%253bx/admin',
  '/docs/%2e;/admin',
  '/docs/%252e%252e%252fadmin',
  '/docs/a/%252e%252e/%252e%252e/admin',
  '/docs/x/../y',
  '/docs/x/./y',
  '/docs/x/%2e%2e/y',
  '/docs/x/%2E/y',
  '/docs/x/..',
  '/docs/..;/admin?x=1',
  '/docs/' + encode('.', 12) + encode('.', 12) + '/admin',
  'https://partner.example/docs/..;/admin',
  'https://partner.example/docs/%252e%252e/admin',
  'https://partner.example/docs/x/../y',
]

describe('returnTo prefix entries: dot segments in any encoding are refused', () => {
  it.each(hostile)('refuses %j with a baseURL', (raw) => refused(withBase, raw))
  it.each(hostile)('refuses %j without a baseURL', (raw) => refused(withoutBase, raw))

  it.each([
    '/docs/a.b/c..d',
    '/docs/.well-known/x',
    '/docs/.../x',
    '/docs/..a/a..',
    '/docs/a;b/c;..',
    '/docs/%2e%2e%2e/x',
    '/docs/%252e%252ea/x',
    '/docs/a%252fb',
    '/docs/' + encode('a', 4) + '/x',
    '/docs/x?next=../admin',
    '/docs/x?a=..;',
    'https://partner.example/docs/a.b/c..d',
  ])('still accepts %j', (raw) => {
    accepted(withBase, raw)
    accepted(withoutBase, raw)
  })

  it('refuses a value still being decoded after the bound, even without a dot segment', () => {
    refused(withBase, '/docs/' + encode('a', 40) + '/x')
  })

  it.each([
    ['/exact/..;/x', 'https://app.example.com/exact/..;/x'],
    ['/docs/../bye', 'https://app.example.com/bye'],
  ])('keeps exact entries as they were: %j', (raw, location) => {
    expect(withBase.resolve(raw)).toMatchObject({ ok: true, location })
  })

  // No time is asserted here (tests never measure speed): the check is at most eight decoding
  // passes of linear patterns over the string, so its cost grows with the string's length only.
  it('refuses a pathological dot-heavy value', () => {
    const raw = '/docs/' + `${encode('.', 9)}${encode('.', 9)};/`.repeat(40)
    refused(withBase, raw)
  })
})

describe('returnTo prefix entries: properties', () => {
  const SAFE = 'abcxyz0189-_~.'.split('')
  const word = fc.string({ unit: fc.constantFrom(...SAFE), minLength: 1, maxLength: 6 })
  /** A segment that is not a dot segment however it is decoded. */
  const plain = word.filter((w) => w !== '.' && w !== '..')
  /** Each character of a plain segment encoded to depth 0-2, hex in either case. */
  const encodedPlain = fc
    .tuple(plain, fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.boolean()), { minLength: 6 }))
    .map(([w, how]) =>
      w
        .split('')
        .map((c, i) => encode(c, how[i]![0], how[i]![1]))
        .join(''),
    )
  const segments = fc.array(encodedPlain, { maxLength: 3 })
  /** `.` or `..`, each dot encoded to its own depth 0-4. */
  const dots = fc
    .tuple(
      fc.constantFrom('.', '..'),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.boolean()), { minLength: 2, maxLength: 2 }),
    )
    .map(([d, how]) =>
      d
        .split('')
        .map((c, i) => encode(c, how[i]![0], how[i]![1]))
        .join(''),
    )
  /** No suffix, or `;` (itself encoded to depth 0-4) followed by anything or nothing. */
  const suffix = fc.oneof(
    fc.constant(''),
    fc
      .tuple(fc.integer({ min: 0, max: 4 }), fc.boolean(), fc.string({ unit: fc.constantFrom(...SAFE, '=') }))
      .map(([depth, upper, rest]) => encode(';', depth, upper) + rest),
  )
  /** The default is always an exact entry; one on another origin keeps every match a prefix match. */
  const ELSEWHERE = 'https://elsewhere.example/bye'
  const query = fc.constantFrom('', '?a=1', '?next=/docs/x')
  /** A prefix entry: an optional origin plus 0-3 plain segments, ending in `/*`. */
  const entry = fc.tuple(fc.constantFrom('', 'https://partner.example'), fc.array(plain, { maxLength: 3 }))

  function prefixOf([origin, path]: [string, string[]]): { allowed: string; under: string } {
    const under = `${origin}/${path.map((s) => `${s}/`).join('')}`
    return { allowed: `${under}*`, under }
  }

  it('refuses every path under a prefix that holds a dot segment (depth 0-4, any ;suffix)', () => {
    fc.assert(
      fc.property(
        entry,
        segments,
        dots,
        suffix,
        segments,
        query,
        fc.boolean(),
        (e, before, dot, params, after, q, trailing) => {
          const { allowed, under } = prefixOf(e)
          const path = [...before, dot + params, ...after].join('/') + (trailing ? '/' : '')
          const raw = `${under}${path}${q}`
          refused(compileReturnTo({ allowed: [allowed], baseURL: BASE, default: ELSEWHERE }), raw)
          refused(compileReturnTo({ allowed: [allowed], default: ELSEWHERE }), raw)
        },
      ),
      propertyParams(3000),
    )
  })

  it('accepts every path under a prefix without a dot segment', () => {
    fc.assert(
      fc.property(entry, segments, query, (e, path, q) => {
        const { allowed, under } = prefixOf(e)
        const raw = `${under}${path.join('/')}${q}`
        accepted(compileReturnTo({ allowed: [allowed], baseURL: BASE }), raw)
        accepted(compileReturnTo({ allowed: [allowed] }), raw)
      }),
      propertyParams(3000),
    )
  })
})
