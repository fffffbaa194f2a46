/** `cognito()`: Amazon Cognito's own `/logout` endpoint. */
import { optionError } from '../options/check.js'
import type { EndSessionContext, EndSessionResult, Provider } from './contract.js'
import { optionalString, optionsRecord, requiredString } from './check.js'
import { appendPath, atPath, hostOrigin, withParams } from './url.js'

/** Options of {@link cognito}. */
export interface CognitoOptions {
  /** The user pool domain (`auth.example.com` or `acme.auth.eu-west-1.amazoncognito.com`). */
  domain: string
  /** The app client id. */
  clientId: string
  /**
   * The user pool id (`eu-west-1_AbCdEf123`). With it, the issuer and JWKS default to the pool's
   * (`https://cognito-idp.{region}.amazonaws.com/{userPoolId}`); without it, set `accessToken.issuer`/`jwks`.
   */
  userPoolId?: string | undefined
}

const POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d)_[A-Za-z0-9]+$/

/**
 * Amazon Cognito: `GET https://{domain}/logout?client_id=..&logout_uri=..`. This is Cognito's own
 * endpoint, not OIDC end-session: `logout_uri` must be one of the app client's "Allowed sign-out
 * URLs", and it does not log the user out of federated OIDC or social IdPs (Amazon Cognito's LOGOUT endpoint documentation).
 *
 * @example
 * ```ts
 * logout({ provider: cognito({ domain: 'auth.example.com', clientId: '1h2j3k', userPoolId: 'eu-west-1_AbC' }) })
 * ```
 */
export function cognito(options: CognitoOptions): Provider {
  const o = optionsRecord('cognito', options, ['domain', 'clientId', 'userPoolId'])
  const endpoint = atPath(hostOrigin('cognito.domain', requiredString('cognito', o, 'domain')), '/logout')
  const clientId = requiredString('cognito', o, 'clientId')
  const pool = optionalString(
    'cognito',
    o,
    'userPoolId',
    'there is no default issuer or JWKS: access tokens verify only with accessToken.issuer and jwks',
  )
  const region = pool === undefined ? undefined : POOL_ID.exec(pool)?.[1]
  if (pool !== undefined && region === undefined) {
    throw optionError('"cognito.userPoolId" must look like "eu-west-1_AbCdEf123"')
  }
  const issuer =
    pool && region ? appendPath(new URL(`https://cognito-idp.${region}.amazonaws.com`), pool).href : undefined
  const jwksUri = issuer ? appendPath(new URL(issuer), '.well-known', 'jwks.json').href : undefined
  return {
    name: 'cognito',
    issuer,
    clientId,
    needsAbsoluteReturnTo: true,
    metadata: () => ({ jwksUri }),
    endSession: function cognitoLogout(context: EndSessionContext): EndSessionResult {
      return { redirect: withParams(endpoint, { client_id: clientId, logout_uri: context.returnTo?.href }) }
    },
  }
}
