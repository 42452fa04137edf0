// Jobs: submitting a checked cohort (safe to retry with an Idempotency-Key), reading progress and results, cancelling.
import { Readable } from 'node:stream'
import { v7 as uuidv7 } from 'uuid'
import { findAchievement } from '../achievements/store.js'
import type { Caller, ServiceContext } from '../context.js'
import { idempotencyKeyReused, requestHash } from '../credentials/idempotency.js'
import type { RawBuilder } from 'kysely'
import type { CredentialFormat, JobStatus, JobType, JwtAlg } from '../db/schema.js'
import { eventsCommitted } from '../events/notify.js'
import { actorOf, assertIssuerAccess, issuerScope } from '../http/auth.js'
import { notFound } from '../http/errors.js'
import { pageFrom, type Page } from '../pagination.js'
import { csvLine } from './csv.js'
import type { IssueRowInput, JobRowInput } from './rows.js'
import {
  cancelJob as cancelJobRow, findJob, findJobByIdempotencyKey, insertJob, insertJobOfQuery, listJobs as listJobRows, listResults,
  releaseExpiredJobKey, type ChunkRange, type JobResultRow, type JobRow
} from './store.js'

export type JobSubmission =
  | { type: 'issue'; achievementId: string; format: CredentialFormat; jwtAlg?: JwtAlg; rows: JobRowInput<IssueRowInput>[] }
  | { type: 'revoke'; reason?: string; rows: JobRowInput<{ id: string }>[] }

export interface JobView {
  id: string
  type: JobType
  status: JobStatus
  total: number
  succeeded: number
  failed: number
  /** Rows done per second since the job started (to its end, or to now while it runs); null before it starts. */
  rowsPerSecond: number | null
  /** Why a failed job stopped. */
  error: string | null
  url: string
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
}

export interface JobResult {
  row: number
  externalId?: string
  credentialId?: string
  url?: string
  error?: string
}

const JOB = 'job'

function jobView(ctx: ServiceContext, job: JobRow): JobView {
  const done = job.succeeded + job.failed
  const seconds = job.started_at === null ? 0 : ((job.finished_at ?? new Date()).getTime() - job.started_at.getTime()) / 1000
  return {
    id: job.id,
    type: job.type,
    status: job.status,
    total: job.total,
    succeeded: job.succeeded,
    failed: job.failed,
    rowsPerSecond: job.started_at === null ? null : Math.round(done / Math.max(seconds, 0.001) * 10) / 10,
    error: job.error,
    url: `${ctx.publicUrl}/v1/jobs/${job.id}`,
    createdAt: job.created_at.toISOString(),
    startedAt: job.started_at?.toISOString() ?? null,
    finishedAt: job.finished_at?.toISOString() ?? null
  }
}

/** Consecutive runs of `chunkSize` rows (rows are numbered consecutively from the first). */
function chunkRanges(rows: JobRowInput<unknown>[], chunkSize: number): ChunkRange[] {
  const ranges: ChunkRange[] = []
  for (let start = 0; start < rows.length; start += chunkSize) {
    ranges.push({ chunk: ranges.length, firstRow: rows[start]!.row, lastRow: rows[Math.min(start + chunkSize, rows.length) - 1]!.row })
  }
  return ranges
}

/** The earlier job of this Idempotency-Key, if it was asked for with the same body; 409 otherwise. */
function replayOf(ctx: ServiceContext, job: JobRow, hash: string): { job: JobView; replayed: true } {
  if (job.request_hash !== hash) {
    throw idempotencyKeyReused('a different job', 'that job')
  }
  return { job: jobView(ctx, job), replayed: true }
}

/** The issuer a job belongs to: the achievement's (which the caller must see), or for a revoke job the API key's. */
async function jobIssuer(ctx: ServiceContext, caller: Caller, submission: JobSubmission): Promise<string | null> {
  if (submission.type === 'revoke') return issuerScope(caller.principal) ?? null
  const achievement = await findAchievement(ctx.db, submission.achievementId)
  if (achievement === undefined) throw notFound('achievement')
  assertIssuerAccess(caller.principal, achievement.issuer_id, 'achievement')
  return achievement.issuer_id
}

/**
 * Queues a job of already checked rows: the job, its rows and its chunks are written in one transaction, so a job is
 * either wholly queued or not at all. With an Idempotency-Key, a retry of the same submission answers the same job.
 */
export async function submitJob(
  ctx: ServiceContext, caller: Caller, settings: { chunkSize: number }, submission: JobSubmission, idempotencyKey?: string
): Promise<{ job: JobView; replayed: boolean }> {
  const actor = actorOf(caller.principal)
  const hash = idempotencyKey === undefined ? null : requestHash({ key: idempotencyKey, operation: 'job', body: submission })
  if (idempotencyKey !== undefined) {
    const earlier = await findJobByIdempotencyKey(ctx.db, actor, idempotencyKey, ctx.idempotencyTtlMs)
    if (earlier !== undefined) return replayOf(ctx, earlier, hash!)
  }
  const { rows, type, ...params } = submission
  const issuerId = await jobIssuer(ctx, caller, submission)
  const job = await ctx.db.transaction().execute(async (trx) => {
    if (idempotencyKey !== undefined) await releaseExpiredJobKey(trx, actor, idempotencyKey, ctx.idempotencyTtlMs)
    return insertJob(trx, {
      id: uuidv7(), type, issuer_id: issuerId, principal: JSON.stringify(caller.principal), actor, request_id: caller.requestId,
      params: JSON.stringify(params), total: rows.length, idempotency_key: idempotencyKey ?? null, request_hash: hash
    }, rows, chunkRanges(rows, settings.chunkSize))
  })
  // Nothing written: a concurrent submission with the same key got there first; answer its job.
  if (job === undefined) return replayOf(ctx, (await findJobByIdempotencyKey(ctx.db, actor, idempotencyKey!, ctx.idempotencyTtlMs))!, hash!)
  return { job: jobView(ctx, job), replayed: false }
}

