import { gunzipSync, gzipSync } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import t from 'tap'
import type { Database } from '../src/db/schema.js'
import { openNewList, setStatusBit, setStatusBits } from '../src/status/store.js'
import { admin, assertProblem, buildTestApp, createIssuer, onEachDatabase } from './helpers/app.js'
import { HOST, resolverFor } from './helpers/credentials.js'
import { verifyDataIntegrity } from './helpers/independent-verifier.js'

const SMALL = 64
const SPEC_MINIMUM = 131_072

/** The bitstring behind an encodedList, read as the spec says: multibase `u` (base64url, no padding) of GZIP. */
function decodeList(encodedList: string): Buffer {
  if (!/^u[A-Za-z0-9_-]+$/.test(encodedList)) throw new Error(`not multibase base64url without padding: ${encodedList.slice(0, 20)}…`)
  return gunzipSync(Buffer.from(encodedList.slice(1), 'base64url'))
}

/** The indexes whose bit is set; index 0 is the most significant bit of the first byte. */
function setIndexes(bits: Buffer): number[] {
  const indexes: number[] = []
  for (let index = 0; index < bits.length * 8; index++) {
    if ((bits[index >> 3]! & (0x80 >> (index & 7))) !== 0) indexes.push(index)
  }
  return indexes
}

/** A new list of `size` entries for a new issuer (openNewList keeps one open list per issuer). */
async function newList(app: FastifyInstance, db: Kysely<Database>, size: number, issuerBody: Record<string, unknown> = {}) {
  const issuer = await createIssuer(app, issuerBody)
  await openNewList(db, issuer.id, 'revocation', size)
  const { id } = await db.selectFrom('status_lists').select('id').where('issuer_id', '=', issuer.id).executeTakeFirstOrThrow()
  return { issuer, id, url: `https://${HOST}/status/${id}` }
}

