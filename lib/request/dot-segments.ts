/** Dot segments in any depth of percent-encoding: what a prefix entry of `returnTo` must not admit. */

/** One percent-encoded octet (RFC 3986 §2.1); a `%` left over by a decoding round is kept as is. */
const ESCAPE = /%([0-9a-f]{2})/gi
/**
 * How many times a path under a prefix entry may change when percent-decoded again. RFC 3986 §2.4
 * forbids decoding a string twice, but proxies, frameworks and apps that do exist, and each layer of
 * `%25` hides the next; no real link needs more than a few. A path that still changes after this many
 * rounds is refused, whatever it would end up as.
 */
const MAX_DECODE_ROUNDS = 8
/**
 * A dot segment (RFC 3986 §3.3) once fully decoded, with or without `;params` after it: Servlet
 * containers strip path parameters before resolving `..`, so `..;x` is a `..` to them.
 */
const DOT_SEGMENT = /^\.\.?(?:;|$)/
/**
 * Whether any segment of `path` is a dot segment once percent-decoding no longer changes it, or
 * `path` is still changing after {@link MAX_DECODE_ROUNDS}. Octets are decoded one by one, not as
 * UTF-8: a dot is one ASCII octet, and a strict UTF-8 decoder would throw on what a lenient server
 * accepts. Segments are split after decoding, so an encoded `/` (`%252f`) that a server decodes
 * into a separator separates here too.
 */
export function hasDotSegment(path: string): boolean {
  let decoded = path
  for (let round = 0; ; round++) {
    const next = decoded.replace(ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    if (next === decoded) break
    if (round === MAX_DECODE_ROUNDS) return true
    decoded = next
  }
  // `\` is a separator to WHATWG parsers and to Windows servers alike.
  return decoded.split(/[/\\]/).some((segment) => DOT_SEGMENT.test(segment))
}
