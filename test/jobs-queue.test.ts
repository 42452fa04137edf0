// The job queue: exactly once per (job, row) through crashes and doubled work, two workers on one database, progress,
// cancel, and the worker's ways of failing.
import { sql } from 'kysely'
import t from 'tap'
import { issueCredentials } from '../src/credentials/service.js'
import { awardOf, proofOf } from '../src/credentials/award-input.js'
import type { ServiceContext } from '../src/context.js'
import { inProcessSigner } from '../src/crypto/proof-pool.js'
import { openDatabase } from '../src/db/database.js'
import { chunkIdempotencyKey, processChunk, remainderKey } from '../src/jobs/chunk.js'
import { claimChunk, recordRefusedRows } from '../src/jobs/store.js'
import { createJobWorker, DEFAULT_WORKER_SETTINGS } from '../src/jobs/worker.js'
import { admin, assertProblem, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase, type TestApp } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { allResults, learners, submitJob, waitForJob } from './helpers/jobs.js'

const silent = { error() {}, child() { return silent } } as never

function contextOf({ db, keyring, config }: TestApp, signDataIntegrity = inProcessSigner): ServiceContext {
  return { db, keyring, publicUrl: config.PUBLIC_URL, statusListSize: config.STATUS_LIST_SIZE, signDataIntegrity, idempotencyTtlMs: 86_400_000 }
}

