// Idempotency-Key: a retry with the same key and body gets the same credentials; the same key with another body is a 409.
import { createHash } from 'node:crypto'
import type { ServiceContext } from '../context.js'
import { AppError } from '../http/errors.js'
import { findIdempotencyRecord } from './store.js'

export interface IdempotencyRequest {
  key: string
  /** Which operation (a key used for a single issue cannot replay a batch). */
  operation: string
  body: unknown
}

/** JSON with object keys sorted, so a retry whose client orders fields differently is still the same request. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

export function requestHash(request: IdempotencyRequest): string {
  return createHash('sha256').update(request.operation).update('\0').update(stableJson(request.body)).digest('hex')
}

/** The 409 for an Idempotency-Key sent again with another body: `earlier` is what the key was used for, `result` what it gave. */
export function idempotencyKeyReused(earlier: string, result: string): AppError {
  return new AppError('idempotency-key-reused', 409,
    `this Idempotency-Key was already used for ${earlier}: send the same body to get ${result} again, or use a new key`)
}

/**
 * The credential ids an earlier request with this key made; undefined when the key is new (or its record older than the
 * Idempotency-Key TTL); 409 when the body differed.
 */
export async function replayOrConflict(
  ctx: Pick<ServiceContext, 'db' | 'idempotencyTtlMs'>, scope: string, key: string, hash: string
): Promise<string[] | undefined> {
  const record = await findIdempotencyRecord(ctx.db, scope, key, ctx.idempotencyTtlMs)
  if (record === undefined) return undefined
  if (record.request_hash !== hash) {
    throw idempotencyKeyReused('a different request', 'its result')
  }
  return record.credential_ids
}
