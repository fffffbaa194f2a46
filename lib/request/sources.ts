/** The places a credential may be read from, as options name them (`'cookie:NAME'` and the like). */
import { invalidArg } from '../options/check.js'

/** One place a credential may be read from: `'header'`, `'cookie:NAME'`, `'session:FIELD'`, `'body:FIELD'`. */
export type Source =
  | { kind: 'header' }
  | { kind: 'cookie'; name: string }
  | { kind: 'session'; field: string }
  | { kind: 'body'; field: string }

const SOURCE = /^(cookie|session|body):([^\s;=]{1,128})$/

/** Parses one source string; throws a `TypeError` naming `path` when it is malformed. */
export function parseSource(value: unknown, path: string, kinds: readonly Source['kind'][]): Source {
  if (value === 'header' && kinds.includes('header')) return { kind: 'header' }
  const match = typeof value === 'string' ? SOURCE.exec(value) : null
  const kind = match?.[1] as Source['kind'] | undefined
  if (!match || !kind || !kinds.includes(kind)) {
    const shapes = kinds.map((k) => (k === 'header' ? "'header'" : `'${k}:NAME'`)).join(', ')
    throw invalidArg(path, `one of ${shapes}`, value)
  }
  return kind === 'cookie'
    ? { kind, name: match[2]! }
    : { kind: kind as 'session' | 'body', field: match[2]! }
}
