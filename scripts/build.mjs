// Builds dist/esm and dist/cjs from one source tree with tsc, then marks each
// folder's module type so Node loads the right format for each entry of `exports`.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
rmSync('dist', { recursive: true, force: true })

const targets = [
  { dir: 'dist/esm', module: 'ES2022', moduleResolution: 'Bundler', type: 'module' },
  { dir: 'dist/cjs', module: 'CommonJS', moduleResolution: 'Node10', type: 'commonjs' },
]
for (const t of targets) {
  const args = ['-p', 'tsconfig.build.json', '--outDir', t.dir, '--module', t.module]
  if (t.moduleResolution) args.push('--moduleResolution', t.moduleResolution)
  execFileSync(process.execPath, [tsc, ...args], { stdio: 'inherit' })
  writeFileSync(`${t.dir}/package.json`, JSON.stringify({ type: t.type }) + '\n')
}
