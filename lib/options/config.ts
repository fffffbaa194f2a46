import type { CookieSpec } from '../request/cookies.js'
import { isAttributeValue, isCookieName, serializeCookie } from '../request/cookies.js'
import type {
  BackchannelOptions,
  FrontchannelOptions,
  GuardOptions,
  Logger,
  LogoutOptions,
  SessionStoreLike,
} from './types.js'
import type { Provider } from '../providers/contract.js'
import { compileReturnTo } from '../request/return-to.js'
import type { ReturnToPolicy } from '../request/return-to.js'
import type { Source } from '../request/sources.js'
import { parseSource } from '../request/sources.js'
import type { Store } from '../stores/contract.js'
import { memoryStore } from '../stores/memory/store.js'
import { resolveVerifierConfig } from './access-token.js'
import { createVerifier } from '../tokens/access-token.js'
import type { Verifier } from '../tokens/access-token.js'
import * as v from './check.js'

const OPTION_KEYS = [
  'provider',
  'path',
  'methods',
  'baseURL',
  'accessToken',
  'returnTo',
  'sessionStore',
  'store',
  'cookies',
  'clearSiteData',
  'backchannel',
  'frontchannel',
  'onLogout',
  'everywhere',
  'retention',
  'guard',
  'logger',
] as const
const CLEAR_SITE_DATA = ['cache', 'cookies', 'storage', 'executionContexts', 'clientHints', '*']
const DEFAULT_SOURCES = ['header', 'cookie:access_token', 'session:accessToken']

/** The resolved, fully-defaulted configuration: the one source of truth for defaults. */
export interface Config {
  path: string
  methods: ReadonlySet<string>
  baseURL?: URL
  trustedOrigins: ReadonlySet<string>
  provider?: Provider
  tokenSources: Source[]
  verifier: Verifier
  returnTo: ReturnToPolicy
  sessionStore?: SessionStoreLike
  store: Store
  /** Cookies to clear; the express-session cookie is added per request when `clearSessionCookie`. */
  cookies: CookieSpec[]
  /** `Set-Cookie` deletions of `cookies`, serialised once. */
  clearedCookies: string[]
  clearSessionCookie: boolean
  clearSiteData?: string
  backchannel?: BackchannelOptions
  frontchannel?: FrontchannelOptions
  onLogout?: LogoutOptions['onLogout']
  everywhere: boolean
  /** Seconds links and revocations are kept. */
  retention: number
  guard: Required<Pick<GuardOptions, 'failOpen'>> & Pick<GuardOptions, 'claims'>
  logger: Logger
  bodyLimit: number
}

/** Validates `logout()` options and resolves every default. Throws `TypeError` naming the option. */
export function resolveConfig(input: LogoutOptions | undefined): Config {
  const o = v.objectOption(input ?? {}, 'options', OPTION_KEYS)!
  const provider = providerOption(o.provider)
  const baseURL = o.baseURL === undefined ? undefined : v.httpsUrlOption(o.baseURL, 'options.baseURL')
  if (baseURL && (baseURL.pathname !== '/' || baseURL.search || baseURL.hash)) {
    throw v.invalidArg(
      'options.baseURL',
      'an origin such as "https://app.example.com" (no path, query or fragment)',
      o.baseURL,
    )
  }
  if (provider?.needsAbsoluteReturnTo && !baseURL) {
    throw v.invalidArg('options.baseURL', `set: the ${provider.name} provider needs an absolute returnTo`)
  }
  const access = v.objectOption(o.accessToken, 'options.accessToken', ACCESS_TOKEN_KEYS) ?? {}
  const tokenSources = sourcesOption(access.from)
  const returnToOptions = v.objectOption(o.returnTo, 'options.returnTo', ['allowed', 'default']) ?? {}
  const explicitCookies = cookiesOption(o.cookies)
  const cookies = [...(explicitCookies ?? defaultCookies(tokenSources)), ...(provider?.cookies ?? [])]
  return {
    path: v.pathOption(o.path, 'options.path', '/logout'),
    methods: methodsOption(o.methods),
    baseURL,
    trustedOrigins: new Set(baseURL ? [baseURL.origin] : []),
    provider,
    tokenSources,
    verifier: createVerifier(resolveVerifierConfig(access), provider),
    returnTo: compileReturnTo({ ...returnToOptions, baseURL }),
    sessionStore: sessionStoreOption(o.sessionStore),
    store: storeOption(o.store),
    cookies,
    clearedCookies: cookies.map((c) => serializeCookie(c, '', 'expired')),
    clearSessionCookie: explicitCookies === undefined,
    clearSiteData: clearSiteDataOption(o.clearSiteData),
    backchannel: channelOption(o.backchannel, 'options.backchannel', BACKCHANNEL_KEYS) as
      BackchannelOptions | undefined,
    frontchannel: channelOption(o.frontchannel, 'options.frontchannel', ['path', 'requireSession']) as
      FrontchannelOptions | undefined,
    onLogout: v.functionOption(o.onLogout, 'options.onLogout'),
    everywhere: v.booleanOption(o.everywhere, 'options.everywhere', false),
    retention: v.numberOption(o.retention, 'options.retention', 14 * 86400, 1),
    guard: guardOption(o.guard),
    logger: loggerOption(o.logger),
    bodyLimit: 16 * 1024,
  }
}

