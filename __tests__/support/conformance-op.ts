import { createHash, createPublicKey, generateKeyPairSync, randomBytes, randomInt } from 'node:crypto'
import { randomUUID, timingSafeEqual } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CompactSign } from 'jose'

/**
 * A local stand-in for the OpenID Foundation conformance suite's OP in the
 * `oidcc-client-logout-test-plan` (static client, `code` response type, `client_secret_basic`,
 * plain HTTP requests). It is shaped after the suite's behaviour, not its code: the same discovery
 * document, the same JWKS (several signing keys per type and none with `alg`), the same ID token
 * and logout token claims, the same mutations of the logout token per module, the same checks on
 * the end-session request and the same front-channel pages, each described in
 * `__tests__/conformance/notes.md` with the suite files it comes from.
 *
 * Each stand-in runs one module. Like the suite it records FAILURE and WARNING results of the
 * conditions it evaluates, and it decides when the module would finish; a test waits for
 * {@link ConformanceOp.finished} instead of sleeping.
 */

/** The modules of `oidcc-client-logout-test-plan`, by their published test names. */
export const MODULES = [
  'oidcc-client-test-session-management',
  'oidcc-client-test-rp-init-logout',
  'oidcc-client-test-rp-init-logout-other-state',
  'oidcc-client-test-rp-init-logout-no-state',
  'oidcc-client-test-rp-frontchannel-rpinitlogout',
  'oidcc-client-test-rp-frontchannel-opinitlogout',
  'oidcc-client-test-rp-backchannel-rpinitlogout',
  'oidcc-client-test-rp-backchannel-rpinitlogout-alg-none',
  'oidcc-client-test-rp-backchannel-rpinitlogout-no-event',
  'oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce',
  'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg',
  'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud',
  'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event',
  'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss',
] as const
export type ModuleName = (typeof MODULES)[number]

/** How a module changes the logout token (or its signature) before sending it. */
export type LogoutTokenMutation =
  'none' | 'alg-none' | 'no-event' | 'with-nonce' | 'wrong-alg' | 'wrong-aud' | 'wrong-event' | 'wrong-iss'

type Kind = 'rp-init' | 'frontchannel-rp-init' | 'frontchannel-op-init' | 'backchannel' | 'session-management'

interface ModuleSpec {
  kind: Kind
  /** What the OP does to `state` on the way back (the two `rp-init-logout` variants). */
  state?: 'other' | 'omit'
  mutation?: LogoutTokenMutation
  /** The back-channel answer the module requires (absent: only the cache headers are checked). */
  expectedBackchannelStatus?: 200 | 400
}

const SPECS: Record<ModuleName, ModuleSpec> = {
  'oidcc-client-test-session-management': { kind: 'session-management' },
  'oidcc-client-test-rp-init-logout': { kind: 'rp-init', mutation: 'none' },
  'oidcc-client-test-rp-init-logout-other-state': { kind: 'rp-init', state: 'other', mutation: 'none' },
  'oidcc-client-test-rp-init-logout-no-state': { kind: 'rp-init', state: 'omit', mutation: 'none' },
  'oidcc-client-test-rp-frontchannel-rpinitlogout': { kind: 'frontchannel-rp-init' },
  'oidcc-client-test-rp-frontchannel-opinitlogout': { kind: 'frontchannel-op-init' },
  'oidcc-client-test-rp-backchannel-rpinitlogout': {
    kind: 'backchannel',
    mutation: 'none',
    expectedBackchannelStatus: 200,
  },
  'oidcc-client-test-rp-backchannel-rpinitlogout-alg-none': {
    kind: 'backchannel',
    mutation: 'alg-none',
    expectedBackchannelStatus: 400,
  },
  'oidcc-client-test-rp-backchannel-rpinitlogout-no-event': {
    kind: 'backchannel',
    mutation: 'no-event',
    expectedBackchannelStatus: 400,
  },
  'oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce': {
    kind: 'backchannel',
    mutation: 'with-nonce',
    expectedBackchannelStatus: 400,
  },
  'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg': {
    kind: 'backchannel',
    mutation: 'wrong-alg',
    expectedBackchannelStatus: 400,
  },
  'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud': {
    kind: 'backchannel',
    mutation: 'wrong-aud',
    expectedBackchannelStatus: 400,
  },
  'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event': {
    kind: 'backchannel',
    mutation: 'wrong-event',
    expectedBackchannelStatus: 400,
  },
  'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss': {
    kind: 'backchannel',
    mutation: 'wrong-iss',
    expectedBackchannelStatus: 400,
  },
}

/** The mutation a module applies to its logout token. */
export function mutationOf(module: ModuleName): LogoutTokenMutation | undefined {
  return SPECS[module].mutation
}

