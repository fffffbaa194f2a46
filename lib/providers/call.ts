/** The logout route's call into the provider: the context it gets, and what its answer may be. */
import { optionError } from '../options/check.js'
import type { ServerResponse } from 'node:http'
import { LogoutError, asLogoutError } from '../errors.js'
import type { Config } from '../options/config.js'
import type { RequestContext } from '../request/context.js'
import { appendSetCookie, isCookieName, serializeCookie } from '../request/cookies.js'
import type { Identity } from '../request/identity.js'
import { parseSource } from '../request/sources.js'
import type { EndSessionContext } from './contract.js'

export interface ProviderOutcome {
  redirect?: URL
  errors: LogoutError[]
  notes: string[]
  /** A failure that must answer with its status (after the local logout), e.g. discovery down: 502. */
  failure?: LogoutError
}

interface CallInput {
  ctx: RequestContext
  res: ServerResponse
  who: Identity
  snapshot: Record<string, unknown>
  returnTo: URL | undefined
}

/** Lets the provider end the IdP session; the local logout has already happened whatever it does. */
export async function endSessionAtProvider(config: Config, input: CallInput): Promise<ProviderOutcome> {
  const provider = config.provider
  if (!provider) return { errors: [], notes: [] }
  try {
    const result = await provider.endSession(providerContext(input))
    const redirect = result.redirect
    if (redirect !== undefined && !(redirect instanceof URL && /^https?:$/.test(redirect.protocol))) {
      throw new LogoutError('ERR_PROVIDER_RESPONSE', `Provider ${provider.name} returned an invalid redirect`)
    }
    return { redirect, errors: [...(result.errors ?? [])], notes: [...(result.notes ?? [])] }
  } catch (err) {
    const failure = asLogoutError('ERR_PROVIDER_REQUEST', `Provider ${provider.name} failed`, err)
    return { errors: [failure], notes: [], failure }
  }
}

function providerContext({ ctx, res, who, snapshot, returnTo }: CallInput): EndSessionContext {
  return {
    claims: who.token?.claims,
    sid: who.sid,
    returnTo,
    read(source) {
      const parsed = parseSource(source, 'source', ['header', 'cookie', 'session'])
      return ctx.read(parsed, snapshot)
    },
    setCookie(name, value, spec = {}) {
      if (!isCookieName(name)) throw optionError(`"${name}" is not a valid cookie name`)
      const { maxAge, ...attributes } = spec
      appendSetCookie(res, [serializeCookie({ ...attributes, name }, value, { maxAge: maxAge ?? 600 })])
    },
    req: ctx.req,
    res,
  }
}
