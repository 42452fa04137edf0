// Canonical N-Quads for JSON-LD, byte-identical to jsonld.js + rdf-canonize, from a quad template per document shape.
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import jsonldModule from '@digitalcredentials/jsonld'
import { Lru } from '../../lru.js'
import { canonize as canonizeCompiled, compile } from './rdfc10.js'
import { placeholderFor, readShape, rewrite, shapeKey, type NotCacheable, type Shape } from './shape.js'
import { analyze, END, needsDedupe, noncePatterns, substitute, type Quad, type Template } from './template.js'
import { DynamicContext, termsOf, type Loader } from './terms.js'

interface RdfCanonize {
  canonize(dataset: Quad[], options: object): Promise<string>
}

const jsonld = jsonldModule as unknown as { toRDF(input: unknown, options: object): Promise<Quad[]> }
const require = createRequire(import.meta.url)
/** The rdf-canonize the eddsa-rdfc-2022 cryptosuite imports (RDFC-1.0). */
const rdfc10 = require('rdf-canonize') as RdfCanonize
/** The older rdf-canonize that jsonld.canonize uses (URDNA2015), which Ed25519Signature2020 signs with. */
const urdna2015 = createRequire(require.resolve('@digitalcredentials/jsonld'))('rdf-canonize') as RdfCanonize

export type FallbackReason =
  | NotCacheable
  /** Options the cache does not model (a base IRI, another algorithm, skipExpansion, native canonize...). */
  | 'unsupported-options'
  /** A context came from the loader without `tag: 'static'`. */
  | 'dynamic-context'
  /** jsonld.js (or the loader) rejects the document: its error is rethrown as is. */
  | 'jsonld-error'
  /** Reading the contexts' terms failed (the loader threw) yet jsonld.js did not. */
  | 'loader-error'
  /** The placeholder document failed where the real one did not: this shape always goes to jsonld.js. */
  | 'template-error'
  /** Placeholders kept turning out structural: this shape always goes to jsonld.js. */
  | 'unstable-template'

export interface CanonicalizationStats {
  /** Documents canonized from a cached template. */
  hits: number
  /** Documents whose template was built (first sight of their shape and structural values). */
  misses: number
  /**
   * Of the RDFC-1.0 hits and misses, those whose quads went to rdf-canonize's general algorithm instead of the compiled
   * path (./rdfc10.ts): blank nodes whose first-degree hashes tie, a substitution that merged quads, terms it does not model.
   */
  generalCanonicalization: number
  fallbacks: Partial<Record<FallbackReason, number>>
}

/** Counters at zero: where a canonizer starts, and where a sum over the proof threads starts. */
export function emptyStatistics(): CanonicalizationStats {
  return { hits: 0, misses: 0, generalCanonicalization: 0, fallbacks: {} }
}

export interface CanonizerOptions {
  /** Shapes (and, per shape, structural-value variants) kept per document loader. */
  maxShapes?: number
  /** Rounds of "rebuild with the offending slots structural" before a shape is left to jsonld.js. */
  maxRounds?: number
}

/** How one library entry point turns a document into N-Quads; the template path must mirror it exactly. */
interface Pipeline {
  /** Everything in the options that changes jsonld.js's output; part of the cache key. */
  key: string
  loader: Loader
  toRdfOptions: object
  finish(dataset: Quad[]): Promise<string>
  /** `finish` is RDFC-1.0 as rdf-canonize 4 computes it, so a compiled template may stand in for it (./rdfc10.ts). */
  compiled?: true
  library(): Promise<string>
}

interface ShapeEntry {
  /** Slots whose real string is part of the template (sorted). */
  structural: number[]
  templates: Lru<string, Template>
  libraryOnly?: FallbackReason
}

interface LoaderCache {
  shapes: Lru<string, ShapeEntry>
  terms: Lru<string, Set<string> | 'dynamic'>
  /** Canonical forms of flat documents by their exact JSON (see `isFlat`). */
  flat: Lru<string, string>
}

/** Flat documents longer than this are not remembered whole. */
const MAX_FLAT_JSON = 2048

/**
 * Top-level strings only, besides `@context`: a proof's options (type, cryptosuite, created, verificationMethod,
 * proofPurpose). Every credential signed with one key in the same second has the same ones, and so does each of their
 * verifications: such a document is canonized once and its output remembered by its exact JSON.
 */
function isFlat(input: object): boolean {
  if (Array.isArray(input) || Object.getPrototypeOf(input) !== Object.prototype) return false
  for (const [key, value] of Object.entries(input)) {
    if (typeof value !== 'string' && key !== '@context') return false
  }
  return true
}

const CRYPTOSUITE_OPTIONS = new Set(['documentLoader', 'base', 'safe', 'algorithm', 'format', 'rdfDirection', 'produceGeneralizedRdf'])
const SIGNATURE_OPTIONS = new Set(['documentLoader', 'expansionMap', 'skipExpansion'])

