// SQL for issuers and their keys.
import type { Db, EmbeddedEndorsement, IssuerKeyRow, IssuerRow, NewIssuerKeyRow } from '../db/schema.js'

export type NewIssuerRow = Omit<IssuerRow, 'created_at' | 'updated_at'>
export type IssuerChanges = Partial<Pick<IssuerRow, 'name' | 'url' | 'email' | 'description' | 'image_url'>>

export async function insertIssuer(db: Db, row: NewIssuerRow): Promise<IssuerRow> {
  return db.insertInto('issuers').values(row).returningAll().executeTakeFirstOrThrow()
}

export async function findIssuer(db: Db, id: string): Promise<IssuerRow | undefined> {
  return db.selectFrom('issuers').selectAll().where('id', '=', id).executeTakeFirst()
}

/** The issuer with the endorsements its public Profile embeds. */
export async function findIssuerProfile(db: Db, id: string): Promise<(IssuerRow & { embedded_endorsements: EmbeddedEndorsement[] }) | undefined> {
  return db.selectFrom('issuers').selectAll().where('id', '=', id).executeTakeFirst()
}

/**
 * Replaces the endorsements the public Profile embeds (the JSON text of the list). Not `updated_at`: the profile is
 * unchanged.
 */
export async function setEmbeddedEndorsements(db: Db, id: string, json: string): Promise<void> {
  await db.updateTable('issuers').set({ embedded_endorsements: json }).where('id', '=', id).execute()
}

/** Locks the issuer row for the rest of the transaction (serialises key rotations of one issuer). */
export async function lockIssuer(db: Db, id: string): Promise<IssuerRow | undefined> {
  return db.selectFrom('issuers').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
}

export async function listIssuers(db: Db, filter: { onlyId?: string; after?: string; limit: number }): Promise<IssuerRow[]> {
  let query = db.selectFrom('issuers').selectAll().orderBy('id').limit(filter.limit)
  if (filter.onlyId !== undefined) query = query.where('id', '=', filter.onlyId)
  if (filter.after !== undefined) query = query.where('id', '>', filter.after)
  return query.execute()
}

export async function updateIssuer(db: Db, id: string, changes: IssuerChanges): Promise<IssuerRow | undefined> {
  return db.updateTable('issuers').set({ ...changes, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirst()
}

export async function insertIssuerKey(db: Db, row: NewIssuerKeyRow): Promise<IssuerKeyRow> {
  return db.insertInto('issuer_keys').values(row).returningAll().executeTakeFirstOrThrow()
}

/** One key of an issuer's DID document: its public half only. */
export type PublicKeyRow = Pick<IssuerKeyRow, 'verification_method' | 'public_key_multibase' | 'public_jwk'>

/**
 * What an issuer's DID document publishes, in one query (every verification of its credentials reads it): its DID and
 * its keys' public halves, in the order listIssuerKeys gives, never the sealed private keys.
 */
export async function findPublicKeys(db: Db, issuerId: string): Promise<{ did: string; keys: PublicKeyRow[] } | undefined> {
  const rows = await db.selectFrom('issuers').leftJoin('issuer_keys', 'issuer_keys.issuer_id', 'issuers.id')
    .select(['issuers.did', 'issuer_keys.verification_method', 'issuer_keys.public_key_multibase', 'issuer_keys.public_jwk'])
    .where('issuers.id', '=', issuerId)
    .orderBy('issuer_keys.status', 'asc').orderBy('issuer_keys.id', 'desc').execute()
  if (rows.length === 0) return undefined
  const keys = rows.filter((row): row is typeof row & PublicKeyRow => row.verification_method !== null)
  return { did: rows[0]!.did, keys }
}

/** Keys of an issuer: the active one first, then retired ones newest first. */
export async function listIssuerKeys(db: Db, issuerId: string): Promise<IssuerKeyRow[]> {
  return listKeysOfIssuers(db, [issuerId])
}

/** Keys of several issuers in one query, each issuer's in the order listIssuerKeys gives. */
export async function listKeysOfIssuers(db: Db, issuerIds: string[]): Promise<IssuerKeyRow[]> {
  if (issuerIds.length === 0) return []
  return db.selectFrom('issuer_keys').selectAll().where('issuer_id', 'in', issuerIds)
    .orderBy('status', 'asc').orderBy('id', 'desc').execute()
}

export async function findActiveIssuerKey(db: Db, issuerId: string, algorithm: IssuerKeyRow['algorithm']): Promise<IssuerKeyRow | undefined> {
  return db.selectFrom('issuer_keys').selectAll()
    .where('issuer_id', '=', issuerId).where('algorithm', '=', algorithm).where('status', '=', 'active')
    .executeTakeFirst()
}

/** Retires the issuer's active key of that algorithm; returns the ids it retired. */
export async function retireIssuerKeys(db: Db, issuerId: string, algorithm: IssuerKeyRow['algorithm']): Promise<string[]> {
  const rows = await db.updateTable('issuer_keys').set({ status: 'retired', retired_at: new Date() })
    .where('issuer_id', '=', issuerId).where('algorithm', '=', algorithm).where('status', '=', 'active')
    .returning('id').execute()
  return rows.map((row) => row.id)
}

export async function findIssuerByDid(db: Db, did: string): Promise<IssuerRow | undefined> {
  return db.selectFrom('issuers').selectAll().where('did', '=', did).executeTakeFirst()
}
