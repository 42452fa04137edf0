// Key resolution called directly: did:key, did:jwk, did:web and https key documents, each refusal with the message a
// report shows, and the documents that would let one party lend its key to another.
import { generateKeyPairSync } from 'node:crypto'
import * as base58 from 'base58-universal'
import t from 'tap'
import { signDataIntegrity } from '../src/crypto/data-integrity.js'
import { generateEd25519, privateKeyObject, publicJwk, publicKeyMultibase } from '../src/crypto/ed25519.js'
import type { DocumentFetcher } from '../src/verify/documents.js'
import { didWebUrl, multibaseOf, resolveVerificationMethod } from '../src/verify/keys.js'
import { createVerifier } from '../src/verify/pipeline.js'
import { fixtureText } from './helpers/fixture-web.js'

type Json = Record<string, any>

/** The web as a map of URL → document (JSON unless it is a string); every other URL is unreachable. */
function web(documents: Record<string, unknown> = {}): { fetch: DocumentFetcher; requested: string[] } {
  const requested: string[] = []
  const fetch: DocumentFetcher = async (url) => {
    requested.push(url)
    if (!(url in documents)) throw new Error(`${url} answered 404`)
    const body = documents[url]
    return { url, contentType: 'application/json', body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) }
  }
  return { fetch, requested }
}

/** How resolving `id` fails, as "ErrorName: message" (or "resolved" when it does not). */
async function refusal(id: string, documents: Record<string, unknown> = {}): Promise<string> {
  try {
    await resolveVerificationMethod(id, web(documents).fetch)
    return 'resolved'
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`
  }
}

const rawKey = (key: { publicKey: { export(options: { format: 'jwk' }): unknown } }) => (key.publicKey.export({ format: 'jwk' }) as Json).x
const ecJwk = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as Json
const didJwk = (jwk: object) => `did:jwk:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`

t.test('did:key: the key is the identifier, and its one method is listed for every purpose', async (t) => {
  const { publicKey } = generateEd25519()
  const multibase = publicKeyMultibase(publicKey)
  const did = `did:key:${multibase}`
  const key = await resolveVerificationMethod(`${did}#${multibase}`, web().fetch)
  t.same({ id: key.id, controller: key.controller, assertionMethod: key.assertionMethod, authentication: key.authentication },
    { id: `${did}#${multibase}`, controller: did, assertionMethod: [`${did}#${multibase}`], authentication: [`${did}#${multibase}`] })
  t.same(Buffer.from(key.ed25519!), publicKey)
  t.equal(rawKey(key), publicKey.toString('base64url'))
  t.equal(multibaseOf(key), multibase)
  t.equal((await resolveVerificationMethod(did, web().fetch)).controller, did, 'the bare DID names the same key')
})

t.test('did:key: another fragment, or a value that is not an Ed25519 Multikey, is refused', async (t) => {
  const multibase = publicKeyMultibase(generateEd25519().publicKey)
  const did = `did:key:${multibase}`
  t.equal(await refusal(`${did}#key-1`), `KeyResolutionError: ${did}#key-1: ${did} has only the key ${did}#${multibase}`)
  t.equal(await refusal(`did:key:m${multibase.slice(1)}`), `KeyResolutionError: The key of did:key:m${multibase.slice(1)} is not a base58btc multibase value`, 'base64 multibase')
  t.equal(await refusal('did:key:z6Mk0OIl'), 'KeyResolutionError: The key of did:key:z6Mk0OIl is not a base58btc multibase value', 'characters outside base58')
  const p256 = `z${base58.encode(Uint8Array.of(0x80, 0x24, ...new Uint8Array(33).fill(2)))}`
  t.equal(await refusal(`did:key:${p256}`), `KeyResolutionError: The key of did:key:${p256} is not an Ed25519 public key`, 'a P-256 Multikey')
  const short = `z${base58.encode(Uint8Array.of(0xed, 0x01, 1, 2, 3))}`
  t.equal(await refusal(`did:key:${short}`), `KeyResolutionError: The key of did:key:${short} is not an Ed25519 public key`, 'too short for a key')
})

