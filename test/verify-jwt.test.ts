// VC-JWT called directly: decoding both layouts (VC 2.0 payload, VC 1.1 `vc` claim), and the proof check — which key
// it uses, what it refuses before looking for one, and the claims that must agree with the credential.
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import t from 'tap'
import type { DocumentFetcher } from '../src/verify/documents.js'
import { createVerifier } from '../src/verify/pipeline.js'
import { decodeVcJwt, verifyVcJwtProof, type DecodedVcJwt } from '../src/verify/vc-jwt.js'

type Json = Record<string, any>
type Alg = 'EdDSA' | 'ES256' | 'RS256'

const VC_V2 = 'https://www.w3.org/ns/credentials/v2'
const VC_V1 = 'https://www.w3.org/2018/credentials/v1'
const OB3 = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'
const CREDENTIAL_ID = 'urn:uuid:2f1c7e8a-6b0d-4a52-9c3e-8d7f1e2a4b60'
const LEARNER = 'did:example:learner'
const JAN_2025 = Date.parse('2025-01-01T00:00:00Z') / 1000
const JAN_2030 = Date.parse('2030-01-01T00:00:00Z') / 1000

/** The web as a map of URL → JSON document; every other URL is unreachable. */
function web(documents: Record<string, unknown> = {}): { fetch: DocumentFetcher; requested: string[] } {
  const requested: string[] = []
  const fetch: DocumentFetcher = async (url) => {
    requested.push(url)
    if (!(url in documents)) throw new Error(`${url} answered 404`)
    return { url, contentType: 'application/json', body: Buffer.from(JSON.stringify(documents[url])) }
  }
  return { fetch, requested }
}

interface Signer {
  jwk: JWK
  /** did:jwk of the public key. */
  did: string
  sign(payload: Json, header?: Json): Promise<string>
}

async function signer(alg: Alg): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair(alg)
  const jwk = await exportJWK(publicKey)
  const did = `did:jwk:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`
  return { jwk, did, sign: (payload, header = {}) => new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', kid: `${did}#0`, ...header }).sign(privateKey) }
}

/** A VC 2.0 OpenBadgeCredential as a JWT payload, with the registered claims OB 3.0 asks for. */
function payloadFor(issuer: string, fields: Json = {}): Json {
  return {
    '@context': [VC_V2, OB3],
    id: CREDENTIAL_ID,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: issuer, type: ['Profile'], name: 'Northwind College' },
    validFrom: '2025-01-01T00:00:00Z',
    credentialSubject: { id: LEARNER, type: ['AchievementSubject'] },
    iss: issuer, jti: CREDENTIAL_ID, sub: LEARNER, nbf: JAN_2025,
    ...fields
  }
}

/** A compact JWS from parts, signature and all made up: for what is refused before any signature is checked. */
const compact = (header: Json, payload: Json, signature = 'c2lnbmF0dXJl') =>
  [header, payload].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).concat(signature).join('.')

const decode = (jwt: string): DecodedVcJwt => {
  const decoded = decodeVcJwt(jwt)
  if (decoded === undefined) throw new Error(`${jwt} did not decode`)
  return decoded
}

const verify = async (jwt: string, fetch: DocumentFetcher = web().fetch) => verifyVcJwtProof(decode(jwt), fetch)

t.test('a VC 2.0 JWT: the credential is the payload, without the registered claims', async (t) => {
  const payload = payloadFor('did:example:issuer', { iat: JAN_2025, aud: 'https://wallet.example', exp: JAN_2030, validUntil: '2030-01-01T00:00:00Z' })
  const jwt = compact({ alg: 'EdDSA', typ: 'JWT' }, payload)
  const decoded = decode(`\n ${jwt} \n`)
  t.equal(decoded.jwt, jwt, 'surrounding white space is not part of the JWT')
  t.equal(decoded.layout, 'payload')
  t.same(decoded.header, { alg: 'EdDSA', typ: 'JWT' })
  t.same(decoded.payload, payload)
  const { iss, jti, sub, nbf, exp, iat, aud, ...credential } = payload
  void [iss, jti, sub, nbf, exp, iat, aud]
  t.same(decoded.credential, credential)
})