export class Canonizer {
  private stats = emptyStatistics()
  // Keyed by loader identity: the same URL may mean different contexts to different loaders.
  private readonly loaders = new WeakMap<Loader, LoaderCache>()
  private readonly maxShapes: number
  private readonly maxRounds: number
  private readonly nonce = `Lz${randomBytes(6).toString('hex')}Kq`
  private readonly patterns = noncePatterns(this.nonce)

  constructor(options: CanonizerOptions = {}) {
    this.maxShapes = options.maxShapes ?? 256
    this.maxRounds = options.maxRounds ?? 4
  }

  /** Same signature and output as `canonize` in @digitalcredentials/eddsa-rdfc-2022-cryptosuite. */
  async canonizeRdfc(input: unknown, givenOptions: Record<string, unknown> = {}): Promise<string> {
    // DataIntegrityProof canonizes its proof options with `skipExpansion: false`: jsonld.js's default, nothing to model.
    const { skipExpansion, ...options } = givenOptions
    if (skipExpansion !== undefined && skipExpansion !== false) options.skipExpansion = skipExpansion
    const canonizeOptions = { algorithm: 'RDFC-1.0', format: 'application/n-quads', base: null, safe: true, ...options }
    const toRdfOptions: Record<string, unknown> = { rdfDirection: 'i18n-datatype', ...canonizeOptions, produceGeneralizedRdf: false }
    delete toRdfOptions.format
    const library = async () => rdfc10.canonize(await jsonld.toRDF(input, toRdfOptions), canonizeOptions)
    const { documentLoader, base, safe, algorithm, rdfDirection } = toRdfOptions as Record<string, unknown> & typeof canonizeOptions
    const supported = Object.keys(options).every((key) => CRYPTOSUITE_OPTIONS.has(key)) && typeof documentLoader === 'function' &&
      base === null && algorithm === 'RDFC-1.0' && canonizeOptions.format === 'application/n-quads' && typeof safe === 'boolean' &&
      (rdfDirection === 'i18n-datatype' || rdfDirection === undefined)
    if (!supported) return this.fallback('unsupported-options', library)
    return this.run(input, {
      key: `rdfc|${safe}|${String(rdfDirection)}`,
      loader: documentLoader as Loader,
      toRdfOptions,
      finish: async (dataset) => rdfc10.canonize(dataset, canonizeOptions),
      compiled: true,
      library
    })
  }

  /**
   * What `LinkedDataSignature#canonize` (Ed25519Signature2020) computes: jsonld.canonize with URDNA2015, base null,
   * safe mode and no rdfDirection. `library` is the suite's own method, used for anything not modelled here.
   */
  async canonizeUrdna2015(input: unknown, options: Record<string, unknown>, library: () => Promise<string>): Promise<string> {
    const { documentLoader, expansionMap, skipExpansion } = options
    const supported = Object.keys(options).every((key) => SIGNATURE_OPTIONS.has(key)) &&
      typeof documentLoader === 'function' && expansionMap === undefined && !skipExpansion
    if (!supported) return this.fallback('unsupported-options', library)
    // jsonld.canonize's own defaults and overrides, minus the output format that toRDF must not see.
    const base = { algorithm: 'URDNA2015', base: null, documentLoader, safe: true, skipExpansion: false }
    return this.run(input, {
      key: 'urdna2015',
      loader: documentLoader as Loader,
      toRdfOptions: { ...base, produceGeneralizedRdf: false },
      finish: async (dataset) => urdna2015.canonize(dataset, { ...base, format: 'application/n-quads' }),
      library
    })
  }

  /** Counts the suite's own fallbacks (options the caller set that this module does not model). */
  countFallback(reason: FallbackReason): void {
    this.stats.fallbacks[reason] = (this.stats.fallbacks[reason] ?? 0) + 1
  }

  statistics(): CanonicalizationStats {
    return { ...this.stats, fallbacks: { ...this.stats.fallbacks } }
  }

  resetStatistics(): void {
    this.stats = emptyStatistics()
  }

  private async fallback(reason: FallbackReason, library: () => Promise<string>): Promise<string> {
    this.countFallback(reason)
    return library()
  }

  /** jsonld.js on the real document; its error, if any, is the caller's answer (counted as jsonld-error). */
  private async libraryOr(reason: FallbackReason, pipeline: Pipeline, entry?: ShapeEntry): Promise<string> {
    let result: string
    try {
      result = await pipeline.library()
    } catch (error) {
      this.countFallback('jsonld-error')
      throw error
    }
    this.countFallback(reason)
    if (entry) entry.libraryOnly = reason
    return result
  }

  private cacheFor(loader: Loader): LoaderCache {
    let cache = this.loaders.get(loader)
    if (!cache) {
      cache = { shapes: new Lru(this.maxShapes), terms: new Lru(this.maxShapes), flat: new Lru(this.maxShapes) }
      this.loaders.set(loader, cache)
    }
    return cache
  }

