// GET /metrics through HTTP: who may read it, and what an operator reads there (requests, credentials, jobs, webhooks, signing).
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { v7 as uuidv7 } from 'uuid'
import type { Database } from '../src/db/schema.js'
import { createMetrics } from '../src/ops/metrics.js'
import { ADMIN_TOKEN, admin, assertProblem, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { learners, submitJob } from './helpers/jobs.js'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*"'
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)\\})? (\\S+)$`)
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`)
const HELP_LINE = new RegExp(`^# HELP ${NAME} .+$`)

/** The samples of a text in the Prometheus exposition format; throws at the first line that is not, or a sample of no declared type. */
function parseExposition(text: string): Sample[] {
  const typed = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || HELP_LINE.test(line)) continue
    const type = TYPE_LINE.exec(line)
    if (type !== null) {
      typed.set(type[1]!, type[2]!)
      continue
    }
    const sample = SAMPLE_LINE.exec(line)
    if (sample === null) throw new Error(`not a line of the exposition format: ${line}`)
    const name = sample[1]!
    const family = typed.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '')
    if (!typed.has(family)) throw new Error(`a sample before its # TYPE line: ${line}`)
    const value = Number(sample[3]!.replace(/^\+Inf$/, 'Infinity'))
    if (Number.isNaN(value)) throw new Error(`not a number: ${line}`)
    const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]))
    samples.push({ name, labels, value })
  }
  return samples
}

/** The value of the one sample of `name` whose labels include `labels`. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value))
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`)
  return found[0]!.value
}

async function scrape(app: FastifyInstance): Promise<Sample[]> {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: admin })
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}: ${res.body}`)
  return parseExposition(res.body)
}

/**
 * Scrapes until `ready` holds, at most `ms`: on a PostgreSQL shared with other test files, a transaction of theirs still
 * open holds the outbox bound back for a moment (the count is delayed, never lost).
 */
