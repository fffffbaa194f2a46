import fc from 'fast-check'

/**
 * Generators of hostile `returnTo` values: pieces known to confuse URL parsers (mixed-case and
 * missing schemes, backslashes, encoded and doubled slashes, userinfo, IPv4 integers, IPv6,
 * look-alike Unicode and full-width hosts, control characters, CR/LF) glued in random order, plus
 * fully random strings and very long values.
 */

const SCHEMES = [
  'https://',
  'http://',
  'HTTPS://',
  'hTtP://',
  'https:',
  'https:/',
  'https:\\\\',
  'https:///',
  '//',
  '///',
  '\\\\',
  '/\\',
  '\\/',
  '/%2f',
  '/%5c',
  '%2f%2f',
  'javascript:',
  'JaVaScRiPt:',
  'data:text/html,',
  'vbscript:',
  'ftp://',
  'ws://',
  'blob:https://',
  ' https://',
  '\thttps://',
  '\u0000https://',
  '',
  '/',
  './',
  '../',
  './/',
  '/./',
  '/../',
]

const USERINFO = ['', 'user@', 'app.example.com@', 'a:b@', '@', '%40', 'app.example.com%40', 'x@y@', ':@']

export const ALLOWED_HOSTS = ['app.example.com', 'partner.example.org', '127.0.0.1:3000']

const HOSTS = [
  ...ALLOWED_HOSTS,
  'evil.example',
  'app.example.com.evil.example',
  'evil.example#app.example.com',
  'evil.example?app.example.com',
  'evil.example\\app.example.com',
  'evil.example/app.example.com',
  'app.example.com:443@evil.example',
  '2130706433',
  '0x7f000001',
  '0177.0.0.1',
  '127.1',
  '0',
  '[::1]',
  '[::ffff:127.0.0.1]',
  '[0:0:0:0:0:ffff:7f00:1]',
  '[fe80::1%25eth0]',
  'аpp.example.com',
  'ａｐｐ.example.com',
  'app。example。com',
  'xn--pp-8cd.example.com',
  'APP.EXAMPLE.COM',
  'app.example.com.',
  'app.example.com%2eevil.example',
  'localhost',
  '',
]

const PORTS = ['', ':443', ':80', ':3000', ':0', ':99999', ':-1', ':', ':08080']

const PATHS = [
  '',
  '/',
  '/bye',
  '/docs/a',
  '/ok',
  '/back',
  '/x',
  '//evil.example',
  '/\\evil.example',
  '/%2f%2fevil.example',
  '/%5cevil.example',
  '/..//evil.example',
  '/docs/../..//evil.example',
  '/docs/%2e%2e/%2e%2e//evil.example',
  '/.%2e/',
  '/%00',
  '/%0d%0aSet-Cookie:%20a=b',
  '\r\nLocation: https://evil.example',
  '\nSet-Cookie: x=y',
  '/\u2028',
  '/\u0085',
  '/\uFEFF',
  '/%',
  '/%zz',
  '/%252f%252fevil.example',
  '?x=https://evil.example',
  '#@evil.example',
  '/bye?next=//evil.example',
  '\u00a0',
  '\t/bye',
]

const piece = (list: string[]): fc.Arbitrary<string> => fc.constantFrom(...list)

/** A URL-shaped value assembled from hostile pieces. */
const assembled = fc
  .tuple(
    piece(SCHEMES),
    piece(USERINFO),
    piece(HOSTS),
    piece(PORTS),
    fc.array(piece(PATHS), { maxLength: 3 }),
  )
  .map(([scheme, user, host, port, paths]) => `${scheme}${user}${host}${port}${paths.join('')}`)

/** A value with random characters spliced in (controls, Unicode, any code point). */
const mutated = fc
  .tuple(assembled, fc.nat(), fc.string({ unit: 'binary', maxLength: 4 }))
  .map(([value, at, insert]) => {
    const i = value.length === 0 ? 0 : at % value.length
    return value.slice(0, i) + insert + value.slice(i)
  })

/** Very long values: long paths and long hosts, around and past every length limit. */
const long = fc
  .tuple(
    fc.constantFrom('/', 'https://app.example.com/', 'https://evil.example/', '//'),
    fc.integer({ min: 1000, max: 70_000 }),
  )
  .map(([prefix, n]) => prefix + 'a'.repeat(n))

/** Everything above, plus arbitrary strings and real-looking URLs. */
export const hostileReturnTo: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: assembled, weight: 6 },
  { arbitrary: mutated, weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 64 }), weight: 1 },
  { arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }), weight: 1 },
  { arbitrary: long, weight: 1 },
)
