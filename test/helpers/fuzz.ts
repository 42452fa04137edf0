// The generators of the OpenAPI fuzz test (test/fuzz.test.ts): a small JSON Schema → fast-check converter for the
// request schemas of our document, the mutations that turn a valid value into a nearly valid one, and garbage strings.
// Valid values get past validation into the services; nearly valid ones probe the edges validation is meant to hold.
import fc from 'fast-check'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonSchema = { [keyword: string]: unknown }

export interface SchemaContext {
  /** The document `$ref`s point into (`#/components/schemas/…`). */
  root: JsonSchema
  /** Real UUIDs of the fixtures: `format: uuid` picks one of them part of the time, so ids reach existing rows. */
  uuids: readonly string[]
  /** Other real values (tokens, DIDs, URLs) worth trying wherever a free-form string (no format, no pattern) fits. */
  known: readonly string[]
}

/** Past this depth a schema yields its simplest value: it bounds recursive schemas and keeps bodies small. */
const MAX_DEPTH = 8

function resolveRef(root: JsonSchema, ref: string): JsonSchema {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, not ${ref}`)
  let node: unknown = root
  for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')]
  if (node === undefined) throw new Error(`$ref ${ref} resolves to nothing`)
  return node as JsonSchema
}

/** allOf as one schema: the members' keywords together, their properties and required lists joined. */
function merged(members: JsonSchema[]): JsonSchema {
  return members.reduce((all, member) => ({
    ...all, ...member,
    properties: { ...(all.properties as object), ...(member.properties as object) },
    required: [...(all.required as string[] ?? []), ...(member.required as string[] ?? [])]
  }), {})
}

/** Any small JSON value, for schemas that allow anything (`{}`, `additionalProperties: {}`). */
export const anyJson: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>

function patternString(pattern: string): fc.Arbitrary<string> {
  // fast-check generates strings for most JS patterns; a pattern it cannot read still gets random strings, which exercise
  // the rejection path instead.
  try {
    return fc.stringMatching(new RegExp(pattern))
  } catch {
    return fc.string()
  }
}

/**
 * http(s) URLs with random paths, queries and fragments, all on a closed loopback port: whatever the app does with a URL it
 * is given (a webhook's reachability check, its deliveries) needs no DNS, stays on this machine and fails at once.
 */
export const loopbackUrl: fc.Arbitrary<string> = fc.tuple(
  fc.constantFrom('http', 'https'), fc.constantFrom('127.0.0.1:9', '[::1]:9'), fc.webPath(),
  fc.option(fc.webQueryParameters(), { nil: undefined }), fc.option(fc.webFragments(), { nil: undefined })
).map(([scheme, host, path, query, fragment]) => `${scheme}://${host}${path}${query === undefined ? '' : `?${query}`}${fragment === undefined ? '' : `#${fragment}`}`)

function stringArbitrary(schema: JsonSchema, context: SchemaContext): fc.Arbitrary<string> {
  const minLength = (schema.minLength as number | undefined) ?? 0
  const maxLength = (schema.maxLength as number | undefined) ?? 10_000
  const formatted: Record<string, () => fc.Arbitrary<string>> = {
    uuid: () => fc.oneof(fc.uuid(), ...(context.uuids.length > 0 ? [fc.constantFrom(...context.uuids), fc.constantFrom(...context.uuids)] : [])),
    uri: () => fc.oneof(
      { weight: 4, arbitrary: loopbackUrl },
      { weight: 1, arbitrary: fc.constantFrom('did:example:123', 'urn:uuid:00000000-0000-4000-8000-000000000000', 'mailto:a@example.org') }
    ),
    'date-time': () => fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString())
  }
  const format = typeof schema.format === 'string' ? formatted[schema.format] : undefined
  // zod writes its own pattern beside each format it checks (email, say), so the pattern is the truer guide when there is one.
  const valid = format !== undefined
    ? format()
    : typeof schema.pattern === 'string'
      ? patternString(schema.pattern)
      : fc.oneof(
        { weight: 9, arbitrary: fc.oneof(...(['grapheme', 'binary', 'grapheme-ascii'] as const).map((unit) => fc.string({ minLength, maxLength: Math.min(maxLength, minLength + 40), unit }))) },
        ...(context.known.length > 0 ? [{ weight: 1, arbitrary: fc.constantFrom(...context.known) }] : [])
      )
  // Generated strings are cut to maxLength (a pattern may run long); a cut one is still a fair input.
  return valid.map((s) => (s.length > maxLength ? s.slice(0, maxLength) : s))
}

