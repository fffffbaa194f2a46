/** The OpenID Provider adapter behind `oidc()` and every preset: revocation, then RP-Initiated Logout. */
import createDebug from 'debug'
import type {
  CompleteLogoutResult,
  EndSessionContext,
  EndSessionResult,
  Provider,
  ProviderMetadata,
} from './contract.js'
import { createDiscovery } from './discovery.js'
import type { DiscoveryDocument } from './discovery.js'
import type { RevocableToken } from './revocation.js'
import { holdBack, parseHeld, revokeAtOp, tokensToRevoke } from './oidc-revocation.js'
import { rpLogoutUrl } from './rp-logout.js'

/** Everything an OpenID Provider adapter needs, resolved: the generic `oidc()` and every preset build one. */
export interface OidcPlan {
  name: string
  issuer: string
  clientId: string
  clientSecret?: string
  /** Known end-session endpoint; `undefined`: take it from discovery. */
  endSessionEndpoint?: URL
  /** Known revocation endpoint; `undefined`: take it from discovery when `revoke` is not empty. */
  revocationEndpoint?: URL
  /** Known JWKS URL; `undefined`: take it from discovery. */
  jwksUri?: string
  idToken: string
  refreshToken: string
  /** `undefined`: the first of `header`, `cookie:access_token`, `session:accessToken` (the route's defaults). */
  accessToken?: string
  revoke: RevocableToken[]
  postLogoutRedirect: boolean
  uiLocales?: string
  logoutHint?: string
  timeout: number
  /** Send `client_id` on the end-session request (Keycloak needs it with a redirect and no hint). */
  sendClientId: boolean
  /** Without an ID token, do not redirect at all (Okta shows an error page instead of logging out). */
  requireIdTokenHint?: string
  /** The client's registered ID-token algorithm. */
  idTokenSigningAlg: string
}

const debug = createDebug('sso-logout:oidc')

/**
 * The {@link Provider} for a resolved {@link OidcPlan}: RP-Initiated Logout, with RFC 7009
 * revocation ordered so that it never keeps the OP from ending its session (see `holdBack`).
 */
export function oidcProvider(plan: OidcPlan): Provider {
  const discovery = createDiscovery(plan.issuer, plan.timeout)
  const needsDiscovery =
    plan.endSessionEndpoint === undefined || (plan.revoke.length > 0 && plan.revocationEndpoint === undefined)
  return {
    name: plan.name,
    issuer: plan.issuer,
    clientId: plan.clientId,
    idTokenSigningAlg: plan.idTokenSigningAlg,
    idTokenSource: plan.idToken,
    needsAbsoluteReturnTo: plan.postLogoutRedirect,
    async metadata(): Promise<ProviderMetadata> {
      if (plan.jwksUri !== undefined) return { jwksUri: plan.jwksUri }
      const doc = await discovery.get()
      return { jwksUri: doc.jwks_uri, idTokenSigningAlgValues: doc.id_token_signing_alg_values_supported }
    },
    // A discovery outage throws (502 after the local logout): the IdP session cannot be ended.
    endSession: async (context) =>
      endOidcSession(plan, needsDiscovery ? await discovery.get() : undefined, context),
    /** The revocations held back until the browser came back through the verified `state`. */
    async completeLogout(pending: string): Promise<CompleteLogoutResult> {
      const notes: string[] = []
      const doc = plan.revocationEndpoint === undefined ? await discovery.get() : undefined
      return { errors: await revokeAtOp(plan, doc, parseHeld(pending), notes), notes }
    },
  }
}

/** RP-Initiated Logout 1.0 §2: the end-session redirect, with the revocations ordered around it. */
async function endOidcSession(
  plan: OidcPlan,
  doc: DiscoveryDocument | undefined,
  context: EndSessionContext,
): Promise<EndSessionResult> {
  const notes: string[] = []
  const tokens = tokensToRevoke(plan, context, notes)
  const endpoint = plan.endSessionEndpoint ?? optionalUrl(doc?.end_session_endpoint)
  if (!endpoint) {
    notes.push(
      `${plan.name}: the OP has no end_session_endpoint; tokens revoked where possible, the IdP session was not ended`,
    )
    return { errors: await revokeAtOp(plan, doc, tokens, notes), notes }
  }
  const idTokenHint = context.read(plan.idToken)
  if (!idTokenHint && plan.requireIdTokenHint) {
    notes.push(plan.requireIdTokenHint)
    return { errors: await revokeAtOp(plan, doc, tokens, notes), notes }
  }
  if (!idTokenHint) {
    // RP-Initiated Logout 1.0 §2 recommends id_token_hint; without it the OP may ask the user to
    // confirm, or refuse. Keep the ID token at login: link(req, { idToken }).
    debug('no ID token in %s: id_token_hint not sent', plan.idToken)
    notes.push(
      `no ID token in ${plan.idToken}: id_token_hint was not sent, so the OP may ask the user to confirm`,
    )
  }
  const redirect = rpLogoutUrl(endpoint, context, {
    idTokenHint,
    clientId: plan.sendClientId ? plan.clientId : undefined,
    logoutHint: plan.logoutHint === 'sid' ? context.sid : plan.logoutHint && context.read(plan.logoutHint),
    uiLocales: plan.uiLocales,
    postLogoutRedirect: plan.postLogoutRedirect,
  })
  const held = holdBack(plan, tokens, redirect.searchParams.has('state'), notes)
  const errors = await revokeAtOp(plan, doc, held.now, notes)
  return { redirect, errors, notes, pending: held.later }
}

function optionalUrl(value: string | undefined): URL | undefined {
  return value === undefined ? undefined : new URL(value)
}
