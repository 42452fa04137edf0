// Prometheus metrics of one app, in a registry of its own: request timings by route pattern, the signing pool, and the
// figures of the whole deployment that the database holds (outbox, job queue, webhook deliveries), read when scraped.
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { sql } from 'kysely'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { ProofPool, ProofPoolStats } from '../crypto/proof-pool.js'
import type { Db, DeliveryStatus, JobStatus } from '../db/schema.js'

/** A scrape waits this long for the database; the figures it did not get keep their last values, and database_up says 0. */
const DATABASE_TIMEOUT_MS = 2_000

/** lanyard_webhook_deliveries counts the deliveries made this recently: read through the primary key, never the whole table. */
const DELIVERY_WINDOW_MS = 3_600_000

const DELIVERY_STATUSES: DeliveryStatus[] = ['pending', 'delivered', 'failed']

/** With LANYARD_SIGNING_THREADS=0 there is no pool: proofs are signed on the event loop. */
const NO_POOL: ProofPoolStats = { threads: 0, busyThreads: 0, inFlight: 0, queued: 0 }

export interface Metrics {
  /** The exposition format's media type. */
  contentType: string
  /** The onResponse hook that times every request by its route pattern. */
  observeResponse(request: FastifyRequest, reply: FastifyReply): Promise<void>
  /** The exposition text, with the database figures read now (waiting at most the timeout). */
  text(): Promise<string>
}

export interface MetricsOptions {
  db: Db
  /** The signing threads; undefined when proofs are signed on the event loop. */
  pool: ProofPool | undefined
  log: FastifyBaseLogger
  databaseTimeoutMs?: number
}

/** What the outbox says since the last read: events of the transactions between `from` and `upto`. */
interface OutboxCounts {
  upto: string
  issued: number
  revoked: number
  /** Each job that ended (job.completed, job.failed), with its rows done in the end. */
  jobEnds: { jobId: string; done: number }[]
}

interface JobProgress {
  id: string
  status: JobStatus
  total: number
  done: number
}

/**
 * The outbox's credential and job events after `from` (none on the first read, which only finds where to start). The bound
 * is the snapshot's xmin, as for the outbox subscribers (events/store.ts): every transaction below it has ended, so the next
 * read, from there, neither misses an event committed late nor counts one twice.
 */
async function readOutbox(db: Db, from: string | undefined): Promise<OutboxCounts> {
  const { rows } = await sql<OutboxCounts>`
    select b.upto::text as upto,
      count(*) filter (where e.type = 'credential.issued')::int as issued,
      count(*) filter (where e.type = 'credential.revoked')::int as revoked,
      coalesce(jsonb_agg(jsonb_build_object('jobId', e.data->>'jobId', 'done', (e.data->>'succeeded')::int + (e.data->>'failed')::int))
        filter (where e.type in ('job.completed', 'job.failed')), '[]') as "jobEnds"
    from (select pg_snapshot_xmin(pg_current_snapshot()) as upto) b
    left join events e on e.xid >= coalesce(${from ?? null}::xid8, b.upto) and e.xid < b.upto
    group by b.upto`.execute(db)
  return rows[0]!
}

/** The live jobs, found through the index of chunks not done (the queue itself), and the `known` ones, whatever their status. */
async function readJobs(db: Db, known: string[]): Promise<JobProgress[]> {
  const { rows } = await sql<JobProgress>`
    select id, status, total, succeeded + failed as done from jobs
    where id in (select job_id from job_chunks where not done) and status in ('queued', 'running')
    union
    select id, status, total, succeeded + failed as done from jobs where id = any(${known}::uuid[])`.execute(db)
  return rows
}

/** The smallest UUIDv7 of time `ms`: ids are v7 (time first), so `id >=` it selects the rows made since, by the primary key. */
function firstUuidOf(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0')
  return `${hex.slice(0, 8)}-${hex.slice(8)}-0000-0000-000000000000`
}

async function readDeliveries(db: Db, since: number): Promise<{ pending: number; recent: Partial<Record<DeliveryStatus, number>> }> {
  const { rows } = await sql<{ pending: number; recent: Partial<Record<DeliveryStatus, number>> }>`
    select (select count(*)::int from webhook_deliveries where status = 'pending') as pending,
      coalesce((select jsonb_object_agg(status, n) from (
        select status, count(*)::int as n from webhook_deliveries where id >= ${firstUuidOf(since)}::uuid group by status
      ) s), '{}') as recent`.execute(db)
  return rows[0]!
}

/** True when `promise` says so within `ms`; false when it says otherwise or is late. */
async function within(ms: number, promise: Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

type Registers = Registry[]

/** Times every request by method, route pattern (`/v1/credentials/:id`, or "unmatched") and status code. */
function requestMetrics(registers: Registers): Metrics['observeResponse'] {
  const duration = new Histogram({
    name: 'lanyard_http_request_duration_seconds',
    help: 'Requests answered by this process and how long each took, by method, route pattern (never the URL: ids stay out of labels) and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers
  })
  return async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) }
    duration.observe(labels, reply.elapsedTime / 1000)
  }
}