function numberArbitrary(schema: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const exclusiveMin = schema.exclusiveMinimum as number | undefined
  const exclusiveMax = schema.exclusiveMaximum as number | undefined
  if (integer) {
    const min = (schema.minimum as number | undefined) ?? (exclusiveMin !== undefined ? Math.floor(exclusiveMin) + 1 : -1_000_000)
    const max = (schema.maximum as number | undefined) ?? (exclusiveMax !== undefined ? Math.ceil(exclusiveMax) - 1 : 1_000_000)
    return fc.integer({ min, max })
  }
  return fc.double({
    min: (schema.minimum as number | undefined) ?? exclusiveMin ?? -1e9,
    max: (schema.maximum as number | undefined) ?? exclusiveMax ?? 1e9,
    minExcluded: exclusiveMin !== undefined, maxExcluded: exclusiveMax !== undefined, noNaN: true
  })
}

function objectArbitrary(schema: JsonSchema, context: SchemaContext, depth: number): fc.Arbitrary<Json> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>
  const required = ((schema.required ?? []) as string[]).filter((key) => key in properties)
  const model = Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, fromSchema(property, context, depth + 1)]))
  const declared = fc.record(model, { requiredKeys: required }) as fc.Arbitrary<{ [key: string]: Json }>
  const additional = schema.additionalProperties
  if (additional === undefined || additional === false) return declared
  const keys = schema.propertyNames !== undefined ? (fromSchema(schema.propertyNames as JsonSchema, context, depth + 1) as fc.Arbitrary<string>) : fc.string()
  const values = additional === true ? anyJson : fromSchema(additional as JsonSchema, context, depth + 1)
  const extras = fc.dictionary(fc.oneof(keys, fc.string({ maxLength: 12 })), values, { maxKeys: 3 })
  return fc.tuple(declared, extras).map(([declaredValue, extraValue]) => ({ ...extraValue, ...declaredValue }))
}

/** Values that satisfy `schema` (mostly: patterns and formats are approximated, and strings may be cut to maxLength). */
export function fromSchema(schema: JsonSchema | boolean, context: SchemaContext, depth = 0): fc.Arbitrary<Json> {
  if (schema === true) return anyJson
  if (schema === false) return fc.constant(null)
  if (typeof schema.$ref === 'string') return fromSchema(resolveRef(context.root, schema.$ref), context, depth)
  if (schema.const !== undefined) return fc.constant(schema.const as Json)
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as Json[]))
  if (Array.isArray(schema.allOf)) {
    const { allOf, ...rest } = schema
    return fromSchema(merged([rest, ...(allOf as JsonSchema[]).map((member) => (typeof member.$ref === 'string' ? resolveRef(context.root, member.$ref) : member))]), context, depth)
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[keyword])) return fc.oneof(...(schema[keyword] as JsonSchema[]).map((member) => fromSchema(member, context, depth)))
  }
  if (Array.isArray(schema.type)) return fc.oneof(...(schema.type as string[]).map((type) => fromSchema({ ...schema, type }, context, depth)))
  const type = schema.type ?? (schema.properties !== undefined ? 'object' : undefined)
  if (depth > MAX_DEPTH) return fc.constant(type === 'object' ? {} : type === 'array' ? [] : null)
  switch (type) {
    case 'null': return fc.constant(null)
    case 'boolean': return fc.boolean()
    case 'integer': return numberArbitrary(schema, true)
    case 'number': return numberArbitrary(schema, false)
    case 'string': return stringArbitrary(schema, context)
    case 'array': {
      const minLength = (schema.minItems as number | undefined) ?? 0
      const maxLength = Math.min((schema.maxItems as number | undefined) ?? 4, minLength + 3)
      return fc.array(fromSchema((schema.items ?? true) as JsonSchema, context, depth + 1), { minLength, maxLength })
    }
    case 'object': return objectArbitrary(schema, context, depth)
    default: return anyJson
  }
}

// ---- garbage ------------------------------------------------------------------------------------------------------

