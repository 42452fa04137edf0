// SQL for the periodic sweep: each statement deletes (or, for jobs, forgets the key of) at most a batch of expired rows.
import { sql, type RawBuilder } from 'kysely'
import { idempotencyCutoff, OWN_KEY_PREFIX } from '../credentials/store.js'
import type { Db } from '../db/schema.js'

/** The database's now() less `ms`: every expiry here is stamped by the database's clock. */
function ago(ms: number): RawBuilder<Date> {
  return sql<Date>`now() - ${ms}::double precision * interval '1 millisecond'`
}

/**
 * Deletes up to `limit` rows of `table` that `where` selects, naming each by `key`; answers how many. Rows another
 * sweeper (or a request) holds are skipped, not waited for: they are deleted by whichever sweep comes next.
 */
async function deleteSome(db: Db, table: string, key: string[], where: RawBuilder<boolean>, limit: number): Promise<number> {
  const columns = sql.join(key.map((column) => sql.ref(column)))
  const result = await sql`
    delete from ${sql.table(table)} where (${columns}) in (
      select ${columns} from ${sql.table(table)} where ${where} limit ${limit} for update skip locked)`.execute(db)
  return affected(result)
}

/** PGlite's driver leaves the count out when no row changed. */
function affected(result: { numAffectedRows?: bigint }): number {
  return Number(result.numAffectedRows ?? 0n)
}

export function deleteExpiredIdempotencyRecords(db: Db, ttlMs: number, limit: number): Promise<number> {
  return deleteSome(db, 'idempotency_keys', ['scope', 'key'],
    sql`created_at <= ${idempotencyCutoff(ttlMs)} and key not like ${`${OWN_KEY_PREFIX}%`}`, limit)
}

/** Jobs stay (their results are the record), but their Idempotency-Key older than `ttlMs` is forgotten. */
export async function forgetExpiredJobKeys(db: Db, ttlMs: number, limit: number): Promise<number> {
  const result = await sql`
    update jobs set idempotency_key = null, request_hash = null where id in (
      select id from jobs where idempotency_key is not null and created_at <= ${idempotencyCutoff(ttlMs)}
      limit ${limit} for no key update skip locked)`.execute(db)
  return affected(result)
}

export function deleteExpiredAccessTokens(db: Db, limit: number): Promise<number> {
  return deleteSome(db, 'oid4vci_access_tokens', ['token_hash'], sql`expires_at <= now()`, limit)
}

export function deleteExpiredNonces(db: Db, limit: number): Promise<number> {
  return deleteSome(db, 'oid4vci_nonces', ['nonce'], sql`expires_at <= now()`, limit)
}

/**
 * Claims used or expired more than `retentionMs` ago (least() skips a null used_at). One an access token still names
 * is kept for a later sweep: tokens expire minutes after their claim is used, and are deleted first.
 */
export function deleteClosedClaims(db: Db, retentionMs: number, limit: number): Promise<number> {
  return deleteSome(db, 'claims', ['id'], sql`least(used_at, expires_at) <= ${ago(retentionMs)}
    and not exists (select from oid4vci_access_tokens where oid4vci_access_tokens.claim_id = claims.id)`, limit)
}

/** Reviewers' sign-in links used or expired more than `retentionMs` ago. */
export function deleteClosedSignIns(db: Db, retentionMs: number, limit: number): Promise<number> {
  return deleteSome(db, 'reviewer_sign_ins', ['token_hash'], sql`least(used_at, expires_at) <= ${ago(retentionMs)}`, limit)
}

export function deleteExpiredSessions(db: Db, limit: number): Promise<number> {
  return deleteSome(db, 'reviewer_sessions', ['token_hash'], sql`expires_at <= now()`, limit)
}
