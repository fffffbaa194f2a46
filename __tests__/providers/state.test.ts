import { createHash } from 'node:crypto'
import request from 'supertest'
import {
  STATE_COOKIE,
  STATE_MAX_AGE,
  USED_STATE_COOKIE,
  checkLogoutState,
  logoutStateOf,
} from '../../lib/providers/state.js'
import { listen, type Listening } from '../support/serve.js'

// The page the OP sends the browser back to: it answers what `logoutStateOf` made of the return.
// `?read-only` checks without `res`, so nothing is written.
let page: Listening
beforeAll(async () => {
  page = await listen((req, res) => {
    const readOnly = (req.url ?? '').includes('read-only')
    const state = readOnly ? logoutStateOf(req) : logoutStateOf(req, res)
    const checked = checkLogoutState(req)
    res.setHeader('Content-Type', 'application/json')
    res.end(JSON.stringify({ state, checked }))
  })
})
afterAll(() => page.close())

const S = 'issued-state-value-0123456789abcdef'
const hash = (value: string) => createHash('sha256').update(value).digest('base64url')

/** One return, with the browser's cookies; answers what the page said and what it set. */
async function returnWith(query: string, cookies: Record<string, string> = {}) {
  const header = Object.entries(cookies)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ')
  const res = await request(page.url).get(`/goodbye${query}`).set('Cookie', header)
  const set = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? []
  const cookie = (name: string) => set.find((c) => c.startsWith(`${name}=`))
  return { ...(res.body as { state: string; checked: boolean }), set, cookie }
}

describe('logoutStateOf', () => {
  it('reads the state this browser was given as valid, deletes it and remembers its hash', async () => {
    const back = await returnWith(`?state=${S}`, { [STATE_COOKIE]: S })
    expect(back.state).toBe('valid')
    expect(back.checked).toBe(true)
    expect(back.cookie(STATE_COOKIE)).toMatch(
      /^sso_logout_state=; Max-Age=0; Path=\/; Expires=.*HttpOnly; SameSite=Lax$/,
    )
    expect(back.cookie(USED_STATE_COOKIE)).toBe(
      `${USED_STATE_COOKIE}=${hash(S)}; Max-Age=${STATE_MAX_AGE}; Path=/; HttpOnly; SameSite=Lax`,
    )
    // The value that proved the return is never written back.
    expect(back.set.join('\n')).not.toContain(S)
  })

  it('reads a reload or Back after a finished logout as used, and writes nothing', async () => {
    const first = await returnWith(`?state=${S}`, { [STATE_COOKIE]: S })
    const used = first.cookie(USED_STATE_COOKIE)!.split(';')[0]!.split('=')[1]!
    const again = await returnWith(`?state=${S}`, { [USED_STATE_COOKIE]: used })
    expect(again).toMatchObject({ state: 'used', checked: false, set: [] })
    // checkLogoutState stays what it was: a state is good once.
    const third = await returnWith(`?state=${S}`, { [USED_STATE_COOKIE]: used })
    expect(third.checked).toBe(false)
  })

  it.each<[string, string, Record<string, string>]>([
    ['no state parameter', '', {}],
    ['no state parameter, a logout on its way', '', { [STATE_COOKIE]: S }],
    ['an empty state', '?state=', { [STATE_COOKIE]: S }],
    ['another parameter only', '?stat=x', {}],
  ])('reads %s as missing', async (_name, query, cookies) => {
    const back = await returnWith(query, cookies)
    expect(back).toMatchObject({ state: 'missing', checked: false })
    expect(back.cookie(USED_STATE_COOKIE)).toBeUndefined()
    // A live state is dropped whatever came back: it was good for this one return.
    if (cookies[STATE_COOKIE]) expect(back.cookie(STATE_COOKIE)).toMatch(/^sso_logout_state=; Max-Age=0/)
  })

  it.each<[string, string, Record<string, string>]>([
    ['a state this browser was never given', `?state=${S}`, {}],
    ['another state than the one given', '?state=other', { [STATE_COOKIE]: S }],
    ['a state other than the one finished', '?state=other', { [USED_STATE_COOKIE]: hash(S) }],
    ['the finished state, its hash not kept', `?state=${S}`, { [USED_STATE_COOKIE]: S }],
    ['the hash sent as the state', `?state=${hash(S)}`, { [USED_STATE_COOKIE]: hash(S) }],
    ['a repeated state', `?state=${S}&state=${S}`, { [STATE_COOKIE]: S }],
    ['a prefix of the state', `?state=${S.slice(0, -1)}`, { [STATE_COOKIE]: S }],
    ['a state with markup', `?state=${encodeURIComponent('<script>x</script>')}`, { [STATE_COOKIE]: S }],
    [
      'a state with NUL and non-ASCII',
      `?state=${encodeURIComponent('\u0000é\u202e')}`,
      { [STATE_COOKIE]: S },
    ],
    ['an 8 KB state', `?state=${'a'.repeat(8_000)}`, { [STATE_COOKIE]: S }],
  ])('reads %s as unknown', async (_name, query, cookies) => {
    const back = await returnWith(query, cookies)
    expect(back).toMatchObject({ state: 'unknown', checked: false })
    expect(back.cookie(USED_STATE_COOKIE)).toBeUndefined()
    if (cookies[STATE_COOKIE]) expect(back.cookie(STATE_COOKIE)).toMatch(/^sso_logout_state=; Max-Age=0/)
  })

  it('writes no cookie without res', async () => {
    const back = await returnWith(`?read-only&state=${S}`, { [STATE_COOKIE]: S })
    expect(back).toMatchObject({ state: 'valid', checked: true, set: [] })
  })
})
