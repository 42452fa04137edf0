import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import * as base58 from 'base58-universal'
import t from 'tap'
import { CompactSign } from 'jose'
import { signDataIntegrity, UnsignableCredentialError, type DataIntegritySuite, type SigningKey } from '../src/crypto/data-integrity.js'
import { signVcJwt, type JwtAlg } from '../src/crypto/vc-jwt.js'
import { didKeyDocument, verifyDataIntegrity, verifyVcJwt } from './helpers/independent-verifier.js'
import { officialSchemaValidator } from './helpers/ob3.js'

type Json = Record<string, any>

// ---- issuers: keys made here with node:crypto, DID documents built here -------------------------------------------

interface JwtKey { kid: string; privateKey: KeyObject }
interface TestIssuer { label: string; did: string; ed25519: SigningKey; jwt: Partial<Record<JwtAlg, JwtKey>> }

function multikey(publicKey: KeyObject): string {
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
  return `z${base58.encode(Buffer.concat([Buffer.from([0xed, 0x01]), raw]))}`
}

/** A signing key plus its Multikey encoding, for the DID documents the tests publish. */
type TestKey = SigningKey & { publicKeyMultibase: string }

function ed25519Under(did: (multibase: string) => string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const publicKeyMultibase = multikey(publicKey)
  const controller = did(publicKeyMultibase)
  return { verificationMethod: `${controller}#${publicKeyMultibase}`, controller, privateKey, publicKeyMultibase }
}

const keyEd25519 = ed25519Under((multibase) => `did:key:${multibase}`)
const didKeyIssuer: TestIssuer = {
  label: 'did:key',
  did: keyEd25519.controller,
  ed25519: keyEd25519,
  jwt: { EdDSA: { kid: keyEd25519.verificationMethod, privateKey: keyEd25519.privateKey } }
}

const WEB_DID = 'did:web:badges.example.org:issuers:7f3c'
const webEd25519 = ed25519Under(() => WEB_DID)
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const didWebIssuer: TestIssuer = {
  label: 'did:web',
  did: WEB_DID,
  ed25519: webEd25519,
  jwt: {
    EdDSA: { kid: webEd25519.verificationMethod, privateKey: webEd25519.privateKey },
    RS256: { kid: `${WEB_DID}#rsa-1`, privateKey: rsa.privateKey },
    ES256: { kid: `${WEB_DID}#p256-1`, privateKey: p256.privateKey }
  }
}
const webDidDocument = {
  '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1', 'https://w3id.org/security/jwk/v1'],
  id: WEB_DID,
  verificationMethod: [
    { id: webEd25519.verificationMethod, type: 'Multikey', controller: WEB_DID, publicKeyMultibase: webEd25519.publicKeyMultibase },
    { id: `${WEB_DID}#rsa-1`, type: 'JsonWebKey', controller: WEB_DID, publicKeyJwk: rsa.publicKey.export({ format: 'jwk' }) },
    { id: `${WEB_DID}#p256-1`, type: 'JsonWebKey', controller: WEB_DID, publicKeyJwk: p256.publicKey.export({ format: 'jwk' }) }
  ],
  assertionMethod: [webEd25519.verificationMethod, `${WEB_DID}#rsa-1`, `${WEB_DID}#p256-1`]
}

async function resolveDid(did: string): Promise<object> {
  if (did === WEB_DID) return webDidDocument
  if (did.startsWith('did:key:')) return didKeyDocument(did)
  throw new Error(`test resolver does not know ${did}`)
}

// ---- the credential --------------------------------------------------------------------------------------------------

const sha256 = (text: string) => `sha256$${createHash('sha256').update(text).digest('hex')}`

