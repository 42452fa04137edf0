// The issuer check (key provenance), called directly: a key the issuer controls, or a VC-JWT's embedded jwk that the
// issuer's did:key / did:jwk is, or that its https origin publishes in /.well-known/jwks.json.
import * as base58 from 'base58-universal'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import t from 'tap'
import { checkIssuer, type SigningEvidence } from '../src/verify/checks/issuer.js'
import type { DocumentFetcher } from '../src/verify/documents.js'
import { resolveVerificationMethod } from '../src/verify/keys.js'
import { newHolder, type Holder } from './helpers/holder.js'

const ISSUER = 'https://issuer.example/profiles/1'
const JWKS = 'https://issuer.example/.well-known/jwks.json'

/** The web the tests see: URL → body; anything else cannot be reached. */
function web(pages: Record<string, string | object> = {}): { fetch: DocumentFetcher; requested: string[] } {
  const requested: string[] = []
  const fetch: DocumentFetcher = async (url) => {
    requested.push(url)
    const body = pages[url]
    if (body === undefined) throw new Error(`${url} cannot be reached`)
    return { url, contentType: 'application/json', body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) }
  }
  return { fetch, requested }
}

/** What a verified Data Integrity proof by the holder's did:key hands the issuer check. */
async function signedBy(holder: Holder): Promise<SigningEvidence> {
  return { verified: true, keys: [await resolveVerificationMethod(holder.key.id!, web().fetch)] }
}

/** What a verified VC-JWT with the key in its header hands the issuer check. */
const embedded = (jwk: JWK): SigningEvidence => ({ verified: true, keys: [], embeddedJwk: { ...jwk } })

async function newJwk(): Promise<JWK> {
  return exportJWK((await generateKeyPair('EdDSA', { crv: 'Ed25519' })).publicKey)
}

/** The holder's Ed25519 key as a JWK: the same key its did:key names. */
function jwkOf(holder: Holder): JWK {
  const x = Buffer.from(base58.decode(holder.key.publicKeyMultibase!.slice(1)).slice(2)).toString('base64url')
  return { kty: 'OKP', crv: 'Ed25519', x }
}

const didJwk = (jwk: unknown) => `did:jwk:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`

const notTheIssuers = (issuer: string, signer = 'a key embedded in the JWT') => ({ check: 'issuer', status: 'failed', message: `Signed by ${signer}, which is not a key of the issuer ${issuer}` })

t.test('no issuer, or no valid signature', async (t) => {
  const holder = await newHolder()
  t.same(await checkIssuer(undefined, await signedBy(holder), web().fetch), { check: 'issuer', status: 'failed', message: 'The credential names no issuer' })
  t.same(await checkIssuer(holder.did, { verified: false, keys: [] }, web().fetch), { check: 'issuer', status: 'skipped', message: 'No valid signature to tie to the issuer' })
})

t.test('a key the issuer controls', async (t) => {
  const holder = await newHolder()
  t.same(await checkIssuer(holder.did, await signedBy(holder), web().fetch), { check: 'issuer', status: 'passed', message: `Signed with a key ${holder.did} publishes (${holder.key.id})` })
})

t.test('a key someone else controls', async (t) => {
  const issuer = await newHolder()
  const other = await newHolder()
  t.same(await checkIssuer(issuer.did, await signedBy(other), web().fetch), notTheIssuers(issuer.did, other.did))
  t.same(await checkIssuer('urn:uuid:5d1e0c8a-3b7f-4e2a-8c6d-9f0a1b2c3d4e', await signedBy(other), web().fetch), {
    check: 'issuer', status: 'warning',
    message: `The issuer urn:uuid:5d1e0c8a-3b7f-4e2a-8c6d-9f0a1b2c3d4e is not an identifier that can publish keys, so the signature by ${other.did} cannot be tied to it`
  })
})

