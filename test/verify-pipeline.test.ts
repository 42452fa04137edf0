// The pipeline's own rules, called directly: which format a broken credential declared, endorsements (valid, broken,
// as JWT, nested), presentations in their less common shapes, and the smaller checks' edge cases.
import t from 'tap'
import { checkFormat } from '../src/verify/checks/format.js'
import { checkRecipient } from '../src/verify/checks/recipient.js'
import { checkValidity } from '../src/verify/checks/validity.js'
import { identityHash } from '../src/recipients/identity.js'
import { decodeInput, fromJson } from '../src/verify/input.js'
import { createVerifier } from '../src/verify/pipeline.js'
import { verifyPresentation } from '../src/verify/presentation.js'
import { fixtureBytes, fixtureText, fixtureWeb } from './helpers/fixture-web.js'
import { newHolder, presentation } from './helpers/holder.js'

type Json = Record<string, any>
const fixture = (name: string): Json => JSON.parse(fixtureText(name))
const statusOf = (checks: Json[], name: string) => checks.find((c) => c.check === name)?.status

t.test('a credential whose format fails still says which proof it carried', async (t) => {
  const verifier = createVerifier({ fetch: fixtureWeb().fetch })
  const v1 = fixture('simple_v1.json')
  v1['@context'][0] = 'https://example.com/not-a-vc'
  t.equal((await verifier.verify({ credential: v1 })).format, 'Ed25519Signature2020')
  const eddsa2022 = fixture('simple-eddsa-2022.json')
  eddsa2022['@context'] = 'https://www.w3.org/2018/credentials/v1'
  t.equal((await verifier.verify({ credential: eddsa2022 })).format, 'eddsa-2022')
  const unsigned = fixture('simple-noproof.json')
  delete unsigned['@context']
  const report = await verifier.verify({ credential: unsigned }, { recipient: { email: 'a@example.com' } })
  t.equal(report.format, 'none')
  t.same(report.checks.map((c: Json) => [c.check, c.status]), [['format', 'failed'], ['schema', 'skipped'], ['proof', 'skipped'], ['issuer', 'skipped'], ['validity', 'skipped'], ['status', 'skipped'], ['recipient', 'skipped']])
})

t.test('endorsements: each verified like a credential; a bad one is a warning, not a failure', async (t) => {
  const verifier = createVerifier({ fetch: fixtureWeb().fetch })
  const endorsement = fixture('endorsement-valid.json')
  const holder = fixture('simple-noproof.json')
  holder.endorsement = [endorsement]
  const unrelated: Json = await verifier.verify({ credential: holder })
  t.match(unrelated.endorsements, [{ verified: false }], 'an endorsement of something the credential is not about does not verify')
  t.match(unrelated.endorsements[0].checks.find((c: Json) => c.check === 'subject'), { status: 'failed', message: /^Endorses https:\/\/1edtech\.edu\/issuers\/565049, which is not/ })
  const subjectless = structuredClone(endorsement)
  delete subjectless.credentialSubject.id
  holder.endorsement = [subjectless]
  const nameless: Json = await verifier.verify({ credential: holder })
  t.match(nameless.endorsements[0].checks.find((c: Json) => c.check === 'subject'), { status: 'failed', message: 'The endorsement names no subject (credentialSubject.id)' })
  holder.endorsement = [endorsement]
  // The fixture endorses the issuer https://1edtech.edu/issuers/565049: made this credential's issuer, it is about it.
  holder.issuer = { ...holder.issuer, id: 'https://1edtech.edu/issuers/565049' }
  const good = await verifier.verify({ credential: holder })
  t.match(good.endorsements, [{ id: endorsement.id, verified: true, issuer: { id: 'https://state.gov/issuers/565049' } }])
  t.match(good.checks.find((c: Json) => c.check === 'endorsements'), { status: 'passed', message: 'The endorsement verifies' })

  holder.endorsement = [endorsement, endorsement]
  t.match((await verifier.verify({ credential: holder })).checks.find((c: Json) => c.check === 'endorsements'), { status: 'passed', message: 'All 2 endorsements verify' })

  const forged = structuredClone(endorsement)
  forged.credentialSubject.endorsementComment = 'Forged praise'
  holder.endorsement = [endorsement, forged]
  holder.credentialSubject.achievement = { ...holder.credentialSubject.achievement, endorsementJwt: ['not-a-jwt.at-all', 'eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.'] }
  const mixed: Json = await verifier.verify({ credential: holder })
  t.equal(mixed.endorsements.length, 4)
  t.same(mixed.endorsements.map((e: Json) => e.verified), [true, false, false, false])
  t.match(mixed.checks.find((c: Json) => c.check === 'endorsements'), { status: 'warning', message: /^3 of 4 endorsements do not verify/ })
  t.equal(statusOf(mixed.endorsements[2].checks, 'format'), 'failed', 'a string that is not a JWT')

  // Endorsements are followed two levels deep, no further.
  const level2 = structuredClone(endorsement)
  level2.endorsement = [structuredClone(endorsement)]
  level2.endorsement[0].endorsement = [structuredClone(endorsement)]
  holder.endorsement = [level2]
  delete holder.credentialSubject.achievement.endorsementJwt
  const nested: Json = await verifier.verify({ credential: holder })
  t.equal(nested.endorsements.length, 1)
  t.equal(nested.endorsements[0].checks.some((c: Json) => c.check === 'endorsements'), true, 'the first level reports its own endorsements')
})

