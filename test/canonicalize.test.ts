// The template canonicalizer: counters, cache bounds, fallbacks, error parity, near-collisions, and the signing suites.
import { generateKeyPairSync, sign } from 'node:crypto'
import * as base58 from 'base58-universal'
import t, { type Test } from 'tap'
import { DataIntegrityProof } from '@digitalcredentials/data-integrity'
import { Ed25519Signature2020 } from '@digitalcredentials/ed25519-signature-2020'
import { cryptosuite } from '@digitalcredentials/eddsa-rdfc-2022-cryptosuite'
import jsonldModule from '@digitalcredentials/jsonld'
import { issue } from '@digitalcredentials/vc'
import { canonicalizationStats, canonize, Canonizer, resetCanonicalizationStats } from '../src/crypto/canonicalize/index.js'
import { lexicalClass, placeholderFor, readShape, rewrite, shapeKey } from '../src/crypto/canonicalize/shape.js'
import { CachedEd25519Signature2020, cachedEddsaRdfc2022 } from '../src/crypto/canonicalize/suites.js'
import { analyze, noncePatterns, substitute, type Quad } from '../src/crypto/canonicalize/template.js'
import { termsOf } from '../src/crypto/canonicalize/terms.js'
import { documentLoader } from '../src/crypto/document-loader.js'
import { didKeyDocument, verifyDataIntegrity } from './helpers/independent-verifier.js'

type Json = Record<string, any>

const { canonize: library } = cryptosuite as { canonize(input: unknown, options: object): Promise<string> }
const jsonld = jsonldModule as unknown as { canonize(input: unknown, options: object): Promise<string> }
const options = { documentLoader, base: null, safe: true }
const VC2 = 'https://www.w3.org/ns/credentials/v2'
const OB303 = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'
const OB302 = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json'
const OB301 = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json'
const VC1 = 'https://www.w3.org/2018/credentials/v1'

function badge(overrides: Json = {}, subject: Json = {}): Json {
  return {
    '@context': [VC2, OB303],
    id: 'https://example.edu/credentials/1',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    name: 'Teamwork badge',
    issuer: { id: 'https://example.edu/issuers/1', type: ['Profile'], name: 'Example U' },
    validFrom: '2024-01-01T00:00:00Z',
    credentialSubject: {
      id: 'did:example:learner',
      type: ['AchievementSubject'],
      achievement: { id: 'https://example.edu/achievements/1', type: ['Achievement'], name: 'Teamwork', criteria: { narrative: 'Works well' } },
      ...subject
    },
    ...overrides
  }
}

async function outcome(run: () => Promise<string>): Promise<string> {
  try {
    return await run()
  } catch (error) {
    const { name, message } = error as Error
    return `THROWS ${name}: ${message}`
  }
}

/** Ours (fresh cache or the given one) against the library, for each document in order. */
async function sameAsLibrary(t: Test, documents: Json[], canonizer = new Canonizer()): Promise<void> {
  for (const [i, document] of documents.entries()) {
    t.equal(await outcome(() => canonizer.canonizeRdfc(document, options)), await outcome(() => library(document, options)), `document ${i}`)
  }
}

t.test('a second credential of the same shape is a cache hit with its own values', async (t) => {
  const canonizer = new Canonizer()
  await sameAsLibrary(t, [badge(), badge({ id: 'https://example.edu/credentials/2', name: 'Other "quoted"\\ name' })], canonizer)
  t.same(canonizer.statistics(), { hits: 1, misses: 1, generalCanonicalization: 0, fallbacks: {} })
  canonizer.resetStatistics()
  t.same(canonizer.statistics(), { hits: 0, misses: 0, generalCanonicalization: 0, fallbacks: {} })
})

t.test('the module-level canonize keeps module-level counters', async (t) => {
  resetCanonicalizationStats()
  t.equal(await canonize(badge(), options), await library(badge(), options))
  t.equal(await canonize(badge({ name: 'x y' }), options), await library(badge({ name: 'x y' }), options))
  t.same(canonicalizationStats(), { hits: 1, misses: 1, generalCanonicalization: 0, fallbacks: {} })
  resetCanonicalizationStats()
  t.same(canonicalizationStats().hits, 0)
})

