/** The small top-level options of `logout()`: each read, checked and defaulted in one function. */
import type { Provider } from '../providers/contract.js'
import type { SessionConfig } from '../request/session.js'
import type { Source } from '../request/sources.js'
import { parseSource } from '../request/sources.js'
import type { Store } from '../stores/contract.js'
import { memoryStore } from '../stores/memory/store.js'
import * as v from './check.js'
import type { GuardOptions, Logger, SessionStoreLike } from './types.js'

const DEFAULT_SOURCES = ['header', 'cookie:access_token', 'session:accessToken']
/** Every method of the `Store` contract that a custom store must have. */
const STORE_METHODS = [
  'link',
  'take',
  'revoke',
  'revokedAt',
  'bury',
  'isBuried',
  'claimJti',
  'releaseJti',
  'putPending',
  'takePending',
  'unlink',
] as const

export function providerOption(value: unknown): Provider | undefined {
  if (value === undefined) return undefined
  const p = value as Partial<Provider> | null
  if (
    !p ||
    typeof p !== 'object' ||
    typeof p.name !== 'string' ||
    typeof p.endSession !== 'function' ||
    typeof p.metadata !== 'function'
  ) {
    throw v.invalidArg(
      'options.provider',
      'a provider such as auth0({...}) or an object with name, metadata() and endSession()',
      value,
    )
  }
  return p as Provider
}

export function methodsOption(value: unknown): Set<string> {
  const list = v.arrayOption(value, 'options.methods') ?? ['GET', 'POST']
  if (list.length === 0)
    throw v.invalidArg('options.methods', 'a non-empty array of "GET" and/or "POST"', value)
  list.forEach((m, i) => {
    if (m !== 'GET' && m !== 'POST') throw v.invalidArg(`options.methods[${i}]`, '"GET" or "POST"', m)
  })
  return new Set(list as string[])
}

export function sourcesOption(value: unknown): Source[] {
  const list = v.arrayOption(value, 'options.accessToken.from') ?? DEFAULT_SOURCES
  const kinds = ['header', 'cookie', 'session', 'body'] as const
  return list.map((item, i) => parseSource(item, `options.accessToken.from[${i}]`, kinds))
}

export function sessionStoreOption(value: unknown): SessionStoreLike | undefined {
  if (value === undefined) return undefined
  if (!value || typeof (value as SessionStoreLike).destroy !== 'function') {
    throw v.invalidArg('options.sessionStore', 'an express-session Store (with destroy(sid, cb))', value)
  }
  return value as SessionStoreLike
}

const EOC = 'express-openid-connect'
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype'])
/** express-openid-connect's default `session.name`. */
const EOC_SESSION_NAME = 'appSession'

/** `options.session`: where express-openid-connect keeps its session, when it is the login session. */
export function sessionOption(value: unknown): SessionConfig {
  if (value === undefined) return {}
  if (value === EOC) return { appSession: EOC_SESSION_NAME }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw v.invalidArg('options.session', `'${EOC}' or { library: '${EOC}', name? }`, value)
  const o = v.objectOption(value, 'options.session', ['library', 'name'])!
  if (o.library !== EOC) throw v.invalidArg('options.session.library', `'${EOC}'`, o.library)
  const name = o.name ?? EOC_SESSION_NAME
  // express-openid-connect's own rule for session.name (it is the cookie name and the request
  // property); names that would read an object's prototype instead of a property are refused.
  if (typeof name !== 'string' || !/^[0-9a-zA-Z_.-]+$/.test(name) || FORBIDDEN_NAMES.has(name))
    throw v.invalidArg('options.session.name', "express-openid-connect's session.name", name)
  return { appSession: name }
}

export function storeOption(value: unknown): Store {
  if (value === undefined) return memoryStore()
  const missing = STORE_METHODS.find(
    (m) => typeof (value as Record<string, unknown> | null)?.[m] !== 'function',
  )
  if (missing)
    throw v.invalidArg(
      'options.store',
      `a Store such as memoryStore() or redisStore() (missing ${missing}())`,
      value,
    )
  const store = value as Store
  // One without the other would take other services' sessions with nobody to end them, or wait
  // for deliveries nobody sends.
  if ((typeof store.takeFor === 'function') !== (typeof store.receive === 'function')) {
    throw v.invalidArg('options.store', 'a Store with both takeFor() and receive(), or neither', value)
  }
  return store
}

/** Resolved `guard` options. */
export interface GuardConfig {
  failOpen: boolean
  claims?: GuardOptions['claims']
  /** Largest lead of the IdP's clock over ours allowed for when `iat` is compared with a logout, ms. */
  clockTolerance: number
}

/** `options.guard`; its clock tolerance defaults to `accessToken.clockTolerance` (seconds). */
export function guardOption(value: unknown, tokenClockTolerance: number): GuardConfig {
  const o = v.objectOption(value, 'options.guard', ['failOpen', 'claims', 'clockTolerance']) ?? {}
  const tolerance = v.numberOption(o.clockTolerance, 'options.guard.clockTolerance', tokenClockTolerance)
  if (tolerance > 600)
    throw v.invalidArg('options.guard.clockTolerance', 'a number between 0 and 600', tolerance)
  return {
    failOpen: v.booleanOption(o.failOpen, 'options.guard.failOpen', false),
    claims: v.functionOption(o.claims, 'options.guard.claims'),
    clockTolerance: tolerance * 1000,
  }
}

export function loggerOption(value: unknown): Logger {
  if (value === undefined) return console
  const o = value as Partial<Logger> | null
  if (!o || typeof o.warn !== 'function' || typeof o.error !== 'function') {
    throw v.invalidArg('options.logger', 'an object with warn() and error() methods', value)
  }
  return o as Logger
}

/**
 * `options.service`: a name that goes into Redis keys, hash tags and log lines, so it is kept to
 * printable ASCII without the characters a Redis Cluster hash tag (`{`, `}`) or a log line (spaces)
 * would misread. The default (the app's origin or client id) already tells most services apart.
 */
export function serviceOption(value: unknown, fallback: string | undefined): string {
  if (value === undefined) return fallback !== undefined && SERVICE_NAME.test(fallback) ? fallback : 'app'
  if (typeof value !== 'string' || !SERVICE_NAME.test(value)) {
    throw v.invalidArg(
      'options.service',
      'a name of 1 to 200 printable ASCII characters without spaces, "{" or "}" (such as "calendar")',
      value,
    )
  }
  return value
}

const SERVICE_NAME = /^[\x21-\x7a\x7c\x7e]{1,200}$/
