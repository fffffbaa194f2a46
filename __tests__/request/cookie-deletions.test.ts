import { deletionOf, serializeCookie } from '../../lib/request/cookies.js'
import type { CookieSpec } from '../../lib/request/cookies.js'

// deletionOf keeps the deletions it has serialised, by their attributes: two cookies that differ in
// any attribute must each get their own deletion, however the attributes' text could line up.
describe('deletionOf', () => {
  const base: CookieSpec = { name: 'sid', path: '/', httpOnly: true }
  const variants: CookieSpec[] = [
    base,
    { ...base, path: '/app' },
    { ...base, path: undefined },
    { ...base, domain: 'app.test' },
    { ...base, domain: undefined, path: '/' },
    { ...base, secure: true },
    { ...base, httpOnly: false },
    { ...base, sameSite: 'lax' },
    { ...base, sameSite: 'none' },
    { ...base, sameSite: 'strict' },
    { ...base, partitioned: true, sameSite: 'none' },
    { ...base, name: 'sid2' },
    { name: 'sid', domain: 'app.test', path: '/app', secure: true, sameSite: 'lax' },
    { name: 'sid', domain: 'app.test', path: '/app', secure: true, sameSite: 'strict' },
  ]

  it('answers what serializeCookie writes for an expired, empty cookie, asked once or again', () => {
    for (const spec of variants) {
      const expected = serializeCookie(spec, '', 'expired')
      expect(deletionOf(spec)).toBe(expected)
      expect(deletionOf({ ...spec })).toBe(expected)
    }
  })

  it('never hands one cookie the deletion of another', () => {
    // Asked in one order and then the reverse: a shared key would hand the later spec the earlier
    // one's deletion in at least one of the two orders.
    for (const order of [variants, [...variants].reverse()]) {
      for (const spec of order) expect(deletionOf(spec)).toBe(serializeCookie(spec, '', 'expired'))
    }
  })

  it('refuses a name, path or domain with a control character, as the serialiser does', () => {
    expect(() => deletionOf({ name: 'a\u0001b' })).toThrow(TypeError)
    expect(() => deletionOf({ name: 'sid', path: '/a\u0001' })).toThrow(TypeError)
    expect(() => deletionOf({ name: 'sid', domain: 'a\u0001.test' })).toThrow(TypeError)
  })
})
