import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { headingAnchors, linkTargets, readMarkdown } from '../support/markdown.js'

// The README is the guide and docs/ the reference: every relative link and anchor between them must
// land somewhere, and what the README promises about the repository must be what it does.
const root = resolve(__dirname, '..', '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const documents = [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(root, 'docs', name)),
]

const isExternal = (href: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')

describe('relative links in README.md and docs/*.md', () => {
  it.each(documents.map((file) => [relative(root, file), file]))(
    '%s: every link and anchor resolves',
    (_, file) => {
      const broken: string[] = []
      for (const href of linkTargets(readMarkdown(file))) {
        if (isExternal(href)) continue
        const [path = '', anchor] = href.split('#', 2)
        const target = path === '' ? file : resolve(dirname(file), decodeURIComponent(path))
        if (!existsSync(target)) {
          broken.push(`${href}: no such file`)
          continue
        }
        if (anchor === undefined || !target.endsWith('.md')) continue
        if (!headingAnchors(readMarkdown(target)).has(anchor)) broken.push(`${href}: no heading #${anchor}`)
      }
      expect(broken).toEqual([])
    },
  )

  it('finds links and anchors (the checker is not vacuous)', () => {
    const readme = readMarkdown(join(root, 'README.md'))
    expect(linkTargets(readme)).toEqual(expect.arrayContaining(['docs/options.md', '#linking-at-login']))
    expect(headingAnchors(readme).has('what-happens-on-logout')).toBe(true)
    expect(
      headingAnchors(readMarkdown(join(root, 'docs', 'receivers.md'))).has(
        'third-party-cookie-limits-fcl-41',
      ),
    ).toBe(true)
  })
})

describe('the README as a guide', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')

  it('stays under 350 lines', () => {
    expect(readme.split('\n').length).toBeLessThan(350)
  })

  it('calls the middleware `auth` throughout, as the docs do', () => {
    const others = documents.filter((file) => /\bmw\./.test(readFileSync(file, 'utf8')))
    expect(others.map((file) => relative(root, file))).toEqual([])
  })

  it("gives the two commands as CI runs them: npm ci first, then the package's scripts", () => {
    expect(readme).toContain('| `npm ci && npm run example` |')
    expect(readme).toContain('| `npm ci && npm test`        |')
    const scripts = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts
    expect(scripts.example).toBeDefined()
    expect(scripts.pretest).toBe('npm run build')
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8').split('\n')
    const install = ci.findIndex((line) => /^npm ci\b/.test(line))
    expect(install).toBeGreaterThanOrEqual(0)
    expect(ci.findIndex((line) => line === 'npm test')).toBeGreaterThan(install)
  })
})

describe('the dependency gate (docs/dependencies.md)', () => {
  /** The table's packages, as scripts/audit.mjs reads them. */
  function justified(): string[] {
    const code = `import { justifiedDependencies } from './scripts/justified.mjs'
      console.log(JSON.stringify([...justifiedDependencies()].sort()))`
    return JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' }),
    ) as string[]
  }

  /** Every package of the installed runtime tree. */
  function runtimeTree(): string[] {
    type Node = { dependencies?: Record<string, Node> }
    const tree = JSON.parse(
      execFileSync(npm, ['ls', '--omit=dev', '--all', '--json'], { cwd: root, encoding: 'utf8' }),
    ) as Node
    const names = new Set<string>()
    const walk = (node: Node): void => {
      for (const [name, child] of Object.entries(node.dependencies ?? {})) {
        names.add(name)
        walk(child)
      }
    }
    walk(tree)
    return [...names].sort()
  }

  it('lists exactly the runtime tree, every direct dependency included', () => {
    const table = justified()
    const direct = Object.keys(
      (
        JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
          dependencies: Record<string, string>
        }
      ).dependencies,
    )
    expect(table).toEqual(expect.arrayContaining(direct))
    expect(table).toEqual(runtimeTree())
  }, 30_000)
})

describe("README's Performance section", () => {
  it('quotes the in-process targets from bench/RESULTS-inprocess.md, row for row, with the command', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('## Performance'), readme.indexOf('## Production checklist'))
    const results = readFileSync(join(root, 'bench', 'RESULTS-inprocess.md'), 'utf8')
    const rows = section.split('\n').filter((line) => line.startsWith('| ') && !/^\| -/.test(line))
    expect(rows.length).toBeGreaterThanOrEqual(10)
    expect(rows.filter((row) => !results.includes(row))).toEqual([])
    expect(section).toContain('`npm run bench:inprocess`')
  })
})

describe('docs/performance.md', () => {
  const doc = readFileSync(join(root, 'docs', 'performance.md'), 'utf8')
  const results = ['RESULTS-inprocess.md', 'RESULTS.md', 'RESULTS-fanout.md'].map((name) =>
    readFileSync(join(root, 'bench', name), 'utf8'),
  )

  it('quotes its tables from bench/RESULTS-inprocess.md, bench/RESULTS.md and bench/RESULTS-fanout.md, row for row', () => {
    const rows = doc.split('\n').filter((line) => line.startsWith('| ') && !/^\| -/.test(line))
    expect(rows.length).toBeGreaterThan(20)
    expect(rows.filter((row) => !results.some((text) => text.includes(row)))).toEqual([])
  })

  it('gives the commands that wrote them', () => {
    for (const command of [
      'npm run bench',
      'npm run bench:inprocess',
      'npm run bench:http',
      'npm run bench:fanout',
    ]) {
      expect(doc).toContain(`\`${command}\``)
    }
  })
})

describe('node-redis client settings in the docs, examples and test support', () => {
  // node-redis' `socketTimeout` is an idle timeout: without a `pingInterval` below it, every quiet
  // connection is cut and reconnected, and a command sent in between is refused as offline. Each
  // createClient()/createCluster() call that sets it must also ping. Tests other than the shared
  // support are left out: some set it without pings on purpose, to show what that does.
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter((file) => /\.(ts|mjs|js|md)$/.test(file))
    .filter((file) => !file.startsWith('__tests__/') || file.startsWith('__tests__/support/'))
  const calls = files.flatMap((file) => {
    const text = readFileSync(join(root, file), 'utf8')
    return [...text.matchAll(/socketTimeout:/g)].map((match) => {
      const before = text.slice(0, match.index)
      const start = Math.max(before.lastIndexOf('createClient('), before.lastIndexOf('createCluster('))
      return { at: `${file}:${before.split('\n').length}`, call: start === -1 ? '' : before.slice(start) }
    })
  })

  it('finds the configurations (the check is not vacuous)', () => {
    expect(calls.length).toBeGreaterThanOrEqual(6)
  })

  it('sets pingInterval wherever socketTimeout is set', () => {
    expect(calls.filter(({ call }) => !call.includes('pingInterval')).map(({ at }) => at)).toEqual([])
  })
})
