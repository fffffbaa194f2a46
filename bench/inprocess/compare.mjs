// Before and after a change: runs some scenarios of the in-process benchmark, with this checkout's
// harness and twins, on the build of lib/ at each given commit, one commit after the other, and
// prints each build's targets and cost rows for those scenarios. The figures for bench/CHANGES.md.
// Usage: node bench/inprocess/compare.mjs SCENARIO[,SCENARIO...] COMMIT [COMMIT...]
// (BENCH_INPROCESS_ROUNDS sets the rounds, 31 by default as in a full run.)
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const [only, ...commits] = process.argv.slice(2)
if (!only || commits.length === 0) {
  process.stderr.write('usage: node bench/inprocess/compare.mjs SCENARIO[,SCENARIO...] COMMIT [COMMIT...]\n')
  process.exit(2)
}

/** Builds lib/ as it was at `commit` (with that commit's build files) into a fresh folder; returns its dist. */
function buildAt(commit) {
  const dir = mkdtempSync(join(tmpdir(), 'sso-logout-compare-'))
  const files = ['lib', 'scripts/build.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package.json']
  const archive = execFileSync('git', ['archive', commit, ...files], { cwd: root })
  execFileSync('tar', ['-x', '-C', dir], { input: archive })
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'))
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, stdio: 'inherit' })
  return { dir, dist: join(dir, 'dist') }
}

for (const commit of commits) {
  const label = execFileSync('git', ['log', '-1', '--format=%h %s', commit], { cwd: root, encoding: 'utf8' })
  const { dir, dist } = buildAt(commit)
  try {
    const run = spawnSync(process.execPath, [join(root, 'bench/inprocess/run.mjs')], {
      cwd: root,
      env: { ...process.env, BENCH_ONLY: only, BENCH_DIST: dist },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    if (run.status !== 0) throw new Error(`the benchmark failed on ${commit}`)
    const rows = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('|') && !/not run|NOT MEASURED|not available/.test(line))
    process.stdout.write(`\n## ${label.trim()}\n\n${rows.join('\n')}\n`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