async function scrapeUntil(app: FastifyInstance, ready: (samples: Sample[]) => boolean, ms = 10_000): Promise<Sample[]> {
  const until = Date.now() + ms
  for (;;) {
    const samples = await scrape(app)
    if (ready(samples) || Date.now() > until) return samples
    await sleep(50)
  }
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i

await onEachDatabase(t, async (t, database) => {
  const { app, db, config } = await buildTestApp(t, database, {
    env: { STATUS_LIST_SIZE: '64', LANYARD_ALLOW_PRIVATE_FETCH: 'true' }, jobs: { autoStart: false, chunkSize: 2 }
  })
  const issuer = await createIssuer(app)
  const badge = await createAchievement(app, issuer.id)
  const issue = async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: badge.id, recipient: { did: 'did:example:learner' } } })
    if (res.statusCode !== 201) throw new Error(`issue answered ${res.statusCode}: ${res.body}`)
    return res.json() as { id: string }
  }
  const jobRows = (samples: Sample[]) => ({ queued: valueOf(samples, 'lanyard_job_rows_queued'), done: valueOf(samples, 'lanyard_job_rows_done_total') })

  await t.test('metrics ask for the admin token: 401 without one, 403 with an issuer\'s API key', async (t) => {
    const missing = await app.inject({ method: 'GET', url: '/metrics' })
    assertProblem(t, missing, 401, 'unauthorized')
    t.match(missing.headers['www-authenticate'], /^Bearer/)
    const key = await createApiKey(app, issuer.id)
    assertProblem(t, await app.inject({ method: 'GET', url: '/metrics', headers: bearer(key.key) }), 403, 'admin-only')
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: admin })
    t.equal(res.statusCode, 200)
    t.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
    t.ok(parseExposition(res.body).length > 0, 'the text parses as the exposition format')
  })

  await t.test('with LANYARD_METRICS_PUBLIC=true anyone may read the metrics', async (t) => {
    const { app: open } = await buildTestApp(t, database, { env: { LANYARD_METRICS_PUBLIC: 'true' }, jobs: { autoStart: false } })
    const res = await open.inject({ method: 'GET', url: '/metrics' })
    t.equal(res.statusCode, 200)
    t.equal(valueOf(parseExposition(res.body), 'lanyard_metrics_database_up'), 1)
  })

  await t.test('after 3 credentials issued and 1 revoked the counters say 3 and 1', async (t) => {
    const before = await scrape(app)
    t.equal(valueOf(before, 'lanyard_credentials_issued_total'), 0, 'counting starts at the first scrape')
    const ids = [(await issue()).id, (await issue()).id, (await issue()).id]
    t.equal((await app.inject({ method: 'POST', url: `/v1/credentials/${ids[0]}/revoke`, headers: admin, payload: { reason: 'issued in error' } })).statusCode, 200)
    const after = await scrapeUntil(app, (s) => valueOf(s, 'lanyard_credentials_revoked_total') === 1)
    t.equal(valueOf(after, 'lanyard_credentials_issued_total'), 3)
    t.equal(valueOf(after, 'lanyard_credentials_revoked_total'), 1)
    t.equal(valueOf(await scrape(app), 'lanyard_credentials_issued_total'), 3, 'a later scrape counts nothing twice')
  })

  await t.test('requests are timed by route pattern, and no id or token becomes a label', async (t) => {
    const issued = await issue()
    await app.inject({ method: 'GET', url: `/v1/credentials/${issued.id}`, headers: admin })
    await app.inject({ method: 'GET', url: `/no-such-page/${issued.id}` })
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: admin })
    const samples = parseExposition(res.body)
    const count = (labels: Record<string, string>) => valueOf(samples, 'lanyard_http_request_duration_seconds_count', labels)
    t.ok(count({ method: 'POST', route: '/v1/credentials', status_code: '201' }) >= 4, 'issues, under the route pattern')
    t.equal(count({ method: 'GET', route: '/v1/credentials/:id', status_code: '200' }), 1)
    t.equal(count({ method: 'GET', route: 'unmatched', status_code: '404' }), 1, 'an unknown URL is "unmatched"')
    t.equal(valueOf(samples, 'lanyard_http_request_duration_seconds_bucket', { method: 'GET', route: 'unmatched', le: '+Inf' }), 1)
    t.notMatch(res.body, UUID, 'no id anywhere in the text')
    t.notOk(res.body.includes(ADMIN_TOKEN), 'nor the token')
  })

  await t.test('the job queue shows its rows waiting, and the rows done as chunks are done', async (t) => {
    const start = jobRows(await scrape(app))
    t.equal(start.queued, 0, 'nothing queued yet')
    await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(3, 'queue') })
    t.same(jobRows(await scrape(app)), { queued: 3, done: start.done }, 'the worker is stopped: all 3 rows wait')
    t.ok(await app.jobWorker.runOnce())
    t.same(jobRows(await scrape(app)), { queued: 1, done: start.done + 2 }, 'one chunk of 2 done')
    t.ok(await app.jobWorker.runOnce())
    const ended = await scrapeUntil(app, (s) => jobRows(s).done === start.done + 3)
    t.same(jobRows(ended), { queued: 0, done: start.done + 3 }, 'the job completed: its last row counted once')
    t.equal(valueOf(ended, 'lanyard_credentials_issued_total'), 7, 'a job\'s credentials are counted as issued too')
  })

  await t.test('a job done between two scrapes is counted, and a cancelled one up to where it stopped', async (t) => {
    const start = jobRows(await scrape(app))
    await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(1, 'quick') })
    t.ok(await app.jobWorker.runOnce())
    t.equal(jobRows(await scrapeUntil(app, (s) => jobRows(s).done === start.done + 1)).done, start.done + 1, 'never seen queued, still counted')

    const job = await submitJob(app, { type: 'revoke', ids: [uuidv7(), uuidv7(), uuidv7(), uuidv7()] })
    t.same(jobRows(await scrape(app)), { queued: 4, done: start.done + 1 })
    t.ok(await app.jobWorker.runOnce())
    t.equal((await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, headers: admin })).statusCode, 200)
    t.same(jobRows(await scrape(app)), { queued: 0, done: start.done + 3 }, 'the 2 rows done before the cancel, and none waiting')
    t.same(jobRows(await scrape(app)), { queued: 0, done: start.done + 3 }, 'and no more later')
  })

  await t.test('a transaction held open elsewhere delays the count of a job\'s end, never doubles it', { skip: database.kind === 'pglite' && 'PGlite has one connection: nothing else can hold a transaction open' }, async (t) => {
    const start = jobRows(await scrape(app))
    await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(3, 'held') })
    t.ok(await app.jobWorker.runOnce())
    t.same(jobRows(await scrape(app)), { queued: 1, done: start.done + 2 })
    const other = new pg.Client({ connectionString: database.url })
    await other.connect()
    t.teardown(() => other.end())
    await other.query('begin')
    await other.query('select pg_current_xact_id()')
    t.ok(await app.jobWorker.runOnce())
    t.same(jobRows(await scrape(app)), { queued: 0, done: start.done + 2 }, 'the job ended, its event not readable yet: its last row waits')
    await other.query('commit')
    t.same(jobRows(await scrapeUntil(app, (s) => jobRows(s).done === start.done + 3)), { queued: 0, done: start.done + 3 }, 'counted once readable')
  })

  await t.test('webhook deliveries: the last hour\'s by status, and every one still pending', async (t) => {
    const hook = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: admin, payload: { url: 'http://127.0.0.1:9/hooks', events: ['job.failed'] } })
    t.equal(hook.statusCode, 201)
    const events = await db.selectFrom('events').select('id').limit(4).execute()
    const later = new Date(Date.now() + 86_400_000)
    const delivery = (status: 'pending' | 'delivered' | 'failed', index: number, id = uuidv7()) =>
      ({ id, webhook_id: hook.json().id, event_id: events[index]!.id, status, ...(status === 'pending' && { next_attempt_at: later }) })
    await db.insertInto('webhook_deliveries').values([
      delivery('delivered', 0), delivery('failed', 1), delivery('pending', 2),
      delivery('pending', 3, uuidv7({ msecs: Date.now() - 2 * 3_600_000 }))
    ]).execute()
    const samples = await scrape(app)
    t.equal(valueOf(samples, 'lanyard_webhook_deliveries', { status: 'delivered' }), 1)
    t.equal(valueOf(samples, 'lanyard_webhook_deliveries', { status: 'failed' }), 1)
    t.equal(valueOf(samples, 'lanyard_webhook_deliveries', { status: 'pending' }), 1, 'made in the last hour')
    t.equal(valueOf(samples, 'lanyard_webhook_deliveries_pending'), 2, 'however old')
  })

  await t.test('the signing pool reports its threads, busy and idle', async (t) => {
    const samples = await scrape(app)
    const threads = valueOf(samples, 'lanyard_signing_pool_threads')
    t.ok(threads >= 1 && threads <= config.LANYARD_SIGNING_THREADS, `${threads} started by the issues above, of ${config.LANYARD_SIGNING_THREADS}`)
    t.equal(valueOf(samples, 'lanyard_signing_pool_busy_threads'), 0, 'idle between requests')
    t.equal(valueOf(samples, 'lanyard_signing_pool_in_flight'), 0)
    t.equal(valueOf(samples, 'lanyard_signing_pool_queued'), 0)
  })
})