t.test('a VC 1.1 JWT: the registered claims stand in for the fields the vc claim leaves out', async (t) => {
  const vc = { '@context': [VC_V1], type: ['VerifiableCredential'], credentialSubject: { type: 'AchievementSubject' } }
  const decoded = decode(compact({ alg: 'RS256' }, { vc, iss: 'https://issuer.example', jti: CREDENTIAL_ID, nbf: JAN_2025, exp: JAN_2030, sub: LEARNER }))
  t.equal(decoded.layout, 'vc-claim')
  t.same(decoded.credential, {
    ...vc,
    issuer: 'https://issuer.example',
    id: CREDENTIAL_ID,
    issuanceDate: '2025-01-01T00:00:00Z',
    expirationDate: '2030-01-01T00:00:00Z',
    credentialSubject: { type: 'AchievementSubject', id: LEARNER }
  })
  t.same(decoded.payload.vc, vc, 'the payload itself is left alone')
})

t.test('a VC 1.1 JWT: fields the vc claim gives are kept as they are', async (t) => {
  const claims = { iss: 'https://other.example', jti: 'urn:uuid:other', nbf: JAN_2030, exp: JAN_2030, sub: 'did:example:other' }
  const given = { '@context': [VC_V1], issuer: 'https://issuer.example', id: CREDENTIAL_ID, issuanceDate: '2024-01-01T00:00:00Z', expirationDate: '2029-01-01T00:00:00Z', credentialSubject: { id: LEARNER } }
  t.same(decode(compact({ alg: 'RS256' }, { vc: given, ...claims })).credential, given, 'VC 1.1 field names')
  const v2 = { '@context': [VC_V2], validFrom: '2024-01-01T00:00:00Z', validUntil: '2029-01-01T00:00:00Z', credentialSubject: [{ type: 'AchievementSubject' }] }
  t.same(decode(compact({ alg: 'RS256' }, { vc: v2, ...claims })).credential, { ...v2, issuer: claims.iss, id: claims.jti }, 'VC 2.0 dates; a list of subjects is not given an id')
  const odd = { '@context': [VC_V1], credentialSubject: 'a learner' }
  t.same(decode(compact({ alg: 'RS256' }, { vc: odd, nbf: '2025', exp: '2030', sub: LEARNER })).credential, odd, 'dates that are not NumericDates, a subject that is not an object')
})

t.test('text that is not a JWT carrying a credential decodes to nothing', async (t) => {
  t.equal(decodeVcJwt('not a jwt'), undefined)
  t.equal(decodeVcJwt('eyJub3Q.anNvbg.c2ln'), undefined, 'three base64url parts that are not JSON')
  t.equal(decodeVcJwt(compact({ alg: 'EdDSA' }, { iss: 'did:example:issuer', name: 'no credential' })), undefined, 'neither vc nor @context')
  t.equal(decodeVcJwt(compact({ alg: 'EdDSA' }, { vc: [{ '@context': [VC_V1] }] })), undefined, 'a vc claim that is a list')
})

t.test('EdDSA with a did:jwk kid verifies, and names the key', async (t) => {
  const issuer = await signer('EdDSA')
  const outcome = await verify(await issuer.sign(payloadFor(issuer.did)))
  t.same({ verified: outcome.verified, message: outcome.message, embeddedJwk: outcome.embeddedJwk }, { verified: true, message: `Valid VC-JWT signature (EdDSA) by ${issuer.did}#0`, embeddedJwk: undefined })
  t.same({ id: outcome.key?.id, controller: outcome.key?.controller }, { id: `${issuer.did}#0`, controller: issuer.did })
})

t.test('RS256 with a kid relative to the issuer: #fragment, bare name, or the full URL', async (t) => {
  const issuer = await signer('RS256')
  const did = 'did:web:issuer.example'
  const fetch = web({ 'https://issuer.example/.well-known/did.json': { id: did, verificationMethod: [{ id: '#key-1', type: 'JsonWebKey', controller: did, publicKeyJwk: issuer.jwk }], assertionMethod: ['#key-1'] } }).fetch
  for (const kid of ['#key-1', 'key-1', `${did}#key-1`]) {
    const outcome = await verify(await issuer.sign(payloadFor(did), { kid, typ: 'vc+jwt' }), fetch)
    t.same({ verified: outcome.verified, message: outcome.message }, { verified: true, message: `Valid VC-JWT signature (RS256) by ${did}#key-1` }, kid)
  }
  const issuerLess = await issuer.sign({ '@context': [VC_V2], type: ['VerifiableCredential'] }, { kid: '#key-1' })
  t.same(await verify(issuerLess, fetch), { verified: false, message: 'The verification method "#key-1" is not a URL (it has no scheme)' }, 'no issuer to be relative to')
})

