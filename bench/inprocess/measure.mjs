// What one round of one variant costs, measured inside the process that runs it.
//
// CPU: process.cpuUsage() (user + system) over the round, which counts every thread of the
// process: the main thread, the garbage collector's helpers, and the libuv pool where WebCrypto
// (jose's RS256) verifies. It is the process's own work, not the machine's, so other load on the
// machine slows the round down without adding to it (beyond cache and frequency effects, which the
// pairing of neighbouring runs cancels).
//
// Allocations: bytes allocated on the V8 heap. V8's used heap size grows by every allocation and
// shrinks only in a garbage collection, and v8.GCProfiler records the used size before and after
// each collection during the round, so
//   allocated = used(end) - used(start) + sum over collections of (used before - used after)
// holds whether or not the round collected, with no --expose-gc and no change to the heap's
// configuration (which would change the CPU figures too). Off-heap memory (Buffer contents,
// WebCrypto's native objects) is not counted.
import v8 from 'node:v8'

const usedHeap = () => v8.getHeapStatistics().used_heap_size

/**
 * Runs `ops` (a prepared list of argument-less async operations, one after the other) and
 * resolves to `{ cpuUs, allocBytes, wallMs, gcs, gcMs, results }`; `results` are what the
 * operations resolved to, for the caller to check outside the measured window.
 */
export async function measureRound(ops) {
  const results = new Array(ops.length)
  const profiler = new v8.GCProfiler()
  profiler.start()
  const heapStart = usedHeap()
  const cpuStart = process.cpuUsage()
  const wallStart = performance.now()
  for (let i = 0; i < ops.length; i++) results[i] = await ops[i]()
  const wallMs = performance.now() - wallStart
  const cpu = process.cpuUsage(cpuStart)
  const heapEnd = usedHeap()
  const { statistics } = profiler.stop()
  let freed = 0
  let gcUs = 0
  for (const gc of statistics) {
    freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize
    gcUs += gc.cost
  }
  return {
    cpuUs: cpu.user + cpu.system,
    allocBytes: heapEnd - heapStart + freed,
    wallMs,
    gcs: statistics.length,
    gcMs: gcUs / 1000,
    results,
  }
}
