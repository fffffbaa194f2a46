import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import type { JWTPayload } from 'jose'
import type { EndSessionContext } from '../../lib/index.js'

/** A cookie an adapter set through `context.setCookie`. */
export interface SetCookieCall {
  name: string
  value: string
  spec: Record<string, unknown> | undefined
}

/** What `makeContext` accepts: the verified claims, returnTo, and what the request carries. */
export interface ContextInput {
  returnTo?: string
  sid?: string
  claims?: JWTPayload
  /** Values `read()` returns, keyed by source (`'session:idToken'`, `'cookie:DSR'`, `'header'`). */
  values?: Record<string, string>
}

/** A hand-built {@link EndSessionContext}, as the logout route would pass it, plus what it recorded. */
export function makeContext(
  input: ContextInput = {},
): EndSessionContext & { cookies: SetCookieCall[]; reads: string[] } {
  const req = new IncomingMessage(new Socket())
  const res = new ServerResponse(req)
  const cookies: SetCookieCall[] = []
  const reads: string[] = []
  return {
    claims: input.claims ?? (input.sid ? { sid: input.sid } : undefined),
    sid: input.sid,
    returnTo: input.returnTo === undefined ? undefined : new URL(input.returnTo),
    read(source) {
      reads.push(source)
      return input.values?.[source]
    },
    setCookie(name, value, spec) {
      cookies.push({ name, value, spec })
    },
    req,
    res,
    cookies,
    reads,
  }
}

/** The query of a redirect as a plain object, so a whole URL is compared parameter by parameter. */
export function queryOf(url: URL | undefined): Record<string, string> {
  if (!url) throw new Error('expected a redirect URL')
  return Object.fromEntries(url.searchParams)
}

/** The part of a URL before the query. */
export function endpointOf(url: URL | undefined): string {
  if (!url) throw new Error('expected a redirect URL')
  return `${url.origin}${url.pathname}`
}