/** The back-channel status a module requires of the RP, if it checks one. */
export function expectedBackchannelStatus(module: ModuleName): 200 | 400 | undefined {
  return SPECS[module].expectedBackchannelStatus
}

/** The static client the tester configures (metadata names of Dynamic Client Registration §2). */
export interface StaticClient {
  client_id: string
  client_secret: string
  redirect_uris: string[]
  post_logout_redirect_uris: string[]
  backchannel_logout_uri?: string
  frontchannel_logout_uri?: string
  frontchannel_logout_session_required?: boolean
  /** Absent: the suite registers its own default (the first signing key's type: RS256). */
  id_token_signed_response_alg?: 'RS256' | 'ES256'
}

export interface ModuleOutcome {
  /** `WAITING` until the module would call fireTestFinished (or fireTestSkipped). */
  status: 'WAITING' | 'FINISHED' | 'SKIPPED'
  /** `Condition: message` for every condition that failed with FAILURE. */
  failures: string[]
  /** `Condition: message` for every condition that failed with WARNING. */
  warnings: string[]
  /** The front-channel modules end in "review needed": the suite cannot see inside the iframe. */
  reviewNeeded: boolean
}

/** One back-channel logout request the OP sent, and what the RP answered. */
export interface BackchannelCall {
  mutation: LogoutTokenMutation
  logoutToken: string
  claims: Record<string, unknown>
  status: number
  cacheControl: string | undefined
  body: string
}

/** What the end-session endpoint received (query for GET, form body for POST). */
export interface EndSessionRequest {
  method: string
  params: URLSearchParams
}

export interface ConformanceOp {
  module: ModuleName
  /** The suite's base URL, with a path like the hosted suite's `/test/a/ALIAS`. */
  baseUrl: string
  /** Issuer identifier: the base URL with a trailing slash, as the suite publishes it. */
  issuer: string
  discovery: Record<string, unknown>
  /** The public JWKS served at `jwks_uri`. */
  jwks: { keys: Array<Record<string, unknown>> }
  outcome: ModuleOutcome
  /** Resolves when the module stops waiting (finished, skipped, or stopped on a failure). */
  finished: Promise<ModuleOutcome>
  /** Every ID token the OP issued (the suite's `all_issued_id_tokens`). */
  issuedIdTokens: Set<string>
  /** The current OP session (`session_state_data`), removed by the end-session endpoint. */
  session: { sid: string; sessionState: string } | undefined
  endSessionRequests: EndSessionRequest[]
  /** The back-channel requests the module sent (not those of {@link ConformanceOp.sendBackchannelLogout}). */
  backchannelCalls: BackchannelCall[]
  /**
   * `-rp-frontchannel-opinitlogout` only: resolves, after the token request, with the page the
   * suite then sends the tester's browser to (`frontchannel_logout_handler`).
   */
  opInitiatedLogout: Promise<string>
  /** The static client configuration; call once the RP's URLs are known, before logging in. */
  configure(client: StaticClient): void
  /**
   * Not a suite step: builds a logout token for the live session exactly as the module would
   * (claims, mutation, signature) and sends it now, while the RP's session still exists, so a test
   * can see what the RP does with it besides its status code.
   */
  sendBackchannelLogout(mutation: LogoutTokenMutation): Promise<BackchannelCall>
  close(): Promise<void>
}

/** The sub the suite's user_info always has (its OIDCCLoadUserInfo). */
export const SUITE_SUB = 'user-subject-1234531'

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout'
const IGNORED_CLAIM =
  'Logout Tokens MAY contain other Claims. Any Claims used that are not understood MUST be ignored.'
const IGNORED_PARAMETER =
  'The POST body MAY contain other values in addition to logout_token. ' +
  'Values that are not understood by the implementation MUST be ignored.'

/** JWS algorithms of nimbus-jose-jwt 10.9's `JWSAlgorithm.Family.SIGNATURE` (RSA, EC, ED), in order. */
const SIGNATURE_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES256K',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'Ed448',
]
const HMAC_ALGS = ['HS256', 'HS384', 'HS512']
const JWE_ALGS = [
  'RSA1_5',
  'RSA-OAEP',
  'RSA-OAEP-256',
  'RSA-OAEP-384',
  'RSA-OAEP-512',
  'ECDH-ES',
  'ECDH-ES+A128KW',
  'ECDH-ES+A192KW',
  'ECDH-ES+A256KW',
  'A128KW',
  'A192KW',
  'A256KW',
  'A128GCMKW',
  'A192GCMKW',
  'A256GCMKW',
  'dir',
]
const JWE_ENCS = ['A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512', 'A128GCM', 'A192GCM', 'A256GCM']
const CLAIMS_SUPPORTED = [
  'sub',
  'name',
  'given_name',
  'family_name',
  'middle_name',
  'nickname',
  'preferred_username',
  'gender',
  'birthdate',
  'address',
  'zoneinfo',
  'locale',
  'phone_number',
  'phone_number_verified',
  'email',
  'email_verified',
  'website',
  'profile',
  'updated_at',
  'txn',
]

