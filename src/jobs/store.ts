// SQL for jobs: the job, its rows, the chunk queue (leases claimed with FOR UPDATE SKIP LOCKED) and the results.
import { sql, type Insertable, type RawBuilder, type Selectable } from 'kysely'
import { idempotencyCutoff } from '../credentials/store.js'
import type { Db, JobResultsTable, JobsTable, JobStatus } from '../db/schema.js'
import { appendEvent } from '../events/store.js'
import type { NewEvent } from '../events/types.js'

export type JobRow = Selectable<JobsTable>
export type NewJobRow = Omit<Insertable<JobsTable>, 'status' | 'succeeded' | 'failed' | 'created_at'>
export type JobResultRow = Selectable<JobResultsTable>
export type NewJobResult = Omit<Insertable<JobResultsTable>, 'created_at'>

/** Well under PostgreSQL's 65,535 bind parameters per statement. */
const ROWS_PER_INSERT = 1000

export interface ChunkRange {
  chunk: number
  firstRow: number
  lastRow: number
}

/**
 * The job, its rows and its chunks, in the caller's transaction; undefined (and nothing written) when the caller already
 * has a job with this Idempotency-Key.
 */
export async function insertJob(db: Db, job: NewJobRow, rows: { row: number; input: unknown }[], chunks: ChunkRange[]): Promise<JobRow | undefined> {
  const inserted = await db.insertInto('jobs').values({ ...job, status: 'queued' })
    .onConflict((oc) => oc.columns(['actor', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing())
    .returningAll().executeTakeFirst()
  if (inserted === undefined) return undefined
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    await db.insertInto('job_rows')
      .values(rows.slice(start, start + ROWS_PER_INSERT).map(({ row, input }) => ({ job_id: job.id, row, input: JSON.stringify(input) })))
      .execute()
  }
  for (let start = 0; start < chunks.length; start += ROWS_PER_INSERT) {
    await db.insertInto('job_chunks')
      .values(chunks.slice(start, start + ROWS_PER_INSERT).map((c) => ({ job_id: job.id, chunk: c.chunk, first_row: c.firstRow, last_row: c.lastRow })))
      .execute()
  }
  return inserted
}

/**
 * A job whose rows `rows` selects (one jsonb column, `input`), in the caller's transaction: the database numbers them from
 * 0 and cuts them into chunks of `chunkSize`, so no row passes through the process. A job of no rows is completed at once.
 */
export async function insertJobOfQuery(
  db: Db, job: Omit<NewJobRow, 'total'>, rows: RawBuilder<{ input: unknown }>, chunkSize: number
): Promise<JobRow> {
  await db.insertInto('jobs').values({ ...job, total: 0, status: 'queued' }).execute()
  await sql`insert into job_rows (job_id, row, input) select ${job.id}::uuid, (row_number() over ()) - 1, input from (${rows}) as r`.execute(db)
  const { total } = await db.updateTable('jobs')
    .set((eb) => ({ total: eb.selectFrom('job_rows').select((e) => e.fn.countAll<number>().as('n')).where('job_id', '=', job.id) }))
    .where('id', '=', job.id).returning('total').executeTakeFirstOrThrow()
  if (total === 0) {
    const done = await db.updateTable('jobs').set({ status: 'completed', started_at: sql`now()`, finished_at: sql`now()` })
      .where('id', '=', job.id).returning(JOB_EVENT_COLUMNS).executeTakeFirstOrThrow()
    await appendEvent(db, jobEvent('job.completed', done))
  } else {
    await sql`
      insert into job_chunks (job_id, chunk, first_row, last_row)
      select ${job.id}::uuid, n, n * ${chunkSize}::int, least((n + 1) * ${chunkSize}::int, ${total}::int) - 1
      from generate_series(0, ${Math.ceil(total / chunkSize) - 1}::int) as n`.execute(db)
  }
  return (await findJob(db, job.id))!
}

export async function findJob(db: Db, id: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst()
}

/** The caller's job of this Idempotency-Key, unless it is older than `ttlMs` (then the key is new again). */
export async function findJobByIdempotencyKey(db: Db, actor: string, key: string, ttlMs: number): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('actor', '=', actor).where('idempotency_key', '=', key)
    .where('created_at', '>', idempotencyCutoff(ttlMs)).executeTakeFirst()
}