t.test('did:jwk: the JWK is the identifier; #0 is its method; Ed25519 keys give their raw bytes', async (t) => {
  const { publicKey } = generateEd25519()
  const did = didJwk(publicJwk(publicKey))
  const key = await resolveVerificationMethod(`${did}#0`, web().fetch)
  t.same({ controller: key.controller, assertionMethod: key.assertionMethod }, { controller: did, assertionMethod: [`${did}#0`, `${did}#0`] })
  t.same(Buffer.from(key.ed25519!), publicKey)

  const ec = ecJwk()
  const ecKey = await resolveVerificationMethod(didJwk(ec), web().fetch)
  t.equal(ecKey.publicKey.asymmetricKeyType, 'ec')
  t.equal(ecKey.ed25519, undefined, 'a P-256 key has no Ed25519 bytes')
  t.same(ecKey.assertionMethod, [didJwk(ec), `${didJwk(ec)}#0`])
})

t.test('did:jwk: anything but one public JWK is refused', async (t) => {
  const jwk = publicJwk(generateEd25519().publicKey)
  const did = didJwk(jwk)
  t.equal(await refusal(`${did}#1`), `KeyResolutionError: ${did}#1: ${did} has only the key ${did}#0`)
  t.equal(await refusal('did:jwk:bm90IGpzb24'), 'KeyResolutionError: did:jwk:bm90IGpzb24 does not hold a JSON Web Key', 'not JSON')
  for (const json of ['5', 'null', '[]', '"x"']) {
    const notObject = `did:jwk:${Buffer.from(json).toString('base64url')}`
    t.equal(await refusal(notObject), `KeyResolutionError: ${notObject} does not hold a JSON Web Key`, `JSON ${json}`)
  }
  const privateJwk = didJwk({ ...jwk, d: Buffer.alloc(32, 1).toString('base64url') })
  t.equal(await refusal(privateJwk), `KeyResolutionError: The key of ${privateJwk} is a private key; a public key was expected`)
  const unusable = didJwk({ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' })
  t.equal(await refusal(unusable), `KeyResolutionError: The key of ${unusable} is not a usable JSON Web Key`)
})

t.test('did:web names the URL of its DID document', async (t) => {
  t.equal(didWebUrl('did:web:example.com'), 'https://example.com/.well-known/did.json')
  t.equal(didWebUrl('did:web:example.com%3A8443:issuers:a%20b'), 'https://example.com:8443/issuers/a b/did.json')
  for (const did of ['did:web:', 'did:web:exa_mple.com', 'did:web:evil.example%2Fx', 'did:web:example.com%3Ahttps']) {
    t.equal(await refusal(did), `KeyResolutionError: ${did} does not name a valid host`, did)
  }
  for (const did of ['did:web:exa%ZZmple.com', 'did:web:example.com:%E0%A4%A']) {
    t.equal(await refusal(did), `KeyResolutionError: ${did} is not a valid did:web: it has a malformed %-escape`, did)
  }
})

t.test('did:web: a method listed by relative id, by full id, or embedded in a purpose', async (t) => {
  const did = 'did:web:issuer.example:org:7'
  const [k1, k2, k3] = [generateEd25519(), generateEd25519(), ecJwk()]
  const document = {
    id: did,
    verificationMethod: [{ id: '#key-1', type: 'Multikey', controller: did, publicKeyMultibase: publicKeyMultibase(k1.publicKey) }, null, 'not a method'],
    assertionMethod: ['#key-1', { id: `${did}#key-2`, type: 'Multikey', publicKeyMultibase: publicKeyMultibase(k2.publicKey) }, { type: 'no id' }],
    authentication: { id: '#key-3', type: 'JsonWebKey', controller: did, publicKeyJwk: k3 }
  }
  const { fetch, requested } = web({ 'https://issuer.example/org/7/did.json': document })
  const first = await resolveVerificationMethod(`${did}#key-1`, fetch)
  t.same({ id: first.id, controller: first.controller, assertionMethod: first.assertionMethod, authentication: first.authentication },
    { id: `${did}#key-1`, controller: did, assertionMethod: [`${did}#key-1`, `${did}#key-2`], authentication: [`${did}#key-3`] })
  t.same(Buffer.from(first.ed25519!), k1.publicKey)
  t.same(requested, ['https://issuer.example/org/7/did.json'])
  t.equal(rawKey(await resolveVerificationMethod(`${did}#key-2`, fetch)), k2.publicKey.toString('base64url'), 'embedded in assertionMethod, controller left out')
  const third = await resolveVerificationMethod(`${did}#key-3`, fetch)
  t.equal(third.publicKey.asymmetricKeyType, 'ec', 'a JWK method')
  t.equal(third.ed25519, undefined)
})

t.test('did:web: a document that cannot be had, is about another DID, or does not vouch for the key is refused', async (t) => {
  const did = 'did:web:issuer.example'
  const url = 'https://issuer.example/.well-known/did.json'
  const method = (fields: Json) => ({ id: `${did}#key-1`, type: 'Multikey', controller: did, publicKeyMultibase: publicKeyMultibase(generateEd25519().publicKey), ...fields })
  t.equal(await refusal(`${did}#key-1`), `KeyResolutionError: Could not fetch the DID document of ${did}: ${url} answered 404`)
  t.equal(await refusal(`${did}#key-1`, { [url]: '<html>' }), `KeyResolutionError: Could not fetch the DID document of ${did}: ${url} did not return JSON`)
  for (const body of [[], 'null', '"did"']) {
    t.equal(await refusal(`${did}#key-1`, { [url]: typeof body === 'string' ? body : JSON.stringify(body) }), `KeyResolutionError: the DID document of ${did} is not a JSON object`, `JSON ${JSON.stringify(body)}`)
  }
  t.equal(await refusal(`${did}#key-1`, { [url]: { id: 'did:web:elsewhere.example', verificationMethod: [method({})] } }),
    `KeyResolutionError: The DID document fetched for ${did} is about did:web:elsewhere.example`)
  t.equal(await refusal(`${did}#key-1`, { [url]: { verificationMethod: [method({})] } }), `KeyResolutionError: The DID document fetched for ${did} is about undefined`)
  t.equal(await refusal(`${did}#key-2`, { [url]: { id: did, verificationMethod: method({}) } }),
    `KeyResolutionError: The document of ${did} does not list the verification method ${did}#key-2`)
  t.equal(await refusal(`${did}#key-1`, { [url]: { id: did, verificationMethod: [method({ controller: 'did:web:other.example' })] } }),
    `KeyResolutionError: The verification method ${did}#key-1 is controlled by did:web:other.example, not by ${did} which lists it`)
  t.equal(await refusal(`${did}#key-1`, { [url]: { id: did, verificationMethod: [method({ publicKeyMultibase: undefined, publicKeyJwk: null })] } }),
    `KeyResolutionError: The verification method ${did}#key-1 has neither publicKeyMultibase nor publicKeyJwk`)
  t.equal(await refusal(`${did}#key-1`, { [url]: { id: did, verificationMethod: [method({ publicKeyMultibase: 'zBad0' })] } }),
    `KeyResolutionError: The key of ${did}#key-1 is not a base58btc multibase value`)
})

t.test('https: a controller document (an issuer profile) that lists its keys', async (t) => {
  const profile = 'https://issuer.example/profile'
  const { publicKey } = generateEd25519()
  const documents = { [profile]: { id: profile, verificationMethod: [{ id: '#key-1', type: 'JsonWebKey', publicKeyJwk: publicJwk(publicKey) }], assertionMethod: ['#key-1'] } }
  const key = await resolveVerificationMethod(`${profile}#key-1`, web(documents).fetch)
  t.same({ controller: key.controller, assertionMethod: key.assertionMethod, authentication: key.authentication }, { controller: profile, assertionMethod: [`${profile}#key-1`], authentication: [] })
  t.same(Buffer.from(key.ed25519!), publicKey, 'an Ed25519 JWK gives its raw bytes')

  const plain = 'http://issuer.example/keys'
  const withoutId = await resolveVerificationMethod(`${plain}#k`, web({ [plain]: { verificationMethod: [{ id: `${plain}#k`, publicKeyJwk: ecJwk() }] } }).fetch)
  t.same({ controller: withoutId.controller, assertionMethod: withoutId.assertionMethod }, { controller: plain, assertionMethod: [] }, 'a document without an id is about its URL')
})

t.test('https: a stand-alone key document is tied to its controller only when the controller lists it', async (t) => {
  const keyUrl = 'https://keys.example/k1'
  const profile = 'https://issuer.example/profile'
  const keyDocument = { id: keyUrl, type: 'Multikey', controller: profile, publicKeyMultibase: publicKeyMultibase(generateEd25519().publicKey) }
  const { fetch, requested } = web({ [keyUrl]: keyDocument, [profile]: { id: profile, assertionMethod: [keyUrl], authentication: [{ id: keyUrl }] } })
  const key = await resolveVerificationMethod(keyUrl, fetch)
  t.same({ id: key.id, controller: key.controller, assertionMethod: key.assertionMethod, authentication: key.authentication },
    { id: keyUrl, controller: profile, assertionMethod: [keyUrl], authentication: [keyUrl] })
  t.same(requested, [keyUrl, profile])

  const listedAsMethod = { id: profile, verificationMethod: [keyUrl] }
  t.same((await resolveVerificationMethod(keyUrl, web({ [keyUrl]: keyDocument, [profile]: listedAsMethod }).fetch)).assertionMethod, [], 'listed as a method, for no purpose')
  t.equal(await refusal(keyUrl, { [keyUrl]: keyDocument }), `KeyResolutionError: Could not fetch the controller document ${profile}: ${profile} answered 404`)
  t.equal(await refusal(keyUrl, { [keyUrl]: keyDocument, [profile]: { id: profile, assertionMethod: ['#other'] } }),
    `KeyResolutionError: ${profile} does not list the verification method ${keyUrl}`)
  t.equal(await refusal(keyUrl, { [keyUrl]: keyDocument, [profile]: { id: 'https://issuer.example/someone-else', assertionMethod: [keyUrl] } }),
    `KeyResolutionError: The document at ${profile} is about https://issuer.example/someone-else`)
})

t.test('a document cannot lend its key to an identifier it is not', async (t) => {
  const victim = 'https://victim.example/issuer'
  const evil = 'https://evil.example/keys'
  const method = { id: `${evil}#k`, type: 'Multikey', controller: victim, publicKeyMultibase: publicKeyMultibase(generateEd25519().publicKey) }
  t.equal(await refusal(`${evil}#k`, { [evil]: { id: victim, verificationMethod: [method], assertionMethod: [method.id] } }),
    `KeyResolutionError: The document at ${evil} is about ${victim}`, 'a controller document claiming another id')
  t.equal(await refusal(evil, { [evil]: { ...method, id: evil }, [victim]: { id: victim, assertionMethod: ['#key-1'] } }),
    `KeyResolutionError: ${victim} does not list the verification method ${evil}`, 'a stand-alone key claiming a controller that does not list it')
})

t.test('a badge signed through a document that claims to be its issuer does not verify', async (t) => {
  const victim = 'https://victim.example/issuer'
  const evil = 'https://evil.example/keys'
  const attacker = generateEd25519()
  const { proof, ...credential } = JSON.parse(fixtureText('simple.json'))
  void proof
  credential.issuer.id = victim
  const signed = await signDataIntegrity(credential, { suite: 'eddsa-rdfc-2022', key: { verificationMethod: `${evil}#k`, controller: victim, privateKey: privateKeyObject(attacker.seed, attacker.publicKey) } })
  const method = { id: `${evil}#k`, type: 'Multikey', controller: victim, publicKeyMultibase: publicKeyMultibase(attacker.publicKey) }
  const verifier = createVerifier({ fetch: web({ [evil]: { id: victim, verificationMethod: [method], assertionMethod: [method.id] } }).fetch })
  const report = await verifier.verify({ credential: signed as Json })
  t.equal(report.verified, false)
  t.same(report.checks.filter((c) => c.check === 'proof' || c.check === 'issuer'), [
    { check: 'proof', status: 'failed', message: `The document at ${evil} is about ${victim}` },
    { check: 'issuer', status: 'skipped', message: 'No valid signature to tie to the issuer' }
  ])
})

t.test('identifiers Lanyard does not resolve', async (t) => {
  t.equal(await refusal('key-1'), 'KeyResolutionError: The verification method "key-1" is not a URL (it has no scheme)')
  t.equal(await refusal('did:example:123#k'), 'KeyResolutionError: The verification method did:example:123#k uses DID method "did:example", which Lanyard does not resolve (did:key, did:jwk and did:web are supported)')
  t.equal(await refusal('urn:uuid:1#k'), 'KeyResolutionError: The verification method urn:uuid:1#k has the unknown scheme "urn:"')
})