/** The suite's discovery document (OIDCCGenerateServerConfigurationWithSessionManagement). */
function discoveryFor(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}authorize`,
    token_endpoint: `${issuer}token`,
    jwks_uri: `${issuer}jwks`,
    userinfo_endpoint: `${issuer}userinfo`,
    registration_endpoint: `${issuer}register`,
    scopes_supported: ['openid', 'phone', 'profile', 'email', 'address', 'offline_access'],
    response_types_supported: [
      'code',
      'id_token code',
      'token code id_token',
      'id_token',
      'token id_token',
      'token code',
      'token',
    ],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    token_endpoint_auth_methods_supported: [
      'client_secret_basic',
      'client_secret_post',
      'client_secret_jwt',
      'private_key_jwt',
    ],
    token_endpoint_auth_signing_alg_values_supported: [...SIGNATURE_ALGS, ...HMAC_ALGS],
    grant_types_supported: ['authorization_code', 'implicit'],
    claims_parameter_supported: true,
    acr_values_supported: ['PASSWORD'],
    subject_types_supported: ['public', 'pairwise'],
    claim_types_supported: ['normal', 'aggregated', 'distributed'],
    claims_supported: CLAIMS_SUPPORTED,
    // Nearly every JWS algorithm, `none` first: what the OP can do, not what this client uses.
    id_token_signing_alg_values_supported: ['none', ...SIGNATURE_ALGS],
    id_token_encryption_alg_values_supported: JWE_ALGS,
    id_token_encryption_enc_values_supported: JWE_ENCS,
    request_object_signing_alg_values_supported: ['none', ...SIGNATURE_ALGS],
    request_object_encryption_alg_values_supported: JWE_ALGS,
    request_object_encryption_enc_values_supported: JWE_ENCS,
    userinfo_signing_alg_values_supported: SIGNATURE_ALGS,
    userinfo_encryption_alg_values_supported: JWE_ALGS,
    userinfo_encryption_enc_values_supported: JWE_ENCS,
    check_session_iframe: `${issuer}check_session_iframe`,
    end_session_endpoint: `${issuer}end_session_endpoint`,
    frontchannel_logout_supported: true,
    frontchannel_logout_session_supported: true,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
  }
}

interface SigningKey {
  kid: string
  kty: 'RSA' | 'EC' | 'OKP'
  crv?: string
  privateKey: KeyObject
}

interface KeySet {
  publicJwks: { keys: Array<Record<string, unknown>> }
  /** The one signing key per type the OP signs with (the suite's `server_jwks`). */
  signing: SigningKey[]
}

type KeySpec =
  | { type: 'rsa'; use: 'sig' | 'enc'; alg?: string }
  | { type: 'ec'; curve: 'P-256' | 'secp256k1'; use: 'sig' | 'enc'; alg?: string }
  | { type: 'ed25519'; use: 'sig' }

let pool: Promise<KeyObject[]> | undefined

/**
 * The suite's key set (OIDCCGenerateServerJWKs): two RSA, two P-256, one secp256k1 and one Ed25519
 * signing key, all with `kid` and `use: sig` and none with `alg`, plus one RSA-OAEP and one ECDH-ES
 * encryption key. Of each signing type one key, chosen at random, is the one the OP signs with.
 * Key pairs are generated once per test file (the suite also draws from a pre-generated pool);
 * `kid`s are new for every OP.
 */
async function keySet(): Promise<KeySet> {
  const specs: KeySpec[] = [
    { type: 'rsa', use: 'sig' },
    { type: 'rsa', use: 'sig' },
    { type: 'ec', curve: 'P-256', use: 'sig' },
    { type: 'ec', curve: 'P-256', use: 'sig' },
    { type: 'ec', curve: 'secp256k1', use: 'sig' },
    { type: 'ed25519', use: 'sig' },
    { type: 'rsa', use: 'enc', alg: 'RSA-OAEP' },
    { type: 'ec', curve: 'P-256', use: 'enc', alg: 'ECDH-ES' },
  ]
  pool ??= Promise.resolve(specs.map(generate))
  const privateKeys = await pool
  const keys = specs.map((spec, i) => ({ spec, privateKey: privateKeys[i]!, kid: randomUUID() }))
  const publicJwks = {
    keys: keys.map(({ spec, privateKey, kid }) => ({
      ...(createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, unknown>),
      kid,
      use: spec.use,
      ...('alg' in spec && spec.alg ? { alg: spec.alg } : {}),
    })),
  }
  const signing: SigningKey[] = []
  for (const [kty, crv] of [
    ['RSA', undefined],
    ['EC', 'P-256'],
    ['EC', 'secp256k1'],
    ['OKP', 'Ed25519'],
  ] as const) {
    const candidates = keys.filter(
      (k) => k.spec.use === 'sig' && ktyOf(k.spec) === kty && curveOf(k.spec) === crv,
    )
    const chosen = candidates[candidates.length < 2 ? 0 : randomInt(candidates.length)]!
    signing.push({ kid: chosen.kid, kty, crv, privateKey: chosen.privateKey })
  }
  return { publicJwks, signing }
}

function generate(spec: KeySpec): KeyObject {
  if (spec.type === 'rsa') return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  if (spec.type === 'ec') return generateKeyPairSync('ec', { namedCurve: spec.curve }).privateKey
  return generateKeyPairSync('ed25519').privateKey
}

function ktyOf(spec: KeySpec): 'RSA' | 'EC' | 'OKP' {
  return spec.type === 'rsa' ? 'RSA' : spec.type === 'ec' ? 'EC' : 'OKP'
}

function curveOf(spec: KeySpec): string | undefined {
  return spec.type === 'ec' ? spec.curve : spec.type === 'ed25519' ? 'Ed25519' : undefined
}

/** The key the suite picks for an algorithm (its JWKUtil.selectAsymmetricJWSKey, for the two used here). */
function keyFor(keys: KeySet, alg: string): SigningKey {
  const key =
    alg === 'ES256'
      ? keys.signing.find((k) => k.kty === 'EC' && k.crv === 'P-256')
      : alg.startsWith('RS') || alg.startsWith('PS')
        ? keys.signing.find((k) => k.kty === 'RSA')
        : undefined
  if (!key) throw new Error(`the stand-in OP signs with RS256 or ES256, not ${alg}`)
  return key
}

/** A compact JWS whose header is `{alg, kid}` only, as Nimbus's JWSHeader.Builder(alg).keyID(kid) makes. */
async function sign(keys: KeySet, alg: string, claims: Record<string, unknown>): Promise<string> {
  const key = keyFor(keys, alg)
  const payload = new TextEncoder().encode(JSON.stringify(claims))
  return new CompactSign(payload).setProtectedHeader({ alg, kid: key.kid }).sign(key.privateKey)
}

/** An unsecured JWT: the header `{"alg":"none"}`, the claims, and an empty signature. */
function unsecured(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none' })}.${part(claims)}.`
}

