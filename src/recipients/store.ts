// SQL for recipients: one row per person per issuer, found again by their identity.
import type { Db, RecipientIdentityType, RecipientRow } from '../db/schema.js'

export interface RecipientIdentity {
  identityType: RecipientIdentityType
  identity: string
  name: string | null
  externalId: string | null
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
