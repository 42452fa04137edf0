// The proof threads give exactly the bytes in-process signing gives (Ed25519 is deterministic) and the same verification
// outcomes as in-process checks, keep the same error classes, and carry a batch issued and verified over HTTP.
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { signDataIntegrity, UnsignableCredentialError, type DataIntegritySuite, type SigningKey } from '../src/crypto/data-integrity.js'
import { publicKeyMultibase } from '../src/crypto/ed25519.js'
import { createProofPool, runAsBackgroundWork } from '../src/crypto/proof-pool.js'
import { inProcessProofWork, verifyEmbeddedProofs } from '../src/verify/data-integrity.js'
import { admin, buildTestApp, createIssuer, openTestDatabase } from './helpers/app.js'
import { createAchievement, resolverFor } from './helpers/credentials.js'
import { verifyDataIntegrity } from './helpers/independent-verifier.js'

function didKeySigner(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const multibase = publicKeyMultibase(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'))
  const did = `did:key:${multibase}`
  return { verificationMethod: `${did}#${multibase}`, controller: did, privateKey }
}

function credential(issuer: string): Record<string, unknown> {
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: `urn:uuid:${randomUUID()}`,
    type: ['VerifiableCredential'],
    issuer,
    validFrom: '2025-03-01T09:30:00Z',
    credentialSubject: { id: 'did:example:learner-42' }
  }
}

t.test('the pool signs byte for byte as in-process signing does', async (t) => {
  const pool = createProofPool(2)
  t.teardown(() => pool.close())
  const key = didKeySigner()
  const created = new Date('2025-03-01T09:30:00Z')
  for (const suite of ['eddsa-rdfc-2022', 'Ed25519Signature2020'] as DataIntegritySuite[]) {
    const documents = Array.from({ length: 12 }, () => credential(key.controller))
    const pooled = await Promise.all(documents.map((document) => pool.sign(document, { suite, key, created })))
    const local = await Promise.all(documents.map((document) => signDataIntegrity(document, { suite, key, created })))
    t.equal(JSON.stringify(pooled), JSON.stringify(local), `${suite}: the same bytes, in the same order`)
  }
  const now = await pool.sign(credential(key.controller), { suite: 'eddsa-rdfc-2022', key })
  t.match(now, { proof: { created: String } }, 'proof.created defaults to now there too')
})

t.test('background work (a job\'s chunk) has a few proofs in flight per thread: an interactive proof is not queued behind it', async (t) => {
  const pool = createProofPool(1)
  t.teardown(() => pool.close())
  const key = didKeySigner()
  const done: string[] = []
  const sign = (name: string, document: object) => pool.sign(document, { suite: 'eddsa-rdfc-2022', key }).then(
    (signed) => { done.push(name); return signed },
    (error: unknown) => { done.push(name); throw error })
  const chunk = runAsBackgroundWork(() => Promise.allSettled(Array.from({ length: 20 }, (_, i) =>
    // One refused on the thread: its slot is freed like the others'.
    sign(`background ${i}`, i === 1 ? { ...credential(key.controller), favouriteColour: 'teal' } : credential(key.controller)))))
  const interactive = await sign('interactive', credential(key.controller))
  const settled = await chunk
  t.match(interactive, { proof: { type: 'DataIntegrityProof' } })
  t.ok(done.indexOf('interactive') <= 3, `done after at most the 3 background proofs in flight before it (${done.indexOf('interactive')})`)
  t.equal(settled.filter((s) => s.status === 'fulfilled').length, 19, 'every background proof is signed in the end')
  t.match(settled[1], { status: 'rejected', reason: UnsignableCredentialError })
  t.equal(done.length, 21)
})

t.test('errors keep their meaning across the thread boundary', async (t) => {
  const pool = createProofPool(1)
  t.teardown(() => pool.close())
  const key = didKeySigner()
  await t.rejects(pool.sign({ ...credential(key.controller), favouriteColour: 'teal' }, { suite: 'eddsa-rdfc-2022', key }), UnsignableCredentialError)
  // JSON-LD that does not expand (jsonld.SyntaxError): the caller's mistake on the threads as in-process, in the same words.
  const redefining = { ...credential(key.controller), '@context': ['https://www.w3.org/ns/credentials/v2', { name: 'https://example.org/vocab#name' }] }
  const pooled = await pool.sign(redefining, { suite: 'eddsa-rdfc-2022', key }).catch((e: unknown) => e)
  const local = await signDataIntegrity(redefining, { suite: 'eddsa-rdfc-2022', key }).catch((e: unknown) => e)
  t.type(pooled, UnsignableCredentialError)
  t.match(pooled, { message: /^The credential is not valid JSON-LD \(protected term redefinition "name"\)/ })
  t.equal((pooled as Error).message, (local as Error).message)
  const broken = { ...key, privateKey: generateKeyPairSync('ed25519').publicKey }
  const error = await pool.sign(credential(key.controller), { suite: 'eddsa-rdfc-2022', key: broken }).catch((e: unknown) => e)
  t.notOk(error instanceof UnsignableCredentialError, 'our fault stays a plain error')
  t.type(error, Error)
})