t.test('flat documents (proof options) are remembered whole by their exact JSON; others are not', async (t) => {
  const canonizer = new Canonizer()
  const proofOptions = (created: string): Json => ({
    '@context': [VC2, OB303], type: 'DataIntegrityProof', cryptosuite: 'eddsa-rdfc-2022', created,
    verificationMethod: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
    proofPurpose: 'assertionMethod'
  })
  // The same options twice (one template built, then one remembered output), then other options of the same shape.
  await sameAsLibrary(t, [proofOptions('2026-01-01T00:00:00Z'), proofOptions('2026-01-01T00:00:00Z'), proofOptions('2026-01-01T00:00:01Z')], canonizer)
  t.same(canonizer.statistics(), { hits: 2, misses: 1, generalCanonicalization: 0, fallbacks: {} })
  // A changed value is a new JSON: never the remembered output.
  const changed = { ...proofOptions('2026-01-01T00:00:00Z'), proofPurpose: 'authentication' }
  t.equal(await canonizer.canonizeRdfc(changed, options), await library(changed, options))
  canonizer.resetStatistics()
  // Not flat (nested, an array, a null prototype, too long): each goes the shaped way, counted as such.
  const long = { ...proofOptions('2026-01-01T00:00:00Z'), name: 'x'.repeat(3000) }
  const nullProto = Object.assign(Object.create(null), proofOptions('2026-01-01T00:00:02Z')) as Json
  await sameAsLibrary(t, [badge(), badge(), [proofOptions('2026-01-01T00:00:03Z')], [proofOptions('2026-01-01T00:00:03Z')], long, long, nullProto] as Json[], canonizer)
  t.same(canonizer.statistics(), { hits: 4, misses: 3, generalCanonicalization: 0, fallbacks: {} }, 'the repeats are template hits, not remembered outputs')
})

t.test('near-collisions never reuse a wrong template', async (t) => {
  const first = badge()
  const cases: [string, Json][] = [
    ['relative id', badge({ id: 'credentials/1' })],
    ['compact IRI with a defined prefix (xsd in 3.0.1)', badge({ '@context': [VC2, OB301], id: 'xsd:thing' })],
    ['the same compact IRI without the prefix', badge({ '@context': [VC2, OB303], id: 'xsd:thing' })],
    ['blank node id', badge({ id: '_:b1' })],
    ['id with a space', badge({ id: 'https://example.edu/a b' })],
    ['id without //', badge({ id: 'https:example.edu' })],
    ['type change', badge({ type: ['VerifiableCredential', 'AchievementCredential'] })],
    ['context 3.0.2', badge({ '@context': [VC2, OB302] })],
    ['VC 1.1', badge({ '@context': [VC1, OB303], issuanceDate: '2024-01-01T00:00:00Z', validFrom: undefined })],
    ['term name at a @vocab position', badge({ proof: { type: 'DataIntegrityProof', cryptosuite: 'eddsa-rdfc-2022', proofPurpose: 'assertionMethod', verificationMethod: 'https://example.edu/issuers/1#k', created: '2024-01-01T00:00:00Z' } })],
    ['non-term at the same @vocab position', badge({ proof: { type: 'DataIntegrityProof', cryptosuite: 'eddsa-rdfc-2022', proofPurpose: 'somethingElse', verificationMethod: 'https://example.edu/issuers/1#k', created: '2024-01-01T00:00:00Z' } })],
    ['an integer', badge({}, { creditsEarned: 1 })],
    ['a float', badge({}, { creditsEarned: 1.5 })],
    ['a large number', badge({}, { creditsEarned: 1e21 })],
    ['a number as a string', badge({}, { creditsEarned: '1.5' })],
    ['a string at an xsd:double value', badge({}, { creditsEarned: { '@value': '2.5', '@type': 'http://www.w3.org/2001/XMLSchema#double' } })],
    ['equal values in two places', badge({ name: 'Teamwork', id: 'https://example.edu/achievements/1' })],
    ['different values there', badge({ name: 'Other', id: 'https://example.edu/achievements/2' })],
    ['an array of one', badge({ name: ['Teamwork'] })],
    ['a language value object', badge({ name: { '@value': 'Travail', '@language': 'FR-ca', '@direction': 'ltr' } })],
    ['a language tag in another case', badge({ name: { '@value': 'Travail', '@language': 'fr-CA', '@direction': 'ltr' } })],
    ['an undefined term', badge({ unknownTerm: 'x' })],
    ['a keyword-like value', badge({ name: '@fake' })]
  ]
  const canonizer = new Canonizer()
  await sameAsLibrary(t, [first, ...cases.map(([, document]) => JSON.parse(JSON.stringify(document)) as Json)], canonizer)
  // Each again, now that every shape is cached.
  await sameAsLibrary(t, cases.map(([, document]) => JSON.parse(JSON.stringify(document)) as Json), canonizer)
})

