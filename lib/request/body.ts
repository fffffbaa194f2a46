/** The logout route's request body: read once, within a limit, with or without a body parser. */
import type { IncomingMessage } from 'node:http'
import { LogoutError } from '../errors.js'

/** Form or JSON fields, each as the list of values sent (a repeated field has several). */
export type Fields = Record<string, string[]>

/** What {@link readBody} found. `type` lets receivers refuse a body of the wrong kind. */
export interface Body {
  type: 'form' | 'json' | 'other' | 'none'
  /** Every field; a form's are gathered when first read. */
  readonly fields: Fields
  /** The values of one field, without gathering the others (a receiver that needs one field). */
  values(name: string): string[]
}

const NO_FIELDS = Object.freeze(Object.create(null) as Fields)
const EMPTY: Body = Object.freeze({ type: 'none', fields: NO_FIELDS, values: () => [] })

function bodyOf(type: Body['type'], fields: Fields): Body {
  return { type, fields, values: (name) => fields[name] ?? [] }
}

/** A form's fields, gathered from its parameters only when something asks for all of them. */
function formBody(params: URLSearchParams): Body {
  let fields: Fields | undefined
  return {
    type: 'form',
    get fields() {
      return (fields ??= fieldsOf(params))
    },
    values: (name) => params.getAll(name),
  }
}

/**
 * Reads the request body once, within `limit` bytes. Uses `req.body` when a body parser already
 * ran; otherwise reads the stream itself, so the route works with no parser mounted.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  const type = bodyType(req.headers['content-type'])
  const parsed = (req as IncomingMessage & { body?: unknown }).body
  if (isParsed(req, parsed)) {
    return bodyOf(type, typeof parsed === 'object' ? fieldsOf(parsed as Record<string, unknown>) : NO_FIELDS)
  }
  if (req.readableEnded || (type === 'none' && !hasBody(req))) return EMPTY
  const text = typeof parsed === 'string' ? parsed : (await readStream(req, limit)).toString('utf8')
  if (Buffer.byteLength(text) > limit) throw tooLarge(limit)
  if (type === 'form') return formBody(new URLSearchParams(text))
  if (type === 'json') return bodyOf(type, parseJson(text))
  return bodyOf(type, NO_FIELDS)
}

/**
 * `true` when `req.body` holds what a parser read. Express 4's parsers set `req.body = {}` on every
 * request, also when the content type was not theirs: an empty object over a stream nobody read is
 * not a parsed body (a form POST behind `express.json()` alone).
 */
function isParsed(req: IncomingMessage, parsed: unknown): boolean {
  if (parsed === undefined || parsed === null || Buffer.isBuffer(parsed) || typeof parsed === 'string')
    return false
  const untouched = typeof parsed === 'object' && Object.keys(parsed).length === 0 && !req.readableEnded
  return !(untouched && hasBody(req))
}

function bodyType(header: string | undefined): Body['type'] {
  if (!header) return 'none'
  const mime = header.split(';')[0]!.trim().toLowerCase()
  if (mime === 'application/x-www-form-urlencoded') return 'form'
  if (mime === 'application/json' || mime.endsWith('+json')) return 'json'
  return 'other'
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0
}

function readStream(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) return Promise.reject(tooLarge(limit))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        req.off('data', onData)
        req.resume()
        reject(tooLarge(limit))
      } else chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => resolve(Buffer.concat(chunks)))
    req.once('error', (err) =>
      reject(
        new LogoutError('ERR_BODY_INVALID', 'The request body could not be read', {
          cause: err,
        }),
      ),
    )
  })
}

function parseJson(text: string): Fields {
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new LogoutError('ERR_BODY_INVALID', 'The request body is not valid JSON', {
      cause: err,
    })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LogoutError('ERR_BODY_INVALID', 'The JSON body must be an object')
  }
  return fieldsOf(value as Record<string, unknown>)
}

/** Keeps only string values (and arrays of strings): nested objects never become field values. */
function fieldsOf(source: URLSearchParams | Record<string, unknown>): Fields {
  const fields: Fields = Object.create(null) as Fields
  if (source instanceof URLSearchParams) {
    // A form's values are all strings: each goes straight into its list.
    for (const [key, value] of source) (fields[key] ??= []).push(value)
    return fields
  }
  for (const key of Object.keys(source)) {
    const value = source[key]
    if (typeof value === 'string') (fields[key] ??= []).push(value)
    else if (Array.isArray(value)) {
      for (const item of value as unknown[]) if (typeof item === 'string') (fields[key] ??= []).push(item)
    }
  }
  return fields
}

function tooLarge(limit: number): LogoutError {
  return new LogoutError('ERR_BODY_TOO_LARGE', `The request body is larger than ${limit} bytes`)
}