function openBadge(issuerDid: string): Json {
  return {
    '@context': [
      'https://www.w3.org/ns/credentials/v2',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json'
    ],
    id: `urn:uuid:${randomUUID()}`,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: issuerDid, type: ['Profile'], name: 'Example Institute of Technology', url: 'https://badges.example.org' },
    validFrom: '2025-03-01T09:30:00Z',
    name: 'Introduction to Welding',
    credentialSubject: {
      type: ['AchievementSubject'],
      identifier: [{ type: 'IdentityObject', identityType: 'emailAddress', hashed: true, salt: 'k3Z9', identityHash: sha256('ada@example.com' + 'k3Z9') }],
      achievement: {
        id: 'https://badges.example.org/achievements/welding-101',
        type: ['Achievement'],
        name: 'Introduction to Welding',
        description: 'Safe setup and basic MIG welding technique.',
        criteria: { id: 'https://badges.example.org/achievements/welding-101/criteria', narrative: 'Complete six supervised welds.' },
        image: { id: 'https://badges.example.org/achievements/welding-101/image', type: 'Image', caption: 'A welding torch' },
        achievementType: 'Certificate',
        inLanguage: 'en',
        alignment: [{
          type: ['Alignment'],
          targetName: 'Welding fundamentals',
          targetUrl: 'https://frameworks.example.org/welding/fundamentals',
          targetFramework: 'Example Trades Framework',
          targetType: 'CFItem'
        }]
      }
    },
    credentialSchema: [{
      id: 'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json',
      type: '1EdTechJsonSchemaValidator2019'
    }]
  }
}

function vc11(issuerDid: string): Json {
  return {
    '@context': ['https://www.w3.org/2018/credentials/v1'],
    id: `urn:uuid:${randomUUID()}`,
    type: ['VerifiableCredential'],
    issuer: issuerDid,
    issuanceDate: '2025-03-01T09:30:00Z',
    credentialSubject: { id: 'did:example:learner-42' }
  }
}

// ---- formats: sign, verify, tamper one way for all of them -----------------------------------------------------------

type Format = DataIntegritySuite | `vc-jwt ${JwtAlg}`
type Signed = { document: Json } | { jwt: string }

const FORMATS: Format[] = ['eddsa-rdfc-2022', 'Ed25519Signature2020', 'vc-jwt RS256', 'vc-jwt ES256', 'vc-jwt EdDSA']

function formatsOf(issuer: TestIssuer): Format[] {
  return FORMATS.filter((format) => !format.startsWith('vc-jwt') || issuer.jwt[format.slice('vc-jwt '.length) as JwtAlg])
}

async function sign(format: Format, issuer: TestIssuer, credential: Json): Promise<Signed> {
  if (!format.startsWith('vc-jwt')) {
    return { document: await signDataIntegrity(credential, { suite: format as DataIntegritySuite, key: issuer.ed25519 }) as Json }
  }
  const alg = format.slice('vc-jwt '.length) as JwtAlg
  return { jwt: await signVcJwt(credential, { alg, ...issuer.jwt[alg]! }) }
}

async function verify(signed: Signed): Promise<{ verified: boolean; error?: string }> {
  return 'jwt' in signed ? verifyVcJwt(signed.jwt, resolveDid) : verifyDataIntegrity(signed.document, resolveDid)
}

/** The credential as a verifier sees it: the document, or the JWT payload. */
function credentialOf(signed: Signed): Json {
  return 'jwt' in signed ? JSON.parse(Buffer.from(signed.jwt.split('.')[1]!, 'base64url').toString()) : signed.document
}

/** Changes the signed credential without re-signing: the JWT keeps its header and signature. */
function tampered(signed: Signed, change: (credential: Json) => void): Signed {
  const credential = structuredClone(credentialOf(signed))
  change(credential)
  if (!('jwt' in signed)) return { document: credential }
  const [header, , signature] = signed.jwt.split('.')
  return { jwt: [header, Buffer.from(JSON.stringify(credential)).toString('base64url'), signature].join('.') }
}

const CHANGES: Record<string, (credential: Json) => void> = {
  name: (c) => { c.name = 'Advanced Welding' },
  identityHash: (c) => { c.credentialSubject.identifier[0].identityHash = sha256('eve@example.com' + 'k3Z9') },
  validFrom: (c) => { c.validFrom = '2025-03-01T09:30:01Z' },
  'achievement id': (c) => { c.credentialSubject.achievement.id = 'https://badges.example.org/achievements/welding-201' },
  'issuer id': (c) => { c.issuer.id = 'did:web:evil.example' }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') Object.values(value).forEach(deepFreeze)
  return Object.freeze(value)
}

