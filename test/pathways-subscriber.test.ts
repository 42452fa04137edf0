// The award as a durable subscriber of credential events: it reads in commit order (an event whose transaction commits
// late is not stepped over), picks up after a crash (lease) or a stop (cursor), and two instances, or two evaluations, racing
// to one learner's award make one award.
import { Kysely } from 'kysely'
import t from 'tap'
import type { Database } from '../src/db/schema.js'
import { openDatabase } from '../src/db/database.js'
import { createKeyring } from '../src/crypto/keyring.js'
import { inProcessSigner } from '../src/crypto/proof-pool.js'
import { appendEvent, leaseCursor } from '../src/events/store.js'
import { startSubscriber } from '../src/events/subscriber.js'
import type { ServiceContext } from '../src/context.js'
import { awardCompleted } from '../src/pathways/award.js'
import { findPathway } from '../src/pathways/store.js'
import { startPathwaySubscriber } from '../src/pathways/subscriber.js'
import { admin, buildTestApp, createIssuer, onEachDatabase, openTestDatabase, TEST_MASTER_KEY } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { allResults, waitForJob } from './helpers/jobs.js'
import { awaitAward, createPathway, issue, settled } from './helpers/pathways.js'

type Json = Record<string, any>
const silent = { error() {}, warn() {}, info() {}, debug() {}, child() { return silent } } as never

/** Collects what a test consumer handles. */
function collector() {
  const handled: string[] = []
  return { handled, handle: async (events: { id: string }[]) => { handled.push(...events.map((event) => event.id)) } }
}

