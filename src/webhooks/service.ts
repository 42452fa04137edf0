// Webhook subscriptions and their delivery log: an API key's webhooks are its issuer's, the admin's may be any issuer's or all.
import { v7 as uuidv7 } from 'uuid'
import { recordAuditEvent } from '../audit/store.js'
import type { Caller, ServiceContext } from '../context.js'
import type { DeliveryStatus, WebhookDeliveryAttemptRow, WebhookRow } from '../db/schema.js'
import type { EventType } from '../events/types.js'
import { actorOf, issuerScope } from '../http/auth.js'
import { AppError, notFound } from '../http/errors.js'
import { assertReachable, type FetchPolicy } from '../http/guarded-fetch.js'
import { findIssuer } from '../issuers/store.js'
import { pageFrom, type Page } from '../pagination.js'
import { newWebhookSecret, sealWebhookSecret } from './secrets.js'
import {
  deleteWebhook as deleteWebhookRow, findWebhook, hasDelivery, insertWebhook, listAttempts as listAttemptRows, listDeliveries as listDeliveryRows,
  listWebhooks as listWebhookRows, retryDelivery as retryDeliveryRow, updateWebhook as updateWebhookRow, type DeliveryListRow
} from './store.js'

export interface WebhookView {
  id: string
  issuerId: string | null
  url: string
  events: string[]
  description: string | null
  createdAt: string
  updatedAt: string
}

export interface WebhookInput {
  url: string
  events: EventType[]
  description?: string
  issuerId?: string
}

export interface WebhookPatch {
  url?: string
  events?: EventType[]
  description?: string | null
}

export interface DeliveryView {
  id: string
  eventId: string
  type: string
  status: DeliveryStatus
  attempts: number
  lastStatusCode?: number
  lastError?: string
  nextAttemptAt?: string
}

export interface AttemptView {
  attempt: number
  startedAt: string
  durationMs: number
  statusCode?: number
  error?: string
  responseExcerpt?: string
}

const WEBHOOK = 'webhook'

function webhookView(row: WebhookRow): WebhookView {
  return {
    id: row.id, issuerId: row.issuer_id, url: row.url, events: row.events, description: row.description,
    createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString()
  }
}

function deliveryView(row: DeliveryListRow): DeliveryView {
  return {
    id: row.id, eventId: row.event_id, type: row.type, status: row.status, attempts: row.attempts,
    ...(row.last_status_code !== null && { lastStatusCode: row.last_status_code }),
    ...(row.last_error !== null && { lastError: row.last_error }),
    ...(row.next_attempt_at !== null && row.status === 'pending' && { nextAttemptAt: row.next_attempt_at.toISOString() })
  }
}

function attemptView(row: WebhookDeliveryAttemptRow): AttemptView {
  return {
    attempt: row.attempt, startedAt: row.started_at.toISOString(), durationMs: row.duration_ms,
    ...(row.status_code !== null && { statusCode: row.status_code }),
    ...(row.error !== null && { error: row.error }),
    ...(row.response_excerpt !== null && { responseExcerpt: row.response_excerpt })
  }
}

/** Refuses, naming the field, a URL the dispatcher would not be allowed to reach. */
async function checkUrl(policy: FetchPolicy, url: string): Promise<void> {
  try {
    await assertReachable(url, policy)
  } catch (error) {
    const message = (error as Error).message
    throw new AppError('webhook-url-refused', 422, message, [{ pointer: '/url', message, in: 'body' }])
  }
}

/** The issuer a new webhook belongs to: an API key's own; for the admin, the one named (which must exist) or none (all). */
async function ownerOf(ctx: ServiceContext, caller: Caller, issuerId: string | undefined): Promise<string | null> {
  const scope = issuerScope(caller.principal)
  if (scope !== undefined) {
    if (issuerId !== undefined && issuerId !== scope) {
      throw new AppError('admin-only', 403, 'an API key makes webhooks for its own issuer only; leave out issuerId',
        [{ pointer: '/issuerId', message: 'only the admin token may name another issuer', in: 'body' }])
    }
    return scope
  }
  if (issuerId === undefined) return null
  if (await findIssuer(ctx.db, issuerId) === undefined) {
    throw new AppError('unknown-issuer', 422, 'issuerId names no issuer', [{ pointer: '/issuerId', message: 'no such issuer', in: 'body' }])
  }
  return issuerId
}