const ACCESS_TOKEN_KEYS = [
  'from',
  'jwks',
  'key',
  'issuer',
  'audience',
  'algorithms',
  'sidClaim',
  'expiredGrace',
  'clockTolerance',
  'maxLength',
  'jwksTimeout',
  'jwksMaxBytes',
]
const BACKCHANNEL_KEYS = ['path', 'algorithms', 'maxAge', 'clockTolerance', 'decryptionKey', 'bodyLimit']

function providerOption(value: unknown): Provider | undefined {
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

function methodsOption(value: unknown): Set<string> {
  const list = v.arrayOption(value, 'options.methods') ?? ['GET', 'POST']
  if (list.length === 0)
    throw v.invalidArg('options.methods', 'a non-empty array of "GET" and/or "POST"', value)
  list.forEach((m, i) => {
    if (m !== 'GET' && m !== 'POST') throw v.invalidArg(`options.methods[${i}]`, '"GET" or "POST"', m)
  })
  return new Set(list as string[])
}

function sourcesOption(value: unknown): Source[] {
  const list = v.arrayOption(value, 'options.accessToken.from') ?? DEFAULT_SOURCES
  const kinds = ['header', 'cookie', 'session', 'body'] as const
  return list.map((item, i) => parseSource(item, `options.accessToken.from[${i}]`, kinds))
}

function defaultCookies(sources: Source[]): CookieSpec[] {
  return sources.flatMap((s) => (s.kind === 'cookie' ? [{ name: s.name, path: '/' }] : []))
}

function cookiesOption(value: unknown): CookieSpec[] | undefined {
  const list = v.arrayOption(value, 'options.cookies')
  return list?.map((item, i) =>
    cookieSpec(typeof item === 'string' ? { name: item } : item, `options.cookies[${i}]`),
  )
}

function cookieSpec(value: unknown, path: string): CookieSpec {
  const o = v.objectOption(value, path, [
    'name',
    'path',
    'domain',
    'secure',
    'httpOnly',
    'sameSite',
    'partitioned',
  ])!
  if (typeof o.name !== 'string' || !isCookieName(o.name))
    throw v.invalidArg(`${path}.name`, 'a valid cookie name', o.name)
  for (const attr of ['path', 'domain'] as const) {
    const attrValue = o[attr]
    if (attrValue !== undefined && (typeof attrValue !== 'string' || !isAttributeValue(attrValue))) {
      throw v.invalidArg(`${path}.${attr}`, 'a string without spaces, ";" or control characters', attrValue)
    }
  }
  if (o.name.toLowerCase().startsWith('__host-') && (o.domain !== undefined || (o.path ?? '/') !== '/')) {
    throw v.invalidArg(path, 'a __Host- cookie with Path "/" and no Domain (RFC 6265bis §4.1.3.2)', value)
  }
  if (o.sameSite !== undefined && !['strict', 'lax', 'none'].includes(o.sameSite as string)) {
    throw v.invalidArg(`${path}.sameSite`, '"strict", "lax" or "none"', o.sameSite)
  }
  return {
    name: o.name,
    path: (o.path as string | undefined) ?? '/',
    domain: o.domain as string | undefined,
    secure: v.booleanOption(o.secure, `${path}.secure`, false),
    httpOnly: v.booleanOption(o.httpOnly, `${path}.httpOnly`, false),
    sameSite: o.sameSite as CookieSpec['sameSite'],
    partitioned: v.booleanOption(o.partitioned, `${path}.partitioned`, false),
  }
}

function clearSiteDataOption(value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined
  const list =
    value === true ? ['cache', 'cookies', 'storage'] : v.arrayOption(value, 'options.clearSiteData')!
  list.forEach((d, i) => {
    if (typeof d !== 'string' || !CLEAR_SITE_DATA.includes(d)) {
      throw v.invalidArg(`options.clearSiteData[${i}]`, `one of ${CLEAR_SITE_DATA.join(', ')}`, d)
    }
  })
  // Directives are quoted strings (Clear-Site-Data §3.1).
  return list.map((d) => `"${d as string}"`).join(', ')
}

function sessionStoreOption(value: unknown): SessionStoreLike | undefined {
  if (value === undefined) return undefined
  if (!value || typeof (value as SessionStoreLike).destroy !== 'function') {
    throw v.invalidArg('options.sessionStore', 'an express-session Store (with destroy(sid, cb))', value)
  }
  return value as SessionStoreLike
}

const STORE_METHODS = ['link', 'take', 'revoke', 'revokedAt', 'claimJti', 'releaseJti', 'unlink'] as const

function storeOption(value: unknown): Store {
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
  return value as Store
}

function channelOption(value: unknown, path: string, keys: string[]): Record<string, unknown> | undefined {
  const o = v.objectOption(value, path, keys)
  if (o) v.pathOption(o.path, `${path}.path`)
  return o
}

function guardOption(value: unknown): Config['guard'] {
  const o = v.objectOption(value, 'options.guard', ['failOpen', 'claims']) ?? {}
  return {
    failOpen: v.booleanOption(o.failOpen, 'options.guard.failOpen', false),
    claims: v.functionOption(o.claims, 'options.guard.claims'),
  }
}

function loggerOption(value: unknown): Logger {
  if (value === undefined) return console
  const o = value as Partial<Logger> | null
  if (!o || typeof o.warn !== 'function' || typeof o.error !== 'function') {
    throw v.invalidArg('options.logger', 'an object with warn() and error() methods', value)
  }
  return o as Logger
}
