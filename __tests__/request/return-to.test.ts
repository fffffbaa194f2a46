import { compileReturnTo, type ReturnToPolicy } from '../../lib/request/return-to.js'

const BASE = new URL('https://app.example.com')
const ALLOWED = [
  'https://app.example.com',
  '/goodbye',
  '/docs/*',
  'https://partner.example/bye?x=1',
  'http://127.0.0.1:3000/cb',
]

function policy(allowed: unknown = ALLOWED, extra: { default?: unknown; baseURL?: URL } = { baseURL: BASE }) {
  return compileReturnTo({ allowed, ...extra })
}

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

function construct(input: Parameters<typeof compileReturnTo>[0]): unknown {
  return thrown(() => compileReturnTo(input))
}

function expectRefused(p: ReturnToPolicy, raw: string) {
  const result = p.resolve(raw)
  expect(result.ok).toBe(false)
  if (result.ok) return
  expect(result.message).toMatch(/^returnTo .* is not allowed$/)
  // The message must be safe to log and to put in a body: printable ASCII, bounded length.
  expect(result.message).toMatch(/^[\x20-\x7e]+$/)
  expect(result.message.length).toBeLessThan(150)
}

const hostile: string[] = [
  '',
  '//evil.example',
  '///evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '\\/evil.example',
  'https:evil.example',
  'https:/evil.example',
  'https:///evil.example',
  'https://app.example.com@evil.example',
  'https://app.example.com@evil.example/',
  'https://user:pw@app.example.com/',
  'https://user@app.example.com/',
  'https://app.example.com%40evil.example/',
  'https://app%2Eexample.com/',
  'https://app.example.com\\@evil.example/',
  'javascript:alert(1)',
  'JavaScript:alert(1)',
  'data:text/html,x',
  'vbscript:',
  'file:///etc/passwd',
  'ftp://app.example.com/',
  '/goodbye\r\nSet-Cookie: a=b',
  '/goodbye\n',
  '\r\n/goodbye',
  '/goodbye%0d%0aSet-Cookie:%20a=b',
  '/docs/%0D%0ALocation:%20x',
  '/docs/%00',
  '/docs/%7f',
  '/docs/%',
  '/docs/%zz',
  '/docs/%2',
  '/docs/a?b=%',
  '%2F%2Fevil.example',
  '/%2F/evil.example',
  '/%2fevil.example',
  '/%5Cevil.example',
  '/docs/%2F%2Fevil.example',
  'ht\ttps://app.example.com/',
  ' https://app.example.com/',
  'https://app.example.com/ ',
  'https://app.example.com/\t',
  'htt\nps://app.example.com/',
  'HTTPS://app.example.com/',
  'Https://app.example.com/',
  'hTTp://127.0.0.1:3000/cb',
  'https://аpp.example.com/',
  'https://ａｐｐ.example.com/',
  'https://app．example.com/',
  '/goodbye\u2028',
  '/goodbye\u00a0',
  '/docs/é',
  'https://app.example.com.evil.example/',
  'https://app.example.com./',
  'https://evil.example/https://app.example.com/',
  'https://evil.example/?https://app.example.com/',
  'https://evil.example#https://app.example.com/',
  'http://2130706433/',
  'http://2130706433:3000/cb',
  'http://0x7f.0.0.1:3000/cb',
  'http://127.1:3000/cb',
  'http://0177.0.0.1:3000/cb',
  'http://[::1]:3000/cb',
  'http://[::ffff:127.0.0.1]:3000/cb',
  'https://app.example.com:8443/',
  'https://app.example.com:0443/',
  'https://app.example.com:/',
  'http://app.example.com/',
  'http://127.0.0.1:3001/cb',
  'http://127.0.0.1/cb',
  '/goodbye/../admin',
  '/goodbye/..%2Fadmin',
  '/docs/../admin',
  '/docs/%2e%2e/admin',
  '/docsx',
  '/docs',
  '/goodbye/',
  '/goodbye?next=/admin',
  '/goodbye?',
  'https://partner.example/bye',
  'https://partner.example/bye?x=2',
  'https://partner.example/bye?x=1&y=2',
  '/goodbye#frag',
  'https://app.example.com/#frag',
  '#frag',
  '?q',
  '.',
  '..',
  './goodbye',
  'goodbye',
  'app.example.com',
  '/.//evil.example',
  '/docs/..//evil.example',
  '/docs/.//evil.example',
  'https://app.example.com//evil.example',
  '/' + 'a'.repeat(3000),
  '/docs/' + 'a'.repeat(2100),
]