/** The same JSON with keys in reverse order at every level. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).reverse().map(([key, inner]) => [key, reversedKeys(inner)]))
}

const validateSchema = officialSchemaValidator('achievementcredential')

// ---- tests -----------------------------------------------------------------------------------------------------------

for (const issuer of [didKeyIssuer, didWebIssuer]) {
  for (const format of formatsOf(issuer)) {
    t.test(`${format} from a ${issuer.label} issuer`, async (t) => {
      const original = openBadge(issuer.did)
      const credential = deepFreeze(structuredClone(original))
      const signed = await sign(format, issuer, credential)

      t.test('verifies with the independent verifier and meets the official schema', async (t) => {
        const result = await verify(signed)
        t.equal(result.verified, true, result.error ?? 'verified')
        t.same(validateSchema(credentialOf(signed)), [])
      })

      for (const [field, change] of Object.entries(CHANGES)) {
        t.test(`changing the ${field} makes verification fail`, async (t) => {
          const result = await verify(tampered(signed, change))
          t.equal(result.verified, false, result.error ?? 'not verified')
        })
      }

      t.test('leaves its input untouched', async (t) => {
        t.same(credential, original, 'frozen input, so any write would have thrown; and still equal')
      })

      if ('document' in signed) {
        t.test('still verifies after re-serialising with other whitespace and key order', async (t) => {
          const text = JSON.stringify(reversedKeys(signed.document), null, '\t')
          t.not(text, JSON.stringify(signed.document))
          t.same(await verify({ document: JSON.parse(text) }), { verified: true })
        })
      }
    })
  }
}

t.test('DI proofs name the key, the suite and the purpose; only Ed25519Signature2020 adds a context to VC 2.0', async (t) => {
  const credential = openBadge(didKeyIssuer.did)
  const created = new Date('2025-03-01T10:00:00.123Z')
  const eddsa = await signDataIntegrity(credential, { suite: 'eddsa-rdfc-2022', key: didKeyIssuer.ed25519, created }) as Json
  t.match(eddsa.proof, {
    type: 'DataIntegrityProof',
    cryptosuite: 'eddsa-rdfc-2022',
    proofPurpose: 'assertionMethod',
    verificationMethod: didKeyIssuer.ed25519.verificationMethod,
    created: '2025-03-01T10:00:00Z',
    proofValue: /^z/
  })
  t.same(eddsa['@context'], credential['@context'])
  const legacy = await signDataIntegrity(credential, { suite: 'Ed25519Signature2020', key: didKeyIssuer.ed25519, created }) as Json
  t.match(legacy.proof, { type: 'Ed25519Signature2020', proofPurpose: 'assertionMethod', created: '2025-03-01T10:00:00Z' })
  t.same(legacy['@context'], [...credential['@context'], 'https://w3id.org/security/suites/ed25519-2020/v1'])
})

t.test('a VC 1.1 credential signs and verifies with both DI suites, which add their suite context', async (t) => {
  const suiteContexts: Record<DataIntegritySuite, string> = {
    'eddsa-rdfc-2022': 'https://w3id.org/security/data-integrity/v2',
    Ed25519Signature2020: 'https://w3id.org/security/suites/ed25519-2020/v1'
  }
  for (const issuer of [didKeyIssuer, didWebIssuer]) {
    for (const [suite, context] of Object.entries(suiteContexts) as [DataIntegritySuite, string][]) {
      const credential = deepFreeze(vc11(issuer.did))
      const signed = await signDataIntegrity(credential, { suite, key: issuer.ed25519 }) as Json
      t.same(signed['@context'], ['https://www.w3.org/2018/credentials/v1', context], `${suite} context`)
      t.same(await verifyDataIntegrity(signed, resolveDid), { verified: true }, `${suite} from ${issuer.label}`)
      const forged = { ...signed, credentialSubject: { id: 'did:example:someone-else' } }
      t.equal((await verifyDataIntegrity(forged, resolveDid)).verified, false, `${suite} from ${issuer.label}, forged subject`)
    }
  }
})

t.test('a VC 1.1 credential without issuanceDate is dated at the proof time, on the copy only', async (t) => {
  const { issuanceDate, ...credential } = vc11(didKeyIssuer.did)
  t.ok(issuanceDate)
  deepFreeze(credential)
  const created = new Date('2025-04-02T08:00:00.500Z')
  const signed = await signDataIntegrity(credential, { suite: 'eddsa-rdfc-2022', key: didKeyIssuer.ed25519, created }) as Json
  t.equal(signed.issuanceDate, '2025-04-02T08:00:00Z')
  t.equal(signed.proof.created, '2025-04-02T08:00:00Z')
  t.equal(credential.issuanceDate, undefined)
  t.same(await verifyDataIntegrity(signed, resolveDid), { verified: true })
})

t.test('an unknown context makes signing fail, naming it, without a network fetch', async (t) => {
  const calls = [t.capture(globalThis, 'fetch'), t.capture(http, 'request'), t.capture(http, 'get'), t.capture(https, 'request'), t.capture(https, 'get')]
  const credential = openBadge(didKeyIssuer.did)
  credential['@context'].push('https://example.com/ctx.json')
  for (const suite of ['eddsa-rdfc-2022', 'Ed25519Signature2020'] as const) {
    const error = await signDataIntegrity(credential, { suite, key: didKeyIssuer.ed25519 }).catch((e: unknown) => e)
    t.type(error, UnsignableCredentialError)
    t.match(error, { message: /Unknown JSON-LD context https:\/\/example\.com\/ctx\.json/ }, suite)
  }
  t.same(calls.map((capture) => capture.args().length), [0, 0, 0, 0, 0])
})

t.test('a term no context defines makes signing fail, naming it', async (t) => {
  const credential = { ...openBadge(didKeyIssuer.did), favouriteColour: 'blue' }
  const error = await signDataIntegrity(credential, { suite: 'eddsa-rdfc-2022', key: didKeyIssuer.ed25519 }).catch((e: unknown) => e)
  t.type(error, UnsignableCredentialError)
  t.match(error, { message: /does not define all its terms.*favouriteColour/ })
})

t.test('a key that is not the issuer\'s is refused before signing', async (t) => {
  for (const credential of [openBadge(didWebIssuer.did), vc11(didWebIssuer.did), { ...vc11(didWebIssuer.did), issuer: undefined }]) {
    await t.rejects(
      signDataIntegrity(credential, { suite: 'eddsa-rdfc-2022', key: didKeyIssuer.ed25519 }),
      { name: 'UnsignableCredentialError', message: /is not the controller of key did:key:/ }
    )
  }
})

t.test('a credential the VC library finds malformed is refused with its message', async (t) => {
  const { credentialSubject, ...credential } = vc11(didKeyIssuer.did)
  t.ok(credentialSubject)
  await t.rejects(signDataIntegrity(credential, { suite: 'eddsa-rdfc-2022', key: didKeyIssuer.ed25519 }), { message: /credentialSubject/ })
})

t.test('a VC-JWT is the credential plus iss, jti, nbf (and sub, exp when the credential has them) under a JWT header', async (t) => {
  const key = didWebIssuer.jwt.ES256!
  const badge = openBadge(WEB_DID)
  const withoutSubject = await signVcJwt(badge, { alg: 'ES256', ...key })
  const [header] = withoutSubject.split('.')
  t.same(JSON.parse(Buffer.from(header!, 'base64url').toString()), { alg: 'ES256', typ: 'JWT', kid: key.kid })
  t.same(credentialOf({ jwt: withoutSubject }), { ...badge, iss: WEB_DID, jti: badge.id, nbf: Date.parse('2025-03-01T09:30:00Z') / 1000 })

  const full = { ...badge, issuer: WEB_DID, validUntil: '2030-01-01T00:00:00Z', credentialSubject: { ...badge.credentialSubject, id: 'did:example:learner-42' } }
  const payload = credentialOf({ jwt: await signVcJwt(full, { alg: 'ES256', ...key }) })
  t.match(payload, { iss: WEB_DID, sub: 'did:example:learner-42', exp: Date.parse('2030-01-01T00:00:00Z') / 1000 })
  t.equal((await verifyVcJwt(await signVcJwt(full, { alg: 'ES256', ...key }), resolveDid)).verified, true)
})

t.test('a VC-JWT needs date-time validFrom and validUntil', async (t) => {
  const key = didWebIssuer.jwt.RS256!
  await t.rejects(signVcJwt({ ...openBadge(WEB_DID), validFrom: 'soon' }, { alg: 'RS256', ...key }), /validFrom must be a date-time/)
  await t.rejects(signVcJwt({ ...openBadge(WEB_DID), validUntil: 20300101 }, { alg: 'RS256', ...key }), /validUntil must be a date-time/)
})

t.test('a VC-JWT of a credential without validFrom (not an Open Badge) has no nbf', async (t) => {
  const { validFrom: _validFrom, ...undated } = openBadge(WEB_DID)
  const payload = credentialOf({ jwt: await signVcJwt(undated, { alg: 'EdDSA', ...didWebIssuer.jwt.EdDSA! }) })
  t.notOk('nbf' in payload)
  t.equal(payload.iss, WEB_DID)
})

t.test('the independent JWT verifier rejects well-signed JWTs that break OB 3.0 rules', async (t) => {
  const { kid, privateKey } = didWebIssuer.jwt.RS256!
  const badge = openBadge(WEB_DID)
  const claims = { iss: WEB_DID, jti: badge.id, nbf: Date.parse(badge.validFrom) / 1000 }
  const jws = (header: Json, payload: Json) =>
    new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader({ alg: 'RS256', ...header }).sign(privateKey)
  const cases: [string, Promise<string>, RegExp][] = [
    ['nbf not validFrom', jws({ typ: 'JWT', kid }, { ...badge, ...claims, nbf: claims.nbf + 1 }), /claims disagree.*nbf/],
    ['typ not JWT', jws({ typ: 'vc+ld+json+jwt', kid }, { ...badge, ...claims }), /typ/],
    ['extra header', jws({ typ: 'JWT', kid, cty: 'vc+ld+json' }, { ...badge, ...claims }), /not allowed: cty/],
    ['kid not in the DID document', jws({ typ: 'JWT', kid: `${WEB_DID}#rsa-2` }, { ...badge, ...claims }), /not an assertion method/],
    ['another issuer\'s key', jws({ typ: 'JWT', kid }, { ...badge, ...claims, issuer: { id: 'did:web:evil.example' }, iss: 'did:web:evil.example' }), /not controlled by the issuer/]
  ]
  for (const [name, jwt, error] of cases) {
    t.match(await verifyVcJwt(await jwt, resolveDid), { verified: false, error }, name)
  }
})

t.test('signCredential turns an unsignable credential into a 422 and lets other failures through as they are', async (t) => {
  const { signCredential } = await import('../src/credentials/sign.js')
  const { AppError } = await import('../src/http/errors.js')
  const signer = {
    keyId: 'k', algorithm: 'Ed25519' as const, verificationMethod: keyEd25519.verificationMethod, controller: keyEd25519.controller,
    publicKeyMultibase: keyEd25519.publicKeyMultibase, privateKey: keyEd25519.privateKey, sign: () => Buffer.alloc(0)
  }
  const proof = { format: 'eddsa-rdfc-2022' as const, jwtAlg: 'RS256' as const }
  const undefinedTerm = { ...openBadge(keyEd25519.controller), favouriteColour: 'teal' }
  await t.rejects(signCredential(undefinedTerm, proof, signer, signDataIntegrity), { constructor: AppError, code: 'credential-unsignable', status: 422 })
  const notVc = { ...openBadge(keyEd25519.controller), credentialSubject: { id: 'not a uri', type: ['AchievementSubject'] } }
  await t.rejects(signCredential(notVc, proof, signer, signDataIntegrity), { code: 'credential-unsignable', message: /not a valid verifiable credential/ })
  // A public key where the private one belongs is our fault, not the caller's: it must stay a plain error (a 500).
  const broken = { ...signer, privateKey: generateKeyPairSync('ed25519').publicKey }
  const error = await signCredential(openBadge(keyEd25519.controller), proof, broken, signDataIntegrity).catch((e: unknown) => e)
  t.notOk(error instanceof AppError)
  t.type(error, Error)
})
