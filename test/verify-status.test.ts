// The status check, called directly: status lists from a foreign issuer (signed with Digital Bazaar's libraries, or as
// VC-JWTs with jose), served by a map standing in for the web. Fail closed: a list that cannot be read or trusted fails.
import { gzipSync } from 'node:zlib'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import { issue } from '@digitalbazaar/vc'
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import t from 'tap'
import { checkStatus, type VerifiedListCache } from '../src/verify/checks/status.js'
import type { DocumentFetcher } from '../src/verify/documents.js'
import { newHolder, type Holder } from './helpers/holder.js'
import { didKeyDocument, documentLoaderFor } from './helpers/independent-verifier.js'

type Json = Record<string, any>

const NOW = new Date('2025-06-01T00:00:00Z')
const LIST = 'https://status.example/lists/1'
const REVOCATIONS = 'https://status.example/revocations'
const CREDENTIAL_ID = 'urn:uuid:6a1f7c52-2b8e-4c1e-9a43-0d6c5e7b8f21'

/** The web the tests see: URL → body; anything else cannot be reached. */
function web(pages: Record<string, string | object> = {}): { fetch: DocumentFetcher; pages: Map<string, string>; requested: string[] } {
  const map = new Map(Object.entries(pages).map(([url, body]) => [url, typeof body === 'string' ? body : JSON.stringify(body)]))
  const requested: string[] = []
  const fetch: DocumentFetcher = async (url) => {
    requested.push(url)
    const body = map.get(url)
    if (body === undefined) throw new Error(`${url} cannot be reached`)
    return { url, contentType: 'application/json', body: Buffer.from(body) }
  }
  return { fetch, pages: map, requested }
}

const check = (credential: Json, fetch: DocumentFetcher, options: { now?: Date; lists?: VerifiedListCache } = {}) =>
  checkStatus(credential, { fetch, now: options.now ?? NOW, lists: options.lists ?? new Map() })

/** A bitstring of `bytes` bytes with `set` on (index 0 = the most significant bit of byte 0), GZIP'd, as base64url. */
function bitstring(set: number[], bytes = 16_384): string {
  const bits = Buffer.alloc(bytes)
  for (const index of set) bits[index >> 3]! |= 0x80 >> (index & 7)
  return gzipSync(bits).toString('base64url')
}
const multibase = (set: number[], bytes?: number) => `u${bitstring(set, bytes)}`

function credentialOf(issuer: string, credentialStatus: unknown): Json {
  return { '@context': ['https://www.w3.org/ns/credentials/v2'], id: CREDENTIAL_ID, type: ['VerifiableCredential'], issuer, credentialSubject: { id: 'did:example:learner' }, credentialStatus }
}

function entry(fields: Json = {}): Json {
  return { id: `${LIST}#5`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '5', statusListCredential: LIST, ...fields }
}