t.test('ES256 with the key embedded in the header: the signature verifies; tying the key to the issuer is left to the issuer check', async (t) => {
  const issuer = await signer('ES256')
  const outcome = await verify(await issuer.sign(payloadFor('https://issuer.example/profile'), { kid: undefined, jwk: issuer.jwk }))
  t.same(outcome, { verified: true, message: 'Valid VC-JWT signature (ES256) by the key embedded in the JWT header', embeddedJwk: issuer.jwk })
})

t.test('refused before any key is looked up: unsigned, an algorithm or typ OB 3.0 does not use, critical extensions', async (t) => {
  const { fetch, requested } = web()
  const payload = payloadFor('did:web:issuer.example')
  const kid = 'did:web:issuer.example#key-1'
  const unsigned = 'The JWT is not signed (alg "none"), and unsigned credentials are never accepted'
  t.same(await verify(compact({ alg: 'none', kid }, payload, ''), fetch), { verified: false, message: unsigned })
  t.same(await verify(compact({ typ: 'JWT', kid }, payload), fetch), { verified: false, message: unsigned }, 'no alg at all')
  const hs256 = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid }).sign(new Uint8Array(32).fill(7))
  t.same(await verify(hs256, fetch), { verified: false, message: 'The JWT algorithm "HS256" is not supported (RS256, ES256, EdDSA, Ed25519 are)' })
  t.same(await verify(compact({ alg: 'EdDSA', typ: 'at+jwt', kid }, payload), fetch), { verified: false, message: 'The JWT header typ "at+jwt" is not one OB 3.0 allows ("JWT")' })
  t.same(await verify(compact({ alg: 'EdDSA', crit: ['exp'], exp: JAN_2030, kid }, payload), fetch), { verified: false, message: 'The JWT header has critical extensions Lanyard does not understand' })
  t.same(requested, [], 'nothing was fetched')
})

t.test('a header key that cannot be used: a private jwk, an unusable jwk, none at all', async (t) => {
  const issuer = await signer('EdDSA')
  const payload = payloadFor('https://issuer.example/profile')
  t.same(await verify(compact({ alg: 'EdDSA', jwk: { ...issuer.jwk, d: 'c2VjcmV0' } }, payload)), { verified: false, message: 'The JWT header embeds a private key; it must hold only the public key' })
  t.same(await verify(compact({ alg: 'EdDSA', jwk: { kty: 'OKP', crv: 'Ed25519' } }, payload)), { verified: false, message: 'The JWT header\'s "jwk" is not a usable public key' })
  t.same(await verify(compact({ alg: 'EdDSA', typ: 'JWT' }, payload)), { verified: false, message: 'The JWT header names no key: OB 3.0 requires "kid" or "jwk"' })
  t.same(await verify(compact({ alg: 'EdDSA', kid: 7 }, payload)), { verified: false, message: 'The JWT header names no key: OB 3.0 requires "kid" or "jwk"' }, 'a kid that is not a string')
})

t.test('a kid the resolver cannot follow, or whose key is not for issuing, fails with the reason', async (t) => {
  const issuer = await signer('EdDSA')
  const did = 'did:web:issuer.example'
  const jwt = await issuer.sign(payloadFor(did), { kid: '#key-1' })
  t.same(await verify(jwt), { verified: false, message: `Could not fetch the DID document of ${did}: https://issuer.example/.well-known/did.json answered 404` })
  const loginOnly = { id: did, verificationMethod: [{ id: '#key-1', type: 'JsonWebKey', controller: did, publicKeyJwk: issuer.jwk }], authentication: ['#key-1'] }
  t.same(await verify(jwt, web({ 'https://issuer.example/.well-known/did.json': loginOnly }).fetch),
    { verified: false, message: `The key ${did}#key-1 is not one ${did} lists for issuing credentials (assertionMethod)` })
})