t.test('an embedded jwk is the issuer\'s when the issuer\'s did:key or did:jwk is that key', async (t) => {
  const holder = await newHolder()
  const jwk = await newJwk()
  const { fetch, requested } = web()
  t.same(await checkIssuer(holder.did, embedded(jwkOf(holder)), fetch), { check: 'issuer', status: 'passed', message: `Signed with a key ${holder.did} publishes` })
  t.same(await checkIssuer(didJwk(jwk), embedded(jwk), fetch), { check: 'issuer', status: 'passed', message: `Signed with a key ${didJwk(jwk)} publishes` })
  t.same(await checkIssuer(holder.did, embedded(jwk), fetch), notTheIssuers(holder.did), 'another key than the did:key')
  t.same(await checkIssuer(didJwk(jwkOf(holder)), embedded(jwk), fetch), notTheIssuers(didJwk(jwkOf(holder))), 'another key than the did:jwk')
  for (const did of ['did:key:z6MkNotAKey', didJwk(42), didJwk(null), 'did:jwk:not-json']) {
    t.same(await checkIssuer(did, embedded(jwk), fetch), notTheIssuers(did), `${did} does not resolve`)
  }
  t.same(requested, [], 'did:key and did:jwk resolve without the network')
})

t.test('an embedded jwk is the issuer\'s when the https issuer\'s JWK Set lists it', async (t) => {
  const jwk = await newJwk()
  const other = await newJwk()
  const junk = ['a string', null, { kty: 'OKP' }, other]
  const passes = { check: 'issuer', status: 'passed', message: `Signed with a key ${ISSUER} publishes` }

  const listed = web({ [JWKS]: { keys: [...junk, jwk] } })
  t.same(await checkIssuer(ISSUER, embedded(jwk), listed.fetch), passes, 'listed among entries that are not usable keys')
  t.same(listed.requested, [JWKS], 'the JWK Set is at the issuer\'s origin')
  t.same(await checkIssuer(ISSUER, embedded(jwk), web({ [JWKS]: { keys: [{ ...jwk, iss: ISSUER }] } }).fetch), passes, 'marked as the issuer\'s')
  t.same(await checkIssuer(ISSUER, embedded(jwk), web({ [JWKS]: { keys: [{ ...jwk, iss: 'https://issuer.example/profiles/2' }] } }).fetch),
    notTheIssuers(ISSUER), 'a shared JWK Set marks the key as another issuer\'s')
  t.same(await checkIssuer(ISSUER, embedded(jwk), web({ [JWKS]: { keys: junk } }).fetch), notTheIssuers(ISSUER), 'not listed')

  for (const [label, body] of Object.entries({ 'cannot be reached': undefined, 'not JSON': 'Not Found', 'JSON null': 'null', 'no keys': {}, 'keys not a list': { keys: jwk } })) {
    t.same(await checkIssuer(ISSUER, embedded(jwk), web(body === undefined ? {} : { [JWKS]: body }).fetch), notTheIssuers(ISSUER), `a JWK Set that ${label}`)
  }
})

t.test('an embedded jwk that cannot be published: unusable, or an issuer that cannot publish keys', async (t) => {
  const jwk = await newJwk()
  const { fetch, requested } = web({ [JWKS]: { keys: [jwk] } })
  t.same(await checkIssuer(ISSUER, embedded({ kty: 'OKP', crv: 'Ed25519' }), fetch), notTheIssuers(ISSUER), 'a jwk without its key has no thumbprint')
  t.same(await checkIssuer('http://issuer.example/profiles/1', embedded(jwk), fetch), notTheIssuers('http://issuer.example/profiles/1'), 'a JWK Set is trusted over https only')
  t.same(await checkIssuer('did:web:issuer.example', embedded(jwk), fetch), notTheIssuers('did:web:issuer.example'), 'a did:web publishes keys in its DID document, not a JWK Set')
  t.same(await checkIssuer('urn:uuid:5d1e0c8a-3b7f-4e2a-8c6d-9f0a1b2c3d4e', embedded(jwk), fetch), {
    check: 'issuer', status: 'warning',
    message: 'The issuer urn:uuid:5d1e0c8a-3b7f-4e2a-8c6d-9f0a1b2c3d4e is not an identifier that can publish keys, so the signature by a key embedded in the JWT cannot be tied to it'
  })
  t.same(requested, [], 'no JWK Set was fetched')
})
