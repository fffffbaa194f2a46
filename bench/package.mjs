// The package under test is the build in dist (the ESM entry dist/esm, a thin wrapper over the
// CommonJS build in dist/cjs, so both are copied), copied at the start of the run to
// node_modules/.cache/<name> so that a rebuild in the same working tree during a run (which
// deletes dist first) cannot pull it from under the servers. From there, its imports still
// resolve the repository's node_modules, and linters and formatters leave it alone. Each
// benchmark has its own copy, so one starting cannot delete the other's under it.
import { cpSync, existsSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

// BENCH_DIST: another build to measure (bench/inprocess/compare.mjs builds earlier commits).
const built = process.env.BENCH_DIST ?? fileURLToPath(new URL('../dist', import.meta.url))

/** The copy `name` of the build: `{ entry, snapshot, importPackage }`. */
export function buildCopy(name) {
  const entry = new URL(`../node_modules/.cache/${name}/dist/esm/index.js`, import.meta.url)
  const copy = fileURLToPath(new URL(`../node_modules/.cache/${name}/dist`, import.meta.url))
  return {
    /** URL of the entry point the benchmark imports. */
    entry,
    /** Copies dist to the cache folder; returns false when there is no build to copy. */
    snapshot() {
      rmSync(copy, { recursive: true, force: true })
      if (!existsSync(`${built}/esm/index.js`) || !existsSync(`${built}/cjs/index.js`)) return false
      cpSync(built, copy, { recursive: true })
      return true
    },
    importPackage: () => import(entry.href),
  }
}

const http = buildCopy('sso-logout-bench')

export const ENTRY = http.entry
export const snapshotBuild = http.snapshot
export const importPackage = http.importPackage
