// Knobs of the in-process benchmark. BENCH_QUICK=1 is a smoke run (a few rounds, short ones, the
// large store at 1e5 instead of 1e6): it checks that every scenario works, not what it costs.
export const QUICK = process.env.BENCH_QUICK === '1'

/**
 * Measured rounds per scenario. 31 paired ratios give a 97 % distribution-free interval of their
 * median from the 10th to the 22nd of them: tight enough to decide a 5 % target when the pairs
 * agree to a few percent, and honest (UNDECIDED) when they do not.
 */
export const ROUNDS = Number(process.env.BENCH_INPROCESS_ROUNDS ?? (QUICK ? 5 : 31))
/** Turns per variant within a round (see runRound in run.mjs). */
export const CHUNKS = QUICK ? 2 : 10
/**
 * Rounds run and thrown away first: the JIT, the caches and the stores settle. Eight, because
 * BENCH_TRACE=1 showed the CPU per operation of the memory scenarios still falling by a quarter
 * to a third between the 4th round and the 8th (optimised code replacing baseline code), which
 * with three warm-up rounds put the slowest rounds of the run, and the widest ratios, among the
 * measured ones.
 */
export const WARMUP_ROUNDS = QUICK ? 1 : 8
/** Operations per round are each scenario's `ops` times this. */
export const OPS_FACTOR = QUICK ? 0.1 : 1
/** The two store sizes of the scaling scenarios. */
export const SMALL_STORE = 1e3
export const LARGE_STORE = QUICK ? 1e5 : 1e6
/** Users whose tokens the guard scenarios cycle through (guard consumes nothing). */
export const GUARD_USERS = QUICK ? 100 : 1000
/** Revocations recorded in the guard scenarios' stores before they run: a store in use. */
export const GUARD_REVOKED = 1000
/** Ceiling of the memory store in every scenario, above the largest one's records. */
export const MEMORY_MAX_ENTRIES = 4_000_000