/** Strings that have broken parsers, databases and templates before: NUL and control characters, lone surrogates, RTL marks. */
export const trickyString = fc.constantFrom(
  // fast-check shrinks towards the first: a reproducer keeps a tricky string only when the trick is the point.
  'x', 'nul\u0000here', '\u0000', 'bell\u0007', 'line\nbreak\r\n', 'tab\there', '\ud800', 'lone \udfff low', '\ufeffbom', '\u202eevil',
  '💥🎓👩🏽‍🎓', 'é', 'ß', 'İ', '\u2028\u2029', '%', '%00', '%zz', '%c0%af', '%e2%82', '../../etc/passwd', '<script>alert(1)</script>', "'; drop table issuers; --",
  '{{7*7}}', '${7*7}', '\\', '"', '', ' ', 'null', 'undefined', 'NaN', '-1', '0', '1e309', 'true', '[]', '{}', '__proto__', 'constructor'
)

export const garbageString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: trickyString },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom(100, 101, 2_000, 70_000).map((n) => 'a'.repeat(n)) }
)

// ---- mutations ----------------------------------------------------------------------------------------------------

type Path = (string | number)[]
type Mutation =
  | { kind: 'replace'; value: unknown }
  | { kind: 'delete' }
  | { kind: 'extra'; key: string; value: unknown }
  | { kind: 'repeat'; times: number }

function nested(depth: number, leaf: unknown, asObject: boolean): unknown {
  let value = leaf
  for (let i = 0; i < depth; i++) value = asObject ? { a: value } : [value]
  return value
}

export interface MutationLimits {
  /** The app's body limit: huge strings are made to land on both sides of it. */
  bodyLimit: number
}

function mutation(limits: MutationLimits): fc.Arbitrary<Mutation> {
  const replacement = fc.oneof(
    // null most of all: `x.y` on a member that turned out null is the commonest crash in a handler.
    { weight: 4, arbitrary: fc.constant(null) }, fc.boolean(), fc.integer(), fc.double(), fc.constantFrom(-0, 2 ** 53 + 1, Number.MAX_VALUE, 1e-320),
    garbageString, anyJson, fc.constant([]), fc.constant({}),
    // JSON-LD that parses as JSON but not as JSON-LD: what credentials and presentations are expanded and canonicalized through.
    fc.constantFrom<unknown>(
      { '@id': 5 }, { '@type': {} }, { '@value': [], '@language': 1 }, { '@list': { '@list': [] } }, { '@context': 5 }, { '@context': { '@vocab': 5 } },
      { '@context': { id: 'https://example.org/redefined' } }, 'https://example.org/unknown-context.jsonld', '_:b0', '@id'
    ),
    // Within the body limit (the services see them) and just over it (a 413 before anything else runs).
    fc.constantFrom(limits.bodyLimit - 2_000, limits.bodyLimit + 1).map((n) => 'x'.repeat(n)),
    fc.constant('€'.repeat(Math.floor((limits.bodyLimit - 2_000) / 3))),
    // Deep nesting: recursion in validators, JSON-LD and canonicalization (deeper than this, JSON.stringify itself overflows;
    // rawJsonBodies sends deeper ones as text).
    fc.tuple(fc.constantFrom(64, 1_000), fc.boolean()).map(([depth, asObject]) => nested(depth, 'deep', asObject))
  )
  return fc.oneof(
    { weight: 6, arbitrary: replacement.map((value): Mutation => ({ kind: 'replace', value })) },
    { weight: 2, arbitrary: fc.constant<Mutation>({ kind: 'delete' }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('extra' as const),
        key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', '@context', '@id', '@type', 'id', 'type', 'proof', '', '\u0000'), fc.string({ maxLength: 10 })),
        value: fc.oneof(anyJson, garbageString)
      })
    },
    { weight: 1, arbitrary: fc.constantFrom(2, 1_001).map((times): Mutation => ({ kind: 'repeat', times })) }
  )
}

/** Mutations reach this deep: a deeply nested value (one mutation's doing) is a leaf to the next. */
const MAX_PATH = 24

