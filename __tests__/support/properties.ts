import type fc from 'fast-check'

/**
 * fast-check parameters for every property: 1,000 runs, a seed taken from `FC_SEED` (to replay a
 * failure) or drawn and printed, so any CI failure can be reproduced from its log.
 */
export function propertyParams(numRuns = 1000): fc.Parameters<unknown> {
  const fromEnv = process.env.FC_SEED === undefined ? Number.NaN : Number(process.env.FC_SEED)
  const seed = Number.isInteger(fromEnv) ? fromEnv : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
  process.stdout.write(`fast-check seed ${seed} (replay with FC_SEED=${seed})\n`)
  return { numRuns, seed, verbose: 1, endOnFailure: true }
}