t.test('reordered keys share a template and still match', async (t) => {
  const canonizer = new Canonizer()
  const reordered = Object.fromEntries(Object.entries(badge({ name: 'Other badge' })).reverse())
  await sameAsLibrary(t, [badge(), reordered], canonizer)
  t.equal(canonizer.statistics().hits, 1)
})

t.test('two slots whose values become equal produce one quad, as jsonld.js merges them', async (t) => {
  const canonizer = new Canonizer()
  // OB 3.0.1 (a VC 1.1 context) defines the xsd prefix as https://www.w3.org/2001/XMLSchema#: a compact IRI, which is
  // structural, and a slot can name one node, whose two "name" quads then become one.
  const twice = (a: string, b: string) => {
    const { validFrom: _, ...vc1 } = badge({ '@context': [VC1, OB301], issuanceDate: '2024-01-01T00:00:00Z' }, {
      achievement: { id: a, type: ['Achievement'], name: 'A', criteria: { narrative: 'x' }, creator: { id: b, type: ['Profile'], name: 'A' } }
    })
    return vc1
  }
  await sameAsLibrary(t, [
    twice('https://example.edu/x', 'https://example.edu/y'),
    twice('xsd:a', 'https://www.w3.org/2001/XMLSchema#a'),
    twice('xsd:a', 'https://www.w3.org/2001/XMLSchema#b')
  ], canonizer)
  t.same(canonizer.statistics(), { hits: 1, misses: 2, generalCanonicalization: 1, fallbacks: {} }, 'valid documents; the merged quads went to rdf-canonize')
})

t.test('blank nodes that tie go to rdf-canonize\'s general algorithm, counted, with the same output', async (t) => {
  const canonizer = new Canonizer()
  const identity = { type: 'IdentityObject', identityType: 'emailAddress', hashed: false, identityHash: 'ada@example.org' }
  // Two equal identity objects are two blank nodes with the same quads: their first-degree hashes tie.
  const tied = (email: string) => badge({}, { identifier: [{ ...identity, identityHash: email }, { ...identity, identityHash: email }] })
  await sameAsLibrary(t, [tied('ada@example.org'), tied('grace@example.org'), badge({ name: 'Plain' }), badge({ name: 'Other' })], canonizer)
  t.same(canonizer.statistics(), { hits: 2, misses: 2, generalCanonicalization: 2, fallbacks: {} })
})

t.test('jsonld.js errors reach the caller unchanged', async (t) => {
  const canonizer = new Canonizer()
  const rejected = badge({ unknownTerm: 'x' })
  const error = await canonizer.canonizeRdfc(rejected, options).catch((e: unknown) => e) as { name: string; details: Json }
  t.equal(error.name, 'jsonld.ValidationError')
  t.equal(error.details.event.code, 'invalid property')
  t.equal(canonizer.statistics().fallbacks['jsonld-error'], 1)
  const unknownContext = badge({ '@context': [VC2, 'https://example.com/unknown.json'] })
  t.equal(await outcome(() => canonizer.canonizeRdfc(unknownContext, options)), await outcome(() => library(unknownContext, options)))
  t.equal(canonizer.statistics().fallbacks['jsonld-error'], 2)
})