/**
 * Frees the caller's Idempotency-Key from a job older than `ttlMs`, in the caller's transaction, so a new job may take it
 * (the key is unique per caller). Of two submissions reusing it, the second waits for the first's row lock, then finds
 * the key taken by the new job.
 */
export async function releaseExpiredJobKey(db: Db, actor: string, key: string, ttlMs: number): Promise<void> {
  await db.updateTable('jobs').set({ idempotency_key: null, request_hash: null })
    .where('actor', '=', actor).where('idempotency_key', '=', key).where('created_at', '<=', idempotencyCutoff(ttlMs)).execute()
}

export async function listJobs(db: Db, filter: { issuerId?: string; status?: JobStatus; after?: string; limit: number }): Promise<JobRow[]> {
  let query = db.selectFrom('jobs').selectAll().orderBy('id').limit(filter.limit)
  if (filter.issuerId !== undefined) query = query.where('issuer_id', '=', filter.issuerId)
  if (filter.status !== undefined) query = query.where('status', '=', filter.status)
  if (filter.after !== undefined) query = query.where('id', '>', filter.after)
  return query.execute()
}

/** Stops a queued or running job; undefined when it had already ended. */
export async function cancelJob(db: Db, id: string): Promise<JobRow | undefined> {
  return db.updateTable('jobs').set({ status: 'cancelled', finished_at: sql`now()` })
    .where('id', '=', id).where('status', 'in', ['queued', 'running']).returningAll().executeTakeFirst()
}

export interface ClaimedChunk {
  job_id: string
  chunk: number
  first_row: number
  last_row: number
  attempts: number
}

/**
 * Takes the lease of the oldest pending chunk of a live job whose lease is free or has run out, and marks its job
 * running. SKIP LOCKED: two workers claiming at once take two different chunks. Times are the database's, so workers
 * on several machines agree on when a lease ends.
 */
export async function claimChunk(db: Db, leaseMs: number): Promise<ClaimedChunk | undefined> {
  return db.transaction().execute(async (trx) => {
    const claimed = await sql<ClaimedChunk>`
      update job_chunks c set lease_until = now() + make_interval(secs => ${leaseMs / 1000}), attempts = c.attempts + 1
      from (
        select c.job_id, c.chunk from job_chunks c join jobs j on j.id = c.job_id
        where not c.done and j.status in ('queued', 'running') and (c.lease_until is null or c.lease_until < now())
        order by c.job_id, c.chunk limit 1 for update of c skip locked
      ) next
      where c.job_id = next.job_id and c.chunk = next.chunk
      returning c.job_id, c.chunk, c.first_row, c.last_row, c.attempts`.execute(trx)
    const chunk = claimed.rows[0]
    if (chunk === undefined) return undefined
    await trx.updateTable('jobs').set({ status: 'running', started_at: sql`coalesce(started_at, now())` })
      .where('id', '=', chunk.job_id).where('status', '=', 'queued').execute()
    return chunk
  })
}

/** Hands a chunk back for a later try (after `delayMs`), keeping its attempt count. */
export async function releaseChunk(db: Db, jobId: string, chunk: number, delayMs: number): Promise<void> {
  await db.updateTable('job_chunks').set({ lease_until: sql`now() + make_interval(secs => ${delayMs / 1000})` })
    .where('job_id', '=', jobId).where('chunk', '=', chunk).execute()
}

/** Extends the lease of a chunk still being worked on. */
export async function renewLease(db: Db, jobId: string, chunk: number, leaseMs: number): Promise<void> {
  await db.updateTable('job_chunks').set({ lease_until: sql`now() + make_interval(secs => ${leaseMs / 1000})` })
    .where('job_id', '=', jobId).where('chunk', '=', chunk).where('done', '=', false).execute()
}

export async function chunkRows(db: Db, jobId: string, firstRow: number, lastRow: number): Promise<{ row: number; input: Record<string, unknown> }[]> {
  return db.selectFrom('job_rows').select(['row', 'input']).where('job_id', '=', jobId)
    .where('row', '>=', firstRow).where('row', '<=', lastRow).orderBy('row').execute()
}

