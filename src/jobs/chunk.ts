// One chunk of a job, done exactly once: issued through issueCredentials under an Idempotency-Key of (job, chunk) and
// the rows it issues, so a repeat replays instead of issuing again, or revoked (repeating a revocation changes nothing); then its results are
// recorded under the (job, row) key.
import type { Caller, ServiceContext } from '../context.js'
import { awardOf, proofOf } from '../credentials/award-input.js'
import { revokeCredentials } from '../credentials/revoke.js'
import { issueCredentials } from '../credentials/service.js'
import type { CredentialFormat, JobType, JwtAlg } from '../db/schema.js'
import type { Principal } from '../http/auth.js'
import { AppError } from '../http/errors.js'
import type { IssueRowInput } from './rows.js'
import { findApiKey } from '../api-keys/store.js'
import { chunkRows, failJob, findJob, recordChunk, recordedRows, recordRefusedRows, type ClaimedChunk, type JobRow, type NewJobResult } from './store.js'

interface IssueParams { achievementId: string; format: CredentialFormat; jwtAlg?: JwtAlg }
interface RevokeParams { reason?: string }
type Row<T> = { row: number; input: T }

/** The work of one chunk of a job: the results of its rows, or why the job cannot go on. */
export type ChunkWork = (
  ctx: ServiceContext, caller: Caller, job: JobRow, claimed: ClaimedChunk, rows: Row<Record<string, unknown>>[]
) => Promise<NewJobResult[] | { jobError: string }>

/**
 * The work of the job types other capabilities define (a pathway's evaluation), given by the app: jobs runs their chunks
 * (claims, leases, retries, results) without knowing what they do.
 */
export type JobKinds = Partial<Record<Exclude<JobType, 'issue' | 'revoke'>, ChunkWork>>

/** The Idempotency-Key of a chunk's issue: the same on every attempt, by any worker. */
export function chunkIdempotencyKey(jobId: string, chunk: number): string {
  return `lanyard-job:${jobId}:${chunk}`
}

/** The row number in a pointer `/rows/42…` that a chunk's service call was given. */
function rowOf(pointer: string): number {
  return Number(/^\/rows\/(\d+)/.exec(pointer)![1])
}

/** Refusals name rows by pointer: each row's messages, joined. */
function messagesByRow(error: AppError): Map<number, string> {
  const messages = new Map<number, string>()
  for (const { pointer, message } of error.errors ?? []) {
    const row = rowOf(pointer)
    messages.set(row, messages.has(row) ? `${messages.get(row)!}; ${message}` : message)
  }
  return messages
}

/** A refusal of the request (4xx), as opposed to a failure to carry it out (a database or signing fault: worth a retry). */
function isRefusal(error: unknown): error is AppError {
  return error instanceof AppError && error.status < 500
}

/**
 * The Idempotency-Key of an issue of the chunk's rows that have no result yet, `recorded` being how many of its rows have
 * one (rows refused earlier): the same set of rows always goes with the same key, on every attempt, by any worker.
 */
export function remainderKey(jobId: string, chunk: number, recorded: number): string {
  return recorded === 0 ? chunkIdempotencyKey(jobId, chunk) : `${chunkIdempotencyKey(jobId, chunk)}:after-${recorded}`
}

/**
 * The chunk's results, or why the job cannot go on: a refusal that names no row (the achievement is gone, the issuer
 * cannot sign this format) would refuse every chunk, so the job fails with it. Rows a refusal names fail alone: their
 * results are recorded first (so a repeat after a crash knows them), then the rest of the chunk is issued under a key of
 * its own.
 */
