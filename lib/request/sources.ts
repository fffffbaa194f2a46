import type { IncomingMessage } from 'node:http'
import type { Fields } from './body.js'
import { parseCookieHeader } from './cookies.js'
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

/** What a request carries, as far as sources are concerned; `session` may be a snapshot. */
export interface SourceInput {
  req: IncomingMessage
  session?: Record<string, unknown>
  body?: Fields
}

/** Reads a source; only non-empty strings count. */
export function readSource(input: SourceInput, source: Source): string | undefined {
  switch (source.kind) {
    case 'header':
      return bearer(input.req.headers.authorization)
    case 'cookie':
      return cookie(input.req, source.name)
    case 'session':
      return nonEmpty(input.session?.[source.field])
    case 'body': {
      const values = input.body?.[source.field]
      return values?.length === 1 ? nonEmpty(values[0]) : undefined
    }
  }
}

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
  return match?.[1]
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  const parsed = (req as IncomingMessage & { cookies?: unknown }).cookies
  if (parsed && typeof parsed === 'object') {
    const value = (parsed as Record<string, unknown>)[name]
    if (typeof value === 'string') return nonEmpty(value)
  }
  return nonEmpty(parseCookieHeader(req.headers.cookie).get(name))
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined
}
