// The differential test of template canonicalization: the libraries' pipelines next to ours on one document, and a
// generator of OB 3.0 credentials in families that share a shape. Two test files split the 10,000 generated documents.
import fc from 'fast-check'
import type { Test } from 'tap'
import jsonldModule from '@digitalcredentials/jsonld'
import { cryptosuite } from '@digitalcredentials/eddsa-rdfc-2022-cryptosuite'
import { Canonizer } from '../../src/crypto/canonicalize/index.js'
import { documentLoader } from '../../src/crypto/document-loader.js'

export type Json = Record<string, any>

const jsonld = jsonldModule as unknown as { canonize(input: unknown, options: object): Promise<string> }
// The cryptosuite's own canonize: the path being replaced.
export const { canonize: library } = cryptosuite as { canonize(input: unknown, options: object): Promise<string> }

export const VC1 = 'https://www.w3.org/2018/credentials/v1'
export const VC2 = 'https://www.w3.org/ns/credentials/v2'
export const OB = (patch: number) => `https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.${patch}.json`
const EXTENSIONS = 'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json'
const ED25519 = 'https://w3id.org/security/suites/ed25519-2020/v1'
const DI1 = 'https://w3id.org/security/data-integrity/v1'

type Outcome = { ok: true; nquads: string } | { ok: false; error: string }

async function outcome(run: () => Promise<string>): Promise<Outcome> {
  try {
    return { ok: true, nquads: await run() }
  } catch (error) {
    const { name, message, details } = error as { name: string; message: string; details?: { event?: { code?: string } } }
    return { ok: false, error: `${name}: ${message} ${details?.event?.code ?? ''}` }
  }
}

/** Both pipelines on one document: the library's RDFC-1.0 (and, when asked, jsonld.canonize's URDNA2015). */
export async function compare(canonizer: Canonizer, document: unknown, legacy = false): Promise<{ same: boolean; library: Outcome; ours: Outcome }> {
  const options = { documentLoader, base: null, safe: true }
  const expected = await outcome(() => library(structuredClone(document), options))
  const actual = await outcome(() => canonizer.canonizeRdfc(document, options))
  let same = JSON.stringify(expected) === JSON.stringify(actual)
  if (same && legacy) {
    const legacyOptions = { documentLoader, skipExpansion: false }
    const run = () => jsonld.canonize(structuredClone(document), { algorithm: 'URDNA2015', base: null, format: 'application/n-quads', safe: true, ...legacyOptions })
    const expectedLegacy = await outcome(run)
    const actualLegacy = await outcome(() => canonizer.canonizeUrdna2015(document, legacyOptions, run))
    same = JSON.stringify(expectedLegacy) === JSON.stringify(actualLegacy)
  }
  return { same, library: expected, ours: actual }
}

// ---- generators ---------------------------------------------------------------------------------------------------