t.test('a signature that does not match, or a key of another type than the algorithm', async (t) => {
  const issuer = await signer('EdDSA')
  const [header, , signature] = (await issuer.sign(payloadFor(issuer.did))).split('.')
  const changed = Buffer.from(JSON.stringify(payloadFor(issuer.did, { validFrom: '2024-01-01T00:00:00Z', nbf: JAN_2025 - 366 * 86400 }))).toString('base64url')
  t.same(await verify(`${header}.${changed}.${signature}`), { verified: false, message: 'The JWT signature does not match: the credential was changed after signing, or signed with another key' })
  const other = await signer('EdDSA')
  t.same(await verify(await other.sign(payloadFor(issuer.did), { kid: `${issuer.did}#0` })), { verified: false, message: 'The JWT signature does not match: the credential was changed after signing, or signed with another key' }, 'signed by another key')

  const rsa = await signer('RS256')
  const rs256ByEd25519Kid = await rsa.sign(payloadFor(issuer.did), { kid: `${issuer.did}#0` })
  t.same(await verify(rs256ByEd25519Kid), { verified: false, message: 'The JWT cannot be verified with its key: Invalid or unsupported JWK "alg" (Algorithm) Parameter value' })
})

t.test('registered claims that contradict the credential fail the proof', async (t) => {
  const issuer = await signer('EdDSA')
  const failure = async (fields: Json) => (await verify(await issuer.sign(payloadFor(issuer.did, fields)))).message
  t.equal(await failure({ iss: 'did:example:other' }), `The JWT claims contradict the credential: iss is "did:example:other" but the credential says "${issuer.did}"`)
  t.equal(await failure({ jti: 'urn:uuid:other' }), `The JWT claims contradict the credential: jti is "urn:uuid:other" but the credential says "${CREDENTIAL_ID}"`)
  t.equal(await failure({ sub: 'did:example:other' }), `The JWT claims contradict the credential: sub is "did:example:other" but the credential says "${LEARNER}"`)
  t.equal(await failure({ nbf: JAN_2025 + 1 }), `The JWT claims contradict the credential: nbf is ${JAN_2025 + 1} but the credential's date is 2025-01-01T00:00:00Z`)
  t.equal(await failure({ exp: JAN_2030, validUntil: '2029-12-31T23:59:59Z' }), `The JWT claims contradict the credential: exp is ${JAN_2030} but the credential's date is 2029-12-31T23:59:59Z`)
  t.equal(await failure({ validFrom: 'soon' }), `The JWT claims contradict the credential: nbf is ${JAN_2025} but the credential's date is soon`, 'a date that does not parse')

  const vc11 = { '@context': [VC_V1], type: ['VerifiableCredential'], issuer: issuer.did, issuanceDate: '2024-06-01T00:00:00Z', credentialSubject: { id: LEARNER } }
  t.equal((await verify(await issuer.sign({ vc: vc11, iss: issuer.did, nbf: JAN_2025 }))).message,
    `The JWT claims contradict the credential: nbf is ${JAN_2025} but the credential's date is 2024-06-01T00:00:00Z`, 'a VC 1.1 issuanceDate')
})

t.test('claims the credential does not state are not compared', async (t) => {
  const issuer = await signer('EdDSA')
  const agreeing = [
    payloadFor(issuer.did, { credentialSubject: null, sub: 'did:example:anyone', validFrom: undefined, nbf: JAN_2025 }),
    payloadFor(issuer.did, { issuer: { name: 'no id' }, iss: 'did:example:anyone', id: undefined, jti: 'urn:uuid:any', exp: JAN_2030 })
  ]
  for (const payload of agreeing) t.equal((await verify(await issuer.sign(payload))).verified, true)
})

t.test('a VC-JWT whose key comes from a document that its claimed issuer does not back fails', async (t) => {
  // The attacker publishes a key at a URL of their own and names the victim as its controller.
  const victim = 'https://victim.example/issuer'
  const keyUrl = 'https://evil.example/k1'
  const attacker = await signer('EdDSA')
  const fetch = web({
    [keyUrl]: { id: keyUrl, type: 'JsonWebKey', controller: victim, publicKeyJwk: attacker.jwk },
    [victim]: { id: victim, assertionMethod: [`${victim}#key-1`] }
  }).fetch
  const jwt = await attacker.sign(payloadFor(victim), { kid: keyUrl })
  const report = await createVerifier({ fetch }).verify({ credential: decode(jwt).credential, jwt: decode(jwt) })
  t.equal(report.verified, false)
  t.same(report.checks.filter((c) => c.check === 'proof' || c.check === 'issuer'), [
    { check: 'proof', status: 'failed', message: `${victim} does not list the verification method ${keyUrl}` },
    { check: 'issuer', status: 'skipped', message: 'No valid signature to tie to the issuer' }
  ])
})
