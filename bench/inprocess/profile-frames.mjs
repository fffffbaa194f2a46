// What the profile tools share: where a frame's code lives, its short name, and a profile's self
// cost per function, read from a .cpuprofile (sampled time) or a .heapprofile (sampled bytes).
import { readFileSync } from 'node:fs'

/** Where a frame's code lives: sso-logout's build, a dependency, Node itself, or V8. */
export function area(frame) {
  const url = frame.url
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : 'native'
  if (url.includes('sso-logout-bench-inprocess/dist/')) return 'sso-logout (lib)'
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (dep) return dep[1]
  if (url.startsWith('node:')) return 'node internals'
  if (url.includes('/bench/')) return 'bench harness'
  return url
}

/** `name file:line`, with sso-logout's build shown as lib/ and dependencies without their path. */
export function short(frame) {
  const url = frame.url
    .replace(/^.*sso-logout-bench-inprocess\/dist\/(?:cjs|esm)\//, 'lib/')
    .replace(/^.*node_modules\//, '')
  return `${frame.functionName || '(anonymous)'} ${url}:${frame.lineNumber + 1}`
}

/**
 * A profile's self cost by function and by area, and its total: microseconds for a CPU profile
 * (idle excluded), bytes for a heap profile. `unit` says which.
 */
export function selfCost(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byFunction = new Map()
  const byArea = new Map()
  let total = 0
  const add = (frame, cost) => {
    total += cost
    byFunction.set(short(frame), (byFunction.get(short(frame)) ?? 0) + cost)
    byArea.set(area(frame), (byArea.get(area(frame)) ?? 0) + cost)
  }
  if (profile.head) {
    // A heap profile is a tree of allocation sites, each with the bytes sampled there.
    const walk = (node) => {
      if (node.selfSize > 0) add(node.callFrame, node.selfSize)
      for (const child of node.children) walk(child)
    }
    walk(profile.head)
    return { unit: 'bytes', byFunction, byArea, total }
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id).callFrame
    if (frame.functionName !== '(idle)') add(frame, profile.timeDeltas[i] ?? 0)
  })
  return { unit: 'µs', byFunction, byArea, total }
}
