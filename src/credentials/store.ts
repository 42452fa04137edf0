// SQL for issued credentials and the idempotency records that make retries safe.
import type { Insertable, Selectable } from 'kysely'
import type { CredentialRow, CredentialsTable, Db, IdempotencyKeysTable } from '../db/schema.js'

export type NewCredentialRow = Omit<Insertable<CredentialsTable>, 'created_at' | 'status'>
export type CredentialStatusFilter = 'active' | 'revoked' | 'expired'

/** Well under PostgreSQL's 65,535 bind parameters per statement. */
const ROWS_PER_INSERT = 1000

export async function insertCredentials(db: Db, rows: NewCredentialRow[]): Promise<CredentialRow[]> {
  const inserted: CredentialRow[] = []
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    inserted.push(...await db.insertInto('credentials').values(rows.slice(start, start + ROWS_PER_INSERT)).returningAll().execute())
  }
  return inserted
}

export async function findCredential(db: Db, id: string): Promise<CredentialRow | undefined> {
  return db.selectFrom('credentials').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Credentials by id, in the order of `ids` (all of which exist: credentials are never deleted). */
export async function findCredentialsByIds(db: Db, ids: string[]): Promise<CredentialRow[]> {
  const rows = await db.selectFrom('credentials').selectAll().where('id', 'in', ids).execute()
  const byId = new Map(rows.map((row) => [row.id, row]))
  return ids.map((id) => byId.get(id)!)
}

export interface CredentialFilter {
  issuerId?: string
  achievementId?: string
  /** A lower-cased email address. */
  email?: string
  status?: CredentialStatusFilter
  now: Date
  after?: string
  limit: number
}

export async function listCredentials(db: Db, filter: CredentialFilter): Promise<CredentialRow[]> {
  let query = db.selectFrom('credentials').selectAll('credentials').orderBy('credentials.id').limit(filter.limit)
  if (filter.issuerId !== undefined) query = query.where('credentials.issuer_id', '=', filter.issuerId)
  if (filter.achievementId !== undefined) query = query.where('credentials.achievement_id', '=', filter.achievementId)
  if (filter.email !== undefined) {
    const email = filter.email
    query = query.innerJoin('recipients', 'recipients.id', 'credentials.recipient_id')
      .where('recipients.identity_type', '=', 'email').where('recipients.identity', '=', email)
  }
  if (filter.status === 'revoked') query = query.where('credentials.status', '=', 'revoked')
  if (filter.status === 'expired') {
    query = query.where('credentials.status', '=', 'active').where('credentials.valid_until', '<=', filter.now)
  }
  if (filter.status === 'active') {
    query = query.where('credentials.status', '=', 'active')
      .where((eb) => eb.or([eb('credentials.valid_until', 'is', null), eb('credentials.valid_until', '>', filter.now)]))
  }
  if (filter.after !== undefined) query = query.where('credentials.id', '>', filter.after)
  return query.execute()
}

export type IdempotencyRecord = Selectable<IdempotencyKeysTable>

export async function findIdempotencyRecord(db: Db, scope: string, key: string): Promise<IdempotencyRecord | undefined> {
  return db.selectFrom('idempotency_keys').selectAll().where('scope', '=', scope).where('key', '=', key).executeTakeFirst()
}

/**
 * Claims the key for this request. On PostgreSQL a concurrent claim of the same key waits for the first transaction,
 * then finds the key taken: false. The primary key decides, never process memory.
 */
export async function claimIdempotencyKey(db: Db, record: { scope: string; key: string; requestHash: string; credentialIds: string[] }): Promise<boolean> {
  const claimed = await db.insertInto('idempotency_keys')
    .values({ scope: record.scope, key: record.key, request_hash: record.requestHash, credential_ids: JSON.stringify(record.credentialIds) })
    .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst()
  return claimed !== undefined
}

/** The credentials with these ids, locked for the rest of the transaction (so two revocations of one credential queue). */
export async function lockCredentials(db: Db, ids: string[]): Promise<CredentialRow[]> {
  return db.selectFrom('credentials').selectAll().where('id', 'in', ids).orderBy('id').forUpdate().execute()
}

export async function markRevoked(db: Db, ids: string[], reason: string | null, at: Date): Promise<void> {
  await db.updateTable('credentials').set({ status: 'revoked', revoked_at: at, revocation_reason: reason }).where('id', 'in', ids).execute()
}
