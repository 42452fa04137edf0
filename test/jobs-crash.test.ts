// Exactly once per (job, row) through a real crash: a server process killed with SIGKILL mid-job, another started on
// the same PostgreSQL database, and the database read directly for the credentials each row got.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import t from 'tap'
import { freshPostgresSchema } from './helpers/app.js'
import { learners } from './helpers/jobs.js'
import { startLanyard, stop, type Running } from './helpers/process.js'

const ROWS = 3_000
/** Short, so that the chunk the killed process held is free again soon after the restart; longer than a chunk takes. */
const LEASE_MS = 5_000

interface Job { id: string; status: string; total: number; succeeded: number; failed: number }
interface Result { row: number; externalId?: string; credentialId?: string; error?: string }

/** Sends a request as the admin; throws unless it answers `expected`. */
async function call<T>(server: Running, token: string, method: string, path: string, expected: number, body?: unknown): Promise<T> {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) })
  })
  const text = await res.text()
  if (res.status !== expected) throw new Error(`${method} ${path} answered ${res.status}, not ${expected}: ${text}`)
  return JSON.parse(text) as T
}

/** Polls the job (every 50 ms, at most `ms`) until `done` holds. */
async function watchJob(server: Running, token: string, id: string, done: (job: Job) => boolean, ms: number, what: string): Promise<Job> {
  const until = Date.now() + ms
  for (;;) {
    const job = await call<Job>(server, token, 'GET', `/v1/jobs/${id}`, 200)
    if (done(job)) return job
    if (job.status !== 'queued' && job.status !== 'running') throw new Error(`job ended ${job.status} before ${what}: ${JSON.stringify(job)}`)
    if (Date.now() > until) throw new Error(`not ${what} after ${ms} ms: ${JSON.stringify(job)}`)
    await sleep(50)
  }
}

/** Every result of the job through the API, following nextCursor. */
async function allResults(server: Running, token: string, id: string): Promise<Result[]> {
  const items: Result[] = []
  let cursor: string | null = null
  do {
    const page: { items: Result[]; nextCursor: string | null } =
      await call(server, token, 'GET', `/v1/jobs/${id}/results?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`, 200)
    items.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== null)
  return items
}

function killHard(server: Running): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => {
    server.child.removeAllListeners('exit')
    server.child.on('exit', (_code, signal) => resolve(signal))
    // The child is node itself (no npm or shell in between): this pid is the server.
    process.kill(server.child.pid!, 'SIGKILL')
  })
}

