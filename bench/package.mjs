// The package under test is the build in dist (the ESM entry dist/esm, a thin wrapper over the
// CommonJS build in dist/cjs, so both are copied), copied at the start of the run to
// node_modules/.cache/sso-logout-bench so that a rebuild in the same working tree during a run
// (which deletes dist first) cannot pull it from under the servers. From there, its imports
// still resolve the repository's node_modules, and linters and formatters leave it alone.
import { cpSync, existsSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const built = fileURLToPath(new URL('../dist', import.meta.url))
const copy = fileURLToPath(new URL('../node_modules/.cache/sso-logout-bench/dist', import.meta.url))

/** URL of the entry point the benchmark imports. */
export const ENTRY = new URL('../node_modules/.cache/sso-logout-bench/dist/esm/index.js', import.meta.url)

/** Copies dist to the cache folder; returns false when there is no build to copy. */
export function snapshotBuild() {
  rmSync(copy, { recursive: true, force: true })
  if (!existsSync(`${built}/esm/index.js`) || !existsSync(`${built}/cjs/index.js`)) return false
  cpSync(built, copy, { recursive: true })
  return true
}

export const importPackage = () => import(ENTRY.href)