  private async run(input: unknown, pipeline: Pipeline): Promise<string> {
    if (typeof input === 'object' && input !== null && isFlat(input)) {
      const json = JSON.stringify(input)
      if (json.length <= MAX_FLAT_JSON) {
        const flat = this.cacheFor(pipeline.loader).flat
        const key = `${pipeline.key}\u0000${json}`
        const known = flat.get(key)
        if (known !== undefined) {
          this.stats.hits++
          return known
        }
        const canonical = await this.runShaped(input, pipeline)
        flat.set(key, canonical)
        return canonical
      }
    }
    return this.runShaped(input, pipeline)
  }

  private async runShaped(input: unknown, pipeline: Pipeline): Promise<string> {
    // A string input is a URL jsonld.js would load; anything but an object or array is its business too.
    const shape = typeof input === 'object' && input !== null ? readShape(input, this.nonce) : 'non-plain'
    if (typeof shape === 'string') return this.fallback(shape, pipeline.library)
    const cache = this.cacheFor(pipeline.loader)
    const terms = await this.termsFor(shape, pipeline.loader, cache)
    if (terms === 'dynamic') return this.fallback('dynamic-context', pipeline.library)
    if (terms === 'failed') return this.libraryOr('loader-error', pipeline)
    const { key, termSlots } = shapeKey(shape, terms)
    const shapeId = `${pipeline.key}\u0000${key}`
    let entry = cache.shapes.get(shapeId)
    if (!entry) {
      entry = { structural: termSlots, templates: new Lru(this.maxShapes) }
      cache.shapes.set(shapeId, entry)
    }
    if (entry.libraryOnly) return this.fallback(entry.libraryOnly, pipeline.library)
    const template = entry.templates.get(structuralKey(entry, shape))
    if (template) {
      this.stats.hits++
      return this.finish(template, shape.values, pipeline)
    }
    return this.build(input, shape, terms, entry, pipeline)
  }

  /** The canonical form from a template: compiled when the pipeline allows and no blank nodes tie, else rdf-canonize. */
  private async finish(template: Template, values: string[], pipeline: Pipeline): Promise<string> {
    if (pipeline.compiled) {
      if (!needsDedupe(template, values)) {
        // null (not compilable) is remembered too: `??=` would compile such a template on every use.
        if (template.compiled === undefined) template.compiled = compile(template)
        const text = canonizeCompiled(template.compiled, values)
        if (text !== undefined) return text
      }
      this.stats.generalCanonicalization++
    }
    return pipeline.finish(substitute(template, values))
  }

  private async termsFor(shape: Shape, loader: Loader, cache: LoaderCache): Promise<Set<string> | 'dynamic' | 'failed'> {
    const key = JSON.stringify(shape.contexts)
    const known = cache.terms.get(key)
    if (known) return known
    try {
      const terms = await termsOf(shape.contexts, loader)
      cache.terms.set(key, terms)
      return terms
    } catch (error) {
      if (!(error instanceof DynamicContext)) return 'failed'
      cache.terms.set(key, 'dynamic')
      return 'dynamic'
    }
  }

  /** Expands a placeholder copy of `input`, making offending slots structural until every placeholder comes back whole. */
  private async build(input: unknown, shape: Shape, terms: Set<string>, entry: ShapeEntry, pipeline: Pipeline): Promise<string> {
    for (let round = 0; round < this.maxRounds; round++) {
      const structural = new Set(entry.structural)
      const placeholders = shape.values.map((value, slot) =>
        structural.has(slot) ? undefined : placeholderFor(value, terms, `${this.nonce}${slot}${END}`))
      let dataset: Quad[]
      try {
        dataset = await jsonld.toRDF(rewrite(input, shape, (slot) => placeholders[slot]), pipeline.toRdfOptions)
      } catch {
        // Placeholders share their values' classes, so the real document should fail too; jsonld.js decides.
        return this.libraryOr('template-error', pipeline, entry)
      }
      const analysis = analyze(dataset, placeholders, this.patterns)
      if (analysis.template) {
        entry.templates.set(structuralKey(entry, shape), analysis.template)
        this.stats.misses++
        return this.finish(analysis.template, shape.values, pipeline)
      }
      entry.structural = [...new Set([...entry.structural, ...analysis.bad])].sort((a, b) => a - b)
    }
    return this.libraryOr('unstable-template', pipeline, entry)
  }
}

/** The level-2 key: which slots are structural, and their real strings. */
function structuralKey(entry: ShapeEntry, shape: Shape): string {
  return JSON.stringify([entry.structural, entry.structural.map((slot) => shape.values[slot])])
}

/** The process-wide canonizer the suites use; a cache, safe to lose. */
export const defaultCanonizer = new Canonizer()

/** Drop-in for the eddsa-rdfc-2022 cryptosuite's `canonize(input, options)`. */
export async function canonize(input: unknown, options?: Record<string, unknown>): Promise<string> {
  return defaultCanonizer.canonizeRdfc(input, options)
}

export function canonicalizationStats(): CanonicalizationStats {
  return defaultCanonizer.statistics()
}

export function resetCanonicalizationStats(): void {
  defaultCanonizer.resetStatistics()
}
