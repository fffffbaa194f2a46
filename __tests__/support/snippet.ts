import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'

/**
 * Runs a code block of the documentation as a user would: saved as a file in a fresh folder and
 * started with `node`, as a real process. In that folder `sso-logout` is the built package (the
 * repository root, whose `exports` point at `dist/`, built by `pretest`) and every other package is
 * the repository's installed one.
 */

const root = resolve(__dirname, '..', '..')

export interface RunningSnippet {
  /** What the process printed on stdout, line by line. */
  stdout: string[]
  /** The first match of `ready` on stdout. */
  ready: RegExpMatchArray
  /** Stops the process (SIGTERM), waits for it to exit, and removes its folder. */
  stop(): Promise<void>
}

export interface SnippetOptions {
  /** The file name the code is saved as (`app.js`, `app.mjs`). */
  file: string
  env?: Record<string, string>
  /** A stdout line the process prints once it is ready (it listens). */
  ready: RegExp
}

/** A folder whose node_modules resolves `sso-logout` to this repository and everything else to its node_modules. */
function consumerFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sso-logout-snippet-'))
  const modules = join(dir, 'node_modules')
  mkdirSync(modules)
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name.startsWith('.')) continue
    symlinkSync(join(root, 'node_modules', name), join(modules, name), 'dir')
  }
  symlinkSync(root, join(modules, 'sso-logout'), 'dir')
  return dir
}

export async function runSnippet(code: string, options: SnippetOptions): Promise<RunningSnippet> {
  const dir = consumerFolder()
  writeFileSync(join(dir, options.file), code)
  const child = spawn(process.execPath, [options.file], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: 'test', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stdout: string[] = []
  const stderr: string[] = []
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const ready = await new Promise<RegExpMatchArray>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        stdout.push(line)
        const match = options.ready.exec(line)
        if (match) resolve(match)
      })
      void exited.then(() =>
        reject(new Error(`${options.file} exited before it was ready:\n${stderr.join('')}`)),
      )
    })
    return { stdout, ready, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
