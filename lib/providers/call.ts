/** The logout route's call into the provider: the context it gets, and what its answer may be. */
import { optionError } from '../options/check.js'
import type { ServerResponse } from 'node:http'
import { LogoutError, asLogoutError } from '../errors.js'
import type { Config } from '../options/config.js'
import type { RequestContext } from '../request/context.js'
import { appendSetCookie, isCookieName, serializeCookie } from '../request/cookies.js'
import type { Identity } from '../request/identity.js'
import { parseSource } from '../request/sources.js'
import type { EndSessionContext, EndSessionResult, Provider } from './contract.js'
import type { Awaitable } from '../stores/contract.js'
import { STATE_COOKIE } from './state.js'

export interface ProviderOutcome {
  redirect?: URL
  errors: LogoutError[]
  notes: string[]
  /** A failure that must answer with its status (after the local logout), e.g. discovery down: 502. */
  failure?: LogoutError
  /** Work the provider left for the browser's return, and the `state` it returns with. */
  pending?: { state: string; value: string }
}

interface CallInput {
  ctx: RequestContext
  res: ServerResponse
  who: Identity
  snapshot: Record<string, unknown>
  /** The accepted `returnTo`; its `url` is read only if the provider reads `returnTo`. */
  returnTo: { readonly url: URL | undefined }
}

/**
 * Lets the provider end the IdP session; the local logout has already happened whatever it does.
 * Synchronous when the provider answers synchronously (a redirect it builds itself).
 */
export function endSessionAtProvider(config: Config, input: CallInput): Awaitable<ProviderOutcome> {
  const provider = config.provider
  if (!provider) return { errors: [], notes: [] }
  const issued: { state?: string } = {}
  try {
    const result = provider.endSession(providerContext(input, issued))
    // A provider's own thenable is waited for as `await` would; only a plain answer is synchronous.
    if (!isThenable(result)) return outcomeOf(provider, result, issued)
    return Promise.resolve(result)
      .then((r) => outcomeOf(provider, r, issued))
      .catch((err: unknown) => failed(provider, err))
  } catch (err) {
    return failed(provider, err)
  }
}

function failed(provider: Provider, err: unknown): ProviderOutcome {
  const failure = asLogoutError('ERR_PROVIDER_REQUEST', `Provider ${provider.name} failed`, err)
  return { errors: [failure], notes: [], failure }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

function outcomeOf(
  provider: Provider,
  result: EndSessionResult,
  issued: { state?: string },
): ProviderOutcome {
  const redirect = result.redirect
  if (redirect !== undefined && !(redirect instanceof URL && /^https?:$/.test(redirect.protocol))) {
    throw new LogoutError('ERR_PROVIDER_RESPONSE', `Provider ${provider.name} returned an invalid redirect`)
  }
  const pending =
    result.pending !== undefined && issued.state !== undefined
      ? { state: issued.state, value: result.pending }
      : undefined
  return { redirect, errors: [...(result.errors ?? [])], notes: [...(result.notes ?? [])], pending }
}

function providerContext(
  { ctx, res, who, snapshot, returnTo }: CallInput,
  issued: { state?: string },
): EndSessionContext {
  return {
    claims: who.token?.claims,
    sid: who.sid,
    get returnTo() {
      return returnTo.url
    },
    read(source) {
      const parsed = parseSource(source, 'source', ['header', 'cookie', 'session'])
      return ctx.read(parsed, snapshot)
    },
    setCookie(name, value, spec = {}) {
      if (!isCookieName(name)) throw optionError(`"${name}" is not a valid cookie name`)
      // The logout `state` is remembered: pending work is kept under it for the browser's return.
      if (name === STATE_COOKIE) issued.state = value
      const { maxAge, ...attributes } = spec
      appendSetCookie(res, [serializeCookie({ ...attributes, name }, value, { maxAge: maxAge ?? 600 })])
    },
    req: ctx.req,
    res,
  }
}