t.test('documents the cache does not model go to jsonld.js, counted by reason', async (t) => {
  const canonizer = new Canonizer()
  class Odd { name = 'x' }
  const deep: Json = {}
  let cursor = deep
  for (let i = 0; i < 60; i++) cursor = cursor.next = {}
  const cases: [string, unknown, object][] = [
    ['unsupported-options', badge(), { ...options, base: 'https://example.edu/' }],
    ['unsupported-options', badge(), { ...options, extra: true }],
    ['unsupported-options', badge(), { ...options, algorithm: 'URDNA2015' }],
    ['unsupported-options', badge(), { ...options, format: 'application/json' }],
    ['unsupported-options', badge(), { ...options, safe: 'yes' }],
    ['unsupported-options', badge(), { ...options, rdfDirection: 'compound-literal' }],
    ['unsupported-options', badge(), { ...options, documentLoader: 'none' }],
    // skipExpansion: false is jsonld.js's default (DataIntegrityProof passes it for proof options); true is not modelled.
    ['unsupported-options', badge(), { ...options, skipExpansion: true }],
    ['non-plain', 'https://example.edu/doc', options],
    ['non-plain', badge({ name: new Odd() }), options],
    ['non-plain', badge({ name: Number.NaN }), options],
    ['non-plain', badge({ name: undefined }), options],
    ['too-large', { ...badge(), nested: deep }, options]
  ]
  for (const [reason, document, opts] of cases) {
    const before = canonizer.statistics().fallbacks[reason as 'non-plain'] ?? 0
    t.equal(await outcome(() => canonizer.canonizeRdfc(document, opts as Json)), await outcome(() => library(document, opts)), reason)
    const after = canonizer.statistics().fallbacks
    t.equal((after[reason as 'non-plain'] ?? 0) + (after['jsonld-error'] ?? 0) > before, true, `${reason} counted`)
  }
  t.same(Object.keys(canonizer.statistics().fallbacks).sort(), ['non-plain', 'too-large', 'unsupported-options'])
  // No options at all: jsonld.js's own loader, which a document without contexts never calls.
  t.equal(await canonizer.canonizeRdfc([]), '')
  t.equal(await canonizer.canonizeRdfc(badge(), { ...options, rdfDirection: undefined }), await library(badge(), options))
  await canonizer.canonizeRdfc(badge(), options)
  const hits = canonizer.statistics().hits
  t.equal(await canonizer.canonizeRdfc(badge(), { ...options, skipExpansion: false }), await library(badge(), options))
  t.equal(canonizer.statistics().hits, hits + 1, 'skipExpansion: false is served from the cache')
})

t.test('a loader whose contexts are not static is never cached', async (t) => {
  const canonizer = new Canonizer()
  const dynamic = async (url: string) => ({ ...(await documentLoader(url)), tag: undefined })
  for (let i = 0; i < 2; i++) {
    t.equal(await canonizer.canonizeRdfc(badge(), { ...options, documentLoader: dynamic }), await library(badge(), options))
  }
  t.equal(canonizer.statistics().fallbacks['dynamic-context'], 2)
  t.equal(canonizer.statistics().misses, 0)
})

t.test('a loader that fails where jsonld.js never asks is a loader-error fallback', async (t) => {
  const canonizer = new Canonizer()
  // The inline context imports a URL jsonld.js loads but our term walk asks for again under another spelling.
  let calls = 0
  const flaky = async (url: string) => {
    if (++calls === 1) throw new Error('temporarily down')
    return documentLoader(url)
  }
  t.equal(await canonizer.canonizeRdfc(badge(), { ...options, documentLoader: flaky }), await library(badge(), options))
  t.equal(canonizer.statistics().fallbacks['loader-error'], 1)
})

t.test('a shape whose placeholder document fails but whose real one does not goes to jsonld.js from then on', async (t) => {
  const canonizer = new Canonizer()
  // An alias of @language: the placeholder is no BCP 47 tag, so safe mode rejects it; 'en' passes.
  const aliased = (lang: string) => badge({ '@context': [VC2, OB303, { lang: '@language' }], name: { '@value': 'Hi', lang } })
  await sameAsLibrary(t, [aliased('en'), aliased('fr')], canonizer)
  t.equal(canonizer.statistics().fallbacks['template-error'], 2)
})

