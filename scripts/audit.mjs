// CI's dependency gate. `npm audit --omit=dev` at high severity fails the build. Where the
// registry's audit endpoint cannot be reached (some mirrors and proxies refuse its POST), the
// audit is reported as not run, loudly, instead of passing silently or failing for a reason
// that says nothing about our dependencies. Either way, the runtime dependency tree must be
// exactly the justified list in docs/dependencies.md ("The gate"): a new one fails the build.
import { execFileSync } from 'node:child_process'
import { justifiedDependencies } from './justified.mjs'

const JUSTIFIED = justifiedDependencies()
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function npmJson(args) {
  try {
    return JSON.parse(execFileSync(npm, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))
  } catch (err) {
    // npm exits non-zero when it finds vulnerabilities or fails; its JSON is still on stdout.
    return JSON.parse(err.stdout || '{}')
  }
}

function runtimePackages(tree, found = new Set()) {
  for (const [name, node] of Object.entries(tree.dependencies ?? {})) {
    found.add(name)
    runtimePackages(node, found)
  }
  return found
}

const unexpected = [...runtimePackages(npmJson(['ls', '--omit=dev', '--all', '--json']))].filter(
  (name) => !JUSTIFIED.has(name),
)
if (unexpected.length > 0) {
  console.error(`audit: unjustified runtime dependencies: ${unexpected.join(', ')}`)
  process.exit(1)
}
console.log(`audit: runtime dependencies are the justified ones (${[...JUSTIFIED].join(', ')})`)

const report = npmJson(['audit', '--omit=dev', '--json'])
const counts = report.metadata?.vulnerabilities
if (!counts) {
  const why = report.message ?? report.error?.summary ?? 'no report'
  console.warn(`audit: WARNING: npm audit could not run here (${why}); vulnerabilities were NOT checked`)
  process.exit(0)
}
const serious = (counts.high ?? 0) + (counts.critical ?? 0)
console.log(`audit: ${serious} high or critical vulnerabilities in runtime dependencies`)
process.exit(serious > 0 ? 1 : 0)
