// Recipients as the issuer's admin API shows them: the people an issuer has awarded, found by email or the LMS's id.
import type { Caller, ServiceContext } from '../context.js'
import type { RecipientIdentityType, RecipientRow } from '../db/schema.js'
import { visibleIssuer } from '../issuers/service.js'
import { pageFrom, type Page } from '../pagination.js'
import { listRecipients as listRecipientRows } from './store.js'

export interface RecipientView {
  id: string
  issuerId: string
  identityType: RecipientIdentityType
  /** The email address, DID or URL (the admin API only: credentials carry an email only as a salted hash). */
  identity: string
  name: string | null
  externalId: string | null
  createdAt: string
  updatedAt: string
}

function recipientView(row: RecipientRow): RecipientView {
  return {
    id: row.id,
    issuerId: row.issuer_id,
    identityType: row.identity_type,
    identity: row.identity,
    name: row.name,
    externalId: row.external_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  }
}

export async function listRecipients(
  ctx: ServiceContext, caller: Caller, issuerId: string, query: { email?: string; externalId?: string; limit: number; cursor?: string }
): Promise<Page<RecipientView>> {
  await visibleIssuer(ctx, caller, issuerId)
  const rows = await listRecipientRows(ctx.db, {
    issuerId, email: query.email?.trim().toLowerCase(), externalId: query.externalId, after: query.cursor, limit: query.limit + 1
  })
  return pageFrom(rows, query.limit, recipientView, (item) => item.id)
}
