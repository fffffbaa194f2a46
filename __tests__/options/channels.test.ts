import { logout } from '../../lib/index.js'
import type { LogoutOptions } from '../../lib/index.js'
import { closeApps, createApp, localOptions } from '../support/app.js'
import { testProvider } from '../support/logout-token.js'
import { useTestKey } from '../support/jwt.js'

// The back- and front-channel options (lib/options/channels.ts): refused with a TypeError naming
// the option, when the middleware is built.

const rs = useTestKey('RS256')
afterEach(closeApps)

describe('back-channel options', () => {
  const construct =
    (extra: Record<string, unknown>, provider = testProvider()) =>
    () =>
      createApp('express5', localOptions([rs], { provider, ...extra } as LogoutOptions))

  it.each([
    ['algorithms with HS256', { path: '/bc', algorithms: ['HS256'] }, 'options.backchannel.algorithms[0]'],
    ['algorithms with none', { path: '/bc', algorithms: ['none'] }, 'options.backchannel.algorithms[0]'],
    ['empty algorithms', { path: '/bc', algorithms: [] }, 'options.backchannel.algorithms'],
    ['maxAge 0', { path: '/bc', maxAge: 0 }, 'options.backchannel.maxAge'],
    ['maxAge a day and more', { path: '/bc', maxAge: 86401 }, 'options.backchannel.maxAge'],
    ['clockTolerance negative', { path: '/bc', clockTolerance: -1 }, 'options.backchannel.clockTolerance'],
    ['bodyLimit huge', { path: '/bc', bodyLimit: 1e9 }, 'options.backchannel.bodyLimit'],
    [
      'decryptionKey too short',
      { path: '/bc', decryptionKey: new Uint8Array(8) },
      'options.backchannel.decryptionKey',
    ],
    ['decryptionKey a string', { path: '/bc', decryptionKey: 'secret' }, 'options.backchannel.decryptionKey'],
    ['path of the logout route', { path: '/logout' }, 'options.backchannel.path'],
    ['no path', {}, 'options.backchannel.path'],
    ['unknown key', { path: '/bc', maxage: 5 }, 'options.backchannel.maxage'],
  ])('%s: TypeError naming the option', async (_name, backchannel, option) => {
    await expect(construct({ backchannel })()).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: expect.stringContaining(`"${option}`),
    })
  })

  it('a public decryption key is refused', async () => {
    const backchannel = { path: '/bc', decryptionKey: rs.jwk }
    await expect(construct({ backchannel })()).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
  })

  it('a provider without clientId is refused (logout tokens are addressed to it)', async () => {
    const provider = { ...testProvider(), clientId: undefined }
    await expect(construct({ backchannel: { path: '/bc' } }, provider)()).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
      message: expect.stringContaining('"options.provider"'),
    })
  })
})

describe('front-channel options', () => {
  it.each([
    ['the logout path', { frontchannel: { path: '/logout' } }, 'options.frontchannel.path'],
    [
      'the back-channel path',
      { frontchannel: { path: '/bc' }, backchannel: { path: '/bc' } },
      'options.frontchannel.path',
    ],
    ['no path', { frontchannel: {} }, 'options.frontchannel.path'],
    ['an unknown key', { frontchannel: { path: '/fc', paths: [] } }, 'options.frontchannel.paths'],
  ])('%s: TypeError naming the option', (_name, extra, option) => {
    const options = localOptions([rs], { provider: testProvider(), ...(extra as LogoutOptions) })
    expect(() => logout(options)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringContaining(`"${option}`),
      }),
    )
  })

  it('needs an issuer that is a URL (for frame-ancestors)', () => {
    const provider = { ...testProvider(), issuer: 'not a url' }
    expect(() => logout({ provider, frontchannel: { path: '/fc' } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('issuer') }),
    )
  })

  it('needs an issuer (for the iss check and frame-ancestors)', () => {
    expect(() => logout({ frontchannel: { path: '/fc' } })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringContaining('"options.frontchannel"'),
      }),
    )
  })
})
