// The reports are Markdown files in the repository: formatted with its Prettier settings, so
// format checks pass on them as written.
export async function formatted(file, text) {
  try {
    const prettier = await import('prettier')
    const options = (await prettier.resolveConfig(file)) ?? {}
    return await prettier.format(text, { ...options, parser: 'markdown' })
  } catch {
    return text
  }
}
