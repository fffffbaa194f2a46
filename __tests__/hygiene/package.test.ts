import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

// The published artefact, not the source: pack the built package, install the tarball into a
// throwaway consumer, and load it the four ways users do (CJS, ESM, and TypeScript for each).
const root = resolve(__dirname, '..', '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
let consumer: string

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

beforeAll(() => {
  consumer = mkdtempSync(join(tmpdir(), 'sso-logout-consumer-'))
  run(npm, ['pack', '--pack-destination', consumer, '--silent'], root)
  const tarball = readdirSync(consumer).find((f) => f.endsWith('.tgz'))!
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
  run(npm, ['install', `./${tarball}`, '--no-audit', '--no-fund', '--prefer-offline', '--silent'], consumer)
}, 120_000)

afterAll(() => rmSync(consumer, { recursive: true, force: true }))

it('loads with require() from CommonJS', () => {
  writeFileSync(
    join(consumer, 'cjs.cjs'),
    `const { logout, memoryStore, LogoutError } = require('sso-logout')
     const mw = logout({ store: memoryStore() })
     console.log(typeof mw, typeof mw.guard, typeof mw.revoke, new LogoutError('ERR_STORE', 'x').code)`,
  )
  expect(run(process.execPath, ['cjs.cjs'], consumer).trim()).toBe('function function function ERR_STORE')
})

it('loads with import from ES modules', () => {
  writeFileSync(
    join(consumer, 'esm.mjs'),
    `import { logout, auth0 } from 'sso-logout'
     const mw = logout({ provider: auth0({ domain: 'acme.eu.auth0.com', clientId: 'abc' }), baseURL: 'https://app.example.com' })
     console.log(typeof mw, mw.name)`,
  )
  expect(run(process.execPath, ['esm.mjs'], consumer).trim()).toBe('function logoutMiddleware')
})

it('ships types that resolve for both module kinds', () => {
  const source = `import { logout, type LogoutOptions, type LogoutEvent } from 'sso-logout'
    const options: LogoutOptions = { path: '/bye', onLogout: (e: LogoutEvent) => void e.sessionsDestroyed }
    export const mw = logout(options)\n`
  writeFileSync(join(consumer, 'types.mts'), source)
  writeFileSync(join(consumer, 'types.cts'), source)
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const args = [
    '--noEmit',
    '--strict',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--skipLibCheck',
  ]
  const types = ['--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node']
  expect(() =>
    run(process.execPath, [tsc, ...args, ...types, 'types.mts', 'types.cts'], consumer),
  ).not.toThrow()
})