/** Session ids as the suite makes them: 20 letters, 10 digits, then 5 VSCHAR punctuation characters. */
function suiteSid(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
  const digits = '0123456789'
  let punctuation = ''
  for (const [from, to] of [
    [0x20, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ])
    for (let c = from!; c <= to!; c++) punctuation += String.fromCharCode(c)
  const pick = (set: string, n: number) =>
    Array.from({ length: n }, () => set[randomInt(set.length)]).join('')
  return pick(letters, 20) + pick(digits, 10) + pick(punctuation, 5)
}

function alphanumeric(length: number): string {
  const set = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  return Array.from({ length }, () => set[randomInt(set.length)]).join('')
}

/** A condition that stops the module (the suite's callAndStopOnFailure failing). */
class Stop extends Error {
  constructor(
    readonly condition: string,
    message: string,
    readonly status = 400,
  ) {
    super(message)
  }
}

/** The module was skipped (the suite's fireTestSkipped). */
class Skipped extends Error {}

interface PendingAuthorization {
  clientId: string
  redirectUri: string
  nonce?: string
  codeChallenge?: string
  codeChallengeMethod?: string
}

/**
 * Starts the stand-in OP for `module` on 127.0.0.1, port 0. The base URL has a path, as the hosted
 * suite's does, so issuer-path handling (Discovery 1.0 §4) is exercised too.
 */
export async function startConformanceOp(module: ModuleName): Promise<ConformanceOp> {
  const spec = SPECS[module]
  const keys = await keySet()
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const basePath = '/test/a/sso-logout'
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${basePath}`
  const issuer = `${baseUrl}/`
  const discovery = discoveryFor(issuer)

  let client: StaticClient | undefined
  let signingAlg = 'RS256'
  const codes = new Map<string, PendingAuthorization>()
  const accessTokens = new Set<string>()
  const flags = {
    authorization: false,
    endSession: false,
    backchannelSent: false,
    frontchannelCallback: false,
  }
  let postLogoutRedirect: string | undefined
  let frontchannelUrl: string | undefined

  let settle: (outcome: ModuleOutcome) => void = () => undefined
  const finished = new Promise<ModuleOutcome>((resolve) => (settle = resolve))
  let announceOpInit: (url: string) => void = () => undefined
  const opInitiatedLogout = new Promise<string>((resolve) => (announceOpInit = resolve))

  const op: ConformanceOp = {
    module,
    baseUrl,
    issuer,
    discovery,
    jwks: keys.publicJwks,
    outcome: { status: 'WAITING', failures: [], warnings: [], reviewNeeded: false },
    finished,
    issuedIdTokens: new Set(),
    session: undefined,
    endSessionRequests: [],
    backchannelCalls: [],
    opInitiatedLogout,
    configure(c) {
      // The suite's static-client setup: the ID-token algorithm defaults to the first signing key's
      // type (RSA, so RS256) and is then written into the client (SetClientIdTokenSignedResponseAlgToServerSigningAlg).
      signingAlg = c.id_token_signed_response_alg ?? 'RS256'
      client = { ...c, id_token_signed_response_alg: c.id_token_signed_response_alg ?? 'RS256' }
    },
    sendBackchannelLogout: async (mutation) => {
      const token = await createLogoutToken(mutation)
      return callBackchannel(token)
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }

  const fail = (condition: string, message: string) => op.outcome.failures.push(`${condition}: ${message}`)
  const warn = (condition: string, message: string) => op.outcome.warnings.push(`${condition}: ${message}`)
  const finish = (status: 'FINISHED' | 'SKIPPED') => {
    if (op.outcome.status !== 'WAITING') return
    op.outcome.status = status
    settle(op.outcome)
  }

  /** Each module's finishTestIfAllRequestsAreReceived. */
  function checkFinished(): void {
    const c = client
    const { authorization, endSession, backchannelSent, frontchannelCallback } = flags
    switch (spec.kind) {
      case 'rp-init': {
        if (!authorization || !endSession) return
        const back = Boolean(c?.backchannel_logout_uri)
        const front = Boolean(c?.frontchannel_logout_uri)
        if ((!back || backchannelSent) && (!front || frontchannelCallback) && (back || front))
          finish('FINISHED')
        return
      }
      case 'frontchannel-rp-init':
        if (authorization && endSession && frontchannelCallback) finish('FINISHED')
        return
      case 'frontchannel-op-init':
        if (authorization && frontchannelCallback) finish('FINISHED')
        return
      case 'backchannel':
        if (authorization && endSession && backchannelSent) finish('FINISHED')
        return
      case 'session-management':
        // Needs check_session_iframe postMessage calls before and after logout: never reached here.
        return
    }
  }

  function requireClient(): StaticClient {
    if (!client) throw new Stop('configure', 'the stand-in OP has no client configuration yet', 500)
    return client
  }

  async function createLogoutToken(mutation: LogoutTokenMutation): Promise<{
    token: string
    claims: Record<string, unknown>
    mutation: LogoutTokenMutation
  }> {
    const c = requireClient()
    const session = op.session
    if (!session) throw new Stop('GenerateLogoutTokenClaims', 'there is no OP session (session_state_data)')
    const iat = Math.floor(Date.now() / 1000)
    // GenerateLogoutTokenClaims: exp two minutes ahead (Back-Channel Logout §4), a claim the RP must ignore (Back-Channel Logout §2.4).
    const claims: Record<string, unknown> = {
      iss: issuer,
      sub: SUITE_SUB,
      aud: c.client_id,
      jti: randomUUID(),
      sid: session.sid,
      events: { [BACKCHANNEL_EVENT]: {} },
      iat,
      exp: iat + 120,
      ignored_claim: IGNORED_CLAIM,
    }
    if (mutation === 'no-event') delete claims.events
    if (mutation === 'wrong-event') claims.events = { 'http://schemas.openid.net/event/foobar': {} }
    if (mutation === 'with-nonce') claims.nonce = 'logout_tokens_must_not_contain_a_nonce'
    if (mutation === 'wrong-aud') claims.aud = `${c.client_id}INVALID`
    if (mutation === 'wrong-iss') claims.iss = `${issuer}INVALID`
    let token: string
    if (mutation === 'alg-none') token = unsecured(claims)
    else if (mutation === 'wrong-alg') {
      // OIDCCSignLogoutTokenWithWrongAlgorithm: ES256 for an RS256 client, else RS256, with a key
      // from the OP's own JWKS, so only the algorithm is wrong.
      token = await sign(keys, signingAlg === 'RS256' ? 'ES256' : 'RS256', claims)
    } else token = await sign(keys, signingAlg, claims)
    return { token, claims, mutation }
  }

  /** CallRPBackChannelLogoutEndpoint and the module's response checks. */
  async function callBackchannel(logout: {
    token: string
    claims: Record<string, unknown>
    mutation: LogoutTokenMutation
  }): Promise<BackchannelCall> {
    const c = requireClient()
    if (!c.backchannel_logout_uri) {
      fail('EnsureClientHasBackChannelLogoutUri', 'backchannel_logout_uri is not defined for the client')
      throw new Stop('EnsureClientHasBackChannelLogoutUri', 'no backchannel_logout_uri')
    }
    const body = new URLSearchParams({ logout_token: logout.token, ignored_parameter: IGNORED_PARAMETER })
    const response = await fetch(c.backchannel_logout_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
      body,
      redirect: 'manual',
    })
    const call: BackchannelCall = {
      mutation: logout.mutation,
      logoutToken: logout.token,
      claims: logout.claims,
      status: response.status,
      cacheControl: response.headers.get('cache-control') ?? undefined,
      body: await response.text(),
    }
    return call
  }

  function checkBackchannelResponse(call: BackchannelCall): void {
    // EnsureBackChannelLogoutEndpointResponseContainsCacheHeaders (WARNING), Back-Channel Logout §2.8.
    if (call.cacheControl === undefined)
      warn('EnsureBackChannelLogoutEndpointResponseContainsCacheHeaders', 'no cache-control header')
    else if (!call.cacheControl.split(',').some((piece) => piece.trim() === 'no-store'))
      warn('EnsureBackChannelLogoutEndpointResponseContainsCacheHeaders', 'cache-control lacks no-store')
    const expected = spec.expectedBackchannelStatus
    if (expected !== undefined && call.status !== expected)
      fail(
        `EnsureBackChannelLogoutUriResponseStatusCodeIs${expected}`,
        `backchannel_logout_uri returned HTTP ${call.status}`,
      )
  }

  function frontchannelRequestUrl(): string {
    const c = requireClient()
    if (!c.frontchannel_logout_uri) {
      fail('EnsureClientHasFrontChannelLogoutUri', 'frontchannel_logout_uri is not defined for the client')
      throw new Stop('CreateRPFrontChannelLogoutRequestUrl', 'frontchannel_logout_uri is not defined')
    }
    const url = new URL(c.frontchannel_logout_uri)
    if (c.frontchannel_logout_session_required) {
      const session = op.session
      if (!session) throw new Stop('CreateRPFrontChannelLogoutRequestUrl', 'there is no OP session')
      // The suite appends these unencoded; encoded here (see notes.md) so that a sid holding `#`,
      // `&`, `+` or `%` reaches the RP intact, as Front-Channel Logout §2's query parameters must.
      url.searchParams.append('iss', issuer)
      url.searchParams.append('sid', session.sid)
    }
    return url.href
  }

  /** The page that loads the RP's frontchannel_logout_uri in an iframe (the suite's oidccFrontChannelLogout). */
  function frontchannelPage(res: ServerResponse, postLogout: string): void {
    const data = {
      rp_frontchannel_logout_uri: frontchannelUrl,
      iframe_loaded_callback_url: `${baseUrl}/frontchannel_logout_callback`,
      post_logout_redirect_uri_redirect: postLogout,
    }
    const json = JSON.stringify(data).replace(/</g, '\\u003c')
    send(
      res,
      200,
      'text/html; charset=utf-8',
      '<!doctype html><meta charset="utf-8"><title>Front-channel logout</title>' +
        '<h1>OP initiated front channel logout</h1>' +
        `<script type="application/json" id="frontchannel">${json}</script>\n`,
    )
  }

  async function authorize(params: URLSearchParams, res: ServerResponse): Promise<void> {
    const c = requireClient()
    if (!(params.get('scope') ?? '').split(' ').includes('openid'))
      throw new Stop('EnsureAuthorizationHttpRequestContainsOpenIDScope', 'scope does not contain openid')
    if (params.get('response_type') !== 'code')
      throw new Stop('EnsureResponseTypeIsCode', 'response_type is not code')
    if (params.get('client_id') !== c.client_id) throw new Stop('EnsureMatchingClientId', 'unknown client_id')
    const redirectUri = params.get('redirect_uri') ?? ''
    if (!c.redirect_uris.includes(redirectUri))
      throw new Stop('EnsureValidRedirectUriForAuthorizationEndpointRequest', 'redirect_uri not registered')
    if (params.has('code_challenge') && params.get('code_challenge_method') !== 'S256')
      throw new Stop('EnsureAuthorizationRequestContainsPkceCodeChallenge', 'only S256 is supported')
    // GenerateSessionState: every authorization starts a new OP session with a new sid.
    const sid = suiteSid()
    const salt = alphanumeric(50)
    const browserState = alphanumeric(50)
    const origin = new URL(redirectUri).origin
    const digest = createHash('sha256')
      .update(`${c.client_id} ${origin} ${browserState} ${salt}`)
      .digest('base64url')
    op.session = { sid, sessionState: `${digest}.${salt}` }
    const code = alphanumeric(32)
    codes.set(code, {
      clientId: c.client_id,
      redirectUri,
      nonce: params.get('nonce') ?? undefined,
      codeChallenge: params.get('code_challenge') ?? undefined,
      codeChallengeMethod: params.get('code_challenge_method') ?? undefined,
    })
    const target = new URL(redirectUri)
    target.searchParams.set('code', code)
    const state = params.get('state')
    if (state !== null) target.searchParams.set('state', state)
    target.searchParams.set('session_state', op.session.sessionState)
    redirect(res, target.href)
  }

  async function token(req: IncomingMessage, form: URLSearchParams, res: ServerResponse): Promise<void> {
    const c = requireClient()
    if (form.get('grant_type') !== 'authorization_code')
      throw new Stop('handleTokenEndpointRequest', 'grant_type must be authorization_code')
    if (!basicAuthMatches(req.headers.authorization, c.client_id, c.client_secret))
      throw new Stop('ValidateClientSecretBasic', 'client authentication failed', 401)
    const pending = codes.get(form.get('code') ?? '')
    codes.delete(form.get('code') ?? '')
    if (!pending) throw new Stop('ValidateAuthorizationCode', 'unknown or used code')
    if (form.get('redirect_uri') !== pending.redirectUri)
      fail(
        'ValidateRedirectUriForTokenEndpointRequest',
        'redirect_uri differs from the authorization request',
      )
    if (pending.codeChallenge) {
      const verifier = form.get('code_verifier') ?? ''
      const computed = createHash('sha256').update(verifier).digest('base64url')
      if (computed !== pending.codeChallenge)
        throw new Stop('CheckPkceCodeVerifier', 'code_verifier mismatch')
    }
    const session = op.session
    if (!session) throw new Stop('GenerateIdTokenClaims', 'there is no OP session')
    const accessToken = alphanumeric(50)
    accessTokens.add(accessToken)
    const iat = Math.floor(Date.now() / 1000)
    // GenerateIdTokenClaims (5 minutes), CalculateAtHash, AddSidToIdTokenClaims.
    const claims: Record<string, unknown> = { iss: issuer, sub: SUITE_SUB, aud: c.client_id }
    if (pending.nonce) claims.nonce = pending.nonce
    claims.iat = iat
    claims.exp = iat + 300
    claims.at_hash = createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url')
    claims.sid = session.sid
    const idToken = await sign(keys, signingAlg, claims)
    op.issuedIdTokens.add(idToken)
    if (spec.kind === 'frontchannel-op-init') {
      // waitAndSendLogoutRequest: a moment after the token request the suite sends the tester's
      // browser to its front-channel page. The test drives that browser, so it is told the URL.
      frontchannelUrl = frontchannelRequestUrl()
      announceOpInit(`${baseUrl}/frontchannel_logout_handler`)
    }
    sendJson(res, 200, { access_token: accessToken, token_type: 'Bearer', id_token: idToken })
  }

  async function endSession(method: string, params: URLSearchParams, res: ServerResponse): Promise<void> {
    flags.endSession = true
    op.endSessionRequests.push({ method, params })
    const c = requireClient()
    const sendsBackchannel =
      spec.kind === 'backchannel' || (spec.kind === 'rp-init' && Boolean(c.backchannel_logout_uri))
    const rendersFrontchannel =
      spec.kind === 'frontchannel-rp-init' || (spec.kind === 'rp-init' && Boolean(c.frontchannel_logout_uri))
    if (spec.kind === 'rp-init' && !c.backchannel_logout_uri && !c.frontchannel_logout_uri)
      throw new Stop(
        'EnsureClientHasAtLeastOneOfBackOrFrontChannelLogoutUri',
        'at least one of backchannel_logout_uri or frontchannel_logout_uri is required',
      )
    // The logout token is made before the session is removed (it needs its sid).
    const logout = sendsBackchannel ? await createLogoutToken(spec.mutation ?? 'none') : undefined

    // ValidateIdTokenHintInRPInitiatedLogoutRequest (FAILURE, RP-Initiated Logout §2).
    const hint = params.get('id_token_hint')
    if (hint === null || !op.issuedIdTokens.has(hint))
      fail(
        'ValidateIdTokenHintInRPInitiatedLogoutRequest',
        hint === null ? 'no id_token_hint' : 'id_token_hint is not an ID token this OP issued',
      )
    // ValidatePostLogoutRedirectUri (FAILURE, RP-Initiated Logout §3.1): present and registered exactly.
    const target = params.get('post_logout_redirect_uri')
    if (target === null) fail('ValidatePostLogoutRedirectUri', 'no post_logout_redirect_uri')
    else if (!c.post_logout_redirect_uris.includes(target))
      fail('ValidatePostLogoutRedirectUri', `${target} is not a registered post_logout_redirect_uri`)
    if (spec.state !== undefined) {
      // skipTestIfStateIsOmitted, then EnsureEndSessionEndpointRequestContainsStateParameter.
      if (!params.get('state')) throw new Skipped('the optional state parameter was not sent')
    }
    if (target === null) throw new Stop('CreatePostLogoutRedirectUriRedirect', 'no post_logout_redirect_uri')

    // CreatePostLogoutRedirectUriParams, the module's customisation, CreatePostLogoutRedirectUriRedirect.
    const back = new URL(target)
    const state = params.get('state')
    if (spec.state === 'other')
      back.searchParams.append('state', state === null ? 'INVALID' : `${state}_INVALID`)
    else if (spec.state !== 'omit' && state !== null) back.searchParams.append('state', state)
    postLogoutRedirect = back.href

    if (rendersFrontchannel) frontchannelUrl = frontchannelRequestUrl()
    // LogoutByRemovingSessionState
    op.session = undefined
    if (logout) {
      // Sent before the browser gets its answer: the OP notifies the RPs, then redirects
      // (RP-Initiated Logout §3).
      const call = await callBackchannel(logout)
      op.backchannelCalls.push(call)
      checkBackchannelResponse(call)
      flags.backchannelSent = true
    }
    if (rendersFrontchannel) frontchannelPage(res, postLogoutRedirect)
    else redirect(res, postLogoutRedirect)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl)
    if (!url.pathname.startsWith(`${basePath}/`)) return send(res, 404, 'text/plain', 'not found\n')
    const path = url.pathname.slice(basePath.length + 1)
    const form = req.method === 'POST' ? new URLSearchParams(await readText(req)) : undefined
    const params = form ?? url.searchParams
    switch (path) {
      case '.well-known/openid-configuration':
        return sendJson(res, 200, discovery)
      case 'jwks':
        return sendJson(res, 200, keys.publicJwks)
      case 'authorize':
        flags.authorization = true
        return authorize(params, res)
      case 'token':
        if (!form) throw new Stop('handleTokenEndpointRequest', 'the token endpoint takes POST')
        return token(req, form, res)
      case 'userinfo': {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
        if (!bearer || !accessTokens.has(bearer)) return sendJson(res, 401, { error: 'invalid_token' })
        return sendJson(res, 200, { sub: SUITE_SUB })
      }
      case 'end_session_endpoint':
        return endSession(req.method ?? 'GET', params, res)
      case 'check_session_iframe':
        return send(
          res,
          200,
          'text/html; charset=utf-8',
          '<!doctype html><title>check_session_iframe</title>\n',
        )
      case 'get_session_state':
        return sendJson(res, 200, op.session ? { session_state: op.session.sessionState } : {})
      case 'frontchannel_logout_handler':
        // OP-initiated: the page with the RP's iframe and no redirect afterwards ("OPINIT").
        frontchannelUrl ??= frontchannelRequestUrl()
        return frontchannelPage(res, 'OPINIT')
      case 'frontchannel_logout_callback':
        // The page's iframe onload fired. The suite cannot see into a cross-site iframe, so the
        // module needs a human review of what the RP did (fireTestReviewNeeded).
        flags.frontchannelCallback = true
        op.outcome.reviewNeeded = true
        return sendJson(res, 200, { ok: true })
      default:
        // handleClientRequestForPath: any other path is an unexpected HTTP call.
        throw new Stop('handleClientRequestForPath', `unexpected HTTP call to ${path}`, 404)
    }
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).then(
      () => checkFinished(),
      (err: unknown) => {
        if (err instanceof Skipped) {
          finish('SKIPPED')
          if (!res.headersSent) send(res, 200, 'text/plain', `test skipped: ${err.message}\n`)
          return
        }
        const stop = err instanceof Stop ? err : new Stop('unexpected', String(err), 500)
        fail(stop.condition, stop.message)
        finish('FINISHED')
        if (!res.headersSent) send(res, stop.status, 'text/plain', `${stop.condition}: ${stop.message}\n`)
      },
    )
  })
  return op
}

/** RFC 6749 §2.3.1: `client_secret_basic`, id and secret form-urlencoded before base64. */
function basicAuthMatches(header: string | undefined, clientId: string, secret: string): boolean {
  const encoded = /^Basic (.+)$/.exec(header ?? '')?.[1]
  if (!encoded) return false
  const decoded = Buffer.from(encoded, 'base64').toString()
  const colon = decoded.indexOf(':')
  if (colon === -1) return false
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '))
  const given = Buffer.from(`${formDecode(decoded.slice(0, colon))}:${formDecode(decoded.slice(colon + 1))}`)
  const expected = Buffer.from(`${clientId}:${secret}`)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString()))
    req.on('error', reject)
  })
}

/** Spring's RedirectView with http10Compatible=false answers 303 See Other. */
function redirect(res: ServerResponse, location: string): void {
  res.statusCode = 303
  res.setHeader('Location', location)
  res.end()
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status
  res.setHeader('Content-Type', type)
  res.setHeader('Cache-Control', 'no-store')
  res.end(body)
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body))
}

/** A random client secret for the static client. */
export function clientSecret(): string {
  return randomBytes(24).toString('base64url')
}
