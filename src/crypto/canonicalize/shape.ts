// The JSON-LD shape of a document: a key that only documents jsonld.js would expand alike can share, and its slot values.

/** Documents deeper or larger than this are canonized by jsonld.js alone: the key would cost more than it saves. */
export const MAX_DEPTH = 48
export const MAX_NODES = 20_000

/** A document read for caching: `key` holds everything but the slot strings; `values[i]` is slot i's string. */
export interface Shape {
  key: string
  /** Distinct candidate strings, in first-seen order: equal strings share one slot (the equality pattern is in `key`). */
  values: string[]
  /** Every `@context` value met, in order; serialized into `key` as well. */
  contexts: unknown[]
}

export type NotCacheable = 'non-plain' | 'too-large' | 'placeholder-collision'

// jsonld.js's own absolute-IRI scheme test (url.js): `+-.` there is a range that also admits `,`.
const SCHEME = /^[A-Za-z][A-Za-z0-9+-.]*:/
const WHITESPACE = /\s/

interface LexicalParts {
  /** The compact-IRI prefix kept as is, or undefined for "no colon" / "a colon after a non-scheme, non-term prefix". */
  prefix: string | undefined
  colon: boolean
  slashes: boolean
  whitespace: boolean
}

/**
 * What jsonld.js looks at in a string besides echoing it: whether it has a colon, the prefix before it when that
 * could be a scheme or a term (compact IRI), `//` after it (never a compact IRI), and whitespace (never absolute).
 */
function lexicalParts(value: string, terms: ReadonlySet<string>): LexicalParts {
  const whitespace = WHITESPACE.test(value)
  const colon = value.indexOf(':')
  if (colon < 0) return { prefix: undefined, colon: false, slashes: false, whitespace }
  const slashes = value.startsWith('//', colon + 1)
  const prefix = value.slice(0, colon)
  // A colon first makes jsonld skip its prefix logic (it tests colon > 0), so '' is kept like a scheme.
  const kept = colon === 0 || SCHEME.test(value) || terms.has(prefix) ? prefix : undefined
  return { prefix: kept, colon: true, slashes, whitespace }
}

/** The class as it goes into the cache key. */
export function lexicalClass(value: string, terms: ReadonlySet<string>): string {
  const { prefix, colon, slashes, whitespace } = lexicalParts(value, terms)
  const head = !colon ? 'N' : prefix === undefined ? 'X' : `P${JSON.stringify(prefix)}`
  return `${head}${slashes ? '/' : ''}${whitespace ? 'w' : ''}`
}

/** A placeholder in `value`'s class around `token` (letters and digits only, so it adds no colon or space). */
export function placeholderFor(value: string, terms: ReadonlySet<string>, token: string): string {
  const { prefix, colon, slashes, whitespace } = lexicalParts(value, terms)
  const ws = whitespace ? ' ' : ''
  if (!colon) return token + ws
  // '0' is no scheme, and a term named '0' would have kept the real prefix above.
  return `${prefix ?? '0'}:${slashes ? '//' : ''}${token}${ws}`
}

/** Strings jsonld.js gives meaning to by value (keywords, blank node ids, the empty IRI) never become slots. */
function isStructuralString(value: string): boolean {
  return value === '' || value[0] === '@' || value.startsWith('_:')
}