/** The rows between first and last (a chunk's) that have a result already. */
export async function recordedRows(db: Db, jobId: string, firstRow: number, lastRow: number): Promise<Set<number>> {
  const rows = await db.selectFrom('job_results').select('row').where('job_id', '=', jobId)
    .where('row', '>=', firstRow).where('row', '<=', lastRow).execute()
  return new Set(rows.map((r) => r.row))
}

/**
 * Results, in the caller's transaction (a row that has one already keeps it: the (job, row) key makes a repeat a no-op),
 * and the job's counters by what was new. It always updates the job's row, so two recordings for one job queue on its
 * lock: the later one sees the earlier one's chunk done when it asks whether the job is complete.
 */
async function addResults(db: Db, jobId: string, results: NewJobResult[]): Promise<void> {
  const added = results.length === 0 ? [] : await db.insertInto('job_results').values(results)
    .onConflict((oc) => oc.columns(['job_id', 'row']).doNothing()).returning('error').execute()
  const succeeded = added.filter((r) => r.error === null).length
  await db.updateTable('jobs').set((eb) => ({
    succeeded: eb('succeeded', '+', succeeded),
    failed: eb('failed', '+', added.length - succeeded)
  })).where('id', '=', jobId).execute()
}

/** Results of rows that failed alone, and the job's failed count, in one transaction; the chunk goes on with the rest. */
export async function recordRefusedRows(db: Db, jobId: string, results: NewJobResult[]): Promise<void> {
  await db.transaction().execute((trx) => addResults(trx, jobId, results))
}

/** In one transaction: the chunk's results and counters, the chunk done, and the job completed when it was the last. */
export async function recordChunk(db: Db, jobId: string, chunk: number, results: NewJobResult[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await addResults(trx, jobId, results)
    await trx.updateTable('job_chunks').set({ done: true, lease_until: null }).where('job_id', '=', jobId).where('chunk', '=', chunk).execute()
    const completed = await trx.updateTable('jobs').set({ status: 'completed', finished_at: sql`now()` })
      .where('id', '=', jobId).where('status', '=', 'running')
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('job_chunks').select('chunk').where('job_id', '=', jobId).where('done', '=', false))))
      .returning(JOB_EVENT_COLUMNS).executeTakeFirst()
    if (completed !== undefined) await appendEvent(trx, jobEvent('job.completed', completed))
  })
}

/** Ends a job that cannot go on (its achievement is gone, its issuer cannot sign the format): chunks not done stay undone. */
export async function failJob(db: Db, id: string, error: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const failed = await trx.updateTable('jobs').set({ status: 'failed', error, finished_at: sql`now()` })
      .where('id', '=', id).where('status', 'in', ['queued', 'running']).returning(JOB_EVENT_COLUMNS).executeTakeFirst()
    if (failed !== undefined) await appendEvent(trx, jobEvent('job.failed', failed))
  })
}

const JOB_EVENT_COLUMNS = ['id', 'type', 'issuer_id', 'total', 'succeeded', 'failed', 'error'] as const

/** A job's end, in the outbox in the transaction that ends it: the LMS hears of it once, through its webhooks. */
function jobEvent(type: 'job.completed' | 'job.failed', job: Pick<JobsTable, 'id' | 'type' | 'issuer_id' | 'total' | 'error'> & { succeeded: number; failed: number }): NewEvent {
  return {
    type, issuerId: job.issuer_id,
    data: { jobId: job.id, jobType: job.type, total: job.total, succeeded: job.succeeded, failed: job.failed, ...(job.error !== null && { error: job.error }) }
  }
}

export async function listResults(
  db: Db, filter: { jobId: string; outcome?: 'succeeded' | 'failed'; afterRow?: number; limit: number }
): Promise<JobResultRow[]> {
  let query = db.selectFrom('job_results').selectAll().where('job_id', '=', filter.jobId).orderBy('row').limit(filter.limit)
  if (filter.outcome === 'succeeded') query = query.where('error', 'is', null)
  if (filter.outcome === 'failed') query = query.where('error', 'is not', null)
  if (filter.afterRow !== undefined) query = query.where('row', '>', filter.afterRow)
  return query.execute()
}