t.test('a server killed with SIGKILL mid-job: the next one finishes the job, every row with exactly one credential',
  { skip: process.env.TEST_DATABASE_URL ? false : 'PostgreSQL run skipped: TEST_DATABASE_URL is not set' }, async (t) => {
    const url = await freshPostgresSchema(t)
    const token = `crash-admin-${randomBytes(16).toString('hex')}`
    const env = {
      DATABASE_URL: url, DATA_DIR: '/nonexistent', PUBLIC_URL: 'http://localhost:3000',
      LANYARD_ADMIN_TOKEN: token, LANYARD_MASTER_KEY: randomBytes(32).toString('base64'), LANYARD_JOB_LEASE_MS: String(LEASE_MS)
    }
    const alive = new Set<Running>()
    t.teardown(() => { for (const server of alive) server.child.kill('SIGKILL') })
    const started = performance.now()
    const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`

    const first = await startLanyard(env)
    alive.add(first)
    const issuer = await call<{ id: string }>(first, token, 'POST', '/v1/issuers', 201, { name: 'Crash College', url: 'https://crash.example.edu' })
    const badge = await call<{ id: string }>(first, token, 'POST', `/v1/issuers/${issuer.id}/achievements`, 201, {
      name: 'Survived a Crash', description: 'Awarded once, whatever happens to the server.', criteria: { narrative: 'Be in the cohort.' }
    })
    const items = learners(ROWS, 'crash')
    const queued = await call<Job>(first, token, 'POST', '/v1/jobs', 202, { type: 'issue', achievementId: badge.id, items })
    const midway = await watchJob(first, token, queued.id, (job) => job.succeeded > 0, 60_000, 'started')
    t.ok(midway.succeeded < ROWS, `the job is still running when the server is killed (${midway.succeeded} of ${ROWS} rows done)`)

    t.equal(await killHard(first), 'SIGKILL', 'the first server died of SIGKILL')
    alive.delete(first)
    // A COMMIT the server had already received when its client died still completes: let it, before reading what was done.
    await sleep(500)
    const db = new pg.Client({ connectionString: url })
    await db.connect()
    t.teardown(() => db.end())
    const count = async (query: string, params: unknown[] = []) => Number((await db.query<{ n: string }>(query, params)).rows[0]!.n)
    const resultsAtKill = (await db.query<{ row: number; credential_id: string }>(
      'select row, credential_id from job_results where job_id = $1 order by row', [queued.id])).rows
    const atKill = {
      results: resultsAtKill.length,
      credentials: await count('select count(*) as n from credentials where achievement_id = $1', [badge.id]),
      leased: await count('select count(*) as n from job_chunks where job_id = $1 and not done and lease_until > now()', [queued.id])
    }
    t.comment(`killed at ${seconds()}: ${atKill.results} results, ${atKill.credentials} credentials, ${atKill.leased} chunk(s) leased to the dead server`)
    t.ok(atKill.results < ROWS, 'rows were left to do')

    const second = await startLanyard(env)
    alive.add(second)
    const finished = await watchJob(second, token, queued.id, (job) => job.status === 'completed', 90_000,
      `completed (a chunk the dead server held is taken again only after its lease, LANYARD_JOB_LEASE_MS=${LEASE_MS})`)
    t.comment(`completed at ${seconds()}`)
    t.match(finished, { status: 'completed', total: ROWS, succeeded: ROWS, failed: 0 }, 'the job resumed and completed, every row succeeded')

    const results = await db.query<{ row: number; external_id: string | null; credential_id: string | null; error: string | null }>(
      'select row, external_id, credential_id, error from job_results where job_id = $1 order by row', [queued.id])
    t.same(results.rows.map((r) => r.row), items.map((_, row) => row), 'one result per row, none missing')
    t.equal(results.rows.filter((r) => r.credential_id !== null && r.error === null).length, ROWS, 'every result names a credential and no error')
    t.same(results.rows.map((r) => r.external_id), items.map((item) => item.recipient.externalId), 'each result keeps its row\'s externalId')
    t.equal(new Set(results.rows.map((r) => r.credential_id)).size, ROWS, 'no two rows share a credential')

    t.equal(await count('select count(*) as n from credentials where achievement_id = $1', [badge.id]), ROWS, 'exactly one credential per row was issued')
    const recipients = await db.query<{ identity: string; credentials: string }>(`
      select r.identity, count(*) as credentials from credentials c join recipients r on r.id = c.recipient_id
      where c.achievement_id = $1 group by r.identity`, [badge.id])
    t.equal(recipients.rows.filter((r) => Number(r.credentials) !== 1).length, 0, 'no recipient holds two credentials')
    t.same(recipients.rows.map((r) => r.identity).sort(), items.map((item) => item.recipient.email).sort(), 'every recipient email holds one')
    t.equal(await count(`select count(*) as n from job_results j join credentials c on c.id = j.credential_id
      where j.job_id = $1 and c.achievement_id = $2`, [queued.id, badge.id]), ROWS, 'each result\'s credential is one of the job\'s')
    t.equal(await count('select count(*) as n from job_chunks where job_id = $1 and not done', [queued.id]), 0, 'every chunk is done')
    const byRow = new Map(results.rows.map((r) => [r.row, r.credential_id]))
    t.same(resultsAtKill.filter((r) => byRow.get(r.row) !== r.credential_id), [], 'the rows done before the kill kept their credentials')
    t.equal(await count('select count(*) as n from job_chunks where job_id = $1 and attempts > 1', [queued.id]), atKill.leased,
      'the job resumed where it stopped: only the chunk the dead server held was tried twice')

    const api = await allResults(second, token, queued.id)
    t.same(api.map((r) => [r.row, r.externalId, r.credentialId, r.error]),
      results.rows.map((r) => [r.row, r.external_id, r.credential_id, undefined]), 'the API answers the same results')

    t.equal(await stop(second), 0, 'the second server shuts down cleanly')
    alive.delete(second)
  })
