import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * docs/login-recipes.md shows the code its integration tests run. Each recipe's code block follows
 * a `<!-- recipe: PATH -->` comment naming the app module the test builds; the block must be that
 * module's imports (with `'sso-logout'` for the package) and the code between its `// recipe:start`
 * and `// recipe:end` markers, less the lines marked `// (test)` (what the test observes the app
 * with). Both are compared as prettier formats them, so a re-wrap at another indentation is no
 * difference, and any change of code is.
 */
const ROOT = join(__dirname, '..', '..')
const DOC = readFileSync(join(ROOT, 'docs', 'login-recipes.md'), 'utf8')
const RECIPES = [...DOC.matchAll(/<!-- recipe: (\S+) -->\s*```js\n([\s\S]*?)```/g)].map((m) => ({
  path: m[1]!,
  block: m[2]!,
}))
const PACKAGE_PATH = "'../../../lib/index.js'"

/**
 * The code as the project's prettier formats it. The CLI, in a child process: prettier's API loads
 * its plugins with dynamic `import()`, which Jest's CommonJS sandbox does not allow.
 */
function format(code: string): Promise<string> {
  const cli = join(ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs')
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [cli, '--stdin-filepath', join(ROOT, 'docs', 'recipe.js')],
      { cwd: ROOT },
      (err, stdout, stderr) =>
        err ? reject(new Error(`prettier: ${stderr || err.message}`)) : resolve(stdout),
    )
    child.stdin!.end(code)
  })
}

/** What the app module runs, as the documentation must show it. */
function recipeOf(source: string): string {
  const imports = source
    .split('\n')
    .filter((line) => line.startsWith('import '))
    .map((line) => line.replace(PACKAGE_PATH, "'sso-logout'"))
  const start = source.indexOf('// recipe:start\n')
  const end = source.indexOf('// recipe:end')
  if (start === -1 || end < start) throw new Error('no // recipe:start ... // recipe:end region')
  const body = source
    .slice(start + '// recipe:start\n'.length, end)
    .split('\n')
    .filter((line) => !line.trimEnd().endsWith('// (test)'))
  return [...imports, '', ...body].join('\n')
}

describe('docs/login-recipes.md shows the code the recipe tests run', () => {
  it('has one recipe per login library, each naming its app module', () => {
    expect(RECIPES.map((r) => r.path)).toEqual([
      '__tests__/recipes/apps/openid-client.js',
      '__tests__/recipes/apps/passport.js',
      '__tests__/recipes/apps/cookie-session.js',
      '__tests__/recipes/apps/express-openid-connect.js',
    ])
    // Every JavaScript block of the page is one of them: no code that no test runs.
    expect(DOC.match(/```js\n/g)).toHaveLength(RECIPES.length)
  })

  it.each(RECIPES.map((r) => [r.path, r.block]))('%s', async (path, block) => {
    const source = readFileSync(join(ROOT, path), 'utf8')
    expect(await format(block)).toBe(await format(recipeOf(source)))
  })

  it('a recipe that differs from its app module is caught', async () => {
    const { path, block } = RECIPES[0]!
    const source = readFileSync(join(ROOT, path), 'utf8')
    const edited = block.replace('await auth.link(req, { idToken: tokens.id_token })', 'await auth.link(req)')
    expect(edited).not.toBe(block)
    expect(await format(edited)).not.toBe(await format(recipeOf(source)))
  })
})