await onEachDatabase(t, async (t, database) => {
  const test = await buildTestApp(t, database, { env: { STATUS_LIST_SIZE: '1024' }, jobs: { autoStart: false, chunkSize: 10 } })
  const { app, db } = test
  const ctx = contextOf(test)
  const issuer = await createIssuer(app)
  const badge = await createAchievement(app, issuer.id)
  const count = async (table: 'credentials' | 'job_results', jobId?: string) => {
    let query = db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n'))
    if (table === 'job_results') query = query.where('job_id', '=', jobId!)
    return Number((await query.executeTakeFirstOrThrow()).n)
  }
  const jobRows = async (jobId: string, first: number, last: number) =>
    (await db.selectFrom('job_rows').select(['row', 'input']).where('job_id', '=', jobId).where('row', '>=', first).where('row', '<=', last).orderBy('row').execute())

  await t.test('progress is readable while a job runs: one chunk done, running, its results listed', async (t) => {
    const job = await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(30, 'progress') })
    t.equal(await app.jobWorker.runOnce(), true)
    const running = (await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: admin })).json()
    t.match(running, { status: 'running', total: 30, succeeded: 10, failed: 0, finishedAt: null })
    t.ok(running.startedAt !== null && running.rowsPerSecond > 0)
    t.same((await allResults(app, job.id)).map((r) => r.row), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    while (await app.jobWorker.runOnce());
    t.match((await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: admin })).json(), { status: 'completed', succeeded: 30 })
  })

  await t.test('a crash between a chunk\'s commit and its acknowledgement: the repeat issues no second credential', async (t) => {
    const job = await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(20, 'crash') })
    const before = await count('credentials')
    // The first worker issued chunk 0 and died before recording it: its credentials are committed, its results are not.
    const rows = await jobRows(job.id, 0, 9)
    await issueCredentials(ctx, { principal: { kind: 'admin' }, requestId: 'crashed-worker' }, {
      achievementId: badge.id, proof: proofOf({ format: 'eddsa-rdfc-2022' }), awards: rows.map((row) => awardOf(row.input as never))
    }, () => '', { key: chunkIdempotencyKey(job.id, 0), operation: 'job-chunk', body: rows })
    t.equal(await count('credentials'), before + 10)
    // And a chunk done and recorded whose worker is thought dead is done again by another.
    t.equal(await app.jobWorker.runOnce(), true)
    t.equal(await app.jobWorker.runOnce(), true)
    await db.updateTable('job_chunks').set({ done: false }).where('job_id', '=', job.id).where('chunk', '=', 1).execute()
    await db.updateTable('jobs').set({ status: 'running' }).where('id', '=', job.id).execute()
    t.equal(await app.jobWorker.runOnce(), true)
    t.equal(await count('credentials'), before + 20, 'one credential per row, none missing')
    t.equal(await count('job_results', job.id), 20)
    t.match((await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: admin })).json(), { status: 'completed', succeeded: 20, failed: 0 })
  })

  await t.test('a worker killed holding a lease: another takes the chunk when the lease runs out', async (t) => {
    const job = await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(10, 'lease') })
    t.ok(await claimChunk(db, 100), 'claimed, then the claimer dies')
    t.equal(await app.jobWorker.runOnce(), false, 'the lease still holds')
    await new Promise((resolve) => setTimeout(resolve, 150))
    t.equal(await app.jobWorker.runOnce(), true)
    t.match(await waitForJob(app, job.id), { status: 'completed', succeeded: 10 })
  })

  await t.test('a live worker renews the lease of a chunk that takes longer than a third of it', async (t) => {
    const job = await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(2, 'renewed') })
    const leaseOf = async () => (await db.selectFrom('job_chunks').select('lease_until').where('job_id', '=', job.id).executeTakeFirstOrThrow()).lease_until!
    let claimedLease: Date | undefined
    const slow = contextOf(test, async (credential, options) => {
      claimedLease ??= await leaseOf()
      await new Promise((resolve) => setTimeout(resolve, 1_300))
      return inProcessSigner(credential, options)
    })
    const worker = createJobWorker(slow, { ...DEFAULT_WORKER_SETTINGS, leaseMs: 3_000 }, silent)
    const renewed = new Promise<Date>((resolve) => setTimeout(() => resolve(leaseOf()), 1_200))
    t.equal(await worker.runOnce(), true)
    t.ok((await renewed).getTime() > claimedLease!.getTime(), 'the lease was pushed back while the chunk was worked on')
    t.match(await waitForJob(app, job.id), { status: 'completed', succeeded: 2 })
  })

  await t.test('two workers on one database share a job; with leases shorter than a chunk they take the same chunks, and no row is done twice', async (t) => {
    const second = database.url === undefined ? db : (await openDatabase({ url: database.url })).db
    if (second !== db) t.teardown(() => second.destroy())
    const other = await buildTestApp(t, { ...database, db: second }, { env: { STATUS_LIST_SIZE: '1024' }, jobs: { chunkSize: 10, worker: { leaseMs: 1, pollMs: 5 } } })
    const mine = createJobWorker(ctx, { ...DEFAULT_WORKER_SETTINGS, leaseMs: 1, pollMs: 5 }, silent)
    const before = await count('credentials')
    const job = await submitJob(other.app, { type: 'issue', achievementId: badge.id, items: learners(60, 'shared') })
    mine.start()
    t.match(await waitForJob(app, job.id), { status: 'completed', succeeded: 60, failed: 0 })
    await mine.stop()
    t.equal(await count('credentials'), before + 60)
    const results = await allResults(app, job.id)
    t.equal(new Set(results.map((r) => r.credentialId)).size, 60)
  })

  await t.test('cancel stops a job between chunks; rows not done stay undone; an ended job stays as it is', async (t) => {
    const job = await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(30, 'cancel') })
    t.equal(await app.jobWorker.runOnce(), true)
    const claimed = (await claimChunk(db, 60_000))!
    const res = await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, headers: admin })
    t.equal(res.statusCode, 200)
    t.match(res.json(), { status: 'cancelled', succeeded: 10 })
    t.ok(res.json().finishedAt)
    await processChunk(ctx, claimed)
    t.equal(await app.jobWorker.runOnce(), false, 'nothing of a cancelled job is claimed')
    t.equal(await count('job_results', job.id), 10)
    t.match((await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, headers: admin })).json(), { status: 'cancelled', succeeded: 10 })
    const done = await submitJob(app, { type: 'issue', achievementId: badge.id, items: [{ recipient: { email: 'late@example.com' } }] })
    while (await app.jobWorker.runOnce());
    t.match((await app.inject({ method: 'POST', url: `/v1/jobs/${done.id}/cancel`, headers: admin })).json(), { status: 'completed' })
    t.same((await allResults(app, done.id)).map((r) => r.externalId), [undefined], 'no externalId given, none answered')
  })

  await t.test('a refusal naming rows fails those rows alone, recorded before the rest of the chunk is issued; one that names none (the issuer cannot sign the format) fails the job', async (t) => {
    const job = await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(20, 'refused') })
    // Rows that no longer meet the OB 3.0 schema once built (stored by an older Lanyard, say).
    const breakRows = (jobId: string, rows: number[]) =>
      db.updateTable('job_rows').set({ input: sql`jsonb_set(input, '{narrative}', '42')` }).where('job_id', '=', jobId).where('row', 'in', rows).execute()
    await breakRows(job.id, [3, 5])
    while (await app.jobWorker.runOnce());
    const failed = await allResults(app, job.id, '&outcome=failed')
    t.match(failed, [{ row: 3, error: /OB 3.0 schema/ }, { row: 5, error: /OB 3.0 schema/ }])
    t.equal(failed.length, 2)
    t.equal((await allResults(app, job.id, '&outcome=succeeded')).length, 18)
    t.match((await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: admin })).json(), { status: 'completed', succeeded: 18, failed: 2 })
    const ended = async (jobId: string) => (await db.selectFrom('events').select(['type', 'issuer_id', 'data']).where(sql<boolean>`data->>'jobId' = ${jobId}`).execute())
    t.match(await ended(job.id), [{ type: 'job.completed', issuer_id: issuer.id, data: { jobId: job.id, jobType: 'issue', total: 20, succeeded: 18, failed: 2 } }], 'one job.completed in the outbox')

    // A worker met the refusal of row 3, recorded it, issued the rest of chunk 0, and died before recording that.
    const crash = await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(10, 'refused-crash') })
    await breakRows(crash.id, [3])
    await recordRefusedRows(db, crash.id, [{ job_id: crash.id, row: 3, external_id: null, credential_id: null, error: 'refused' }])
    const rest = (await jobRows(crash.id, 0, 9)).filter((row) => row.row !== 3)
    await issueCredentials(ctx, { principal: { kind: 'admin' }, requestId: 'crashed-worker' }, {
      achievementId: badge.id, proof: proofOf({ format: 'eddsa-rdfc-2022' }), awards: rest.map((row) => awardOf(row.input as never))
    }, () => '', { key: remainderKey(crash.id, 0, 1), operation: 'job-chunk', body: rest })
    const before = await count('credentials')
    while (await app.jobWorker.runOnce());
    t.equal(await count('credentials'), before, 'the repeat replays the rest of the chunk: no second credential')
    t.match((await app.inject({ method: 'GET', url: `/v1/jobs/${crash.id}`, headers: admin })).json(), { status: 'completed', succeeded: 9, failed: 1 })

    const lone = await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(1, 'lone') })
    await db.updateTable('job_rows').set({ input: sql`jsonb_set(input, '{narrative}', '42')` }).where('job_id', '=', lone.id).execute()
    while (await app.jobWorker.runOnce());
    t.match((await app.inject({ method: 'GET', url: `/v1/jobs/${lone.id}`, headers: admin })).json(), { status: 'completed', succeeded: 0, failed: 1 }, 'a chunk all of whose rows are refused completes')

    const keyIssuer = await createIssuer(app, { name: 'Key College', did: 'key' })
    const keyBadge = await createAchievement(app, keyIssuer.id)
    const rs256 = await submitJob(app, { type: 'issue', achievementId: keyBadge.id, format: 'vc-jwt', jwtAlg: 'RS256', items: learners(3, 'rsa') })
    while (await app.jobWorker.runOnce());
    t.match((await app.inject({ method: 'GET', url: `/v1/jobs/${rs256.id}`, headers: admin })).json(), { status: 'failed', succeeded: 0, error: String })
    t.match(await ended(rs256.id), [{ type: 'job.failed', issuer_id: keyIssuer.id, data: { jobId: rs256.id, succeeded: 0, error: String } }], 'and one job.failed')
  })

  await t.test('a job runs with the rights of the API key that made it: once the key is revoked, the job fails between chunks', async (t) => {
    const key = await createApiKey(app, issuer.id)
    const job = await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(20, 'key-revoked') }, bearer(key.key))
    t.equal(await app.jobWorker.runOnce(), true)
    t.equal((await app.inject({ method: 'DELETE', url: `/v1/api-keys/${key.id}`, headers: admin })).statusCode, 200)
    while (await app.jobWorker.runOnce());
    t.match((await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: admin })).json(),
      { status: 'failed', succeeded: 10, error: /API key that made this job was revoked/ })
  })

  await t.test('a chunk that keeps failing is tried again, then fails its job; a worker that cannot reach the database keeps polling', async (t) => {
    const broken = contextOf(test, async () => { throw new Error('signing thread died') })
    const worker = createJobWorker(broken, { ...DEFAULT_WORKER_SETTINGS, maxAttempts: 2, retryDelayMs: 0 }, silent)
    const job = await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(2, 'broken') })
    t.equal(await worker.runOnce(), true)
    t.match((await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: admin })).json(), { status: 'running' })
    t.equal(await worker.runOnce(), true)
    t.match((await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: admin })).json(), { status: 'failed', error: /2 attempts/ })

    // A revocation that fails for a fault, not a refusal, is left for the worker to try again.
    const revoke = await submitJob(app, { type: 'revoke', ids: ['00000000-0000-4000-8000-000000000000'] })
    const faulty = new Proxy(db, {
      get: (target, name) => name === 'transaction' ? () => { throw new Error('connection lost') } : (Reflect.get(target, name) as () => unknown).bind(target)
    })
    await t.rejects(processChunk({ ...ctx, db: faulty }, (await claimChunk(db, 60_000))!), /connection lost/)
    t.equal(await count('job_results', revoke.id), 0)

    const away = createJobWorker({ ...ctx, db: { transaction() { throw new Error('connection refused') } } as never }, { ...DEFAULT_WORKER_SETTINGS, pollMs: 5 }, silent)
    away.start()
    away.start()
    await new Promise((resolve) => setTimeout(resolve, 30))
    away.wake()
    await away.stop()
    t.pass('stopped cleanly')
  })

  await t.test('a job\'s results and cursor are checked', async (t) => {
    const job = await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(1, 'cursor') })
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/results?cursor=abc`, headers: admin }), 400, 'validation-failed')
    assertProblem(t, await app.inject({ method: 'GET', url: '/v1/jobs/00000000-0000-4000-8000-000000000000', headers: admin }), 404, 'not-found')
  })
})