/** Keys whose whole value is structure: types (any alias is caught by the verbatim check), contexts, keyword values. */
function isStructuralKey(key: string): boolean {
  return key === 'type' || (key[0] === '@' && key !== '@id' && key !== '@value')
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

class Walker {
  readonly parts: string[] = []
  readonly values: string[] = []
  readonly contexts: unknown[] = []
  private readonly slots = new Map<string, number>()
  private nodes = 0

  constructor(private readonly nonce: string) {}

  /** Appends `value`'s shape; returns why it cannot be cached, if it cannot. */
  walk(value: unknown, depth: number, structural: boolean): NotCacheable | undefined {
    if (depth > MAX_DEPTH || ++this.nodes > MAX_NODES) return 'too-large'
    switch (typeof value) {
      case 'string':
        if (value.includes(this.nonce)) return 'placeholder-collision'
        if (structural || isStructuralString(value)) this.parts.push(`s${JSON.stringify(value)}`)
        else this.parts.push(this.slot(value))
        return undefined
      case 'number':
        if (!Number.isFinite(value)) return 'non-plain'
        // -0 and 0 print alike in JSON but are distinct numbers: keep the key exact.
        this.parts.push(`n${Object.is(value, -0) ? '-0' : String(value)}`)
        return undefined
      case 'boolean':
        this.parts.push(value ? 'T' : 'F')
        return undefined
      case 'object':
        if (value === null) {
          this.parts.push('z')
          return undefined
        }
        return Array.isArray(value) ? this.array(value, depth, structural) : this.object(value, depth, structural)
      default:
        return 'non-plain'
    }
  }

  private slot(value: string): string {
    const known = this.slots.get(value)
    if (known !== undefined) return `v${known}`
    const id = this.values.length
    this.slots.set(value, id)
    this.values.push(value)
    return `v${id}`
  }

  private array(value: unknown[], depth: number, structural: boolean): NotCacheable | undefined {
    this.parts.push('[')
    // A sparse array would reach jsonld.js with holes; `for...of` would read them as undefined, which fails the walk.
    for (const item of value) {
      const reason = this.walk(item, depth + 1, structural)
      if (reason) return reason
    }
    this.parts.push(']')
    return undefined
  }

  private object(value: object, depth: number, structural: boolean): NotCacheable | undefined {
    if (!isPlainObject(value)) return 'non-plain'
    this.parts.push('{')
    // jsonld.js expands keys in sorted order, so key order is not part of the shape.
    for (const key of Object.keys(value).sort()) {
      if (key.includes(this.nonce)) return 'placeholder-collision'
      this.parts.push(JSON.stringify(key))
      const child = value[key]
      if (key === '@context') this.contexts.push(child)
      const reason = this.walk(child, depth + 1, structural || isStructuralKey(key))
      if (reason) return reason
    }
    this.parts.push('}')
    return undefined
  }
}

/** Reads `document`'s shape; strings under structural keys are in the key by value. */
export function readShape(document: unknown, nonce: string): Shape | NotCacheable {
  const walker = new Walker(nonce)
  const reason = walker.walk(document, 0, false)
  if (reason) return reason
  return { key: walker.parts.join(''), values: walker.values, contexts: walker.contexts }
}

/**
 * The full shape key: the walk plus each slot's class, which needs the contexts' terms (known only after the walk).
 * A slot whose string is a term name goes in by value: at a `@vocab` position it expands to that term's IRI.
 */
export function shapeKey(shape: Shape, terms: ReadonlySet<string>): { key: string; termSlots: number[] } {
  const termSlots: number[] = []
  const classes = shape.values.map((value, slot) => {
    if (!terms.has(value)) return lexicalClass(value, terms)
    termSlots.push(slot)
    return `t${JSON.stringify(value)}`
  })
  return { key: `${shape.key}|${classes.join(',')}`, termSlots }
}

/**
 * A copy of `document` with each slot's string replaced: by `replace(slot)` when it returns a string, else kept.
 * Walks in the same order as `readShape`, so slot ids match.
 */
export function rewrite(document: unknown, shape: Shape, replace: (slot: number) => string | undefined): unknown {
  const ids = new Map(shape.values.map((value, slot) => [value, slot]))
  const copy = (value: unknown, structural: boolean): unknown => {
    if (typeof value === 'string') {
      if (structural || isStructuralString(value)) return value
      return replace(ids.get(value)!) ?? value
    }
    if (typeof value !== 'object' || value === null) return value
    if (Array.isArray(value)) return value.map((item) => copy(item, structural))
    const out: Record<string, unknown> = {}
    for (const [key, child] of Object.entries(value)) out[key] = copy(child, structural || isStructuralKey(key))
    return out
  }
  return copy(document, false)
}