t.test('a shape that keeps failing the verbatim check is left to jsonld.js', async (t) => {
  const canonizer = new Canonizer({ maxRounds: 1 })
  const double = (value: string) => badge({}, { creditsEarned: { '@value': value, '@type': 'http://www.w3.org/2001/XMLSchema#double' } })
  await sameAsLibrary(t, [double('2.5'), double('3.5')], canonizer)
  t.equal(canonizer.statistics().fallbacks['unstable-template'], 2)
})

t.test('a rejected document after an unstable build still throws jsonld.js\'s error', async (t) => {
  const canonizer = new Canonizer({ maxRounds: 1 })
  const double = badge({ unknownTerm: 'x' }, { creditsEarned: { '@value': '2.5', '@type': 'http://www.w3.org/2001/XMLSchema#double' } })
  await t.rejects(canonizer.canonizeRdfc(double, options), { name: 'jsonld.ValidationError' })
})

t.test('the cache keeps at most maxShapes shapes, forgetting the least recently used', async (t) => {
  const canonizer = new Canonizer({ maxShapes: 2 })
  const shapes = [badge(), badge({ extra1: undefined, name: ['a', 'b'] }), badge({ name: ['a', 'b', 'c'] })].map((d) => JSON.parse(JSON.stringify(d)) as Json)
  for (const document of shapes) await canonizer.canonizeRdfc(document, options)
  await canonizer.canonizeRdfc(shapes[2]!, options)
  await canonizer.canonizeRdfc(shapes[1]!, options)
  t.same(canonizer.statistics(), { hits: 2, misses: 3, generalCanonicalization: 0, fallbacks: {} })
  // The first was evicted: seeing it again builds it again.
  await canonizer.canonizeRdfc(shapes[0]!, options)
  t.equal(canonizer.statistics().misses, 4)
})

t.test('each loader has its own cache', async (t) => {
  const canonizer = new Canonizer()
  const other = async (url: string) => documentLoader(url)
  await canonizer.canonizeRdfc(badge(), options)
  await canonizer.canonizeRdfc(badge(), { ...options, documentLoader: other })
  t.equal(canonizer.statistics().misses, 2)
})

t.test('a document containing the placeholder nonce is never templated', async (t) => {
  const nonce = 'Lzabc'
  t.equal(readShape({ name: 'xLzabcx' }, nonce), 'placeholder-collision')
  t.equal(readShape({ 'Lzabc': 'x' }, nonce), 'placeholder-collision')
  t.equal(readShape({ a: [1, 2n] }, nonce), 'non-plain')
  t.equal(readShape({ a: () => 1 }, nonce), 'non-plain')
})

t.test('shapes encode numbers exactly, booleans, null, and structural strings by value', async (t) => {
  const nonce = 'Lzabc'
  const shape = (value: unknown) => (readShape({ v: value }, nonce) as { key: string }).key
  t.not(shape(0), shape(-0))
  t.not(shape(1), shape(1.5))
  t.not(shape(true), shape(false))
  t.not(shape(null), shape('null'))
  t.not(shape('@a'), shape('@b'))
  t.not(shape('_:a'), shape('_:b'))
  t.not(shape(''), shape('x'))
  t.equal(shape('x'), shape('y'))
  t.not(shape(['x', 'x']), shape(['x', 'y']))
  const nullProto = Object.assign(Object.create(null) as Json, { v: 'x' })
  t.equal((readShape(nullProto, nonce) as { key: string }).key, shape('y'))
})

