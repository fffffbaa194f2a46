// Summarises a .cpuprofile written by BENCH_PROFILE (see run.mjs): the share of the sampled
// time by package, the functions with the most self time, and sso-logout's own functions with
// their self and total (inclusive) time. Usage: node bench/inprocess/hotspots.mjs FILE [TOP]
import { readFileSync } from 'node:fs'
import { area, short } from './profile-frames.mjs'

const [file, topArg] = process.argv.slice(2)
if (!file) {
  process.stderr.write('usage: node bench/inprocess/hotspots.mjs FILE.cpuprofile [TOP]\n')
  process.exit(2)
}
const TOP = Number(topArg ?? 15)
const { nodes, samples, timeDeltas } = JSON.parse(readFileSync(file, 'utf8'))

const byId = new Map(nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of nodes) for (const child of n.children ?? []) parent.set(child, n.id)

const self = new Map()
const areas = new Map()
const inclusive = new Map()
let total = 0
for (let i = 0; i < samples.length; i++) {
  const leaf = byId.get(samples[i]).callFrame
  const dt = timeDeltas[i] ?? 0
  if (leaf.functionName === '(idle)') continue
  total += dt
  self.set(short(leaf), (self.get(short(leaf)) ?? 0) + dt)
  areas.set(area(leaf), (areas.get(area(leaf)) ?? 0) + dt)
  // Each lib function once per sample, however deep it recurses.
  const seen = new Set()
  for (let id = samples[i]; id !== undefined; id = parent.get(id)) {
    const frame = byId.get(id).callFrame
    if (area(frame) === 'sso-logout (lib)') seen.add(short(frame))
  }
  for (const key of seen) inclusive.set(key, (inclusive.get(key) ?? 0) + dt)
}

const pct = (us) => `${((100 * us) / total).toFixed(1)} %`
const top = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n)
const out = []
out.push(`${file}: ${(total / 1000).toFixed(0)} ms sampled (idle excluded)`, '', 'By package (self time):')
for (const [name, us] of top(areas, 12)) out.push(`  ${pct(us).padStart(7)}  ${name}`)
out.push('', `Top ${TOP} functions by self time:`)
for (const [name, us] of top(self, TOP)) out.push(`  ${pct(us).padStart(7)}  ${name}`)
const libSelf = new Map([...self].filter(([name]) => name.includes(' lib/')))
const libTotal = [...libSelf.values()].reduce((a, b) => a + b, 0)
out.push('', `sso-logout functions by self time (${pct(libTotal)} in all):`)
for (const [name, us] of top(libSelf, TOP)) out.push(`  ${pct(us).padStart(7)}  ${name}`)
// A middleware's total includes what runs after its next() call: read it as an upper bound.
out.push('', 'sso-logout functions by total time (self + callees, next() included), with self time:')
for (const [name, us] of top(inclusive, TOP)) {
  out.push(`  ${pct(us).padStart(7)} total  ${pct(self.get(name) ?? 0).padStart(7)} self  ${name}`)
}
process.stdout.write(`${out.join('\n')}\n`)