export async function createWebhook(
  ctx: ServiceContext, policy: FetchPolicy, caller: Caller, input: WebhookInput
): Promise<WebhookView & { secret: string }> {
  const issuerId = await ownerOf(ctx, caller, input.issuerId)
  await checkUrl(policy, input.url)
  const id = uuidv7()
  const secret = newWebhookSecret()
  return ctx.db.transaction().execute(async (trx) => {
    const row = await insertWebhook(trx, {
      id, issuer_id: issuerId, url: input.url, events: JSON.stringify([...new Set(input.events)]), description: input.description ?? null,
      ...sealWebhookSecret(ctx.keyring, id, secret)
    })
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'webhook.created', issuerId, targetType: WEBHOOK, targetId: id,
      details: { events: row.events }, requestId: caller.requestId
    })
    return { ...webhookView(row), secret }
  })
}

/** The webhook, when the caller may see it; 404 for a missing one, another issuer's, and (to an API key) the admin's alike. */
async function visibleWebhook(ctx: ServiceContext, caller: Caller, id: string): Promise<WebhookRow> {
  const row = await findWebhook(ctx.db, id)
  if (row === undefined) throw notFound(WEBHOOK)
  const scope = issuerScope(caller.principal)
  if (scope !== undefined && row.issuer_id !== scope) throw notFound(WEBHOOK)
  return row
}

export async function getWebhook(ctx: ServiceContext, caller: Caller, id: string): Promise<WebhookView> {
  return webhookView(await visibleWebhook(ctx, caller, id))
}

export async function listWebhooks(ctx: ServiceContext, caller: Caller, query: { limit: number; cursor?: string }): Promise<Page<WebhookView>> {
  const rows = await listWebhookRows(ctx.db, { issuerId: issuerScope(caller.principal), after: query.cursor, limit: query.limit + 1 })
  return pageFrom(rows, query.limit, webhookView, (item) => item.id)
}

export async function updateWebhook(ctx: ServiceContext, policy: FetchPolicy, caller: Caller, id: string, patch: WebhookPatch): Promise<WebhookView> {
  await visibleWebhook(ctx, caller, id)
  if (patch.url !== undefined) await checkUrl(policy, patch.url)
  return ctx.db.transaction().execute(async (trx) => {
    const row = await updateWebhookRow(trx, id, {
      ...(patch.url !== undefined && { url: patch.url }),
      ...(patch.events !== undefined && { events: JSON.stringify([...new Set(patch.events)]) }),
      ...(patch.description !== undefined && { description: patch.description })
    })
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'webhook.updated', issuerId: row.issuer_id, targetType: WEBHOOK, targetId: id,
      details: { fields: Object.keys(patch) }, requestId: caller.requestId
    })
    return webhookView(row)
  })
}

export async function deleteWebhook(ctx: ServiceContext, caller: Caller, id: string): Promise<void> {
  const row = await visibleWebhook(ctx, caller, id)
  await ctx.db.transaction().execute(async (trx) => {
    await deleteWebhookRow(trx, id)
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'webhook.deleted', issuerId: row.issuer_id, targetType: WEBHOOK, targetId: id,
      details: {}, requestId: caller.requestId
    })
  })
}

export async function listDeliveries(
  ctx: ServiceContext, caller: Caller, webhookId: string, query: { limit: number; cursor?: string }
): Promise<Page<DeliveryView>> {
  await visibleWebhook(ctx, caller, webhookId)
  const rows = await listDeliveryRows(ctx.db, { webhookId, before: query.cursor, limit: query.limit + 1 })
  return pageFrom(rows, query.limit, deliveryView, (item) => item.id)
}

/** A delivery's attempts, first to last: the number after `cursor` pages on. */
export async function listAttempts(
  ctx: ServiceContext, caller: Caller, webhookId: string, deliveryId: string, query: { limit: number; cursor?: number }
): Promise<Page<AttemptView>> {
  await visibleWebhook(ctx, caller, webhookId)
  if (!await hasDelivery(ctx.db, webhookId, deliveryId)) throw notFound('delivery')
  const rows = await listAttemptRows(ctx.db, { deliveryId, after: query.cursor, limit: query.limit + 1 })
  return pageFrom(rows, query.limit, attemptView, (item) => String(item.attempt))
}

/** Sends the delivery again as soon as a dispatcher is free: one more attempt, whatever its state. */
export async function retryDelivery(ctx: ServiceContext, caller: Caller, webhookId: string, deliveryId: string): Promise<void> {
  await visibleWebhook(ctx, caller, webhookId)
  if (!await retryDeliveryRow(ctx.db, webhookId, deliveryId)) throw notFound('delivery')
}
