// SQL for recipients: one row per person per issuer, found again by their identity.
import { sql } from 'kysely'
import type { Db, RecipientIdentityType, RecipientRow } from '../db/schema.js'

export interface RecipientIdentity {
  identityType: RecipientIdentityType
  identity: string
  name: string | null
  externalId: string | null
}

/**
 * Inserts the recipients, or finds them when the issuer already has them; a name or external id given now replaces the stored one.
 * The caller passes at least one, and each identity once (PostgreSQL refuses to upsert one row twice in a statement).
 */
export async function upsertRecipients(db: Db, issuerId: string, recipients: (RecipientIdentity & { id: string })[]): Promise<RecipientRow[]> {
  return db.insertInto('recipients')
    .values(recipients.map((r) => ({
      id: r.id, issuer_id: issuerId, identity_type: r.identityType, identity: r.identity, name: r.name, external_id: r.externalId
    })))
    .onConflict((oc) => oc.columns(['issuer_id', 'identity_type', 'identity']).doUpdateSet({
      name: sql`coalesce(excluded.name, recipients.name)`,
      external_id: sql`coalesce(excluded.external_id, recipients.external_id)`,
      updated_at: sql`now()`
    }))
    .returningAll()
    .execute()
}

export interface RecipientFilter {
  issuerId: string
  /** A lower-cased email address. */
  email?: string
  externalId?: string
  after?: string
  limit: number
}

export async function listRecipients(db: Db, filter: RecipientFilter): Promise<RecipientRow[]> {
  let query = db.selectFrom('recipients').selectAll().where('issuer_id', '=', filter.issuerId).orderBy('id').limit(filter.limit)
  if (filter.email !== undefined) query = query.where('identity_type', '=', 'email').where('identity', '=', filter.email)
  if (filter.externalId !== undefined) query = query.where('external_id', '=', filter.externalId)
  if (filter.after !== undefined) query = query.where('id', '>', filter.after)
  return query.execute()
}