t.test('lexical classes keep what jsonld.js looks at', async (t) => {
  const terms = new Set(['xsd', '0'])
  t.equal(lexicalClass('abc', terms), 'N')
  t.equal(lexicalClass('a b', terms), 'Nw')
  t.equal(lexicalClass('https://x', terms), 'P"https"/')
  t.equal(lexicalClass('xsd:x', terms), 'P"xsd"')
  t.equal(lexicalClass(':x', terms), 'P""')
  t.equal(lexicalClass('a,b:x', terms), 'P"a,b"')
  t.equal(lexicalClass('Note that: x', terms), 'Xw')
  t.equal(lexicalClass('1x://y', terms), 'X/')
  t.equal(placeholderFor('Note that: x', new Set(), 'TOK'), '0:TOK ')
  t.equal(placeholderFor('1x://y', new Set(), 'TOK'), '0://TOK')
  t.equal(placeholderFor('https://x y', terms, 'TOK'), 'https://TOK ')
  t.equal(placeholderFor('abc', terms, 'TOK'), 'TOK')
})

t.test('shapeKey puts term-valued strings in by value', async (t) => {
  const shape = readShape({ a: 'assertionMethod', b: 'other' }, 'Lzabc') as Exclude<ReturnType<typeof readShape>, string>
  const { key, termSlots } = shapeKey(shape, new Set(['assertionMethod']))
  t.match(key, /t"assertionMethod"/)
  t.same(termSlots, [0])
  t.same(rewrite({ a: 'assertionMethod', b: 'other', '@type': 'T', n: [1, null] }, shape, (slot) => (slot === 1 ? 'P' : undefined)),
    { a: 'assertionMethod', b: 'P', '@type': 'T', n: [1, null] })
})

t.test('the verbatim check flags split, case-folded, typed and missing placeholders', async (t) => {
  const nonce = 'LzN'
  const term = (value: string, extra: Json = {}) => ({ termType: 'Literal', value, ...extra })
  const quad = (object: Json): Quad => ({ subject: { termType: 'BlankNode', value: '_:b0' }, predicate: { termType: 'NamedNode', value: 'https://p' }, object: object as Quad['object'], graph: { termType: 'DefaultGraph', value: '' } })
  const placeholders = ['LzN0Zq', 'LzN1Zq', undefined, 'LzN3Zq']
  const result = analyze([
    quad(term('LzN0Zq')),
    quad(term('x', { datatype: { termType: 'NamedNode', value: 'https://t/LzN1Zq' } })),
    quad(term('x', { language: 'lzn3zq' })),
    quad(term('prefix LzN0Zq'))
  ], [...placeholders], noncePatterns(nonce))
  t.same([...(result.bad ?? [])].sort(), [0, 1, 3])
  const mangled = analyze([quad(term('LzN'))], ['LzN0Zq'], noncePatterns(nonce))
  t.same([...(mangled.bad ?? [])], [0])
  const unknownSlot = analyze([quad(term('LzN7Zq x'))], ['LzN0Zq'], noncePatterns(nonce))
  t.same([...(unknownSlot.bad ?? [])], [0])
  const constant = analyze([quad(term('x'))], [], noncePatterns(nonce))
  t.same(constant.template?.slots, [])
  t.equal(substitute(constant.template!, []).length, 1)
  // Equal strings share a slot, so only a slot filled with a constant's value can make two quads equal.
  const slotted = analyze([quad(term('LzN0Zq')), quad(term('x'))], ['LzN0Zq'], noncePatterns(nonce))
  t.equal(substitute(slotted.template!, ['x']).length, 1, 'a slot filled with a constant\'s value: deduplicated')
  t.equal(substitute(slotted.template!, ['y']).length, 2, 'any other value: nothing to de-duplicate')
})

t.test('term names come from every reachable context, imports and scoped contexts included', async (t) => {
  const documents: Record<string, unknown> = {
    'https://c/a': { '@context': { a: 'https://x/a', T: { '@id': 'https://x/T', '@context': 'https://c/b' } } },
    'https://c/b': JSON.stringify({ '@context': { '@import': 'https://c/c', b: 'https://x/b' } }),
    'https://c/c': { '@context': [{ c: { '@id': 'https://x/c' } }, null] },
    'https://c/d': 'null'
  }
  const loader = async (url: string) => ({ document: documents[url], tag: 'static' })
  const terms = await termsOf([['https://c/a', 'https://c/a', 'https://c/d', { inline: 'https://x/i', '@vocab': 'https://x/' }]], loader)
  t.same([...terms].sort(), ['T', 'a', 'b', 'c', 'inline'])
  await t.rejects(termsOf(['https://c/a'], async () => undefined), { name: 'DynamicContext' })
})

