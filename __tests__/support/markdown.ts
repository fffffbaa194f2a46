import { readFileSync } from 'node:fs'
import GithubSlugger from 'github-slugger'
import { marked } from 'marked'
import type { Token } from 'marked'

/**
 * The repository's Markdown read the way GitHub renders it: marked's lexer for the structure, and
 * github-slugger for heading anchors (the ids GitHub gives headings, duplicates numbered).
 */

export interface Markdown {
  file: string
  tokens: Token[]
}

export function readMarkdown(file: string): Markdown {
  return { file, tokens: marked.lexer(readFileSync(file, 'utf8')) }
}

/** Every token of the document, depth first: block tokens, list items, table cells and inline tokens. */
export function allTokens(tokens: readonly unknown[]): Token[] {
  const found: Token[] = []
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit)
    if (typeof value !== 'object' || value === null) return
    const record = value as Record<string, unknown>
    if (typeof record.type === 'string') found.push(record as Token)
    for (const key of ['tokens', 'items', 'header', 'rows']) visit(record[key])
  }
  visit(tokens)
  return found
}

/** A heading's text as rendered (code spans and links reduced to their text). */
function plainText(tokens: readonly Token[] | undefined, fallback: string): string {
  if (!tokens) return fallback
  return tokens
    .map((t) => {
      const inner = (t as { tokens?: Token[] }).tokens
      if (inner) return plainText(inner, '')
      return (t as { text?: string }).text ?? ''
    })
    .join('')
}

/** The anchors GitHub gives the document's headings, in order. */
export function headingAnchors(md: Markdown): Set<string> {
  const slugger = new GithubSlugger()
  const anchors = new Set<string>()
  for (const token of md.tokens) {
    if (token.type !== 'heading') continue
    anchors.add(slugger.slug(plainText(token.tokens, token.text)))
  }
  return anchors
}

/** The targets of every link and image in the document. */
export function linkTargets(md: Markdown): string[] {
  return allTokens(md.tokens)
    .filter((t) => t.type === 'link' || t.type === 'image')
    .map((t) => (t as { href: string }).href)
}

/**
 * The fenced code block that follows the HTML comment containing `marker` (blank lines between
 * them allowed). Throws when there is none, so a test cannot silently run nothing.
 */
export function blockAfter(md: Markdown, marker: string): string {
  const at = md.tokens.findIndex((t) => t.type === 'html' && t.raw.includes(marker))
  if (at < 0) throw new Error(`${md.file}: no comment marked "${marker}"`)
  const next = md.tokens.slice(at + 1).find((t) => t.type !== 'space')
  if (next?.type !== 'code') throw new Error(`${md.file}: "${marker}" is not followed by a code block`)
  return `${(next as { text: string }).text}\n`
}
