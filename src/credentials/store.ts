// SQL for issued credentials and the idempotency records that make retries safe.
import { sql, type Insertable, type RawBuilder, type Selectable } from 'kysely'
import { RECORD_COLUMNS, type AchievementRecord } from '../achievements/store.js'
import { appendEventsFrom } from '../events/store.js'
import type {
  CredentialRow, CredentialsTable, Db, IdempotencyKeysTable, IssuerKeyRow, IssuerRow, KeyAlgorithm, RecipientIdentityType
} from '../db/schema.js'

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

/** What issuing a badge reads first: the achievement, its issuer, and the issuer's active key of the algorithm if it has one. */
export interface IssuingContext {
  achievement: AchievementRecord
  issuer: IssuerRow
  key: IssuerKeyRow | undefined
  /**
   * The row versions read (PostgreSQL's xmin: every update of a row makes a new one): the write checks them, so a
   * credential is only stored if the achievement and issuer it was built from are still as read.
   */
  versions: { achievement: string; issuer: string }
}

/** One statement instead of three: every statement costs a busy instance's event loop a socket write and a reply to parse. */
export async function findIssuingContext(db: Db, achievementId: string, algorithm: KeyAlgorithm): Promise<IssuingContext | undefined> {
  const row = await db.selectFrom('achievements')
    .innerJoin('issuers', 'issuers.id', 'achievements.issuer_id')
    .leftJoin('issuer_keys', (join) => join.onRef('issuer_keys.issuer_id', '=', 'issuers.id')
      .on('issuer_keys.algorithm', '=', algorithm).on('issuer_keys.status', '=', 'active'))
    .select([
      ...RECORD_COLUMNS,
      'issuers.did as issuer_did', 'issuers.did_method as issuer_did_method', 'issuers.name as issuer_name', 'issuers.url as issuer_url',
      'issuers.email as issuer_email', 'issuers.description as issuer_description', 'issuers.image_url as issuer_image_url',
      'issuers.created_at as issuer_created_at', 'issuers.updated_at as issuer_updated_at',
      'issuer_keys.id as key_id', 'issuer_keys.algorithm as key_algorithm', 'issuer_keys.verification_method as key_verification_method',
      'issuer_keys.public_key_multibase as key_public_key_multibase', 'issuer_keys.public_jwk as key_public_jwk',
      'issuer_keys.sealed_private_key as key_sealed_private_key', 'issuer_keys.master_key_id as key_master_key_id',
      'issuer_keys.status as key_status', 'issuer_keys.created_at as key_created_at', 'issuer_keys.retired_at as key_retired_at',
      sql<string>`achievements.xmin::text`.as('achievement_version'), sql<string>`issuers.xmin::text`.as('issuer_version')
    ])
    .where('achievements.id', '=', achievementId)
    .modifyFront(sql`/* prepared: issuing-context */`)
    .executeTakeFirst()
  if (row === undefined) return undefined
  const {
    issuer_did, issuer_did_method, issuer_name, issuer_url, issuer_email, issuer_description, issuer_image_url, issuer_created_at, issuer_updated_at,
    key_id, key_algorithm, key_verification_method, key_public_key_multibase, key_public_jwk, key_sealed_private_key, key_master_key_id,
    key_status, key_created_at, key_retired_at, achievement_version, issuer_version, ...achievement
  } = row
  return {
    versions: { achievement: achievement_version, issuer: issuer_version },
    achievement,
    issuer: {
      id: achievement.issuer_id, did: issuer_did, did_method: issuer_did_method, name: issuer_name, url: issuer_url, email: issuer_email,
      description: issuer_description, image_url: issuer_image_url, created_at: issuer_created_at, updated_at: issuer_updated_at
    },
    key: key_id === null
      ? undefined
      : {
          id: key_id, issuer_id: achievement.issuer_id, algorithm: key_algorithm!, verification_method: key_verification_method!,
          public_key_multibase: key_public_key_multibase, public_jwk: key_public_jwk!, sealed_private_key: key_sealed_private_key!,
          master_key_id: key_master_key_id!, status: key_status!, created_at: key_created_at!, retired_at: key_retired_at
        }
  }
}

/** What one issue request writes: its recipients, its credentials (each naming its recipient by identity), who did it. */
export interface IssuedWrite {
  issuerId: string
  /** What the credentials were built and signed from; nothing is written unless it is still current. */
  builtFrom: { achievementId: string; versions: IssuingContext['versions']; keyId: string }
  /**
   * Claimed in the same statement; when another request holds it, nothing is written. A record of the key older than
   * `ttlMs` is forgotten: this write replaces it.
   */
  idempotency?: { scope: string; key: string; requestHash: string; ttlMs: number }
  recipients: { id: string; identityType: RecipientIdentityType; identity: string; name: string | null; externalId: string | null }[]
  credentials: (Omit<NewCredentialRow, 'issuer_id' | 'recipient_id'> & {
    identityType: RecipientIdentityType
    identity: string
    /** The data of its credential.issued event, appended by the same statement. */
    event: Record<string, unknown>
  })[]
  audit: { actor: string; requestId: string | null }
}

