import { logout, memoryStore } from '../../lib/index.js'
import { unusedProvider } from '../support/app.js'

/** The embedded memory store in production: one clear warning naming what to configure. */
describe('a warning where the defaults would fail in production', () => {
  const env = process.env.NODE_ENV
  afterEach(() => {
    process.env.NODE_ENV = env
  })

  function logger() {
    const lines: string[] = []
    return {
      lines,
      logger: { warn: (m: string) => void lines.push(m), error: (m: string) => void lines.push(m) },
    }
  }

  const provider = unusedProvider

  it('warns once at construction when a back-channel receiver uses the memory store', () => {
    process.env.NODE_ENV = 'production'
    const { lines, logger: log } = logger()
    logout({ provider, backchannel: { path: '/bc' }, logger: log })
    expect(lines).toEqual([expect.stringMatching(/memoryStore\(\).*options\.store to redisStore/)])
  })

  it('warns once, on the first linked session, when links live in the memory store', async () => {
    process.env.NODE_ENV = 'production'
    const { lines, logger: log } = logger()
    const mw = logout({ provider, logger: log })
    expect(lines).toEqual([])
    await mw.link({ sid: 's1', sessionId: 'a' })
    await mw.link({ sid: 's2', sessionId: 'b' })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('NODE_ENV is production')
  })

  it('says nothing outside production, or with a store of its own', async () => {
    const { lines, logger: log } = logger()
    process.env.NODE_ENV = 'development'
    await logout({ provider, backchannel: { path: '/bc' }, logger: log }).link({ sid: 's', sessionId: 'x' })
    process.env.NODE_ENV = 'production'
    const mw = logout({ provider, logger: log, store: memoryStore() })
    await mw.link({ sid: 's', sessionId: 'y' })
    expect(lines).toEqual([])
  })
})