describe('compileReturnTo: hostile values', () => {
  const withBase = policy()
  const withoutBase = policy(ALLOWED, {})

  it.each(hostile)('refuses %j with a baseURL', (raw) => expectRefused(withBase, raw))
  it.each(hostile)('refuses %j without a baseURL', (raw) => expectRefused(withoutBase, raw))

  it.each([
    ['/goodbye\r\n', '"/goodbye\\r\\n"'],
    ['/a\u2028b', '"/a\\u2028b"'],
    ['/a"b', '"/a\\"b"'],
  ])('quotes %j safely in the message', (raw, quoted) => {
    expect(withBase.resolve(raw)).toEqual({ ok: false, message: `returnTo ${quoted} is not allowed` })
  })

  it('truncates a long refused value in the message', () => {
    const result = withBase.resolve('/x'.repeat(5000))
    expect(result).toEqual({ ok: false, message: `returnTo "${'/x'.repeat(50)}..." is not allowed` })
  })

  it.each([[['a']], [{ length: 1 }], [42], [null]])('refuses a non-string value %j', (raw) => {
    expectRefused(withBase, raw as unknown as string)
  })
})

describe('compileReturnTo: accepted values with a baseURL', () => {
  const p = policy()

  it.each([
    [undefined, 'https://app.example.com/'],
    ['https://app.example.com', 'https://app.example.com/'],
    ['https://app.example.com/', 'https://app.example.com/'],
    ['https://APP.example.com/', 'https://app.example.com/'],
    ['https://app.example.com:443/', 'https://app.example.com/'],
    ['/', 'https://app.example.com/'],
    ['/goodbye', 'https://app.example.com/goodbye'],
    ['https://APP.example.com/goodbye', 'https://app.example.com/goodbye'],
    ['/goodbye/../goodbye', 'https://app.example.com/goodbye'],
    ['/docs/', 'https://app.example.com/docs/'],
    ['/docs/a/b', 'https://app.example.com/docs/a/b'],
    ['/docs/a?page=2', 'https://app.example.com/docs/a?page=2'],
    ['/docs/a b'.replace(' ', '%20'), 'https://app.example.com/docs/a%20b'],
    ['/docs/"x"'.replace(/"/g, '%22'), 'https://app.example.com/docs/%22x%22'],
    ['https://app.example.com/docs/a', 'https://app.example.com/docs/a'],
    ['https://partner.example/bye?x=1', 'https://partner.example/bye?x=1'],
    ['https://partner.example:443/bye?x=1', 'https://partner.example/bye?x=1'],
    ['http://127.0.0.1:3000/cb', 'http://127.0.0.1:3000/cb'],
  ])('accepts %j as %j', (raw, href) => {
    const result = p.resolve(raw)
    expect(result).toEqual({ ok: true, location: href, url: new URL(href) })
    if (!result.ok) return
    expect(result.location).toMatch(/^[\x21-\x7e]+$/)
    expect(result.url?.href).toBe(result.location)
  })

  it('returns a fresh URL each time, so callers cannot corrupt the policy', () => {
    const first = p.resolve(undefined)
    if (first.ok) first.url!.pathname = '/mutated'
    expect(p.resolve(undefined)).toEqual({ ok: true, location: 'https://app.example.com/', url: BASE })
    // One result keeps its one URL (made when first read), with the caller's change.
    if (first.ok) expect(first.url!.pathname).toBe('/mutated')
  })

  it('resolves paths against the baseURL origin, not its path', () => {
    const nested = policy(['/goodbye'], { baseURL: new URL('https://app.example.com/app/') })
    expect(nested.resolve('/goodbye')).toMatchObject({
      ok: true,
      location: 'https://app.example.com/goodbye',
    })
    expect(nested.resolve(undefined)).toMatchObject({ ok: true, location: 'https://app.example.com/app/' })
  })

  it('uses an explicit default and always permits it', () => {
    const p2 = policy([], { baseURL: BASE, default: '/bye' })
    expect(p2.resolve(undefined)).toMatchObject({ ok: true, location: 'https://app.example.com/bye' })
    expect(p2.resolve('/bye')).toMatchObject({ ok: true, location: 'https://app.example.com/bye' })
    expectRefused(p2, '/')
  })

  it('accepts an IPv6 loopback baseURL as the default (it is configuration, not input)', () => {
    const local = policy(['/bye'], { baseURL: new URL('http://[::1]:3000') })
    expect(local.resolve(undefined)).toMatchObject({ ok: true, location: 'http://[::1]:3000/' })
    expect(local.resolve('/bye')).toMatchObject({ ok: true, location: 'http://[::1]:3000/bye' })
  })
})

describe('compileReturnTo: prefix entries', () => {
  const p = policy(['/*', 'https://partner.example/docs/*'])

  it.each([
    ['/anything/at/all', 'https://app.example.com/anything/at/all'],
    ['/a?b=c', 'https://app.example.com/a?b=c'],
    ['https://partner.example/docs/', 'https://partner.example/docs/'],
    ['https://partner.example/docs/a/b', 'https://partner.example/docs/a/b'],
  ])('accepts %j as %j', (raw, location) => {
    expect(p.resolve(raw)).toMatchObject({ ok: true, location })
  })

  it.each([
    '//evil.example',
    '/.//evil.example',
    '/a/..//evil.example',
    '/%2F%2Fevil.example',
    'https://partner.example/docs',
    'https://partner.example/docsx/',
    'https://partner.example/docs/../admin',
    'https://partner.example/',
    'https://evil.example/docs/a',
  ])('still refuses %j', (raw) => expectRefused(p, raw))

  it.each([
    '/' + '%'.repeat(2047),
    '/' + 'a'.repeat(2048),
    '/' + '/.'.repeat(1023),
    'https://' + 'a'.repeat(2040),
    'https://' + 'a.'.repeat(1020) + '/',
    'http://' + '1.'.repeat(1020),
  ])('refuses pathological input (%#)', (raw) => {
    expectRefused(p, raw)
  })
})

describe('compileReturnTo: without a baseURL', () => {
  const p = policy(ALLOWED, {})

  it.each([
    [undefined, '/', undefined],
    ['/goodbye', '/goodbye', undefined],
    ['/goodbye/../goodbye', '/goodbye', undefined],
    ['/docs/x?y=1', '/docs/x?y=1', undefined],
    ['https://app.example.com', 'https://app.example.com/', 'https://app.example.com/'],
    ['https://partner.example/bye?x=1', 'https://partner.example/bye?x=1', 'https://partner.example/bye?x=1'],
  ])('accepts %j as %j', (raw, location, href) => {
    expect(p.resolve(raw)).toEqual({
      ok: true,
      location,
      url: href === undefined ? undefined : new URL(href),
    })
  })

  it.each(['https://app.example.com/goodbye', 'https://app.example.com/docs/a'])(
    'refuses %j: a path entry has no origin to match absolute values against',
    (raw) => expectRefused(p, raw),
  )

  it('permits an absolute default', () => {
    const p2 = policy([], { default: 'https://app.example.com/bye' })
    expect(p2.resolve('https://app.example.com/bye')).toMatchObject({ ok: true })
    expect(p2.resolve(undefined)).toEqual({
      ok: true,
      location: 'https://app.example.com/bye',
      url: new URL('https://app.example.com/bye'),
    })
  })
})

describe('compileReturnTo: construction errors', () => {
  const shape = 'must be an absolute http(s) URL or a path starting with "/"'

  it.each([
    [['/ok', 'ftp://x/'], 1],
    [['/ok', '/fine', '//evil.example'], 2],
    [['javascript:alert(1)'], 0],
    [['https://user:pw@app.example.com/'], 0],
    [['https://app.example.com/#frag'], 0],
    [['HTTPS://app.example.com/'], 0],
    [['goodbye'], 0],
    [['/docs*'], 0],
    [['/docs/*/x'], 0],
    [['/a', 42], 1],
    [['/a', null], 1],
    [['/bye\n'], 0],
  ])('names the bad entry in %j', (allowed, index) => {
    const err = construct({ allowed })
    expect(err).toBeInstanceOf(TypeError)
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
    expect((err as Error).message).toContain(`"options.returnTo.allowed[${index}]" ${shape} (got `)
  })

  it('rejects a query on a prefix entry', () => {
    expect(construct({ allowed: ['/docs/?x=1/*'] })).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
  })

  it.each([['a string'], [{ 0: '/a' }], [42]])('rejects allowed = %j', (allowed) => {
    const err = construct({ allowed })
    expect(err).toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
      message: '"options.returnTo.allowed" must be an array of strings',
    })
  })

  it.each([['//evil.example'], ['javascript:x'], [42], ['/docs/*'], ['']])(
    'rejects default = %j',
    (value) => {
      const err = construct({ default: value })
      expect(err).toBeInstanceOf(TypeError)
      expect(err).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
      expect((err as Error).message).toContain(`"options.returnTo.default" ${shape}`)
    },
  )

  it('uses the option path it is given', () => {
    const err = thrown(() => compileReturnTo({ allowed: ['x'] }, 'options.provider.returnTo'))
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
    expect((err as Error).message).toMatch(/^"options\.provider\.returnTo\.allowed\[0\]"/)
  })
})
