// Every knob of the benchmark in one place. BENCH_QUICK=1 shrinks the run for development;
// the published figures come from the defaults.
const quick = process.env.BENCH_QUICK === '1'

export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 3))
/** Seconds of measured load per run, after a short warm-up on the same process. */
export const DURATION = Number(process.env.BENCH_DURATION ?? (quick ? 1 : 3))
export const WARMUP = quick ? 0.3 : 0.5
export const CONNECTIONS = 8
/**
 * Fresh sessions (and tokens) prepared per round. A logout run consumes one per request, so this
 * must exceed the fastest logout route's requests per run; the loader reports any reuse.
 */
export const SLICE = Number(process.env.BENCH_SLICE ?? (quick ? 4000 : 28000))
/** Logout tokens prepared per round for the back-channel runs (each carries a fresh `jti`). */
export const BC_SLICE = quick ? 3000 : 28000
/** ES256 tokens (verification only, never consumed) reused by the ES256 scenario. */
export const ES_TOKENS = 2000
/** Sessions linked in the store before the scaling runs. */
export const SCALES = quick ? [1e3, 1e5] : [1e3, 1e4, 1e5, 1e6]
/** Cross-instance propagation trials. */
export const TRIALS = quick ? 30 : 200
/** Records inserted to measure the heap per record of the memory store. */
export const HEAP_RECORDS = 100_000

export const ISSUER = 'http://127.0.0.1/bench-op/'
export const CLIENT_ID = 'bench-client'
export const SESSION_SECRET = 'bench-session-secret-of-enough-length'
export const EOC_SECRET = 'bench-express-openid-connect-secret-of-enough-length'
export const BASE_URL = 'http://127.0.0.1'
export const RETURN_TO = `${BASE_URL}/goodbye`
/** How long prepared tokens and sessions stay valid, in seconds; the whole run fits in it. */
export const TOKEN_LIFETIME = 3600
