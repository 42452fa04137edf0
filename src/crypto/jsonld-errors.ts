// The JSON-LD rule a document breaks, in words, from the error jsonld.js throws: signing and verifying say it alike.

/** Long values (a whole object the rule refused) are cut: the code and the start are what a reader needs. */
const MAX_VALUE_LENGTH = 100

/**
 * The JSON-LD error code jsonld.js reports for a document it refuses to expand ("protected term redefinition", "invalid
 * type value", …) and the term or value at fault; undefined for any other error.
 */
export function jsonLdBreach(error: unknown): string | undefined {
  const { name, details } = error as { name?: unknown; details?: { code?: unknown; term?: unknown; value?: unknown } }
  if (typeof name !== 'string' || !name.startsWith('jsonld.') || typeof details?.code !== 'string') return undefined
  if (typeof details.term === 'string') return `${details.code} "${details.term}"`
  if (!('value' in details)) return details.code
  const value = JSON.stringify(details.value)
  return `${details.code} ${value.length > MAX_VALUE_LENGTH ? `${value.slice(0, MAX_VALUE_LENGTH)}…` : value}`
}
