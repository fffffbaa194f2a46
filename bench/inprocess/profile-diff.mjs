// Where one variant spends more than another: two profiles of the same scenario written by
// BENCH_PROFILE (sso-logout and its twin, or two builds), both CPU or both heap (see run.mjs),
// compared function by function and package by package on their self cost. Both variants run the
// same operations per round, so the totals compare directly.
// Usage: node bench/inprocess/profile-diff.mjs A B [TOP]   (A minus B; TOP rows each way, 25 by default)
import { selfCost } from './profile-frames.mjs'

const [fileA, fileB, topArg] = process.argv.slice(2)
if (!fileA || !fileB) {
  process.stderr.write(
    'usage: node bench/inprocess/profile-diff.mjs A.(cpu|heap)profile B.(cpu|heap)profile [TOP]\n',
  )
  process.exit(2)
}
const TOP = Number(topArg ?? 25)
const a = selfCost(fileA)
const b = selfCost(fileB)
if (a.unit !== b.unit) {
  process.stderr.write('profile-diff: one profile is of CPU time and the other of the heap\n')
  process.exit(2)
}
const scale = a.unit === 'bytes' ? { unit: 'KB', per: 1024 } : { unit: 'ms', per: 1000 }
const show = (value) => (value / scale.per).toFixed(1).padStart(9)

/** Rows of `[name, a, b, a - b]`, the largest difference first. */
function differences(mapA, mapB) {
  const names = new Set([...mapA.keys(), ...mapB.keys()])
  const rows = [...names].map((name) => {
    const x = mapA.get(name) ?? 0
    const y = mapB.get(name) ?? 0
    return [name, x, y, x - y]
  })
  return rows.sort((p, q) => q[3] - p[3])
}

const header = `${'A − B'.padStart(9)} ${'A'.padStart(9)} ${'B'.padStart(9)}  (${scale.unit})`
const line = ([name, x, y, d]) => `${show(d)} ${show(x)} ${show(y)}  ${name}`
const out = [
  `A: ${fileA}`,
  `B: ${fileB}`,
  `self ${a.unit === 'bytes' ? 'bytes allocated' : 'time sampled'}: A ${show(a.total).trim()} ${scale.unit}, B ${show(b.total).trim()} ${scale.unit}, A − B ${show(a.total - b.total).trim()} ${scale.unit}`,
  '',
  'By package:',
  header,
  ...differences(a.byArea, b.byArea).map(line),
  '',
  `Functions where A spends the most more (top ${TOP}):`,
  header,
]
const rows = differences(a.byFunction, b.byFunction)
out.push(...rows.slice(0, TOP).map(line), '', `Functions where B spends the most more (top ${TOP}):`, header)
out.push(...rows.slice(-TOP).reverse().map(line))
process.stdout.write(`${out.join('\n')}\n`)