/** This process's signing threads, read from the pool's counters at each scrape. */
function poolMetrics(registers: Registers, pool: ProofPool | undefined): void {
  const gauge = (name: string, help: string, pick: (stats: ProofPoolStats) => number) => new Gauge({
    name, help, registers,
    collect() { this.set(pick(pool?.stats() ?? NO_POOL)) }
  })
  gauge('lanyard_signing_pool_threads', 'Signing threads started by this process (they start on first use, up to LANYARD_SIGNING_THREADS)', (s) => s.threads)
  gauge('lanyard_signing_pool_busy_threads', 'Signing threads with a proof in hand', (s) => s.busyThreads)
  gauge('lanyard_signing_pool_in_flight', 'Proofs on the signing threads, not yet answered', (s) => s.inFlight)
  gauge('lanyard_signing_pool_queued', 'Background proofs (jobs\') waiting for a slot on the signing threads', (s) => s.queued)
}

/**
 * Job rows done, counted once each: as a live job progresses (its rows done when last read are remembered), the rest when
 * its end event is read from the outbox, or when it is seen cancelled (cancelling appends no event).
 */
function jobRowCounting(rowsDone: Counter, rowsQueued: Gauge) {
  let counted = new Map<string, number>()
  return {
    /** The jobs to read again, whatever their status now. */
    known: () => [...counted.keys()],
    ended(ends: OutboxCounts['jobEnds']): void {
      for (const end of ends) {
        rowsDone.inc(end.done - (counted.get(end.jobId) ?? 0))
        counted.delete(end.jobId)
      }
    },
    read(jobs: JobProgress[]): void {
      const next = new Map<string, number>()
      let queued = 0
      for (const job of jobs) {
        const before = counted.get(job.id) ?? 0
        if (job.status === 'queued' || job.status === 'running') {
          rowsDone.inc(job.done - before)
          next.set(job.id, job.done)
          queued += job.total - job.done
        } else if (job.status === 'cancelled') {
          rowsDone.inc(job.done - before)
        } else {
          // Completed or failed in a transaction the outbox bound has not passed yet: its event counts the rest later.
          next.set(job.id, before)
        }
      }
      counted = next
      rowsQueued.set(queued)
    }
  }
}

/**
 * The deployment's figures, from the database at scrape time. The outbox is the one place every way of issuing and
 * revoking (a request, a job, a pathway, a wallet, a submission) records its event, in the transaction of the change; it
 * is shared, so every instance reports the same events: aggregate instances with max, not sum.
 */
function databaseMetrics(registers: Registers, db: Db, log: FastifyBaseLogger, timeoutMs: number): void {
  const collect = async () => { await fresh() }
  const issued = new Counter({
    name: 'lanyard_credentials_issued_total',
    help: 'Credentials issued by the whole deployment since this process began counting (the outbox: aggregate instances with max, not sum)',
    registers, collect
  })
  const revoked = new Counter({
    name: 'lanyard_credentials_revoked_total',
    help: 'Credentials revoked by the whole deployment since this process began counting (the outbox: aggregate instances with max, not sum)',
    registers, collect
  })
  const jobRows = jobRowCounting(
    new Counter({
      name: 'lanyard_job_rows_done_total',
      help: 'Job rows done (succeeded or failed) in the whole deployment since this process began counting (aggregate instances with max, not sum)',
      registers, collect
    }),
    new Gauge({ name: 'lanyard_job_rows_queued', help: 'Rows of queued and running jobs not done yet, in the whole deployment', registers, collect })
  )
  const deliveries = new Gauge({
    name: 'lanyard_webhook_deliveries',
    help: `Webhook deliveries made in the last ${DELIVERY_WINDOW_MS / 60_000} minutes, by their status now`,
    labelNames: ['status'] as const,
    registers, collect
  })
  const deliveriesPending = new Gauge({
    name: 'lanyard_webhook_deliveries_pending',
    help: 'Webhook deliveries waiting for their first attempt or a retry, however old',
    registers, collect
  })
  new Gauge({
    name: 'lanyard_metrics_database_up',
    help: `1 when this scrape read the database figures; 0 when the database did not answer within ${timeoutMs} ms (they show their last values)`,
    registers,
    async collect() { this.set(await fresh() ? 1 : 0) }
  })

  // Where the last outbox read stopped: undefined until the first read, which counts nothing and finds where to start.
  let outboxCursor: string | undefined
  async function read(): Promise<void> {
    const outbox = await readOutbox(db, outboxCursor)
    issued.inc(outbox.issued)
    revoked.inc(outbox.revoked)
    jobRows.ended(outbox.jobEnds)
    outboxCursor = outbox.upto
    jobRows.read(await readJobs(db, jobRows.known()))
    const { pending, recent } = await readDeliveries(db, Date.now() - DELIVERY_WINDOW_MS)
    deliveriesPending.set(pending)
    for (const status of DELIVERY_STATUSES) deliveries.set({ status }, recent[status] ?? 0)
  }

  // One read at a time, however many scrapes overlap (a count must never be added twice); every metric of one scrape waits
  // for the same one, at most the timeout. A read that is late still finishes and counts, for the next scrape to show.
  let reading: Promise<boolean> | undefined
  let waiting: Promise<boolean> | undefined
  function fresh(): Promise<boolean> {
    reading ??= read()
      .then(() => true, (error: unknown) => {
        log.warn({ err: error }, 'metrics could not read the database')
        return false
      })
      .finally(() => { reading = undefined })
    waiting ??= within(timeoutMs, reading).finally(() => { waiting = undefined })
    return waiting
  }
}

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry()
  const registers = [registry]
  const observeResponse = requestMetrics(registers)
  databaseMetrics(registers, options.db, options.log, options.databaseTimeoutMs ?? DATABASE_TIMEOUT_MS)
  poolMetrics(registers, options.pool)
  return { contentType: registry.contentType, observeResponse, text: () => registry.metrics() }
}