t.test('the eddsa-rdfc-2022 cryptosuite signs the bytes the library signs, and verifies', async (t) => {
  const { key, did } = ed25519Key()
  const created = new Date('2024-02-01T00:00:00Z')
  const credential = badge({ issuer: { id: did, type: ['Profile'], name: 'Example U' } })
  const signed = async (suite: object) => issue({ credential: structuredClone(credential), suite, documentLoader })
  const signer = { id: key.verificationMethod, algorithm: 'Ed25519', sign: async ({ data }: { data: Uint8Array }) => sign(null, data, key.privateKey) }
  const ours = await signed(new DataIntegrityProof({ signer, cryptosuite: cachedEddsaRdfc2022, date: created }))
  const theirs = await signed(new DataIntegrityProof({ signer, cryptosuite, date: created }))
  t.same(ours, theirs, 'Ed25519 is deterministic: the same canonical bytes give the same proof')
  t.same(await verifyDataIntegrity(ours, async () => didKeyDocument(did)), { verified: true })
  const oursAgain = await signed(new DataIntegrityProof({ signer, cryptosuite: cachedEddsaRdfc2022, date: created }))
  t.same(oursAgain, theirs, 'and from a cache hit too')
})

t.test('the Ed25519Signature2020 subclass signs the bytes the library signs, and verifies', async (t) => {
  const { key, did } = ed25519Key()
  const created = new Date('2024-02-01T00:00:00Z')
  const credential = badge({ '@context': [VC2, OB303, 'https://w3id.org/security/suites/ed25519-2020/v1'], issuer: { id: did, type: ['Profile'], name: 'Example U' } })
  const signer = { id: key.verificationMethod, algorithm: 'Ed25519', sign: async ({ data }: { data: Uint8Array }) => sign(null, data, key.privateKey) }
  const signed = async (suite: object) => issue({ credential: structuredClone(credential), suite, documentLoader })
  const ours = await signed(new CachedEd25519Signature2020({ signer, date: created }))
  const theirs = await signed(new Ed25519Signature2020({ signer, date: created }))
  t.same(ours, theirs)
  t.same(await signed(new CachedEd25519Signature2020({ signer, date: created })), theirs, 'from a cache hit too')
  t.same(await verifyDataIntegrity(ours, async () => didKeyDocument(did)), { verified: true })
})

t.test('the Ed25519Signature2020 subclass leaves options it does not model to the library', async (t) => {
  const expected = await jsonld.canonize(badge(), { algorithm: 'URDNA2015', base: null, format: 'application/n-quads', safe: true, documentLoader })
  type Canonizing = { canonize(input: unknown, options: object): Promise<string> } & Json
  const plain = new CachedEd25519Signature2020({}) as unknown as Canonizing
  t.equal(await plain.canonize(badge(), { documentLoader }), expected)
  t.equal(await plain.canonize(badge(), { documentLoader, skipExpansion: false }), expected)
  resetCanonicalizationStats()
  const withOptions = new CachedEd25519Signature2020({}) as unknown as Canonizing
  withOptions.canonizeOptions = { safe: true }
  t.equal(await withOptions.canonize(badge(), { documentLoader }), expected)
  const native = new CachedEd25519Signature2020({}) as unknown as Canonizing
  native.useNativeCanonize = false
  native.canonizeOptions = {}
  t.equal(await native.canonize(badge(), { documentLoader }), expected)
  // LinkedDataSignature#canonize drops expansionMap before jsonld.canonize (which would reject it): so does the fallback.
  t.equal(await plain.canonize(badge(), { documentLoader, expansionMap: () => undefined }), expected)
  t.equal(canonicalizationStats().fallbacks['unsupported-options'], 2)
})

function ed25519Key() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
  const multibase = `z${base58.encode(Buffer.concat([Buffer.from([0xed, 0x01]), raw]))}`
  const did = `did:key:${multibase}`
  return { did, key: { verificationMethod: `${did}#${multibase}`, controller: did, privateKey } }
}