/** A job of another capability whose rows a query selects (each row's `input`): see insertJobOfQuery. */
export interface QueriedJob {
  type: Exclude<JobType, 'issue' | 'revoke'>
  issuerId: string
  params: Record<string, unknown>
  rows: RawBuilder<{ input: unknown }>
}

/** Queues a job whose rows the database selects, numbers and chunks itself: however many, none is held in memory here. */
export async function submitQueriedJob(ctx: ServiceContext, caller: Caller, settings: { chunkSize: number }, submission: QueriedJob): Promise<JobView> {
  const job = await ctx.db.transaction().execute((trx) => insertJobOfQuery(trx, {
    id: uuidv7(), type: submission.type, issuer_id: submission.issuerId, principal: JSON.stringify(caller.principal),
    actor: actorOf(caller.principal), request_id: caller.requestId, params: JSON.stringify(submission.params), idempotency_key: null, request_hash: null
  }, submission.rows, settings.chunkSize))
  // A job of no rows is completed at once, its job.completed appended.
  if (job.status === 'completed') eventsCommitted(ctx.db)
  return jobView(ctx, job)
}

async function visibleJob(ctx: ServiceContext, caller: Caller, id: string): Promise<JobRow> {
  const job = await findJob(ctx.db, id)
  const scope = issuerScope(caller.principal)
  // Another issuer's job, or an admin's revoke job (it has no issuer), is not there for an API key.
  if (job === undefined || (scope !== undefined && job.issuer_id !== scope)) throw notFound(JOB)
  return job
}

export async function getJob(ctx: ServiceContext, caller: Caller, id: string): Promise<JobView> {
  return jobView(ctx, await visibleJob(ctx, caller, id))
}

export async function listJobs(
  ctx: ServiceContext, caller: Caller, query: { status?: JobStatus; limit: number; cursor?: string }
): Promise<Page<JobView>> {
  const rows = await listJobRows(ctx.db, { issuerId: issuerScope(caller.principal), status: query.status, after: query.cursor, limit: query.limit + 1 })
  return pageFrom(rows, query.limit, (row) => jobView(ctx, row), (item) => item.id)
}

/** Stops a job between chunks: rows not yet done are not done. A job that has ended already stays as it is. */
export async function cancelJob(ctx: ServiceContext, caller: Caller, id: string): Promise<JobView> {
  const job = await visibleJob(ctx, caller, id)
  return jobView(ctx, await cancelJobRow(ctx.db, id) ?? job)
}

function resultOf(ctx: ServiceContext, row: JobResultRow): JobResult {
  return {
    row: row.row,
    ...(row.external_id !== null && { externalId: row.external_id }),
    ...(row.credential_id !== null && { credentialId: row.credential_id, url: `${ctx.publicUrl}/credentials/${row.credential_id}` }),
    ...(row.error !== null && { error: row.error })
  }
}

export interface ResultQuery {
  outcome?: 'succeeded' | 'failed'
  limit: number
  cursor?: number
}

export async function jobResults(ctx: ServiceContext, caller: Caller, id: string, query: ResultQuery): Promise<Page<JobResult>> {
  await visibleJob(ctx, caller, id)
  const rows = await listResults(ctx.db, { jobId: id, outcome: query.outcome, afterRow: query.cursor, limit: query.limit + 1 })
  return pageFrom(rows, query.limit, (row) => resultOf(ctx, row), (item) => String(item.row))
}

/** Rows of results read per query while streaming CSV: the reply is never held whole. */
const CSV_PAGE = 1000

/** Every result (after `cursor`, of `outcome`) as CSV, read from the database a page at a time as the client takes it. */
export async function jobResultsCsv(ctx: ServiceContext, caller: Caller, id: string, query: Omit<ResultQuery, 'limit'>): Promise<Readable> {
  await visibleJob(ctx, caller, id)
  return Readable.from((async function* () {
    yield csvLine(['row', 'externalId', 'credentialId', 'url', 'error'])
    let after = query.cursor
    for (;;) {
      const rows = await listResults(ctx.db, { jobId: id, outcome: query.outcome, afterRow: after, limit: CSV_PAGE })
      yield rows.map((row) => resultOf(ctx, row)).map((r) => csvLine([r.row, r.externalId, r.credentialId, r.url, r.error])).join('')
      if (rows.length < CSV_PAGE) return
      after = rows[rows.length - 1]!.row
    }
  })())
}
