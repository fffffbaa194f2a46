import type { IncomingMessage } from 'node:http'
import { contextOf } from '../../lib/request/context.js'
import { sessionCookie } from '../../lib/request/session.js'
import type { SessionRequest } from '../../lib/request/session.js'

function requestWith(cookie: string, cookieOptions: Record<string, unknown> = {}): SessionRequest {
  const session = { destroy: () => undefined, cookie: { path: '/', httpOnly: true, ...cookieOptions } }
  return { headers: { cookie }, sessionID: 'abc', session, socket: {} } as unknown as IncomingMessage &
    SessionRequest
}

describe('sessionCookie: express-session cookie found by the signed id it carries', () => {
  it.each([
    ['the default name', 'connect.sid=s%3Aabc.sig', 'connect.sid'],
    ['a custom name', 'other=1; app.sid=s%3Aabc.sig', 'app.sid'],
    ['a cookie of another session is not taken', 'app.sid=s%3Axyz.sig', 'connect.sid'],
    [
      'a name that is not a cookie token is never echoed into Set-Cookie',
      'bad(name=s%3Aabc.sig',
      'connect.sid',
    ],
    ['a name with a space is never echoed into Set-Cookie', 'bad name=s%3Aabc.sig', 'connect.sid'],
  ])('%s', (_what, header, expected) => {
    expect(sessionCookie(contextOf(requestWith(header)))?.name).toBe(expected)
  })

  it('keeps the attributes express-session set the cookie with', () => {
    const spec = sessionCookie(
      contextOf(
        requestWith('sid=s%3Aabc.sig', {
          path: '/app',
          domain: 'example.com',
          secure: true,
          sameSite: 'strict',
        }),
      ),
    )
    expect(spec).toEqual({
      name: 'sid',
      path: '/app',
      domain: 'example.com',
      secure: true,
      httpOnly: true,
      sameSite: 'strict',
      partitioned: false,
    })
  })
})

describe('storedSessionId: the session came with the request when its cookie carried its signed id', () => {
  it.each([
    ['percent-encoded, as express-session writes it', 'connect.sid=s%3Aabc.sig', 'abc'],
    ['under a custom name, among other cookies', 'a=1; app.sid=s%3Aabc.sig; b=2', 'abc'],
    ['unencoded, as some clients resend it', 'connect.sid=s:abc.sig', 'abc'],
    ['quoted', 'connect.sid="s%3Aabc.sig"', 'abc'],
    ['lower-case percent-encoding', 'connect.sid=s%3aabc.sig', 'abc'],
    ['a cookie of another session: made up on this request', 'connect.sid=s%3Axyz.sig', undefined],
    ['an id that only begins like this one', 'connect.sid=s%3Aabcd.sig', undefined],
    ['no cookie at all', '', undefined],
  ])('%s', (_what, header, expected) => {
    expect(contextOf(requestWith(header)).storedSessionId).toBe(expected)
  })
})