/** A BitstringStatusListCredential signed with eddsa-rdfc-2022 by `signer` (as `issuer`, its own DID unless told). */
async function signedList(signer: Holder, subject: Json = {}, fields: Json = {}): Promise<Json> {
  // A JSON round trip drops the members a case leaves undefined, as the web would.
  const credential = JSON.parse(JSON.stringify({
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: LIST,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: signer.did,
    validFrom: '2025-01-01T00:00:00Z',
    credentialSubject: { id: `${LIST}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList: multibase([]), ...subject },
    ...fields
  }))
  return issue({ credential, suite: new DataIntegrityProof({ signer: signer.key.signer(), cryptosuite: eddsaRdfc2022 }), documentLoader: documentLoaderFor(async (did) => didKeyDocument(did)) })
}

interface JwtSigner {
  did: string
  jwk: JWK
  sign(payload: Json, header: Json): Promise<string>
}

/** A did:jwk issuer whose key signs with jose. */
async function jwtSigner(): Promise<JwtSigner> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
  const jwk = await exportJWK(publicKey)
  const did = `did:jwk:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`
  return { did, jwk, sign: (payload, header) => new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', ...header }).sign(privateKey) }
}

/** A VC 2.0 BitstringStatusListCredential as a VC-JWT (the credential is the payload). */
function jwtList(signer: JwtSigner, issuer: string, header: Json, encodedList = multibase([5])): Promise<string> {
  return signer.sign({
    '@context': ['https://www.w3.org/ns/credentials/v2'], id: LIST, type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer, validFrom: '2025-01-01T00:00:00Z', iss: issuer,
    credentialSubject: { id: `${LIST}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList }
  }, header)
}

t.test('entries the check cannot use', async (t) => {
  const { fetch, requested } = web()
  t.same(await check(credentialOf('did:example:issuer', undefined), fetch), { check: 'status', status: 'skipped', message: 'The credential has no status entry, so its issuer cannot revoke it' })
  t.same(await check(credentialOf('did:example:issuer', []), fetch), { check: 'status', status: 'skipped', message: 'The credential has no status entry, so its issuer cannot revoke it' })
  t.same(await check(credentialOf('did:example:issuer', 'https://status.example/lists/1#5'), fetch), { check: 'status', status: 'failed', message: 'The credentialStatus entry is not an object' })
  t.same(await check(credentialOf('did:example:issuer', [null]), fetch), { check: 'status', status: 'failed', message: 'The credentialStatus entry is not an object' })
  t.same(await check(credentialOf('did:example:issuer', entry({ type: 'CredentialStatusList2017' })), fetch),
    { check: 'status', status: 'failed', message: 'The status type "CredentialStatusList2017" is unknown to Lanyard, so the status could not be checked' })

  const lacks = 'The status entry lacks a statusListCredential URL, a statusListIndex or a statusPurpose, so the status could not be checked'
  for (const [label, fields] of Object.entries({
    'no statusListCredential': { statusListCredential: undefined },
    'no statusListIndex': { statusListIndex: undefined },
    'a statusListIndex that is not a number': { statusListIndex: 'five' },
    'a negative statusListIndex': { statusListIndex: -1 },
    'a fractional statusListIndex': { statusListIndex: 1.5 },
    'no statusPurpose': { statusPurpose: undefined }
  })) {
    t.same(await check(credentialOf('did:example:issuer', entry(fields)), fetch), { check: 'status', status: 'failed', message: lacks }, label)
  }
  t.same(await check(credentialOf('did:example:issuer', entry({ statusSize: 2 })), fetch),
    { check: 'status', status: 'failed', message: 'Status entries of 2 bits are not supported, so the status could not be checked' })
  t.same(requested, [], 'no list was fetched for an entry that cannot be used')
})

t.test('a Bitstring Status List from a foreign did:key issuer', async (t) => {
  const issuer = await newHolder()
  const { fetch } = web({ [LIST]: await signedList(issuer, { encodedList: multibase([5, 130_000]) }) })
  const credential = (fields: Json) => credentialOf(issuer.did, entry(fields))

  t.same(await check(credential({ statusListIndex: '4' }), fetch), { check: 'status', status: 'passed', message: `Not revoked (checked ${LIST})` }, 'bit clear, index as a numeric string')
  t.same(await check(credential({ statusListIndex: 4, statusSize: 1 }), fetch), { check: 'status', status: 'passed', message: `Not revoked (checked ${LIST})` }, 'bit clear, index as a number')
  t.same(await check(credential({ statusListIndex: '5' }), fetch), { check: 'status', status: 'failed', message: 'Revoked by its issuer' }, 'bit set')
  t.same(await check(credential({ statusListIndex: 130_000 }), fetch), { check: 'status', status: 'failed', message: 'Revoked by its issuer' }, 'bit set near the end of the list')
  t.same(await check(credential({ statusListIndex: 131_072 }), fetch),
    { check: 'status', status: 'failed', message: `The status index 131072 is outside the list ${LIST} (131072 entries)` })
  t.same(await check(credential({ statusPurpose: 'suspension' }), fetch),
    { check: 'status', status: 'failed', message: `The status list ${LIST} is for "revocation", not suspension` })
})

t.test('what each purpose says when its bit is clear and when it is set', async (t) => {
  const issuer = await newHolder()
  for (const [purpose, clear, set] of [
    ['revocation', 'Not revoked', 'Revoked by its issuer'],
    ['suspension', 'Not suspended', 'Suspended by its issuer'],
    ['message', 'Not flagged for message', 'Flagged for message by its issuer']
  ] as const) {
    const { fetch } = web({ [LIST]: await signedList(issuer, { statusPurpose: purpose, encodedList: multibase([5]) }) })
    t.same(await check(credentialOf(issuer.did, entry({ statusPurpose: purpose, statusListIndex: '6' })), fetch), { check: 'status', status: 'passed', message: `${clear} (checked ${LIST})` })
    t.same(await check(credentialOf(issuer.did, entry({ statusPurpose: purpose })), fetch), { check: 'status', status: 'failed', message: set })
  }
})

t.test('a list that serves several purposes answers for each of them', async (t) => {
  const issuer = await newHolder()
  const { fetch } = web({ [LIST]: await signedList(issuer, { statusPurpose: ['revocation', 'suspension'], encodedList: multibase([5]) }) })
  t.same(await check(credentialOf(issuer.did, entry({ statusPurpose: 'suspension' })), fetch), { check: 'status', status: 'failed', message: 'Suspended by its issuer' })
  t.same(await check(credentialOf(issuer.did, entry({ statusPurpose: 'message' })), fetch),
    { check: 'status', status: 'failed', message: `The status list ${LIST} is for ["revocation","suspension"], not message` })
})

t.test('every entry is checked: one that fails fails the check', async (t) => {
  const issuer = await newHolder()
  const suspensions = 'https://status.example/lists/2'
  const { fetch } = web({
    [LIST]: await signedList(issuer, { encodedList: multibase([]) }),
    [suspensions]: await signedList(issuer, { statusPurpose: 'suspension', encodedList: multibase([5]) }, { id: suspensions })
  })
  const revocation = entry()
  const suspension = entry({ statusPurpose: 'suspension', statusListCredential: suspensions })
  t.same(await check(credentialOf(issuer.did, [revocation, suspension]), fetch), { check: 'status', status: 'failed', message: 'Suspended by its issuer' })
  t.same(await check(credentialOf(issuer.did, [revocation, 'not an entry']), fetch), { check: 'status', status: 'failed', message: 'The credentialStatus entry is not an object' })
  t.same(await check(credentialOf(issuer.did, [revocation, { ...suspension, statusListIndex: '4' }]), fetch),
    { check: 'status', status: 'passed', message: `Not revoked (checked ${LIST})` }, 'all pass: the first entry speaks')
})

t.test('a list that cannot be fetched or read fails the check', async (t) => {
  const issuer = await newHolder()
  const credential = credentialOf(issuer.did, entry())
  const cases: [string, string | undefined, string][] = [
    ['unreachable', undefined, `${LIST} cannot be reached`],
    ['not JSON', '<html>Not found</html>', `${LIST} did not return JSON`],
    ['a JSON number', '42', 'it is not a credential'],
    ['JSON null', 'null', 'it is not a credential'],
    ['a JSON array', '[]', 'it is not a credential'],
    ['not a credential', '{"hello":"world"}', 'it is not a BitstringStatusListCredential']
  ]
  for (const [label, body, why] of cases) {
    const { fetch } = web(body === undefined ? {} : { [LIST]: body })
    t.same(await check(credential, fetch), { check: 'status', status: 'failed', message: `The status list ${LIST} could not be checked: ${why}` }, label)
  }
})

t.test('a list that does not verify fails the check, never passes it', async (t) => {
  const issuer = await newHolder()
  const other = await newHolder()
  const credential = credentialOf(issuer.did, entry({ statusListIndex: '4' }))
  const failure = async (list: unknown, why: string, label: string) => {
    t.same(await check(credential, web({ [LIST]: list as object }).fetch), { check: 'status', status: 'failed', message: `The status list ${LIST} could not be checked: ${why}` }, label)
  }

  const signedVc = await issue({
    credential: { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential'], issuer: issuer.did, validFrom: '2025-01-01T00:00:00Z', credentialSubject: { id: `${LIST}#list` } },
    suite: new DataIntegrityProof({ signer: issuer.key.signer(), cryptosuite: eddsaRdfc2022 }), documentLoader: documentLoaderFor(async (did) => didKeyDocument(did))
  })
  await failure(signedVc, 'it is not a BitstringStatusListCredential', 'signed by the issuer, but not a status list')

  const tampered = await signedList(issuer, { encodedList: multibase([4]) })
  tampered.credentialSubject.encodedList = multibase([])
  await failure(tampered, 'its signature does not verify (The signature does not match the document: it was changed after signing, or signed with another key)', 'a bit cleared after signing')

  const unsigned = { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential', 'BitstringStatusListCredential'], issuer: issuer.did, validFrom: '2025-01-01T00:00:00Z' }
  await failure(unsigned, 'its signature does not verify (There is no proof: the document is not signed)', 'unsigned, and with no subject at all')

  await failure(await signedList(other, {}, { issuer: issuer.did }), `Signed by ${other.did}, which is not a key of the issuer ${issuer.did}`, 'names the issuer but is signed by another key')
  await failure(await signedList(issuer, {}, { issuer: 'urn:uuid:0d3c6a8e-1f4b-4d2a-9c7e-5b8a1e2f3c4d' }),
    `The issuer urn:uuid:0d3c6a8e-1f4b-4d2a-9c7e-5b8a1e2f3c4d is not an identifier that can publish keys, so the signature by ${issuer.did} cannot be tied to it`, 'an issuer that cannot publish keys')

  t.same(await check(credential, web({ [LIST]: await signedList(other) }).fetch),
    { check: 'status', status: 'failed', message: `The status list ${LIST} is signed by ${other.did}, not by the credential's issuer` }, 'a good list, but another issuer\'s')
})

t.test('an encodedList that is not a GZIP bitstring of a sensible size fails the check', async (t) => {
  const issuer = await newHolder()
  const credential = credentialOf(issuer.did, entry())
  const notBase64 = 'its encodedList is not base64'
  const notGzip = 'its encodedList is not a GZIP bitstring of a sensible size'
  const cases: [string, unknown, string][] = [
    ['missing', undefined, notBase64],
    ['a number', 42, notBase64],
    ['not base64', 'u!!not*base64', notBase64],
    ['base64, not GZIP', `u${Buffer.from('just some bytes').toString('base64url')}`, notGzip],
    ['a GZIP bomb one byte larger than 2 MB inflated', multibase([], 2 * 1024 * 1024 + 1), notGzip]
  ]
  for (const [label, encodedList, why] of cases) {
    const list = await signedList(issuer, { encodedList })
    t.same(await check(credential, web({ [LIST]: list }).fetch), { check: 'status', status: 'failed', message: `The status list ${LIST} could not be checked: ${why}` }, label)
  }
  const largest = await signedList(issuer, { encodedList: multibase([2 ** 24 - 1], 2 * 1024 * 1024) })
  t.same(await check(credentialOf(issuer.did, entry({ statusListIndex: 2 ** 24 - 1 })), web({ [LIST]: largest }).fetch),
    { check: 'status', status: 'failed', message: 'Revoked by its issuer' }, 'a 2 MB (16 M entries) list is read to its last bit')
})

t.test('a list past its own validUntil fails, also when it is already verified and cached', async (t) => {
  const issuer = await newHolder()
  const { fetch, pages } = web({ [LIST]: await signedList(issuer, {}, { validUntil: '2025-06-30T00:00:00Z' }) })
  const lists: VerifiedListCache = new Map()
  const credential = credentialOf(issuer.did, entry())
  t.same(await check(credential, fetch, { lists }), { check: 'status', status: 'passed', message: `Not revoked (checked ${LIST})` })
  t.equal(lists.size, 1, 'the verified list is kept')
  const expired = { check: 'status', status: 'failed', message: `The status list ${LIST} could not be checked: the list itself is not valid now (Expired on 2025-06-30T00:00:00Z)` }
  t.same(await check(credential, fetch, { lists, now: new Date('2025-07-01T00:00:00Z') }), expired, 'the cached list is expired now')
  t.same(await check(credential, fetch, { now: new Date('2025-07-01T00:00:00Z') }), expired, 'and so is a freshly verified one')

  const changed = JSON.parse(pages.get(LIST)!)
  changed.credentialSubject.encodedList = multibase([5])
  pages.set(LIST, JSON.stringify(changed))
  t.same(await check(credential, fetch, { lists }), {
    check: 'status', status: 'failed',
    message: `The status list ${LIST} could not be checked: its signature does not verify (The signature does not match the document: it was changed after signing, or signed with another key)`
  }, 'new bytes at the same URL are verified again, not taken from the cache')
  t.equal(lists.size, 1, 'a list that does not verify is not kept')
})

t.test('a StatusList2021 list as a VC 1.1 JWT, with a kid on the issuer\'s did:jwk', async (t) => {
  const signer = await jwtSigner()
  const jwt = await signer.sign({
    iss: signer.did, nbf: Date.parse('2025-01-01T00:00:00Z') / 1000, exp: Date.parse('2025-12-31T00:00:00Z') / 1000,
    vc: {
      '@context': ['https://www.w3.org/2018/credentials/v1', 'https://w3id.org/vc/status-list/2021/v1'],
      id: LIST, type: ['VerifiableCredential', 'StatusList2021Credential'],
      credentialSubject: { id: `${LIST}#list`, type: 'StatusList2021', statusPurpose: 'revocation', encodedList: bitstring([7]) }
    }
  }, { kid: `${signer.did}#0` })
  const { fetch } = web({ [LIST]: jwt })
  const credential = (index: string) => credentialOf(signer.did, { id: `${LIST}#${index}`, type: 'StatusList2021Entry', statusPurpose: 'revocation', statusListIndex: index, statusListCredential: LIST })
  t.same(await check(credential('7'), fetch), { check: 'status', status: 'failed', message: 'Revoked by its issuer' })
  t.same(await check(credential('6'), fetch), { check: 'status', status: 'passed', message: `Not revoked (checked ${LIST})` })
  t.same(await check(credential('6'), fetch, { now: new Date('2026-01-01T00:00:00Z') }),
    { check: 'status', status: 'failed', message: `The status list ${LIST} could not be checked: the list itself is not valid now (Expired on 2025-12-31T00:00:00Z)` }, 'exp is the list\'s expirationDate')
  t.same(await check(credential('6'), fetch, { now: new Date('2024-01-01T00:00:00Z') }),
    { check: 'status', status: 'failed', message: `The status list ${LIST} could not be checked: the list itself is not valid now (Not valid yet: valid from 2025-01-01T00:00:00Z)` }, 'nbf is the list\'s issuanceDate')
})

t.test('a VC-JWT list with an embedded jwk counts when the issuer publishes that key', async (t) => {
  const signer = await jwtSigner()
  const credential = (issuer: string) => credentialOf(issuer, entry())

  const byDid = await jwtList(signer, signer.did, { jwk: signer.jwk })
  t.same(await check(credential(signer.did), web({ [LIST]: byDid }).fetch), { check: 'status', status: 'failed', message: 'Revoked by its issuer' }, 'the issuer is the key\'s did:jwk')

  const origin = 'https://issuer.example'
  const jwks = `${origin}/.well-known/jwks.json`
  const byOrigin = await jwtList(signer, `${origin}/profile`, { jwk: signer.jwk })
  const { fetch, pages, requested } = web({ [LIST]: byOrigin })
  const lists: VerifiedListCache = new Map()
  t.same(await check(credential(`${origin}/profile`), fetch, { lists }), {
    check: 'status', status: 'failed',
    message: `The status list ${LIST} could not be checked: Signed by a key embedded in the JWT, which is not a key of the issuer ${origin}/profile`
  }, 'the issuer\'s JWK Set cannot be fetched')
  pages.set(jwks, JSON.stringify({ keys: [signer.jwk] }))
  t.same(await check(credential(`${origin}/profile`), fetch, { lists }), { check: 'status', status: 'failed', message: 'Revoked by its issuer' }, 'a failure to fetch the JWK Set is not remembered')
  t.same(await check(credential(`${origin}/profile`), fetch, { lists }), { check: 'status', status: 'failed', message: 'Revoked by its issuer' })
  t.same(requested.filter((url) => url === jwks).length, 2, 'the verified list is checked once per version: its key is not looked up again')

  const forged = await jwtList(await jwtSigner(), signer.did, { kid: `${signer.did}#0` })
  t.same(await check(credential(signer.did), web({ [LIST]: forged }).fetch), {
    check: 'status', status: 'failed',
    message: `The status list ${LIST} could not be checked: its signature does not verify (The JWT signature does not match: the credential was changed after signing, or signed with another key)`
  }, 'signed by another key than its kid names')
})

t.test('the verified-list cache holds at most 256 lists, dropping the oldest', async (t) => {
  const issuer = await newHolder()
  const lists: VerifiedListCache = new Map(Array.from({ length: 256 }, (_, i) => [`older-${i}`, { issuer: issuer.did, subject: {}, dates: {} }]))
  t.same(await check(credentialOf(issuer.did, entry()), web({ [LIST]: await signedList(issuer) }).fetch, { lists }), { check: 'status', status: 'passed', message: `Not revoked (checked ${LIST})` })
  t.equal(lists.size, 256)
  t.notOk(lists.has('older-0'), 'the oldest list went')
  t.ok(lists.has('older-1'))
})

t.test('1EdTech Revocation List', async (t) => {
  const credential = (status: Json) => credentialOf('https://issuer.example/profile', { type: '1EdTechRevocationList', ...status })
  const listed = (revokedCredentials: unknown) => web({ [REVOCATIONS]: { id: REVOCATIONS, revokedCredentials } }).fetch
  t.same(await check(credential({}), web().fetch), { check: 'status', status: 'failed', message: 'The 1EdTechRevocationList entry has no id URL, so the status could not be checked' })
  t.same(await check(credential({ id: REVOCATIONS }), web().fetch),
    { check: 'status', status: 'failed', message: `The revocation list ${REVOCATIONS} could not be checked: ${REVOCATIONS} cannot be reached` })
  t.same(await check(credential({ id: REVOCATIONS }), web({ [REVOCATIONS]: 'Service Unavailable' }).fetch),
    { check: 'status', status: 'failed', message: `The revocation list ${REVOCATIONS} could not be checked: ${REVOCATIONS} did not return JSON` })
  for (const body of ['null', '{"id":"https://status.example/revocations"}', '{"revokedCredentials":{}}']) {
    t.same(await check(credential({ id: REVOCATIONS }), web({ [REVOCATIONS]: body }).fetch),
      { check: 'status', status: 'failed', message: `The revocation list ${REVOCATIONS} could not be checked: it has no revokedCredentials list` }, body)
  }
  const others = ['urn:uuid:not-an-object', null, { id: 'urn:uuid:someone-else' }]
  t.same(await check(credential({ id: REVOCATIONS }), listed([...others, { id: CREDENTIAL_ID, revocationReason: 'Issued in error' }])),
    { check: 'status', status: 'failed', message: 'Revoked by its issuer: Issued in error' })
  t.same(await check(credential({ id: REVOCATIONS }), listed([{ id: CREDENTIAL_ID }])), { check: 'status', status: 'failed', message: 'Revoked by its issuer' })
  t.same(await check(credential({ id: REVOCATIONS }), listed([...others, { id: CREDENTIAL_ID, revoked: false }])),
    { check: 'status', status: 'passed', message: `Not revoked (checked ${REVOCATIONS})` }, 'listed, but no longer revoked')
  t.same(await check(credential({ id: REVOCATIONS }), listed(others)), { check: 'status', status: 'passed', message: `Not revoked (checked ${REVOCATIONS})` })
})
