import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'

// The published artefact, not the source: pack the built package, install the tarball into a
// throwaway consumer, and load it the four ways users do (CJS, ESM, and TypeScript for each).
const root = resolve(__dirname, '..', '..')
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
    // Module state: auth0() warns once per process about a clientId given as undefined.
    let warnings = 0
    console.warn = () => { warnings += 1 }
    for (const pkg of [cjs, esm]) pkg.auth0({ domain: 'acme.eu.auth0.com', clientId: undefined })
    console.log(JSON.stringify({
      names: JSON.stringify(Object.keys(esm).sort()) === JSON.stringify(names) && names.length > 0,
      identical: names.every((name) => esm[name] === cjs[name]),
      logout: typeof esm.logout === 'function' && esm.logout === cjs.logout,
      instanceof: fromEsm instanceof cjs.LogoutError && fromCjs instanceof esm.LogoutError,
      state: warnings === 1,
    }))`
  const same = { names: true, identical: true, logout: true, instanceof: true, state: true }

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

// Types as a strict consumer compiles them: the package's own declarations checked too
// (skipLibCheck off), for each way TypeScript resolves the package, with exactOptionalPropertyTypes
// so that an optional setting read from the environment (`string | undefined`) type-checks.
describe('types', () => {
  const source = `import { auth0, logout, LogoutError, memoryStore, oidc } from 'sso-logout'
import type { LogoutEvent, LogoutOptions, Provider } from 'sso-logout'

// The README's provider example ("Identity providers"), typed: the client id comes from the environment.
const auth = logout({
  provider: auth0({ domain: 'acme.eu.auth0.com', clientId: process.env.AUTH0_CLIENT_ID }),
  baseURL: 'https://app.example.com',
  returnTo: { allowed: ['/goodbye'] },
})

// Other optional settings from the environment: an absent variable means "not set".
const options: LogoutOptions = {
  path: '/bye',
  baseURL: process.env.BASE_URL,
  provider: oidc({
    issuer: 'https://id.example.com',
    clientId: 'app',
    clientSecret: process.env.OIDC_CLIENT_SECRET,
    revoke: ['refresh_token'],
  }),
  store: memoryStore({ maxEntries: undefined }),
  onLogout: (event: LogoutEvent) => void event.sessionsDestroyed,
}

// A custom adapter, as in docs/providers.md "Writing your own adapter".
const custom: Provider = {
  name: 'acme',
  issuer: process.env.ISSUER,
  metadata: () => ({ jwksUri: process.env.JWKS_URI }),
  endSession: ({ returnTo }) => ({ redirect: returnTo }),
}

export const handlers = [auth, auth.guard, logout(options), logout({ provider: custom })]
export const isStoreError = (err: unknown): boolean => err instanceof LogoutError && err.code === 'ERR_STORE'
`
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')

  /** Type-checks `source` as each of `kinds` ("type" of its folder's package.json) in one program. */
  function typecheck(name: string, kinds: string[], compilerOptions: Record<string, unknown>): string {
    const dir = join(consumer, name)
    const files = kinds.map((type) => {
      mkdirSync(join(dir, type), { recursive: true })
      writeFileSync(join(dir, type, 'package.json'), JSON.stringify({ type }))
      writeFileSync(join(dir, type, 'index.ts'), source)
      return `${type}/index.ts`
    })
    const strict = {
      target: 'ES2022',
      strict: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: false,
      noEmit: true,
      typeRoots: [join(root, 'node_modules', '@types')],
      types: ['node'],
    }
    const config = { compilerOptions: { ...strict, ...compilerOptions }, files }
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config))
    // tsc prints its diagnostics on stdout and exits non-zero; the diagnostics are the useful failure.
    const result = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' })
    return `${result.stdout}${result.stderr}${result.status === 0 ? '' : `exit ${result.status}`}`
  }

  it('compile under node16 from CommonJS and from an ES module', () => {
    const options = { module: 'node16', moduleResolution: 'node16' }
    expect(typecheck('types-node16', ['commonjs', 'module'], options)).toBe('')
  }, 90_000)

  it('compile for a bundler', () => {
    const options = { module: 'esnext', moduleResolution: 'bundler' }
    expect(typecheck('types-bundler', ['module'], options)).toBe('')
  }, 90_000)
})
