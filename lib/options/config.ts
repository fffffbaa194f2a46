/** `logout()` options in, one fully resolved `Config` out: every default and every check lives below here. */
import type { Provider } from '../providers/contract.js'
import type { CookieSpec } from '../request/cookies.js'
import { serializeCookie } from '../request/cookies.js'
import { compileReturnTo } from '../request/return-to.js'
import type { ReturnToPolicy } from '../request/return-to.js'
import type { SessionConfig } from '../request/session.js'
import type { Source } from '../request/sources.js'
import type { Store } from '../stores/contract.js'
import { createVerifier } from '../tokens/access-token.js'
import type { Verifier } from '../tokens/access-token.js'
import { ACCESS_TOKEN_KEYS, resolveVerifierConfig } from './access-token.js'
import { resolveBackchannel, resolveFrontchannel } from './channels.js'
import type { BackchannelConfig, FrontchannelConfig } from './channels.js'
import * as v from './check.js'
import { clearSiteDataOption, cookiesOption, defaultCookies } from './cookies.js'
import type { Logger, LogoutOptions, SessionStoreLike } from './types.js'
import * as values from './values.js'
import type { GuardConfig } from './values.js'

const OPTION_KEYS = [
  'provider',
  'path',
  'methods',
  'allowUnverifiedGet',
  'baseURL',
  'accessToken',
  'returnTo',
  'sessionStore',
  'session',
  'store',
  'service',
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

/** The resolved, fully-defaulted configuration: the one source of truth for defaults. */
export interface Config {
  path: string
  methods: ReadonlySet<string>
  /** Let a GET logout through without proof it came from the app's pages (logout CSRF risk). */
  allowUnverifiedGet: boolean
  baseURL?: URL
  trustedOrigins: ReadonlySet<string>
  provider?: Provider
  tokenSources: Source[]
  verifier: Verifier
  returnTo: ReturnToPolicy
  sessionStore?: SessionStoreLike
  /** Where the login session is, when it is not `req.session`. */
  sessions: SessionConfig
  store: Store
  /** This app's name among the services sharing `store` (links record it; see LogoutOptions.service). */
  service: string
  /** What tells this deployment of `service` apart from another app using the same name by mistake. */
  serviceDescription: string
  /** Cookies to clear; the express-session cookie is added per request when `clearSessionCookie`. */
  cookies: CookieSpec[]
  /** `Set-Cookie` deletions of `cookies`, serialised once. */
  clearedCookies: string[]
  clearSessionCookie: boolean
  clearSiteData?: string
  backchannel?: BackchannelConfig
  frontchannel?: FrontchannelConfig
  onLogout?: LogoutOptions['onLogout']
  everywhere: boolean
  /** Seconds links and revocations are kept. */
  retention: number
  guard: GuardConfig
  logger: Logger
  bodyLimit: number
}

/** Validates `logout()` options and resolves every default. Throws `TypeError` naming the option. */
export function resolveConfig(input: LogoutOptions | undefined): Config {
  const o = v.objectOption(input ?? {}, 'options', OPTION_KEYS)!
  const provider = values.providerOption(o.provider)
  const baseURL = baseURLOption(o.baseURL, provider)
  const path = v.pathOption(o.path, 'options.path', '/logout')
  const access = v.objectOption(o.accessToken, 'options.accessToken', ACCESS_TOKEN_KEYS) ?? {}
  const tokenSources = values.sourcesOption(access.from)
  const verifierConfig = resolveVerifierConfig(access)
  const verifier = createVerifier(verifierConfig, provider)
  const returnToOptions = v.objectOption(o.returnTo, 'options.returnTo', ['allowed', 'default']) ?? {}
  const explicitCookies = cookiesOption(o.cookies)
  const cookies = [...(explicitCookies ?? defaultCookies(tokenSources)), ...(provider?.cookies ?? [])]
  const channels = {
    logoutPath: path,
    issuer: verifier.issuer,
    clientId: provider?.clientId,
    hasKeys: verifier.enabled,
    secretKey: verifierConfig.key instanceof Uint8Array,
  }
  const backchannel = resolveBackchannel(o.backchannel, channels)
  return {
    path,
    methods: values.methodsOption(o.methods),
    allowUnverifiedGet: v.booleanOption(o.allowUnverifiedGet, 'options.allowUnverifiedGet', false),
    baseURL,
    trustedOrigins: new Set(baseURL ? [baseURL.origin] : []),
    provider,
    tokenSources,
    verifier,
    returnTo: compileReturnTo({ ...returnToOptions, baseURL }),
    sessionStore: values.sessionStoreOption(o.sessionStore),
    sessions: values.sessionOption(o.session),
    store: values.storeOption(o.store),
    service: values.serviceOption(o.service, baseURL?.origin ?? provider?.clientId),
    serviceDescription: JSON.stringify([baseURL?.origin ?? null, provider?.clientId ?? null]),
    cookies,
    clearedCookies: cookies.map((c) => serializeCookie(c, '', 'expired')),
    clearSessionCookie: explicitCookies === undefined,
    clearSiteData: clearSiteDataOption(o.clearSiteData),
    backchannel,
    frontchannel: resolveFrontchannel(o.frontchannel, channels, backchannel?.path),
    onLogout: v.functionOption(o.onLogout, 'options.onLogout'),
    everywhere: v.booleanOption(o.everywhere, 'options.everywhere', false),
    retention: v.numberOption(o.retention, 'options.retention', 14 * 86400, 1),
    guard: values.guardOption(o.guard, verifierConfig.clockTolerance),
    logger: values.loggerOption(o.logger),
    bodyLimit: 16 * 1024,
  }
}

/** An origin (no path, query or fragment), https except on loopback; required by redirecting providers. */
function baseURLOption(value: unknown, provider: Provider | undefined): URL | undefined {
  const baseURL = value === undefined ? undefined : v.httpsUrlOption(value, 'options.baseURL')
  if (baseURL && (baseURL.pathname !== '/' || baseURL.search || baseURL.hash)) {
    throw v.invalidArg(
      'options.baseURL',
      'an origin such as "https://app.example.com" (no path, query or fragment)',
      value,
    )
  }
  if (provider?.needsAbsoluteReturnTo && !baseURL) {
    throw v.invalidArg('options.baseURL', `set: the ${provider.name} provider needs an absolute returnTo`)
  }
  return baseURL
}