/**
 * Writes an issue in one statement (atomic on its own): checks that the achievement, issuer and key it was built from
 * are unchanged and the key still active, claims the Idempotency-Key, upserts the recipients (a name or external id
 * given now replaces the stored one), inserts the credentials, and an audit event and an outbox event (credential.issued)
 * for each. One round trip instead of seven: on a busy instance, each statement costs the event loop a socket write and
 * a reply to parse.
 * Answers the credential rows in the order given, or undefined when nothing was written: a concurrent request holds
 * the Idempotency-Key, or what the credentials were built from changed since it was read.
 */
export async function insertIssued(db: Db, write: IssuedWrite): Promise<CredentialRow[] | undefined> {
  return (await insertIssuedGroup(db, [write]))[0]
}

/**
 * Several issue requests' writes in one statement, each as `insertIssued` describes, on its own: a write whose rows
 * changed or whose Idempotency-Key another request holds stores nothing, and the others are unaffected. One statement
 * and one commit for many requests is what makes concurrent single issues cheap for PostgreSQL (see ./issue-writer.ts).
 * The caller keeps any two writes that share an Idempotency-Key or a recipient apart: one INSERT ... ON CONFLICT DO
 * UPDATE may not touch a row twice.
 * Answers, per write in the order given, its credential rows or undefined when it wrote nothing.
 */
