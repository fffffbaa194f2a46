/** The RP-Initiated Logout 1.0 request URL, shared by every redirecting OIDC adapter. */
import type { EndSessionContext } from './contract.js'
import { issueState } from './state.js'
import { withParams } from './url.js'

/** The parameters of one RP-Initiated Logout request (RP-Initiated Logout 1.0 §2). */
export interface RpLogoutParams {
  idTokenHint?: string
  logoutHint?: string
  clientId?: string
  uiLocales?: string
  /** Send `post_logout_redirect_uri` (= the validated `returnTo`) and a `state` to check on return. */
  postLogoutRedirect: boolean
  /** Provider-specific extras (Auth0's `federated`). */
  extra?: Record<string, string | true | undefined>
}

/**
 * The end-session URL the browser is sent to. `state` is only issued together with a
 * `post_logout_redirect_uri`: the OP returns it only when it redirects back (§3).
 */
export function rpLogoutUrl(endpoint: URL, context: EndSessionContext, params: RpLogoutParams): URL {
  const returnTo = params.postLogoutRedirect ? context.returnTo : undefined
  return withParams(endpoint, {
    id_token_hint: params.idTokenHint,
    logout_hint: params.logoutHint,
    client_id: params.clientId,
    post_logout_redirect_uri: returnTo?.href,
    state: returnTo ? issueState(context) : undefined,
    ui_locales: params.uiLocales,
    ...params.extra,
  })
}