/** Every path into `value` (the root is []), objects' and arrays' members before their own members. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const paths: Path[] = [prefix]
  if (prefix.length >= MAX_PATH) return paths
  if (Array.isArray(value)) value.forEach((item, index) => paths.push(...pathsOf(item, [...prefix, index])))
  else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]))
  return paths
}

/** `value` with the node at `path` passed through `change` (undefined deletes it); copies only along the path. */
function updateAt(value: unknown, path: Path, change: (node: unknown) => unknown): unknown {
  if (path.length === 0) return change(value)
  const [head, ...rest] = path
  if (Array.isArray(value)) {
    const copy = [...value]
    const updated = updateAt(copy[head as number], rest, change)
    if (updated === undefined) copy.splice(head as number, 1)
    else copy[head as number] = updated
    return copy
  }
  const copy: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value as object)) {
    const updated = key === head ? updateAt(item, rest, change) : item
    // defineProperty, not assignment: a generated "__proto__" key must stay a plain member, as it would be on the wire.
    if (updated !== undefined) Object.defineProperty(copy, key, { value: updated, enumerable: true, writable: true, configurable: true })
  }
  return copy
}

function applyMutation(value: unknown, [selector, shallow, change]: [number, boolean, Mutation]): unknown {
  // Half the time at the top: a body's own members are where handlers reach first (`body.x.y` with x null), and a deep
  // document would otherwise almost never have them changed.
  const all = shallow ? pathsOf(value).filter((path) => path.length <= 1) : pathsOf(value)
  const eligible = change.kind === 'extra'
    ? all.filter((path) => { const node = path.reduce<any>((at, key) => at[key], value); return typeof node === 'object' && node !== null && !Array.isArray(node) })
    : change.kind === 'repeat' ? all.filter((path) => Array.isArray(path.reduce<any>((at, key) => at[key], value))) : all
  if (eligible.length === 0) return value
  const path = eligible[selector % eligible.length]!
  switch (change.kind) {
    case 'replace': return updateAt(value, path, () => change.value)
    case 'delete': return path.length === 0 ? value : updateAt(value, path, () => undefined)
    case 'extra': return updateAt(value, path, (node) => {
      const copy = { ...(node as object) }
      Object.defineProperty(copy, change.key, { value: change.value, enumerable: true, writable: true, configurable: true })
      return copy
    })
    case 'repeat': return updateAt(value, path, (node) => {
      const items = node as unknown[]
      return items.length === 0 ? ['x'] : Array.from({ length: change.times }, (_, i) => items[i % items.length])
    })
  }
}

/** `valid` with one to three mutations at random places: wrong types, null, deletions, extra keys, huge and deep values. */
export function mutated(valid: fc.Arbitrary<unknown>, limits: MutationLimits): fc.Arbitrary<unknown> {
  return fc.tuple(valid, fc.array(fc.tuple(fc.nat(), fc.boolean(), mutation(limits)), { minLength: 1, maxLength: 3 }))
    .map(([value, changes]) => changes.reduce(applyMutation, value))
}

/** Bodies no JSON serializer would write: broken syntax, duplicate keys, overflowing numbers, escapes of NUL and lone surrogates. */
export function rawJsonBodies(limits: MutationLimits): fc.Arbitrary<string | Buffer> {
  const depth = Math.floor((limits.bodyLimit - 100) / 2)
  return fc.constantFrom<string | Buffer>(
    '', ' ', '{', '}', '[', 'null', 'true', '0', '"text"', '[]', '[{}]', '{"a":1,"a":2}', '\ufeff{}', '{"__proto__":{"polluted":1}}',
    '{"constructor":{"prototype":{"polluted":1}}}', '{"n":1e400}', '{"n":-1e400}', '{"n":123456789012345678901234567890}', '{"s":"\\ud800"}',
    '{"s":"\\u0000"}', '{"\\u0000":"key"}', '{"a":1,}', "{'a':1}", '{"a":undefined}', '{"a":NaN}', '/* comment */ {}',
    Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0xaf, 0x22, 0x7d]),
    `${'['.repeat(depth)}${']'.repeat(depth)}`, `${'{"a":'.repeat(Math.floor(depth / 3))}1${'}'.repeat(Math.floor(depth / 3))}`
  )
}

/** encodeURIComponent that never throws: a lone surrogate goes as UTF-8's replacement character, as a browser would send it. */
export function percentEncoded(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((byte) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('')
}