const until = async (done: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms
  while (!await done()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

await onEachDatabase(t, async (t, database) => {
  const { db } = database
  const { app } = await buildTestApp(t, database, { pathways: { pollMs: 50 } })
  const school = await createIssuer(app, { name: 'Harbour Academy' })
  const badge = (name: string) => createAchievement(app, school.id, { name })
  const ctx: ServiceContext = {
    db, keyring: createKeyring(TEST_MASTER_KEY), publicUrl: 'https://badges.example.edu', statusListSize: 131_072, signDataIntegrity: inProcessSigner, idempotencyTtlMs: 86_400_000
  }

  await t.test('a consumer reads every event once committed, in commit order, and again after a failed batch', async (t) => {
    await db.insertInto('event_cursors').values({ consumer: 'test-order' }).execute()
    const { handled, handle } = collector()
    let failures = 1
    const subscriber = startSubscriber({
      db, consumer: 'test-order', log: silent, pollMs: 20, batch: 2, leaseMs: 5_000,
      handle: async (events) => {
        if (failures-- > 0) throw new Error('the database went away')
        await handle(events)
      }
    })
    t.teardown(() => subscriber.stop())
    const appended: string[] = []
    for (let i = 0; i < 5; i++) {
      await db.transaction().execute((trx) => appendEvent(trx, { type: 'job.completed', issuerId: null, data: { i } }))
      appended.push((await db.selectFrom('events').select('id').where(({ ref }) => ref('data', '->>').key('i'), '=', String(i)).executeTakeFirstOrThrow()).id)
    }
    await until(() => appended.every((id) => handled.includes(id)))
    const mine = handled.filter((id) => appended.includes(id))
    t.same(mine, appended, 'in the order they committed, the failed batch read again, nothing twice after')
    await subscriber.stop()
  })

  if (database.kind === 'postgres') {
    await t.test('an event whose transaction commits after later ones is read, not stepped over', async (t) => {
      await db.insertInto('event_cursors').values({ consumer: 'test-late' }).execute()
      const { handled, handle } = collector()
      const subscriber = startSubscriber({ db, consumer: 'test-late', log: silent, pollMs: 20, batch: 100, leaseMs: 5_000, handle })
      t.teardown(() => subscriber.stop())
      let release!: () => void
      const held = new Promise<void>((resolve) => { release = resolve })
      let appendedLate!: () => void
      const lateAppended = new Promise<void>((resolve) => { appendedLate = resolve })
      const late = db.transaction().execute(async (trx) => {
        await appendEvent(trx, { type: 'job.completed', issuerId: null, data: { late: true } })
        appendedLate()
        await held
      })
      await lateAppended
      for (let i = 0; i < 3; i++) await appendEvent(db, { type: 'job.completed', issuerId: null, data: { early: i } })
      const early = (await db.selectFrom('events').select('id').where(({ ref }) => ref('data', '->>').key('early'), 'is not', null).orderBy('occurred_at').execute())
        .map((row) => row.id)
      // The consumer starts from the first event: the earlier tests' are read meanwhile, these three must wait.
      await new Promise((resolve) => setTimeout(resolve, 300))
      t.notOk(early.some((id) => handled.includes(id)), 'nothing is read past a transaction still open: it may yet commit an event before them')
      release()
      await late
      const first = await db.selectFrom('events').select('id').where(({ ref }) => ref('data', '->>').key('late'), '=', 'true').executeTakeFirstOrThrow()
      const ours = [first.id, ...early]
      await until(() => ours.every((id) => handled.includes(id)))
      t.same(handled.filter((id) => ours.includes(id)), ours, 'the late event first (its transaction took its id first), each once')
    })

    await t.test('two instances on one PostgreSQL, the last two badges issued through each at once: one award each', async (t) => {
      const { db: otherDb } = await openDatabase({ url: database.url! })
      t.teardown(() => otherDb.destroy())
      const { app: other } = await buildTestApp(t, { kind: 'postgres', db: otherDb as Kysely<Database> }, { pathways: { pollMs: 50 } })
      const [left, right, award] = await Promise.all([badge('Left'), badge('Right'), badge('Both Sides')])
      const pathway = await createPathway(app, school.id, { awardAchievementId: award.id, requirement: { all: [{ achievementId: left.id }, { achievementId: right.id }] } })
      const learners = Array.from({ length: 8 }, (_, i) => ({ email: `twin${i}@example.com` }))
      await Promise.all(learners.flatMap((learner) => [issue(app, left.id, learner), issue(other, right.id, learner)]))
      for (const learner of learners) await awaitAward(app, pathway.id, `email=${learner.email}`)
      await settled(db)
      t.equal((await db.selectFrom('pathway_awards').select('identity').where('pathway_id', '=', pathway.id).execute()).length, 8)
      t.equal((await db.selectFrom('credentials').select('id').where('achievement_id', '=', award.id).execute()).length, 8, 'one award credential per learner')
      const completed = (await db.selectFrom('events').select('data').where('type', '=', 'pathway.completed').execute()).filter((e) => e.data.pathwayId === pathway.id)
      t.equal(completed.length, 8, 'one pathway.completed per learner')
    })
  }

  await t.test('two evaluations racing to one learner\'s award make one credential, one award, one event', async (t) => {
    const [piece, award] = await Promise.all([badge('Piece'), badge('Raced Award')])
    const made = await createPathway(app, school.id, { awardAchievementId: award.id, requirement: { achievementId: piece.id } })
    const pathway = (await findPathway(db, made.id))!
    const learners = Array.from({ length: 4 }, (_, i) => ({ identityType: 'did' as const, identity: `did:example:raced-${i}` }))
    // Issued while this app's subscriber is held off, so the two evaluations here are the only ones.
    const token = crypto.randomUUID()
    await leaseCursor(db, 'pathways', token, 60_000)
    for (const learner of learners) await issue(app, piece.id, { did: learner.identity })
    const candidates = learners.map((learner) => ({ pathway, learner }))
    const [one, two] = await Promise.all([awardCompleted(ctx, candidates), awardCompleted(ctx, candidates)])
    t.same(one.map((outcome) => outcome.kind), ['awarded', 'awarded', 'awarded', 'awarded'])
    t.same(one, two, 'both answer the same credentials')
    t.equal((await db.selectFrom('credentials').select('id').where('achievement_id', '=', award.id).execute()).length, 4)
    const completed = (await db.selectFrom('events').select('data').where('type', '=', 'pathway.completed').execute()).filter((e) => e.data.pathwayId === pathway.id)
    t.equal(completed.length, 4)
    // A fault on the way (here the signing threads are gone) is thrown for the caller to retry, never taken for a refusal.
    await issue(app, piece.id, { did: 'did:example:raced-fault' })
    const faulty: ServiceContext = { ...ctx, signDataIntegrity: async () => { throw new Error('the signing threads are gone') } }
    await t.rejects(awardCompleted(faulty, [{ pathway, learner: { identityType: 'did', identity: 'did:example:raced-fault' } }]), /signing threads are gone/)
    await db.updateTable('event_cursors').set({ lease_token: null, leased_until: null }).where('consumer', '=', 'pathways').execute()
    await settled(db)
    t.equal((await db.selectFrom('credentials').select('id').where('achievement_id', '=', award.id).execute()).length, 5, 'the subscriber, later, adds only the one that failed')
  })

  await t.test('an instance that died holding the cursor delays the award until its lease runs out, no more', async (t) => {
    const [piece, award] = await Promise.all([badge('Lease Piece'), badge('Lease Award')])
    const pathway = await createPathway(app, school.id, { awardAchievementId: award.id, requirement: { achievementId: piece.id } })
    await leaseCursor(db, 'pathways', crypto.randomUUID(), 700)
    const started = Date.now()
    const component = await issue(app, piece.id, { did: 'did:example:lease' })
    await new Promise((resolve) => setTimeout(resolve, 300))
    t.equal((await db.selectFrom('pathway_awards').select('identity').where('pathway_id', '=', pathway.id).execute()).length, 0, 'not while the lease holds')
    const { ms } = await awaitAward(app, pathway.id, `recipientId=${component.recipientId}`)
    t.ok(Date.now() - started >= 650, `awarded after the lease ran out (${ms} ms after looking)`)
  })

  await t.test('badges issued while no subscriber ran are awarded once one starts', async (t) => {
    // A database of its own, whose only instance runs no subscriber, as if it had crashed before reading.
    const own = await openTestDatabase(t, database.kind)
    const { app: quiet } = await buildTestApp(t, own, { pathways: { autoStart: false }, jobs: { autoStart: false } })
    const runJobs = async () => { while (await quiet.jobWorker.runOnce()); }
    const college = await createIssuer(quiet, { name: 'Quiet College' })
    const badge = (name: string) => createAchievement(quiet, college.id, { name })
    const [piece, award] = await Promise.all([badge('Quiet Piece'), badge('Quiet Award')])
    const pathway = await createPathway(quiet, college.id, { awardAchievementId: award.id, requirement: { achievementId: piece.id } })
    const db = own.db
    const component = await issue(quiet, piece.id, { url: 'https://people.example.org/quiet' })
    await new Promise((resolve) => setTimeout(resolve, 200))
    t.equal((await db.selectFrom('pathway_awards').select('identity').where('pathway_id', '=', pathway.id).execute()).length, 0, 'no subscriber, no award yet')
    const subscriber = startPathwaySubscriber({ ...ctx, db }, silent, { pollMs: 50, batch: 10, leaseMs: 5_000 })
    t.teardown(() => subscriber.stop())
    const { progress } = await awaitAward(quiet, pathway.id, `recipientId=${component.recipientId}`)
    t.equal(progress.complete, true)

    // A refusal (here the award no longer meets the OB 3.0 schema) is logged and passed over, by the subscriber and by a job.
    const [other, broken] = await Promise.all([badge('Refused Piece'), badge('Refused Award')])
    const refusing = await createPathway(quiet, college.id, { awardAchievementId: broken.id, requirement: { achievementId: other.id } })
    await db.updateTable('achievements').set({ achievement_type: 'NotAType' }).where('id', '=', broken.id).execute()
    await issue(quiet, other.id, { did: 'did:example:refused' })
    await settled(db)
    t.equal((await db.selectFrom('pathway_awards').select('identity').where('pathway_id', '=', refusing.id).execute()).length, 0)
    const evaluating = await quiet.inject({ method: 'POST', url: `/v1/pathways/${refusing.id}/evaluate`, headers: admin })
    await runJobs()
    const job = await waitForJob(quiet, evaluating.json().id)
    t.match(job, { status: 'completed', total: 1, succeeded: 0, failed: 1 })
    t.match(await allResults(quiet, job.id), [{ row: 0, error: /Open Badges 3.0 schema/ }] as Json[])

    // A stack deleted while its evaluation waits: the job stops, saying why.
    const gone = await createPathway(quiet, college.id, { awardAchievementId: (await badge('Gone Award')).id, requirement: { achievementId: other.id } })
    const queued = await quiet.inject({ method: 'POST', url: `/v1/pathways/${gone.id}/evaluate`, headers: admin })
    t.equal((await quiet.inject({ method: 'DELETE', url: `/v1/pathways/${gone.id}`, headers: admin })).statusCode, 204)
    await runJobs()
    t.match(await waitForJob(quiet, queued.json().id), { status: 'failed', error: 'the pathway was deleted: learners not yet evaluated were not' })
  })
})