export async function insertIssuedGroup(db: Db, writes: IssuedWrite[]): Promise<(CredentialRow[] | undefined)[]> {
  const heads = writes.map((write, n) => ({
    n,
    issuer_id: write.issuerId,
    achievement_id: write.builtFrom.achievementId,
    achievement_version: write.builtFrom.versions.achievement,
    issuer_version: write.builtFrom.versions.issuer,
    key_id: write.builtFrom.keyId,
    claim_scope: write.idempotency?.scope ?? null,
    claim_key: write.idempotency?.key ?? null,
    request_hash: write.idempotency?.requestHash ?? null,
    claim_ttl_ms: write.idempotency?.ttlMs ?? null,
    credential_ids: write.credentials.map((c) => c.id),
    actor: write.audit.actor,
    request_id: write.audit.requestId
  }))
  const recipients = writes.flatMap((write, n) => write.recipients.map((r) => ({ n, ...r })))
  const credentials = writes.flatMap((write, n) => write.credentials.map((c) => ({ n, ...c, identity_type: c.identityType })))
  const { rows } = await sql<Omit<CredentialRow, 'signed'>>`/* prepared: insert-issued-group */
    with w as (
      select * from jsonb_to_recordset(${JSON.stringify(heads)}::jsonb) as w(
        n integer, issuer_id uuid, achievement_id uuid, achievement_version text, issuer_version text, key_id uuid,
        claim_scope text, claim_key text, request_hash text, claim_ttl_ms double precision, credential_ids jsonb, actor text, request_id text)
    ), current as (
      select w.n from w
      join achievements on achievements.id = w.achievement_id and achievements.xmin::text = w.achievement_version
      join issuers on issuers.id = achievements.issuer_id and issuers.xmin::text = w.issuer_version
      join issuer_keys on issuer_keys.issuer_id = issuers.id and issuer_keys.id = w.key_id and issuer_keys.status = 'active'
    ), claim as (
      insert into idempotency_keys (scope, key, request_hash, credential_ids)
      select w.claim_scope, w.claim_key, w.request_hash, w.credential_ids from w
      where w.claim_key is not null and w.n in (select n from current)
      -- A record older than its TTL is forgotten: the key starts over with this request. Checked on the row as locked,
      -- so of two requests reusing an expired key one replaces it and the other finds the new record.
      on conflict (scope, key) do update
        set request_hash = excluded.request_hash, credential_ids = excluded.credential_ids, created_at = now()
        where idempotency_keys.key not like ${`${OWN_KEY_PREFIX}%`} and idempotency_keys.created_at <= now() - interval '1 millisecond'
          * (select w.claim_ttl_ms from w where w.claim_scope = excluded.scope and w.claim_key = excluded.key)
      returning scope, key
    ), allowed as (
      select w.n, w.issuer_id, w.actor, w.request_id from w
      where w.n in (select n from current)
        and (w.claim_key is null or exists (select from claim where claim.scope = w.claim_scope and claim.key = w.claim_key))
    ), recipient as (
      insert into recipients (id, issuer_id, identity_type, identity, name, external_id)
      select r.id, allowed.issuer_id, r."identityType", r.identity, r.name, r."externalId"
      from jsonb_to_recordset(${JSON.stringify(recipients)}::jsonb)
        as r(n integer, id uuid, "identityType" text, identity text, name text, "externalId" text)
      join allowed on allowed.n = r.n
      on conflict (issuer_id, identity_type, identity) do update set
        name = coalesce(excluded.name, recipients.name), external_id = coalesce(excluded.external_id, recipients.external_id), updated_at = now()
      returning id, issuer_id, identity_type, identity
    ), c as (
      select c.*, allowed.issuer_id, allowed.actor, allowed.request_id, recipient.id as recipient_id
      from jsonb_to_recordset(${JSON.stringify(credentials)}::jsonb) as c(
        n integer, id uuid, achievement_id uuid, issuer_key_id uuid, format text, jwt_alg text, signed text, valid_from timestamptz,
        valid_until timestamptz, status_list_id uuid, status_list_index integer, identity_type text, identity text, event jsonb)
      join allowed on allowed.n = c.n
      join recipient on recipient.issuer_id = allowed.issuer_id and recipient.identity_type = c.identity_type and recipient.identity = c.identity
    ), credential as (
      insert into credentials (id, issuer_id, achievement_id, recipient_id, issuer_key_id, format, jwt_alg, signed, valid_from, valid_until, status_list_id, status_list_index)
      select id, issuer_id, achievement_id, recipient_id, issuer_key_id, format, jwt_alg, signed, valid_from, valid_until, status_list_id, status_list_index
      from c
      -- Not the signed bytes: the caller has them, and megabytes of a batch need not cross the wire twice.
      returning id, issuer_id, achievement_id, recipient_id, issuer_key_id, format, jwt_alg, valid_from, valid_until, status,
        revoked_at, revocation_reason, created_at, status_list_id, status_list_index
    ), audit as (
      -- From the same rows as the credentials (RETURNING cannot carry who asked): the statement stores both or neither.
      insert into audit_events (actor, action, issuer_id, target_type, target_id, details, request_id)
      select actor, 'credential.issued', issuer_id, 'credential', id,
        jsonb_build_object('achievementId', achievement_id, 'recipientId', recipient_id, 'format', format, 'jwtAlg', jwt_alg),
        request_id
      from c
    ), event as (
      ${appendEventsFrom('c', 'credential.issued')}
    )
    select * from credential`.execute(db)
  const byId = new Map(rows.map((row) => [row.id, row]))
  // A write stores all its credentials or none; one with none (never asked for by the service) reports nothing written.
  return writes.map((write) => write.credentials.length > 0 && byId.has(write.credentials[0]!.id)
    ? write.credentials.map((c) => ({ ...byId.get(c.id)!, signed: c.signed }))
    : undefined)
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

/**
 * Keys of Lanyard's own exactly-once issuing (a job's chunk, a pathway's award, an approved submission) start with this:
 * they never expire, since a retry of one may come after any outage. Clients' keys expire after the TTL.
 */
export const OWN_KEY_PREFIX = 'lanyard-'

/** The instant an Idempotency-Key's record must be younger than to count, by the database's clock (which stamped it). */
export function idempotencyCutoff(ttlMs: number): RawBuilder<Date> {
  return sql<Date>`now() - ${ttlMs}::double precision * interval '1 millisecond'`
}

/**
 * The key's record, unless it is older than `ttlMs` (then the key is new again, whether or not the sweep has deleted it
 * yet); Lanyard's own keys at any age.
 */
export async function findIdempotencyRecord(db: Db, scope: string, key: string, ttlMs: number): Promise<IdempotencyRecord | undefined> {
  return db.selectFrom('idempotency_keys').selectAll().where('scope', '=', scope).where('key', '=', key)
    .where((eb) => eb.or([eb('created_at', '>', idempotencyCutoff(ttlMs)), eb('key', 'like', `${OWN_KEY_PREFIX}%`)])).executeTakeFirst()
}

/** The credentials with these ids, locked for the rest of the transaction (so two revocations of one credential queue). */
export async function lockCredentials(db: Db, ids: string[]): Promise<CredentialRow[]> {
  return db.selectFrom('credentials').selectAll().where('id', 'in', ids).orderBy('id').forUpdate().execute()
}

export async function markRevoked(db: Db, ids: string[], reason: string | null, at: Date): Promise<void> {
  await db.updateTable('credentials').set({ status: 'revoked', revoked_at: at, revocation_reason: reason }).where('id', 'in', ids).execute()
}

/** The not yet revoked wallet copies of these credentials, locked for the rest of the transaction. */
export async function lockActiveCopies(db: Db, originalIds: string[]): Promise<CredentialRow[]> {
  return db.selectFrom('credentials').selectAll()
    .where('original_credential_id', 'in', originalIds).where('status', '=', 'active')
    .orderBy('id').forUpdate().execute()
}