const tricky = fc.constantFrom(
  'He said "hi"', 'back\\slash', 'line\nbreak', 'tab\tand\rreturn', '🎓 emoji 👩🏽‍🎓', 'مرحبا بالعالم', 'שלום', '\u202Ertl override',
  'null\u0000char', 'bell\u0007', 'nbsp\u00a0here', 'Note: colon inside', 'assertionMethod', 'name', 'Achievement', 'xsd:string',
  '12', '1.5', 'true', '', ' ', 'urn:uuid:0', 'http://x.y/z', 'ÿ\u2028sep'
)
const text = fc.oneof({ weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) }, fc.string({ unit: 'binary', maxLength: 8 }), tricky)
const word = fc.stringMatching(/^[A-Za-z0-9]{1,10}$/)
const iri = fc.oneof(
  { weight: 4, arbitrary: word.map((w) => `https://example.edu/${w}`) },
  { weight: 2, arbitrary: fc.uuid().map((u) => `urn:uuid:${u}`) },
  { weight: 2, arbitrary: word.map((w) => `did:example:${w}`) },
  word.map((w) => `mailto:${w}@example.org`),
  word.map((w) => `http://example.com/a?q=${w}#frag`),
  // Near-collisions: compact IRIs (xsd is a term in 3.0.1), relative, blank node, whitespace, odd schemes.
  word.map((w) => `xsd:${w}`), word.map((w) => `rel/${w}`), word.map((w) => `_:b${w}`), word.map((w) => `https://ex.org/${w} x`),
  word.map((w) => `a,b:${w}`), word.map((w) => `:${w}`), word.map((w) => `1x:${w}`)
)
const date = fc.date({ min: new Date('2000-01-01'), max: new Date('2040-01-01'), noInvalidDate: true }).map((d) => d.toISOString().replace('.000', ''))
const number = fc.oneof(fc.integer({ min: -5, max: 1000 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constantFrom(1e21, 0.1, 1.5, -0, 2))
const language = fc.constantFrom('en', 'en-US', 'fr', 'ar', 'he')


/** Patterns for one id or text position within a family; `%` is the member's word, so members share a class. */
const idPattern = fc.oneof(
  { weight: 80, arbitrary: fc.constantFrom('https://example.edu/c/%', 'urn:uuid:00000000-%', 'did:example:%', 'mailto:%@example.org', 'http://example.com/a?q=%#f') },
  // Near-collisions: compact IRI (xsd is a term in 3.0.1), relative, blank node, whitespace, odd schemes, random.
  fc.constantFrom('xsd:%', 'rel/%', '_:b%', 'https://ex.org/% x', 'a,b:%', ':%', '1x:%', 'did:example:%', 'RANDOM')
)
const textPattern = fc.oneof(
  { weight: 40, arbitrary: fc.constantFrom('Badge %', '%', 'He said "%" \\ back', '🎓 % 👩🏽‍🎓 مرحبا', 'line\n%\ttab', 'Note: %', 'שלום %') },
  fc.constantFrom('RANDOM', 'LANG', 'DIR')
)

/** The structure of a credential family: which optional parts are present, contexts, array lengths, value patterns. */
const familySpec = fc.record({
  vc: fc.constantFrom(1, 2, 2),
  ob: fc.constantFrom(1, 2, 3, 3),
  extensions: fc.boolean(),
  subjectId: fc.boolean(),
  identifier: fc.boolean(),
  results: fc.nat(1),
  resultDescriptions: fc.nat(2),
  evidence: fc.nat(1),
  alignments: fc.nat(2),
  endorsements: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
  image: fc.constantFrom('none', 'iri', 'object'),
  credits: fc.boolean(),
  numbers: fc.array(number, { minLength: 2, maxLength: 2 }),
  hashed: fc.boolean(),
  sameIssuerAndEndorser: fc.boolean(),
  proof: fc.constantFrom('none', 'none', 'eddsa', 'ed25519'),
  undefinedTerm: fc.constantFrom(false, false, false, false, false, false, false, false, false, false, false, true),
  arrayOfOne: fc.boolean(),
  ids: fc.array(idPattern, { minLength: 12, maxLength: 12 }),
  texts: fc.array(textPattern, { minLength: 12, maxLength: 12 })
})
type Spec = typeof familySpec extends fc.Arbitrary<infer S> ? S : never

/** One member's values: a word per position, plus random text and a language for positions that ask for them. */
const memberValues = fc.record({
  words: fc.array(word, { minLength: 12, maxLength: 12 }),
  random: fc.array(fc.oneof(text, iri), { minLength: 12, maxLength: 12 }),
  language,
  dates: fc.array(date, { minLength: 3, maxLength: 3 })
})
type Values = typeof memberValues extends fc.Arbitrary<infer V> ? V : never

function credential(spec: Spec, v: Values, nested = false): Json {
  const fill = (pattern: string, i: number) => pattern === 'RANDOM' ? v.random[i]! : pattern.replace('%', v.words[i]!)
  const id = (i: number): string => fill(spec.ids[i]!, i)
  const str = (i: number): string => fill(spec.texts[i]!.length === 4 ? 'Badge %' : spec.texts[i]!, i)
  const txt = (i: number): unknown => {
    const pattern = spec.texts[i]!
    if (pattern === 'LANG') return { '@value': str(i), '@language': v.language }
    if (pattern === 'DIR') return { '@value': str(i), '@language': v.language, '@direction': 'rtl' }
    return str(i)
  }
  const maybeOne = <T>(items: T[]) => (spec.arrayOfOne && items.length === 1 ? items[0] : items)
  const context: unknown[] = [spec.vc === 1 ? VC1 : VC2, OB(spec.ob)]
  if (spec.extensions) context.push(EXTENSIONS)
  if (spec.proof === 'ed25519') context.push(ED25519)
  if (spec.proof === 'eddsa' && spec.vc === 1) context.push(DI1)
  const issuer: Json = { id: id(1), type: ['Profile'], name: txt(1) }
  if (spec.image === 'iri') issuer.image = id(2)
  if (spec.image === 'object') issuer.image = { id: id(2), type: 'Image', caption: txt(2) }
  const achievement: Json = { id: id(3), type: ['Achievement'], name: txt(3), description: txt(4), criteria: { narrative: txt(5) } }
  if (spec.credits) achievement.creditsAvailable = spec.numbers[0]
  if (spec.alignments > 0) {
    achievement.alignment = maybeOne(Array.from({ length: spec.alignments }, (_, i) =>
      ({ type: ['Alignment'], targetName: txt(6 + i), targetUrl: id(4 + i), targetCode: txt(8) })))
  }
  if (spec.resultDescriptions > 0) {
    achievement.resultDescription = Array.from({ length: spec.resultDescriptions }, (_, i) => ({
      id: id(6 + i), type: ['ResultDescription'], name: txt(9 + i), resultType: i === 0 ? 'LetterGrade' : 'Status',
      allowedValue: [txt(10), 'B', 'C'], requiredValue: txt(10)
    }))
  }
  const subject: Json = { type: ['AchievementSubject'], achievement }
  if (spec.subjectId) subject.id = id(8)
  if (spec.identifier) {
    subject.identifier = [{ type: 'IdentityObject', identityHash: `sha256$${str(11)}`, identityType: 'emailAddress', hashed: spec.hashed, salt: txt(0) }]
  }
  if (spec.credits) subject.creditsEarned = spec.numbers[1]
  if (spec.results > 0) {
    subject.result = Array.from({ length: spec.results }, (_, i) => ({ type: ['Result'], resultDescription: id(6 + i), value: txt(10 + i) }))
  }
  const document: Json = {
    '@context': context,
    id: id(0),
    type: ['VerifiableCredential', nested ? 'EndorsementCredential' : 'OpenBadgeCredential'],
    name: txt(0),
    issuer,
    [spec.vc === 1 ? 'issuanceDate' : 'validFrom']: v.dates[0],
    credentialSubject: subject
  }
  if (nested) document.credentialSubject = { id: id(3), type: ['EndorsementSubject'], endorsementComment: txt(7) }
  if (spec.evidence > 0) {
    document.evidence = Array.from({ length: spec.evidence }, (_, i) =>
      ({ ...(i === 0 ? { id: id(9) } : {}), type: ['Evidence'], name: txt(2 + i), narrative: txt(5), genre: 'Demo' }))
  }
  if (spec.endorsements > 0 && !nested) {
    const endorser = spec.sameIssuerAndEndorser ? v : { ...v, words: [...v.words.slice(1), v.words[0]!] }
    document.endorsement = [credential({ ...spec, endorsements: 0, extensions: false }, endorser, true)]
  }
  if (spec.extensions) document.credentialSchema = [{ id: id(10), type: '1EdTechJsonSchemaValidator2019' }]
  if (spec.undefinedTerm) document.notInAnyContext = txt(1)
  if (spec.proof === 'eddsa') {
    document.proof = { type: 'DataIntegrityProof', cryptosuite: 'eddsa-rdfc-2022', created: v.dates[1], verificationMethod: `${id(1)}#key-1`, proofPurpose: 'assertionMethod', proofValue: `z${str(11)}` }
  }
  if (spec.proof === 'ed25519') {
    document.proof = { type: 'Ed25519Signature2020', created: v.dates[2], verificationMethod: `${id(1)}#key-1`, proofPurpose: 'assertionMethod', proofValue: `z${str(11)}` }
  }
  return document
}

const families = fc.tuple(familySpec, fc.array(memberValues, { minLength: 25, maxLength: 35 }))


/** `numRuns` families (25–35 members each) from `seed`, each member compared; fails at the first difference. */
/** The generated credentials of a seed, family by family (members share a shape, or nearly). */
export function* generatedCredentials(seed: number, numRuns: number): Generator<Json> {
  for (const [spec, members] of fc.sample(families, { seed, numRuns })) {
    for (const values of members) yield credential(spec, values)
  }
}

export async function generatedCredentialsCanonizeAlike(t: Test, seed: number, numRuns: number): Promise<number> {
  const canonizer = new Canonizer()
  const started = performance.now()
  let documents = 0
  let thrown = 0
  // fc.sample with a fixed seed: the same 10,000+ documents every run; a failure names its family and member.
  const sample = fc.sample(families, { seed, numRuns })
  for (const [family, [spec, members]] of sample.entries()) {
    for (const [member, values] of members.entries()) {
      documents++
      const result = await compare(canonizer, credential(spec, values), documents % 25 === 0)
      if (!result.library.ok) thrown++
      if (!result.same) {
        t.fail(`family ${family} member ${member} differs`, { spec, values, result })
        return documents
      }
    }
  }
  const { hits, misses } = canonizer.statistics()
  const seconds = (performance.now() - started) / 1000
  t.comment(`${documents} documents (${thrown} rejected by jsonld.js) in ${seconds.toFixed(1)} s; ${hits} hits, ${misses} misses`)
  t.ok(hits > documents / 2, 'the hit path runs thousands of times')
  t.ok(thrown > 0, 'rejections are compared too')
  return documents
}
