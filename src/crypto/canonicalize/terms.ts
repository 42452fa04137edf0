// Every term name a document's contexts can define (scoped contexts and imports included), read through its loader.

export type Loader = (url: string, options?: unknown) => Promise<unknown>

interface Loaded {
  document?: unknown
  tag?: unknown
}

/** The loader returned a context without `tag: 'static'`: it may change, so no template may depend on it. */
export class DynamicContext extends Error {
  override name = 'DynamicContext'
}

/**
 * Term names over-approximate the contexts: every non-keyword key of every object inside them. A superset is safe:
 * it only makes more strings structural. Contexts loaded by URL must be tagged static (jsonld.js's own promise that
 * a context never changes), else DynamicContext is thrown.
 */
export async function termsOf(contexts: unknown[], loader: Loader): Promise<Set<string>> {
  const terms = new Set<string>()
  const seen = new Set<string>()
  const visit = async (value: unknown): Promise<void> => {
    if (typeof value === 'string') {
      if (seen.has(value)) return
      seen.add(value)
      const loaded = await loader(value) as Loaded | undefined
      if (loaded?.tag !== 'static') throw new DynamicContext(`context ${value} is not static`)
      const document = typeof loaded.document === 'string' ? JSON.parse(loaded.document) as unknown : loaded.document
      if (isObject(document)) await visit(document['@context'])
      return
    }
    if (Array.isArray(value)) {
      for (const item of value) await visit(item)
      return
    }
    if (!isObject(value)) return
    for (const [key, definition] of Object.entries(value)) {
      if (key === '@import') await visit(definition)
      if (key[0] === '@') continue
      terms.add(key)
      // A term's scoped context (type- or property-scoped) defines terms too.
      if (isObject(definition) && '@context' in definition) await visit(definition['@context'])
    }
  }
  for (const context of contexts) await visit(context)
  return terms
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