/** A database whose connections fail (`connect` rejects) or never come (it never settles). */
function unreachableDatabase(connect: () => Promise<never>): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: { connect, end: async () => {} } }) })
}

function recordingLog(warnings: string[]): FastifyBaseLogger {
  return { warn: (_details: unknown, message: string) => { warnings.push(message) } } as unknown as FastifyBaseLogger
}

t.test('when the database fails, a scrape still answers: database_up 0, and it says why in the log', async (t) => {
  const warnings: string[] = []
  const metrics = createMetrics({ db: unreachableDatabase(async () => { throw new Error('connection refused') }), pool: undefined, log: recordingLog(warnings) })
  const samples = parseExposition(await metrics.text())
  t.equal(valueOf(samples, 'lanyard_metrics_database_up'), 0)
  t.equal(valueOf(samples, 'lanyard_job_rows_queued'), 0, 'figures not read yet show as 0')
  t.equal(valueOf(samples, 'lanyard_signing_pool_threads'), 0, 'no pool: proofs are signed on the event loop')
  t.same(warnings, ['metrics could not read the database'])
})

t.test('when the database hangs, scrapes answer after the timeout, and overlapping ones share one read', async (t) => {
  let connects = 0
  const metrics = createMetrics({
    db: unreachableDatabase(() => { connects++; return new Promise<never>(() => {}) }), pool: undefined, log: recordingLog([]), databaseTimeoutMs: 20
  })
  const [first, second] = await Promise.all([metrics.text(), metrics.text()])
  t.equal(valueOf(parseExposition(first!), 'lanyard_metrics_database_up'), 0)
  t.equal(valueOf(parseExposition(second!), 'lanyard_metrics_database_up'), 0)
  t.equal(valueOf(parseExposition(await metrics.text()), 'lanyard_metrics_database_up'), 0, 'a later scrape waits for the same read')
  t.equal(connects, 1, 'one read at a time')
})
