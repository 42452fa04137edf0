// Defaults that work: a vc-jwt for a did:key issuer is EdDSA unless asked otherwise (single, batch, job), did:web stays
// RS256; the VC-API gives an Open Badge sent without an id a urn:uuid: id, and leaves other credentials as sent.
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { admin, assertProblem, buildTestApp, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement, resolverFor } from './helpers/credentials.js'
import { verifyDataIntegrity, verifyVcJwt } from './helpers/independent-verifier.js'
import { allResults, learners, submitJob, waitForJob } from './helpers/jobs.js'
import { officialSchemaValidator } from './helpers/ob3.js'

type Json = Record<string, any>

const validateCredential = officialSchemaValidator('achievementcredential')
const URN_UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const jwtHeader = (jwt: string): Json => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8'))
const jwtPayload = (jwt: string): Json => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'))

async function verifyReport(app: FastifyInstance, jwt: string): Promise<Json> {
  const res = await app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': 'application/vc+jwt' }, payload: jwt })
  if (res.statusCode !== 200) throw new Error(`POST /verify answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database, { jobs: { worker: { pollMs: 20 } } })
  const credentialCount = async () => Number((await db.selectFrom('credentials').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n)
  const resolve = resolverFor(app)
  const keyIssuer = await createIssuer(app, { name: 'Key College', did: 'key' })
  const webIssuer = await createIssuer(app, { name: 'Web College' })
  const keyBadge = await createAchievement(app, keyIssuer.id)
  const webBadge = await createAchievement(app, webIssuer.id)

  const post = (url: string, payload: Json) => app.inject({ method: 'POST', url, headers: admin, payload })
  const issued = async (url: string, payload: Json) => {
    const res = await post(url, payload)
    if (res.statusCode !== 201) throw new Error(`POST ${url} answered ${res.statusCode}: ${res.body}`)
    return res.json()
  }

  /** Checks one issued vc-jwt credential: its reply, its header, the independent verifier, POST /verify and the stored row. */
  async function assertJwt(t: Test, credential: Json, alg: string) {
    t.match(credential, { format: 'vc-jwt', jwtAlg: alg, jwt: String })
    t.equal(jwtHeader(credential.jwt).alg, alg, `the JWT header says ${alg}`)
    const independent = await verifyVcJwt(credential.jwt, resolve)
    t.ok(independent.verified, `independent verifier: ${independent.error ?? 'ok'}`)
    t.same(validateCredential(independent.payload), [], 'meets the official OB 3.0 schema')
    const report = await verifyReport(app, credential.jwt)
    t.equal(report.verified, true, JSON.stringify(report.checks))
    t.equal(report.format, 'vc-jwt')
    t.match((await app.inject({ method: 'GET', url: `/v1/credentials/${credential.id}`, headers: admin })).json(), { jwtAlg: alg })
  }

  await t.test('a did:key issuer\'s vc-jwt without jwtAlg is signed EdDSA and verifies', async (t) => {
    const credential = await issued('/v1/credentials', { achievementId: keyBadge.id, recipient: { email: 'ada@example.com' }, format: 'vc-jwt' })
    await assertJwt(t, credential, 'EdDSA')
  })

  await t.test('a did:web issuer\'s vc-jwt without jwtAlg is still RS256', async (t) => {
    const credential = await issued('/v1/credentials', { achievementId: webBadge.id, recipient: { email: 'ada@example.com' }, format: 'vc-jwt' })
    await assertJwt(t, credential, 'RS256')
  })

  await t.test('an explicit jwtAlg is honoured: EdDSA for did:web, and RS256 for did:key is still a 422 that stores nothing', async (t) => {
    const credential = await issued('/v1/credentials', { achievementId: webBadge.id, recipient: { email: 'ada@example.com' }, format: 'vc-jwt', jwtAlg: 'EdDSA' })
    await assertJwt(t, credential, 'EdDSA')
    const before = await credentialCount()
    const refused = assertProblem(t, await post('/v1/credentials', {
      achievementId: keyBadge.id, recipient: { email: 'ada@example.com' }, format: 'vc-jwt', jwtAlg: 'RS256'
    }), 422, 'key-algorithm-unavailable')
    t.match(refused.detail, /did:key/)
    t.equal(await credentialCount(), before, 'nothing stored')
  })

  await t.test('a batch for a did:key issuer defaults to EdDSA too', async (t) => {
    const { credentials } = await issued('/v1/credentials/batch', { achievementId: keyBadge.id, format: 'vc-jwt', items: learners(3, 'batch') })
    t.equal(credentials.length, 3)
    for (const credential of credentials) await assertJwt(t, credential, 'EdDSA')
  })

  await t.test('an issue job for a did:key issuer defaults to EdDSA too', async (t) => {
    const job = await waitForJob(app, (await submitJob(app, { type: 'issue', achievementId: keyBadge.id, format: 'vc-jwt', items: learners(3, 'job') })).id)
    t.match(job, { status: 'completed', succeeded: 3, failed: 0 })
    for (const result of await allResults(app, job.id)) {
      const credential = (await app.inject({ method: 'GET', url: `/v1/credentials/${result.credentialId}`, headers: admin })).json()
      await assertJwt(t, credential, 'EdDSA')
    }
  })

  /** An Open Badge as Lanyard issues it, without its proof: what a VC-API client might send. */
  async function openBadge(badge: Json): Promise<Json> {
    const { proof: _, ...credential } = (await issued('/v1/credentials', { achievementId: badge.id, recipient: { did: 'did:example:welder' } })).credential
    return credential
  }
  const vcApi = async (payload: Json): Promise<Json> => (await issued('/credentials/issue', payload)).verifiableCredential

  await t.test('the VC-API gives an Open Badge sent without an id a urn:uuid: id, which is signed and meets the schema', async (t) => {
    const { id: _, ...credential } = await openBadge(webBadge)
    const vc = await vcApi({ credential })
    t.match(vc.id, URN_UUID)
    t.same(Object.keys(vc).slice(0, 2), ['@context', 'id'], 'second, as in Lanyard\'s own credentials')
    const { proof, id, ...rest } = vc
    t.same(rest, credential, 'otherwise as sent')
    t.same(validateCredential(vc), [], 'meets the official OB 3.0 schema')
    t.same(await verifyDataIntegrity(vc, resolve), { verified: true })
    const changed = await verifyDataIntegrity({ ...vc, id: 'urn:uuid:00000000-0000-4000-8000-000000000000' }, resolve)
    t.equal(changed.verified, false, 'the id is covered by the proof')
    t.match(proof, { cryptosuite: 'eddsa-rdfc-2022' })
    t.not((await vcApi({ credential })).id, id, 'each gets an id of its own')
  })

  await t.test('the VC-API gives a did:key Open Badge without id or jwtAlg an id and an EdDSA JWT whose jti it is', async (t) => {
    const { id: _, ...credential } = await openBadge(keyBadge)
    const vc = await vcApi({ credential, options: { format: 'vc-jwt' } })
    const jwt = (vc.id as string).slice('data:application/vc+jwt,'.length)
    t.equal(jwtHeader(jwt).alg, 'EdDSA')
    const payload = jwtPayload(jwt)
    t.match(payload.id, URN_UUID)
    t.equal(payload.jti, payload.id)
    const independent = await verifyVcJwt(jwt, resolve)
    t.ok(independent.verified, `independent verifier: ${independent.error ?? 'ok'}`)
    t.equal((await verifyReport(app, jwt)).verified, true)
  })

  await t.test('the VC-API keeps an Open Badge\'s own id', async (t) => {
    const credential = { ...await openBadge(webBadge), id: 'urn:uuid:5b0d3a1e-8e7c-4f4e-9d0a-3c2b1a000001' }
    const vc = await vcApi({ credential })
    t.equal(vc.id, credential.id)
    t.same(await verifyDataIntegrity(vc, resolve), { verified: true })
  })

  await t.test('the VC-API signs a credential that is not an Open Badge without an id as sent: no id added', async (t) => {
    const credential = {
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      type: ['VerifiableCredential'],
      issuer: webIssuer.did,
      name: 'Library access',
      credentialSubject: { id: 'did:example:reader' }
    }
    const vc = await vcApi({ credential })
    t.notOk('id' in vc)
    const { proof: _, ...rest } = vc
    t.same(rest, credential)
    t.same(await verifyDataIntegrity(vc, resolve), { verified: true })
  })
})