async function signedAtOf(db: Kysely<Database>, id: string): Promise<Date | null> {
  return (await db.selectFrom('status_lists').select('signed_at').where('id', '=', id).executeTakeFirstOrThrow()).signed_at
}

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database)
  const resolve = resolverFor(app)
  const get = (id: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: `/status/${id}`, headers })

  await t.test('an empty list is a signed BitstringStatusListCredential that verifies independently, all bits clear', async (t) => {
    const { issuer, id, url } = await newList(app, db, SMALL)
    const res = await get(id)
    t.equal(res.statusCode, 200, res.body)
    const list = res.json()
    t.match(list, {
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      id: url,
      type: ['VerifiableCredential', 'BitstringStatusListCredential'],
      issuer: issuer.did,
      validFrom: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
      credentialSubject: { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList: String },
      proof: { type: 'DataIntegrityProof', cryptosuite: 'eddsa-rdfc-2022', proofPurpose: 'assertionMethod', verificationMethod: issuer.keys[0].verificationMethod }
    })
    t.same(list['@context'], ['https://www.w3.org/ns/credentials/v2'], 'VC 2.0 defines every term: no other context')
    t.ok(Date.parse(list.validFrom) <= Date.now())
    const verification = await verifyDataIntegrity(list, resolve)
    t.ok(verification.verified, `independent verifier: ${verification.error ?? 'ok'}`)
    const bits = decodeList(list.credentialSubject.encodedList)
    t.equal(bits.length, SMALL / 8)
    t.same(setIndexes(bits), [])
  })

  await t.test('a did:key issuer\'s list verifies independently too', async (t) => {
    const { issuer, id } = await newList(app, db, SMALL, { did: 'key' })
    const list = (await get(id)).json()
    t.equal(list.issuer, issuer.did)
    t.match(issuer.did, /^did:key:z6Mk/)
    const verification = await verifyDataIntegrity(list, resolve)
    t.ok(verification.verified, `independent verifier: ${verification.error ?? 'ok'}`)
  })

  await t.test('revoked indexes show on the next read, most significant bit first, under a new ETag', async (t) => {
    const { id } = await newList(app, db, SMALL)
    const before = await get(id)
    const flipped = [0, 7, 8, 29, SMALL - 1]
    for (const index of flipped) await setStatusBit(db, id, index)
    const after = await get(id)
    t.equal(after.statusCode, 200)
    t.not(after.headers.etag, before.headers.etag)
    const list = after.json()
    t.same(setIndexes(decodeList(list.credentialSubject.encodedList)), flipped)
    const verification = await verifyDataIntegrity(list, resolve)
    t.ok(verification.verified, `independent verifier: ${verification.error ?? 'ok'}`)
  })

  await t.test('setting several bits at once gives the same list as one at a time, in one new version', async (t) => {
    const one = await newList(app, db, SMALL)
    const many = await newList(app, db, SMALL)
    const flipped = [0, 7, 8, 29, SMALL - 1]
    for (const index of flipped) await setStatusBit(db, one.id, index)
    const version = async (id: string) => (await db.selectFrom('status_lists').select('version').where('id', '=', id).executeTakeFirstOrThrow()).version
    const before = await version(many.id)
    await setStatusBits(db, many.id, [29, 0, SMALL - 1, 8, 7, 7])
    t.equal(await version(many.id), before + 1, 'one new version')
    const list = (await get(many.id)).json()
    t.same(setIndexes(decodeList(list.credentialSubject.encodedList)), flipped)
    t.same(decodeList(list.credentialSubject.encodedList), decodeList((await get(one.id)).json().credentialSubject.encodedList))
    await setStatusBits(db, many.id, [3])
    t.same(setIndexes(decodeList((await get(many.id)).json().credentialSubject.encodedList)), [0, 3, 7, 8, 29, SMALL - 1], 'and one index alone')
  })

  await t.test('an unchanged list is served from its stored signature, not signed again', async (t) => {
    const { id } = await newList(app, db, SMALL)
    await setStatusBit(db, id, 3)
    const first = await get(id)
    const signedAt = await signedAtOf(db, id)
    t.ok(signedAt instanceof Date, 'the first read stored its signature')
    const second = await get(id)
    const third = await get(id, { accept: 'application/vc+ld+json' })
    t.equal(second.body, first.body, 'byte-identical')
    t.equal(third.body, first.body)
    t.equal(second.headers.etag, first.headers.etag, 'the ETag of a fresh signature is the one later reads give')
    t.same(await signedAtOf(db, id), signedAt, 'signed_at unchanged: no new signature')
    t.equal(first.headers['last-modified'], signedAt!.toUTCString())
  })

  await t.test('concurrent first reads both answer a list that verifies, and later reads agree with one of them', async (t) => {
    const { id } = await newList(app, db, SMALL)
    await setStatusBit(db, id, 42)
    const racing = await Promise.all([get(id), get(id)])
    for (const res of racing) {
      t.equal(res.statusCode, 200)
      const verification = await verifyDataIntegrity(res.json(), resolve)
      t.ok(verification.verified, `independent verifier: ${verification.error ?? 'ok'}`)
      t.same(setIndexes(decodeList(res.json().credentialSubject.encodedList)), [42])
    }
    const later = await get(id)
    t.ok(racing.some((res) => res.headers.etag === later.headers.etag && res.body === later.body))
  })

  await t.test('If-None-Match with the current ETag answers 304 with no body; an old ETag gets the new list', async (t) => {
    const { id } = await newList(app, db, SMALL)
    const old = await get(id)
    const etag = String(old.headers.etag)
    t.match(etag, /^"\d+-[A-Za-z0-9_-]+"$/, 'a strong, quoted validator')

    for (const ifNoneMatch of [etag, `W/${etag}`, `"0-other", ${etag}`, '*']) {
      const res = await get(id, { 'if-none-match': ifNoneMatch })
      t.equal(res.statusCode, 304, ifNoneMatch)
      t.equal(res.body, '', `${ifNoneMatch}: no body`)
      t.equal(res.headers.etag, etag)
      t.match(res.headers['cache-control'], /max-age=60/)
    }
    t.equal((await get(id, { 'if-none-match': '"0-other"' })).statusCode, 200, 'another ETag')

    await setStatusBit(db, id, 5)
    const fresh = await get(id, { 'if-none-match': etag })
    t.equal(fresh.statusCode, 200, 'the list changed: the old ETag no longer matches')
    t.not(fresh.headers.etag, etag)
    t.same(setIndexes(decodeList(fresh.json().credentialSubject.encodedList)), [5])
    t.equal((await get(id, { 'if-none-match': String(fresh.headers.etag) })).statusCode, 304)
  })

  await t.test('a tampered list fails independent verification', async (t) => {
    const { id } = await newList(app, db, SMALL)
    await setStatusBit(db, id, 10)
    const served = (await get(id)).json()

    const flippedCharacter = structuredClone(served)
    const encoded: string = served.credentialSubject.encodedList
    const at = encoded.length - 2
    flippedCharacter.credentialSubject.encodedList = encoded.slice(0, at) + (encoded[at] === 'A' ? 'B' : 'A') + encoded.slice(at + 1)
    t.notOk((await verifyDataIntegrity(flippedCharacter, resolve)).verified, 'one character of encodedList changed')

    const unrevoked = structuredClone(served)
    unrevoked.credentialSubject.encodedList = `u${gzipSync(Buffer.alloc(SMALL / 8)).toString('base64url')}`
    t.notOk((await verifyDataIntegrity(unrevoked, resolve)).verified, 'the revocation cleared')
  })

  await t.test('headers: short public caching, Vary: Accept, and the JSON media type the Accept asks for', async (t) => {
    const { id } = await newList(app, db, SMALL)
    for (const [accept, type] of [
      [undefined, 'application/json'],
      ['*/*', 'application/json'],
      ['application/json', 'application/json'],
      ['application/vc+ld+json', 'application/vc+ld+json'],
      ['application/ld+json', 'application/ld+json'],
      ['application/vc+ld+json;q=0.5, application/ld+json', 'application/ld+json'],
      ['text/html', 'application/json']
    ] as const) {
      const res = await get(id, accept === undefined ? {} : { accept })
      t.equal(res.statusCode, 200, String(accept))
      t.match(res.headers['content-type'], new RegExp(`^${type.replace(/[+]/g, '\\+')}(;|$)`), `${accept} → ${type}`)
      const cacheControl = String(res.headers['cache-control'])
      t.match(cacheControl, /(^|, )public(,|$)/)
      const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)?.[1])
      t.ok(maxAge > 0 && maxAge <= 300, `max-age ${maxAge}: revocations show within minutes`)
      t.match(res.headers.vary, /Accept/)
      t.equal(res.headers['access-control-allow-origin'], '*', 'verifiers on other origins may fetch it')
    }
    const head = await app.inject({ method: 'HEAD', url: `/status/${id}` })
    t.equal(head.statusCode, 200)
    t.equal(head.body, '')
  })

  await t.test('an unknown list is a 404 problem, a malformed id a 400 problem', async (t) => {
    assertProblem(t, await get('0190a8c0-0000-7000-8000-000000000000'), 404, 'not-found')
    const bad = assertProblem(t, await get('not-a-uuid'), 400, 'validation-failed')
    t.match(bad.errors, [{ pointer: '/listId', in: 'params' }])
  })

  await t.test('after a key rotation, the unchanged list still verifies and a changed one is signed with the new key', async (t) => {
    const { issuer, id } = await newList(app, db, SMALL)
    const oldKey = issuer.keys[0].verificationMethod
    t.equal((await get(id)).json().proof.verificationMethod, oldKey)

    const rotated = await app.inject({ method: 'POST', url: `/v1/issuers/${issuer.id}/keys/rotate`, headers: admin })
    t.equal(rotated.statusCode, 200, rotated.body)
    const newKey = rotated.json().keys.find((key: { algorithm: string; status: string }) => key.algorithm === 'Ed25519' && key.status === 'active').verificationMethod
    t.not(newKey, oldKey)

    const unchanged = (await get(id)).json()
    t.equal(unchanged.proof.verificationMethod, oldKey, 'not re-signed while unchanged')
    t.ok((await verifyDataIntegrity(unchanged, resolve)).verified, 'the retired key stays in the DID document')

    await setStatusBit(db, id, 1)
    const changed = (await get(id)).json()
    t.equal(changed.proof.verificationMethod, newKey)
    const verification = await verifyDataIntegrity(changed, resolve)
    t.ok(verification.verified, `independent verifier: ${verification.error ?? 'ok'}`)
    t.same(setIndexes(decodeList(changed.credentialSubject.encodedList)), [1])
  })

  await t.test('a list of the spec\'s minimum 131,072 entries compresses to a few dozen bytes and decodes to 16 KiB', async (t) => {
    const { id } = await newList(app, db, SPEC_MINIMUM)
    const empty = (await get(id)).json()
    const encoded: string = empty.credentialSubject.encodedList
    t.ok(encoded.length < 200, `encodedList is ${encoded.length} characters`)
    const bits = decodeList(encoded)
    t.equal(bits.length, SPEC_MINIMUM / 8)
    t.ok(bits.every((byte) => byte === 0), 'all zero')
    t.ok((await verifyDataIntegrity(empty, resolve)).verified)

    const flipped = [0, 7, 8, 65_536, SPEC_MINIMUM - 1]
    for (const index of flipped) await setStatusBit(db, id, index)
    const revoked = (await get(id)).json()
    t.same(setIndexes(decodeList(revoked.credentialSubject.encodedList)), flipped)
    t.ok((await verifyDataIntegrity(revoked, resolve)).verified)
  })
})
