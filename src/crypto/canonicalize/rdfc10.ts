// RDFC-1.0 for the common case, where every blank node's first-degree hash is unique: then the canonical labels follow
// from those hashes alone (spec §4.4 step 5.4) and no N-degree hashing is needed. A quad template is compiled once into
// N-Quads text with holes (slot values, blank node labels), so a document of a known shape costs escaping its values,
// one SHA-256 per blank node and two sorts. Anything else answers undefined and goes to rdf-canonize, whose output this
// mirrors byte for byte (rdf-canonize 4, the one the eddsa-rdfc-2022 cryptosuite uses; test/canonicalize-rdfc10.test.ts).
import { createHash } from 'node:crypto'
import type { Template, Term } from './template.js'

const RDF_LANGSTRING = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#langString'
const XSD_STRING = 'http://www.w3.org/2001/XMLSchema#string'
/** The canonical issuer's prefix: rdf-canonize leaves a label that already starts with it alone. */
const CANONICAL_PREFIX = 'c14n'

// N-Quads escaping as rdf-canonize 4 does it: ECHAR for \b \t \n \f \r " \\, UCHAR for other controls and, in IRIs,
// for space and <>"{}|^`.
const LITERAL_SPECIAL = /[\u0000-\u001F\u007F"\\]/
const LITERAL_SPECIALS = /[\u0000-\u001F\u007F"\\]/g
const IRI_SPECIAL = /[\u0000-\u0020<>"{}|^`\\]/
const IRI_SPECIALS = /[\u0000-\u0020<>"{}|^`\\]/g
const ECHAR: Record<string, string> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r', '"': '\\"', '\\': '\\\\' }
const uchar = (character: string) => `\\u${character.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`

function literalEscape(value: string): string {
  return LITERAL_SPECIAL.test(value) ? value.replace(LITERAL_SPECIALS, (c) => ECHAR[c] ?? uchar(c)) : value
}

function iriEscape(value: string): string {
  return IRI_SPECIAL.test(value) ? value.replace(IRI_SPECIALS, uchar) : value
}

/** A piece of an N-Quads line: fixed text, a slot's value escaped as an IRI or a literal, or a blank node's label. */
type Segment = string | { slot: number; literal: boolean } | { blank: string }

/** A quad template as N-Quads lines with holes. */
export interface CompiledTemplate {
  lines: Segment[][]
  /** Lines without blank nodes: their text does not depend on labelling. */
  plain: number[]
  /** Lines with blank nodes. */
  labelled: number[]
  /** Each blank node with the lines that mention it, each line once. */
  mentions: [string, number[]][]
}

/** A template term as segments; undefined for what rdf-canonize would write differently or reject. */
function segments(term: Term, slot: number, position: 'subject' | 'predicate' | 'object' | 'graph'): Segment[] | undefined {
  const { termType } = term
  if (termType === 'NamedNode') return ['<', valueSegment(term, slot, false), '>']
  if (termType === 'BlankNode') {
    // A blank node's label comes from the labelling; a slot there, or a blank predicate (generalized RDF), is not modelled.
    if (slot >= 0 || position === 'predicate' || term.value.startsWith(CANONICAL_PREFIX)) return undefined
    return [{ blank: term.value }]
  }
  if (position === 'graph') return termType === 'DefaultGraph' ? [] : undefined
  if (position !== 'object' || termType !== 'Literal' || !term.datatype) return undefined
  const datatype = term.datatype.value
  const suffix = datatype === RDF_LANGSTRING ? (term.language ? `@${term.language}` : '') : datatype === XSD_STRING ? '' : `^^<${iriEscape(datatype)}>`
  return ['"', valueSegment(term, slot, true), `"${suffix}`]
}

// Hot paths here are plain functions, not closures: tsx (esbuild keepNames) names every closure it creates at run time.
function valueSegment(term: Term, slot: number, literal: boolean): Segment {
  if (slot >= 0) return { slot, literal }
  return literal ? literalEscape(term.value) : iriEscape(term.value)
}

/** Compiles `template` for `canonize`, or answers null when it holds terms left to rdf-canonize. */
export function compile(template: Template): CompiledTemplate | null {
  const lines: Segment[][] = []
  const plain: number[] = []
  const labelled: number[] = []
  const mentions = new Map<string, number[]>()
  for (const [s, p, o, g] of template.quads) {
    const subject = segments(s.term, s.slot, 'subject')
    const predicate = segments(p.term, p.slot, 'predicate')
    const object = segments(o.term, o.slot, 'object')
    const graph = segments(g.term, g.slot, 'graph')
    if (!subject || !predicate || !object || !graph) return null
    const index = lines.length
    lines.push(merged([...subject, ' ', ...predicate, ' ', ...object, ...(graph.length > 0 ? [' ', ...graph] : []), ' .\n']))
    let blank = false
    for (const term of [s.term, o.term, g.term]) {
      if (term.termType !== 'BlankNode') continue
      blank = true
      let list = mentions.get(term.value)
      if (list === undefined) mentions.set(term.value, list = [])
      if (list[list.length - 1] !== index) list.push(index)
    }
    ;(blank ? labelled : plain).push(index)
  }
  return { lines, plain, labelled, mentions: [...mentions] }
}

/** Joins adjacent fixed texts. */
function merged(parts: Segment[]): Segment[] {
  const out: Segment[] = []
  for (const part of parts) {
    const last = out[out.length - 1]
    if (typeof part === 'string' && typeof last === 'string') out[out.length - 1] = last + part
    else out.push(part)
  }
  return out
}

/**
 * The canonical N-Quads (RDFC-1.0, SHA-256) of the document whose slot strings are `values`, or undefined when some
 * blank nodes share a first-degree hash or the template did not compile: the caller then runs rdf-canonize.
 */
export function canonize(compiled: CompiledTemplate | null, values: readonly string[]): string | undefined {
  if (compiled === null) return undefined
  const escaped: Escaped = { values, iris: [], literals: [] }
  // Hash First Degree Quads for each blank node; a hash two nodes share needs N-degree hashing: rdf-canonize's job.
  const byHash = new Map<string, string>()
  for (const [id, indexes] of compiled.mentions) {
    const lines: string[] = []
    for (const index of indexes) lines.push(render(compiled.lines[index]!, escaped, id))
    const digest = createHash('sha256').update(lines.sort().join(''), 'utf8').digest('hex')
    if (byHash.has(digest)) return undefined
    byHash.set(digest, id)
  }
  const canonical = new Map<string, string>()
  for (const digest of [...byHash.keys()].sort()) canonical.set(byHash.get(digest)!, `${CANONICAL_PREFIX}${canonical.size}`)
  const out: string[] = []
  for (const index of compiled.plain) out.push(render(compiled.lines[index]!, escaped, undefined))
  for (const index of compiled.labelled) out.push(render(compiled.lines[index]!, escaped, undefined, canonical))
  return out.sort().join('')
}

/** A document's slot values, each escaped on first use as an IRI or a literal. */
interface Escaped {
  values: readonly string[]
  iris: (string | undefined)[]
  literals: (string | undefined)[]
}

/** A line's text; blank nodes as `canonical` labels them, or (first-degree hashing) `_:a` for `self` and `_:z` else. */
function render(line: Segment[], escaped: Escaped, self: string | undefined, canonical?: Map<string, string>): string {
  let text = ''
  for (const segment of line) {
    if (typeof segment === 'string') text += segment
    else if ('blank' in segment) text += canonical ? `_:${canonical.get(segment.blank)!}` : segment.blank === self ? '_:a' : '_:z'
    else if (segment.literal) text += escaped.literals[segment.slot] ??= literalEscape(escaped.values[segment.slot]!)
    else text += escaped.iris[segment.slot] ??= iriEscape(escaped.values[segment.slot]!)
  }
  return text
}