t.test('an endorsement given as a VC-JWT is verified as one', async (t) => {
  const verifier = createVerifier({ fetch: fixtureWeb().fetch })
  const baked = await decodeInput({ kind: 'image', bytes: fixtureBytes('simple-jwt.png') }, fixtureWeb().fetch)
  const holder = fixture('simple-noproof.json')
  holder.endorsementJwt = [baked.jwt!.jwt]
  // An Open Badge stands in for an endorsement here: the holder is made what it is about (its subject).
  holder.id = (baked.credential.credentialSubject as Json).id
  const report = await verifier.verify({ credential: holder })
  t.match(report.endorsements, [{ verified: true, checks: [{ check: 'format' }, { check: 'schema' }, { check: 'proof', status: 'passed', message: /VC-JWT/ }] }])
})

t.test('presentations in their other shapes', async (t) => {
  const verifier = createVerifier({ fetch: fixtureWeb().fetch })
  const holder = await newHolder()
  const simple = fixture('simple.json')
  const signed = await presentation(holder, [simple], { challenge: 'abc' })
  signed.holder = { id: holder.did }
  const asObject = await verifyPresentation(verifier, signed, { challenge: 'abc' })
  t.match(asObject.checks, [{ check: 'format', status: 'passed' }, { check: 'proof', status: 'passed' }], 'holder as an object with the same id is the same statement: still valid')
  t.equal(asObject.holder, holder.did)

  const single = { '@context': ['https://www.w3.org/ns/credentials/v2'], type: 'VerifiablePresentation', holder: { id: holder.did }, verifiableCredential: simple }
  const report = await verifyPresentation(verifier, single, {})
  t.equal(report.holder, holder.did)
  t.equal(report.credentials.length, 1)
  t.equal(report.verified, true)

  const empty = await verifyPresentation(verifier, { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiablePresentation'], proof: { type: 'DataIntegrityProof', cryptosuite: 'eddsa-rdfc-2022', proofPurpose: 'authentication', challenge: 7 } }, {})
  t.match(empty.checks[1], { status: 'failed' })
  t.equal(empty.credentials.length, 0)

  const badContext = await verifyPresentation(verifier, { '@context': 'https://example.com', type: ['VerifiablePresentation'] }, {})
  t.match(badContext.checks, [{ check: 'format', status: 'failed' }, { check: 'proof', status: 'skipped' }])
  t.equal(badContext.holder, null)
  await t.rejects(verifyPresentation(verifier, [], {}), { name: 'InputError' })
})

t.test('format: an Open Badge type needs the OB context', async (t) => {
  t.match(checkFormat({ '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential', 'OpenBadgeCredential'] }).check,
    { status: 'failed', message: 'An Open Badge must include the Open Badges 3.0 JSON-LD context' })
  t.match(checkFormat({ '@context': ['https://www.w3.org/ns/credentials/v2', { '@vocab': 'https://example.com/' }], type: ['VerifiableCredential'] }).check,
    { status: 'failed', message: /embeds a JSON-LD context object/ })
  t.match(checkFormat({ '@context': ['https://www.w3.org/ns/credentials/v2'], type: 'VerifiableCredential' }).check, { status: 'failed', message: /must be a list/ })
  t.match(checkFormat({ '@context': [], type: ['VerifiableCredential'] }).check, { status: 'failed', message: /no @context/ })
})

t.test('recipient: unhashed email identifiers, salts left out, odd identifiers', async (t) => {
  const subject = (identifier: unknown) => ({ credentialSubject: [{ identifier }] })
  t.match(checkRecipient(subject({ identityType: 'emailAddress', hashed: false, identityHash: 'Ada@Example.com' }), { email: 'ada@example.com' }), { status: 'passed' })
  t.match(checkRecipient(subject({ identityType: 'emailAddress', hashed: false, identityHash: 5 }), { email: 'ada@example.com' }), { status: 'failed' })
  t.match(checkRecipient(subject({ identityType: 'emailAddress', hashed: true, identityHash: identityHash('ada@example.com', '') }), { email: 'ada@example.com' }), { status: 'passed' }, 'no salt means an empty salt')
  t.match(checkRecipient(subject([{ identityType: 'emailAddress', hashed: true }]), { email: 'ada@example.com' }), { status: 'failed' })
  t.match(checkRecipient(subject({ identityType: 'emailAddress', hashed: true, identityHash: 'sha256$00' }), { email: 'ada@example.com' }), { status: 'failed', message: 'Not issued to ada@example.com' })
  t.match(checkRecipient({ credentialSubject: 'nobody' }, { email: 'ada@example.com' }), { status: 'failed', message: /does not name its recipient/ })
})

t.test('validity: dates that are not dates', async (t) => {
  const now = new Date('2026-01-01T00:00:00Z')
  t.match(checkValidity({ validFrom: '2025-01-01' }, now), { status: 'failed', message: /is not a date/ })
  t.match(checkValidity({ validFrom: '2025-01-01T00:00:00Z', validUntil: 'soon' }, now), { status: 'failed', message: /end date "soon" is not a date/ })
  t.match(checkValidity({ validFrom: '2025-02-30T25:00:00Z' }, now), { status: 'failed', message: /is not a date/ })
  t.match(checkValidity({}, now), { status: 'failed', message: /no start date/ })
  t.match(checkValidity({ issuanceDate: '2025-01-01T00:00:00Z', expirationDate: '2027-01-01T00:00:00Z' }, now), { status: 'passed', message: /until 2027/ })
})

t.test('input: a URL that serves a baked image, an enveloped JWT, a JWT without a credential', async (t) => {
  const png = fixtureBytes('simple-json.png')
  const fetch = async (url: string) => ({ url, contentType: 'image/png', body: png })
  const decoded = await decodeInput({ kind: 'url', url: 'https://badges.example.org/badge.png' }, fetch)
  t.equal(decoded.source, 'url')
  t.equal((decoded.credential.type as string[])[1], 'OpenBadgeCredential')
  const text = async (url: string) => ({ url, contentType: 'text/plain', body: Buffer.from(JSON.stringify(fixture('simple.json'))) })
  t.equal((await decodeInput({ kind: 'url', url: 'https://badges.example.org/badge' }, text)).source, 'url')
  t.throws(() => fromJson({ type: 'EnvelopedVerifiableCredential', id: 'data:application/vc+jwt,abc' }, 'json'), { name: 'InputError' })
  t.throws(() => fromJson(42, 'json'), { name: 'InputError', message: /JSON object/ })
})

t.test('several proofs: one key named twice, two keys of one controller, a key that is not Ed25519', async (t) => {
  const verifier = createVerifier({ fetch: fixtureWeb().fetch })
  const simple = fixture('simple.json')
  const [proof] = simple.proof
  const otherKey = { ...proof, verificationMethod: 'https://example.com/issuers/876543#z6MknNHHrBzPytzu6CUBP9Lg7fg4KSBjzimc2Frh693YbMiv' }
  const report = await verifier.verify({ credential: { ...simple, proof: [proof, { ...proof }, otherKey] } })
  t.match(report.checks.find((c: Json) => c.check === 'proof'), { status: 'passed', message: /z6MkjZRZ/ }, 'any one valid proof is enough')
  t.equal(report.verified, true)
  const unresolvable = { ...proof, verificationMethod: 'did:example:nobody#key-1' }
  const mixed = await verifier.verify({ credential: { ...simple, proof: [unresolvable, proof] } })
  t.match(mixed.checks.find((c: Json) => c.check === 'proof'), { status: 'passed', message: /z6MkjZRZ/ }, 'a proof whose key cannot be found does not spoil a good one')

  const ecKey = Buffer.from(JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' })).toString('base64url')
  const ec = await verifier.verify({ credential: { ...simple, proof: { ...proof, verificationMethod: `did:jwk:${ecKey}#0` } } })
  t.match(ec.checks.find((c: Json) => c.check === 'proof'), { status: 'failed', message: /is not an Ed25519 key/ })
})

t.test('a VC 1.1 presentation with its proof in a list', async (t) => {
  const verifier = createVerifier({ fetch: fixtureWeb().fetch })
  const holder = await newHolder()
  const signed = await presentation(holder, [], { challenge: 'v1' })
  const v1 = { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiablePresentation'], proof: [signed.proof] }
  const report = await verifyPresentation(verifier, v1, { challenge: 'v1' })
  t.match(report.checks, [{ check: 'format', status: 'passed' }, { check: 'proof', status: 'failed' }], 'its signature was over the VC 2.0 form, so it fails — but it is read')
})

t.test('JSON-LD safe mode names what it could not read', async (t) => {
  const verifier = createVerifier({ fetch: fixtureWeb().fetch })
  const unsigned = fixture('simple-noproof.json')
  unsigned.credentialSubject = { '@language': 'en' }
  t.match((await verifier.verify({ credential: unsigned })).checks[0], { check: 'format', status: 'failed', message: /do not define every term it uses \(Dropping object with only @language/ })
  unsigned.credentialSubject = { id: 'did:example:x', name: { '@value': 'a', '@language': 5 } }
  t.match((await verifier.verify({ credential: unsigned })).checks[0], { check: 'format', status: 'failed', message: /^Not valid JSON-LD: / })
})

t.test('a presentation using a context Lanyard does not ship cannot have its proof checked, and says why', async (t) => {
  const verifier = createVerifier({ fetch: fixtureWeb().fetch })
  const holder = await newHolder()
  const signed = await presentation(holder, [], { challenge: 'ctx' })
  signed['@context'] = [...signed['@context'], 'https://example.com/unknown-context.jsonld']
  const report = await verifyPresentation(verifier, signed, { challenge: 'ctx' })
  t.match(report.checks[1], { check: 'proof', status: 'failed', message: 'The signature could not be checked: it uses the JSON-LD context https://example.com/unknown-context.jsonld which Lanyard does not know (it never fetches contexts)' })
})
