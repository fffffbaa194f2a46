import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'

// The published artefact, not the source: pack the built package, install the tarball into a
// throwaway consumer, and load it the four ways users do (CJS, ESM, and TypeScript for each).
const root = resolve(__dirname, '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
let consumer: string
let installed: string

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Every file under `dir`, recursively, as absolute paths. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
}

beforeAll(() => {
  consumer = mkdtempSync(join(tmpdir(), 'sso-logout-consumer-'))
  run(npm, ['pack', '--pack-destination', consumer, '--silent'], root)
  const tarball = readdirSync(consumer).find((f) => f.endsWith('.tgz'))!
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
  run(npm, ['install', `./${tarball}`, '--no-audit', '--no-fund', '--prefer-offline', '--silent'], consumer)
  installed = join(consumer, 'node_modules', 'sso-logout')
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

// The dual-package hazard: an app whose own code imports the package while a dependency requires
// it (or the other way round) must get one copy, or a `LogoutError` thrown by one is not
// `instanceof` the class the other imported, and module state exists twice.
describe('one instance whether imported or required', () => {
  // Compares the two views of the package in one process and prints what it found.
  const compare = `
    const names = Object.keys(cjs).sort()
    const fromEsm = new esm.LogoutError('ERR_STORE', 'x')
    const fromCjs = new cjs.LogoutError('ERR_STORE', 'x')
    console.log(JSON.stringify({
      names: JSON.stringify(Object.keys(esm).sort()) === JSON.stringify(names) && names.length > 0,
      identical: names.every((name) => esm[name] === cjs[name]),
      logout: typeof esm.logout === 'function' && esm.logout === cjs.logout,
      instanceof: fromEsm instanceof cjs.LogoutError && fromCjs instanceof esm.LogoutError,
    }))`
  const same = { names: true, identical: true, logout: true, instanceof: true }

  it('from an ES module that also requires it', () => {
    writeFileSync(
      join(consumer, 'hazard.mjs'),
      `import * as esm from 'sso-logout'
       import { createRequire } from 'node:module'
       const cjs = createRequire(import.meta.url)('sso-logout')
       ${compare}`,
    )
    expect(JSON.parse(run(process.execPath, ['hazard.mjs'], consumer))).toEqual(same)
  })

  it('from a CommonJS module that also imports it', () => {
    writeFileSync(
      join(consumer, 'hazard.cjs'),
      `const cjs = require('sso-logout')
       import('sso-logout').then((esm) => {
         ${compare}
       })`,
    )
    expect(JSON.parse(run(process.execPath, ['hazard.cjs'], consumer))).toEqual(same)
  })

  it('loads jose with require(esm) without a warning on this Node', () => {
    // The CommonJS build is the implementation; it can only be if require(esm) needs no flag.
    const child = spawnSync(process.execPath, ['-e', "require('sso-logout').logout()"], {
      cwd: consumer,
      encoding: 'utf8',
    })
    expect({ status: child.status, stderr: child.stderr }).toEqual({ status: 0, stderr: '' })
  })
})

it('ships no source map reference that leads outside the package', () => {
  const files = filesUnder(installed)
  const broken: string[] = []
  const inside = (target: string) => !relative(installed, target).startsWith('..') && existsSync(target)
  for (const file of files) {
    if (file.endsWith('.map')) {
      const map = JSON.parse(readFileSync(file, 'utf8')) as { sourceRoot?: string; sources?: string[] }
      for (const source of map.sources ?? []) {
        const target = resolve(dirname(file), map.sourceRoot ?? '', source)
        if (!inside(target)) broken.push(`${relative(installed, file)} -> ${source}`)
      }
    } else if (/\.[cm]?[jt]s$/.test(file)) {
      for (const [, url] of readFileSync(file, 'utf8').matchAll(/^\/\/# sourceMappingURL=(\S+)/gm)) {
        if (url!.startsWith('data:')) continue
        if (!inside(resolve(dirname(file), url!))) broken.push(`${relative(installed, file)} -> ${url}`)
      }
    }
  }
  expect(files.length).toBeGreaterThan(10)
  expect(broken).toEqual([])
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
