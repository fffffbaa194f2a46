// Order statistics for the paired ratios, and the verdict rule both benchmarks share.

export function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const at = (s.length - 1) * q
  const lo = Math.floor(at)
  return s[lo] + (s[Math.ceil(at)] - s[lo]) * (at - lo)
}

export const median = (values) => quantile(values, 0.5)

/** P(X <= k) for X ~ Binomial(n, 1/2). */
function binomialCdf(k, n) {
  let term = 0.5 ** n
  let sum = term
  for (let i = 1; i <= k; i++) {
    term = (term * (n - i + 1)) / i
    sum += term
  }
  return sum
}

/**
 * A distribution-free confidence interval of the median: [x(k), x(n+1-k)] of the sorted values,
 * with the largest k whose coverage 1 - 2 P(X < k) is still at least `level` (X the number of
 * values below the true median, Binomial(n, 1/2)). It assumes nothing about the shape of the
 * ratios, only that rounds are independent. With few rounds no k reaches `level`; the interval is
 * then min-max and its coverage is returned as it is (5 rounds: 94 %; 3 rounds: 75 %).
 */
export function medianInterval(values, level = 0.95) {
  const s = [...values].sort((a, b) => a - b)
  const n = s.length
  if (n === 0) return { low: NaN, high: NaN, coverage: 0 }
  let k = 1
  while (k + 1 <= Math.floor((n + 1) / 2) && 1 - 2 * binomialCdf(k, n) >= level) k++
  return { low: s[k - 1], high: s[n - k], coverage: 1 - 2 * binomialCdf(k - 1, n) }
}

/**
 * MET when the whole interval is on the target's side of the threshold, NOT MET when the whole
 * interval is on the other side, UNDECIDED when it straddles the threshold: then this run cannot
 * tell, whatever its median says.
 */
export function verdict({ low, high }, direction, threshold) {
  if (!Number.isFinite(low) || !Number.isFinite(high)) return 'NOT MEASURED'
  const good = (x) => (direction === '>=' ? x >= threshold : x <= threshold)
  if (good(low) && good(high)) return 'MET'
  if (!good(low) && !good(high)) return 'NOT MET'
  return 'UNDECIDED'
}
