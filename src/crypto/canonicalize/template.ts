// Quad templates: jsonld.js's RDF for a placeholder document, checked so each placeholder came back whole or not at all.
import type { CompiledTemplate } from './rdfc10.js'

/** A term as jsonld.js's toRDF emits it and rdf-canonize reads it. */
export interface Term {
  termType: string
  value: string
  datatype?: { termType: string; value: string }
  language?: string
}

export interface Quad {
  subject: Term
  predicate: Term
  object: Term
  graph: Term
}

/** A term position: constant, or (slot >= 0) a term whose value is the document's string for that slot. */
interface TemplateTerm {
  term: Term
  slot: number
}

type TemplateQuad = [TemplateTerm, TemplateTerm, TemplateTerm, TemplateTerm]

export interface Template {
  quads: TemplateQuad[]
  /** The quads as N-Quads with holes (./rdfc10.ts), compiled on first use; null when they hold terms it does not model. */
  compiled?: CompiledTemplate | null
  /** The slots the quads use. */
  slots: number[]
  /** The values of the constant terms: only a slot value equal to one of them can make two quads equal. */
  constants: Set<string>
}

/** What the verbatim check found: a template, or the slots whose placeholder jsonld.js changed, split or dropped. */
export type Analysis = { template: Template; bad?: undefined } | { template?: undefined; bad: Set<number> }

/** Placeholders are `nonce + slot + END`; letters and digits only, mixed case so any case folding shows. */
export const END = 'Zq'

/** How a nonce is found in terms, compiled once per canonizer (a case-insensitive RegExp costs ~70 µs to compile). */
export interface NoncePatterns {
  /** Every mention, with the slot number after it. */
  mention: RegExp
  /** Whether a term mentions the nonce at all: rules out most terms before any match is collected. */
  mentioned: RegExp
}

export function noncePatterns(nonce: string): NoncePatterns {
  return { mention: new RegExp(`${nonce}(\\d*)`, 'gi'), mentioned: new RegExp(nonce, 'i') }
}

/**
 * Checks every term of `dataset` against the placeholders (`placeholders[slot]`, undefined for structural slots).
 * A term that mentions the nonce in any case must be exactly one placeholder; a placeholder that never comes back
 * whole, or also comes back in part, marks its slot bad.
 */
export function analyze(dataset: Quad[], placeholders: (string | undefined)[], { mention, mentioned }: NoncePatterns): Analysis {
  const slotOf = new Map<string, number>()
  placeholders.forEach((placeholder, slot) => { if (placeholder !== undefined) slotOf.set(placeholder, slot) })
  const bad = new Set<number>()
  const whole = new Set<number>()
  const partial = (text: string): boolean => {
    if (!mentioned.test(text)) return false
    let found = false
    for (const match of text.matchAll(mention)) {
      found = true
      const slot = Number(match[1])
      // A mangled number cannot be attributed: blame every slot, the safe over-approximation.
      if (match[1] === '' || placeholders[slot] === undefined) placeholders.forEach((_, s) => bad.add(s))
      else bad.add(slot)
    }
    return found
  }
  const templateTerm = (term: Term): TemplateTerm => {
    if (term.datatype) partial(term.datatype.value)
    if (term.language !== undefined) partial(term.language)
    const slot = slotOf.get(term.value)
    if (slot === undefined) {
      partial(term.value)
      return { term, slot: -1 }
    }
    whole.add(slot)
    return { term, slot }
  }
  const quads = dataset.map((quad): TemplateQuad =>
    [templateTerm(quad.subject), templateTerm(quad.predicate), templateTerm(quad.object), templateTerm(quad.graph)])
  placeholders.forEach((placeholder, slot) => { if (placeholder !== undefined && !whole.has(slot)) bad.add(slot) })
  if (bad.size > 0) return { bad }
  const constants = new Set(quads.flatMap((quad) => quad.filter((t) => t.slot < 0).map((t) => t.term.value)))
  return { template: { quads, slots: [...whole], constants } }
}

function fill({ term, slot }: TemplateTerm, values: string[]): Term {
  if (slot < 0) return term
  return { ...term, value: values[slot]! }
}

/** The dataset for a document with slot strings `values`. */
export function substitute(template: Template, values: string[]): Quad[] {
  const quads = template.quads.map(([s, p, o, g]): Quad =>
    ({ subject: fill(s, values), predicate: fill(p, values), object: fill(o, values), graph: fill(g, values) }))
  return needsDedupe(template, values) ? dedupe(quads) : quads
}

/** Whether substituting `values` can make two quads equal (see `dedupe`). */
export function needsDedupe(template: Template, values: readonly string[]): boolean {
  return template.slots.some((slot) => template.constants.has(values[slot]!))
}

/**
 * jsonld.js merges equal nodes and values, so its dataset has no duplicates. Two template quads differ somewhere; equal
 * strings share one slot, so two slots never fill in equal values: only a slot whose value equals a constant term can
 * make two quads equal after substitution, and only then is the dataset de-duplicated.
 */
function dedupe(quads: Quad[]): Quad[] {
  const seen = new Set<string>()
  return quads.filter((quad) => {
    const key = [quad.subject, quad.predicate, quad.object, quad.graph].map(termKey).join('\u0000')
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

function termKey(term: Term): string {
  return `${term.termType}\u0001${term.value}\u0001${term.datatype?.value ?? ''}\u0001${term.language ?? ''}`
}