async function issueChunk(
  ctx: ServiceContext, caller: Caller, job: JobRow, claimed: ClaimedChunk, rows: Row<IssueRowInput>[]
): Promise<NewJobResult[] | { jobError: string }> {
  const params = job.params as unknown as IssueParams
  const externalId = (row: Row<IssueRowInput>) => row.input.recipient.externalId ?? null
  const recorded = await recordedRows(ctx.db, job.id, claimed.first_row, claimed.last_row)
  let pending = rows.filter((row) => !recorded.has(row.row))
  while (pending.length > 0) {
    const issuing = pending
    try {
      const { credentials } = await issueCredentials(ctx, caller, {
        achievementId: params.achievementId,
        proof: proofOf(params),
        awards: issuing.map((row) => awardOf(row.input))
      }, (index) => `/rows/${issuing[index]!.row}`, {
        key: remainderKey(job.id, claimed.chunk, recorded.size), operation: 'job-chunk', body: issuing
      })
      return issuing.map((row, index) => ({ job_id: job.id, row: row.row, external_id: externalId(row), credential_id: credentials[index]!.id, error: null }))
    } catch (error) {
      if (!isRefusal(error)) throw error
      const messages = messagesByRow(error)
      const refused = issuing.filter((row) => messages.has(row.row))
      if (refused.length === 0) return { jobError: error.detail }
      await recordRefusedRows(ctx.db, job.id, refused.map((row) => ({
        job_id: job.id, row: row.row, external_id: externalId(row), credential_id: null, error: messages.get(row.row)!
      })))
      for (const row of refused) recorded.add(row.row)
      pending = issuing.filter((row) => !messages.has(row.row))
    }
  }
  return []
}

/** A job made with an API key runs with that key's rights: once the key is revoked, the job stops. */
async function revokedKeyOf(ctx: ServiceContext, principal: Principal): Promise<string | undefined> {
  if (principal.kind !== 'api-key') return undefined
  const key = await findApiKey(ctx.db, principal.apiKeyId)
  return key?.revoked_at === null ? undefined : 'the API key that made this job was revoked: rows not yet done are not done'
}

/** Revokes what it can: ids that are unknown (or another issuer's) or carry no status entry fail alone; the rest are revoked. */
async function revokeChunk(ctx: ServiceContext, caller: Caller, job: JobRow, rows: Row<{ id: string }>[]): Promise<NewJobResult[]> {
  const { reason } = job.params as RevokeParams
  const failed = new Map<number, string>()
  let pending = rows
  // revokeCredentials is all or nothing and names the ids it refused: at most two refusals (unknown, then unlisted) remove them.
  while (pending.length > 0) {
    try {
      await revokeCredentials(ctx, caller, pending.map((row) => row.input.id), reason ?? null, (index) => `/rows/${pending[index]!.row}`)
      break
    } catch (error) {
      // A fault (or, against revokeCredentials' contract, a refusal naming no id) would come back alike: the worker retries it.
      const named = isRefusal(error) ? messagesByRow(error) : new Map<number, string>()
      if (named.size === 0) throw error
      for (const [row, message] of named) failed.set(row, message)
      pending = pending.filter((row) => !failed.has(row.row))
    }
  }
  return rows.map((row) => ({ job_id: job.id, row: row.row, external_id: null, credential_id: row.input.id, error: failed.get(row.row) ?? null }))
}

/**
 * Does a claimed chunk and records it. Throws when it could not (the worker retries it later); a chunk of a job that was
 * cancelled meanwhile is left undone.
 */
export async function processChunk(ctx: ServiceContext, claimed: ClaimedChunk, kinds: JobKinds = {}): Promise<void> {
  const job = (await findJob(ctx.db, claimed.job_id))!
  if (job.status !== 'running') return
  const rows = await chunkRows(ctx.db, job.id, claimed.first_row, claimed.last_row)
  const caller: Caller = { principal: job.principal as unknown as Principal, requestId: job.request_id }
  const revoked = await revokedKeyOf(ctx, caller.principal)
  if (revoked !== undefined) return failJob(ctx.db, job.id, revoked)
  const results = job.type === 'issue' ? await issueChunk(ctx, caller, job, claimed, rows as Row<IssueRowInput>[])
    : job.type === 'revoke' ? await revokeChunk(ctx, caller, job, rows as Row<{ id: string }>[])
    : await kinds[job.type]!(ctx, caller, job, claimed, rows)
  if ('jobError' in results) return failJob(ctx.db, job.id, results.jobError)
  await recordChunk(ctx.db, job.id, claimed.chunk, results)
}
