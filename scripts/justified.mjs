// The justified runtime dependencies: the first column of the table in docs/dependencies.md
// ("The gate"), so the list the build enforces and the reasons users read are one text.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const DOC = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'dependencies.md')

/** Package names of the gate table's rows (`| [\`name\`](url) | ... |`). */
export function justifiedDependencies(text = readFileSync(DOC, 'utf8')) {
  const names = [...text.matchAll(/^\| \[`([^`]+)`\]\(/gm)].map((match) => match[1])
  if (names.length === 0) throw new Error(`no dependency table found in ${DOC}`)
  return new Set(names)
}
