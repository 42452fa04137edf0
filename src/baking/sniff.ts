// Tells a PNG from an SVG by a quick look at the first bytes, without parsing the image.
import type { BakedImageType } from './baked.js'
import { hasPngSignature } from './png-chunks.js'

/** The root element comes after at most a short prolog; an SVG whose prolog runs longer is not recognised. */
const SNIFF_BYTES = 64 * 1024
/** `svg`, optionally prefixed, as a whole tag name. */
const SVG_START_TAG = /^<(?:[A-Za-z_][\w.-]*:)?svg[\s/>]/

export function sniffImageType(bytes: Uint8Array): BakedImageType | undefined {
  if (hasPngSignature(bytes)) return 'png'
  // TextDecoder drops a leading UTF-8 byte order mark.
  if (rootIsSvg(new TextDecoder().decode(bytes.subarray(0, SNIFF_BYTES)))) return 'svg'
  return undefined
}

/** Skips whitespace, the XML declaration, processing instructions, comments and a DOCTYPE, then looks at the root tag. */
function rootIsSvg(text: string): boolean {
  let at = 0
  for (;;) {
    at += /^\s*/.exec(text.slice(at))![0].length
    const next = afterPrologItem(text, at)
    if (next === -1) return SVG_START_TAG.test(text.slice(at, at + 256))
    at = next
  }
}

/** The index just past the prolog item starting at `at`; -1 when none starts there, or it never ends. */
function afterPrologItem(text: string, at: number): number {
  if (text.startsWith('<!--', at)) return after(text, '-->', at)
  if (text.startsWith('<?', at)) return after(text, '?>', at)
  if (!text.startsWith('<!DOCTYPE', at)) return -1
  // An internal subset in brackets may hold '>' of its own: the DOCTYPE ends at the first '>' after ']'.
  const subset = text.indexOf('[', at)
  const subsetEnd = subset !== -1 && subset < text.indexOf('>', at) ? text.indexOf(']', subset) : at
  return subsetEnd === -1 ? -1 : after(text, '>', subsetEnd)
}

function after(text: string, token: string, from: number): number {
  const found = text.indexOf(token, from)
  return found === -1 ? -1 : found + token.length
}