t.test('checking proofs on the pool gives the outcomes in-process checks give', async (t) => {
  const pool = createProofPool(2)
  t.teardown(() => pool.close())
  const key = didKeySigner()
  const noFetch = async (url: string) => { throw new Error(`nothing is fetched (${url})`) }
  const signed = await signDataIntegrity(credential(key.controller), { suite: 'eddsa-rdfc-2022', key }) as Record<string, unknown>
  const tampered = { ...signed, validFrom: '2025-03-02T09:30:00Z' }
  const undefinedTerm = { ...signed, favouriteColour: 'teal' }
  const unknownContext = { ...signed, '@context': [...signed['@context'] as string[], 'https://example.com/unknown-context'] }
  for (const [name, document] of Object.entries({ signed, tampered, undefinedTerm, unknownContext })) {
    const pooled = await verifyEmbeddedProofs(document, noFetch, { term: 'assertionMethod' }, pool)
    const local = await verifyEmbeddedProofs(document, noFetch, { term: 'assertionMethod' })
    t.same(pooled, local, `${name}: ${local.message}`)
    t.equal(await pool.safeModeProblem(document), await inProcessProofWork.safeModeProblem(document), `${name}: the same safe-mode answer`)
  }
  t.equal((await verifyEmbeddedProofs(signed, noFetch, { term: 'assertionMethod' }, pool)).verified, true)
  t.match((await verifyEmbeddedProofs(undefinedTerm, noFetch, { term: 'assertionMethod' }, pool)).jsonLdProblem, /favouriteColour/)
  t.match(await pool.safeModeProblem(unknownContext), /unknown-context/)
  const stats = await pool.canonicalizationStats()
  t.ok((stats.fallbacks['jsonld-error'] ?? 0) >= 2, 'the threads count what jsonld.js refused, summed over them')
})

/** Issues a batch over HTTP with this many signing threads, and checks each credential with the independent verifier. */
async function batchVerifies(t: Test, threads: string, count: number) {
  const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'), { env: { LANYARD_SIGNING_THREADS: threads } })
  const issuer = await createIssuer(app)
  const badge = await createAchievement(app, issuer.id)
  // In-process, the cache is the process's and earlier tests used it: count from here.
  const before = await app.canonicalizationStats()
  const res = await app.inject({
    method: 'POST', url: '/v1/credentials/batch', headers: admin,
    payload: { achievementId: badge.id, items: Array.from({ length: count }, (_, i) => ({ recipient: { email: `l${i}@example.com` } })) }
  })
  t.equal(res.statusCode, 201)
  const { credentials } = res.json()
  t.equal(credentials.length, count)
  for (const issued of credentials) t.same(await verifyDataIntegrity(issued.credential, resolverFor(app)), { verified: true })
  const report = await app.inject({ method: 'POST', url: '/verify', payload: credentials[0].credential })
  t.equal(report.json().verified, true, 'and /verify, on the same threads, verifies it')
  // Every credential of the batch has one shape: after the first few (one per thread, and the proof options), hits.
  const after = await app.canonicalizationStats()
  const hits = after.hits - before.hits
  const misses = after.misses - before.misses
  t.ok(hits >= count, `the shape cache served canonicalization (${hits} hits, ${misses} misses)`)
  t.ok(misses <= 2 * 4, 'a template per shape (credential, proof options) per thread, not per credential')
  return { app, credentials }
}

t.test('a batch issued over HTTP is signed on the threads and verifies independently', async (t) => {
  const { app, credentials } = await batchVerifies(t, '2', 20)
  const status = await app.inject({ method: 'GET', url: new URL(credentials[0].credential.credentialStatus.statusListCredential).pathname })
  t.equal(status.statusCode, 200, 'the status list is signed on the threads too')
})

t.test('with LANYARD_SIGNING_THREADS=0 the same batch is signed and verified on the event loop', async (t) => {
  await batchVerifies(t, '0', 3)
})
