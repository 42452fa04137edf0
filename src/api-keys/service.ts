// API key rules: the admin creates a key for one issuer, sees it once, and can revoke it.
import { v7 as uuidv7 } from 'uuid'
import { recordAuditEvent } from '../audit/store.js'
import type { Caller, ServiceContext } from '../context.js'
import type { ApiKeyRow } from '../db/schema.js'
import { actorOf, requireAdmin } from '../http/auth.js'
import { AppError, notFound } from '../http/errors.js'
import { findIssuer } from '../issuers/store.js'
import { pageFrom, type Page } from '../pagination.js'
import { findApiKey, insertApiKey, listApiKeys as listApiKeyRows, revokeApiKey as revokeApiKeyRow } from './store.js'
import { newApiKeySecret } from './tokens.js'

export interface ApiKeyView {
  id: string
  issuerId: string
  name: string | null
  prefix: string
  createdAt: string
  revokedAt: string | null
}

const API_KEY = 'api-key'

function apiKeyView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    issuerId: row.issuer_id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null
  }
}

export async function createApiKey(
  ctx: ServiceContext, caller: Caller, input: { issuerId: string; name?: string }
): Promise<ApiKeyView & { key: string }> {
  requireAdmin(caller.principal)
  if (await findIssuer(ctx.db, input.issuerId) === undefined) {
    throw new AppError('unknown-issuer', 422, 'issuerId names no issuer', [{ pointer: '/issuerId', message: 'no such issuer', in: 'body' }])
  }
  const secret = newApiKeySecret()
  return ctx.db.transaction().execute(async (trx) => {
    const row = await insertApiKey(trx, {
      id: uuidv7(), issuer_id: input.issuerId, name: input.name ?? null, prefix: secret.prefix, key_hash: secret.hash
    })
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'api-key.created', issuerId: input.issuerId, targetType: API_KEY, targetId: row.id,
      details: { prefix: row.prefix, name: row.name }, requestId: caller.requestId
    })
    return { ...apiKeyView(row), key: secret.key }
  })
}

export async function listApiKeys(
  ctx: ServiceContext, caller: Caller, query: { issuerId?: string; limit: number; cursor?: string }
): Promise<Page<ApiKeyView>> {
  requireAdmin(caller.principal)
  const rows = await listApiKeyRows(ctx.db, { issuerId: query.issuerId, after: query.cursor, limit: query.limit + 1 })
  return pageFrom(rows, query.limit, apiKeyView, (item) => item.id)
}

/** Revoking is final and repeatable: a second call answers the same state and writes no second event. */
export async function revokeApiKey(ctx: ServiceContext, caller: Caller, id: string): Promise<ApiKeyView> {
  requireAdmin(caller.principal)
  return ctx.db.transaction().execute(async (trx) => {
    const before = await findApiKey(trx, id)
    if (before === undefined) throw notFound(API_KEY)
    if (before.revoked_at !== null) return apiKeyView(before)
    const row = (await revokeApiKeyRow(trx, id))!
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'api-key.revoked', issuerId: row.issuer_id, targetType: API_KEY, targetId: id,
      details: { prefix: row.prefix }, requestId: caller.requestId
    })
    return apiKeyView(row)
  })
}
