// SQL for webhooks: subscriptions, the fan-out of events into deliveries, the claiming of due deliveries, and their attempts.
import { sql, type Insertable, type Updateable } from 'kysely'
import type { Db, DeliveryStatus, WebhookDeliveryAttemptRow, WebhookDeliveryRow, WebhookRow, WebhooksTable } from '../db/schema.js'

export async function insertWebhook(db: Db, row: Insertable<WebhooksTable>): Promise<WebhookRow> {
  return db.insertInto('webhooks').values(row).returningAll().executeTakeFirstOrThrow()
}

export async function findWebhook(db: Db, id: string): Promise<WebhookRow | undefined> {
  return db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function listWebhooks(db: Db, filter: { issuerId?: string; after?: string; limit: number }): Promise<WebhookRow[]> {
  let query = db.selectFrom('webhooks').selectAll().orderBy('id').limit(filter.limit)
  if (filter.issuerId !== undefined) query = query.where('issuer_id', '=', filter.issuerId)
  if (filter.after !== undefined) query = query.where('id', '>', filter.after)
  return query.execute()
}

export async function updateWebhook(db: Db, id: string, changes: Updateable<WebhooksTable>): Promise<WebhookRow> {
  return db.updateTable('webhooks').set({ ...changes, updated_at: sql`now()` }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
}

/** Deletes the webhook and its deliveries (the foreign key cascades). */
export async function deleteWebhook(db: Db, id: string): Promise<void> {
  await db.deleteFrom('webhooks').where('id', '=', id).execute()
}

export type DeliveryListRow = WebhookDeliveryRow & { type: string }

/** A webhook's deliveries, newest first. */
export async function listDeliveries(db: Db, filter: { webhookId: string; before?: string; limit: number }): Promise<DeliveryListRow[]> {
  let query = db.selectFrom('webhook_deliveries').innerJoin('events', 'events.id', 'webhook_deliveries.event_id')
    .selectAll('webhook_deliveries').select('events.type')
    .where('webhook_deliveries.webhook_id', '=', filter.webhookId).orderBy('webhook_deliveries.id', 'desc').limit(filter.limit)
  if (filter.before !== undefined) query = query.where('webhook_deliveries.id', '<', filter.before)
  return query.execute()
}

/** Makes a delivery due now, whatever its state (a manual retry is one more attempt); false when there is no such delivery. */
export async function retryDelivery(db: Db, webhookId: string, id: string): Promise<boolean> {
  const row = await db.updateTable('webhook_deliveries').set({ status: 'pending', next_attempt_at: sql`now()` })
    .where('id', '=', id).where('webhook_id', '=', webhookId).returning('id').executeTakeFirst()
  return row !== undefined
}

/** An event not yet fanned out, with a webhook that receives it (or none). */
export interface FanOutPair {
  eventId: string
  webhookId: string | null
}

/**
 * Locks up to `limit` events not yet fanned out (skipping those another dispatcher holds), paired with each webhook
 * that receives them: one subscribed to the type, of the event's issuer (or the admin's, of every issuer), and made
 * before the event (a new webhook does not receive the past).
 */
export async function lockUndispatched(db: Db, limit: number): Promise<FanOutPair[]> {
  const { rows } = await sql<FanOutPair>`
    with batch as (
      select id, type, issuer_id, occurred_at from events where dispatched_at is null
      order by occurred_at limit ${limit} for update skip locked
    )
    select batch.id as "eventId", webhooks.id as "webhookId" from batch
    left join webhooks on webhooks.events @> jsonb_build_array(batch.type)
      and (webhooks.issuer_id is null or webhooks.issuer_id = batch.issuer_id) and webhooks.created_at <= batch.occurred_at`.execute(db)
  return rows
}

/** The deliveries of locked events, due now, and the events marked fanned out; a repeat adds nothing (unique pair). */
export async function fanOut(db: Db, eventIds: string[], deliveries: { id: string; event_id: string; webhook_id: string }[]): Promise<void> {
  if (deliveries.length > 0) {
    await db.insertInto('webhook_deliveries').values(deliveries.map((d) => ({ ...d, next_attempt_at: sql<Date>`now()` })))
      .onConflict((oc) => oc.columns(['event_id', 'webhook_id']).doNothing()).execute()
  }
  await db.updateTable('events').set({ dispatched_at: sql`now()` }).where('id', 'in', eventIds).execute()
}

/** What one attempt needs: the delivery, its webhook's address and sealed secret, and the event. */
export interface ClaimedDelivery {
  id: string
  /** This attempt's number: its outcome is recorded only while the delivery still has it (see recordOutcome). */
  attempts: number
  webhook_id: string
  url: string
  sealed_secret: string
  master_key_id: string
  event_id: string
  type: string
  data: Record<string, unknown>
  occurred_at: Date
}

/**
 * Takes up to `limit` due deliveries for this dispatcher: counts the attempt and leases each for `leaseMs`, within which
 * no other dispatcher takes it (SKIP LOCKED makes concurrent claims pass each other by). A dispatcher that dies mid-attempt
 * leaves the lease to run out, and the delivery is tried again.
 */
export async function claimDue(db: Db, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const { rows } = await sql<ClaimedDelivery>`
    with due as (
      select id from webhook_deliveries
      where status = 'pending' and next_attempt_at <= now() and (locked_until is null or locked_until <= now())
      order by next_attempt_at limit ${limit} for update skip locked
    ), claimed as (
      update webhook_deliveries set attempts = attempts + 1, last_attempt_at = now(),
        locked_until = now() + make_interval(secs => ${leaseMs / 1000})
      from due where webhook_deliveries.id = due.id
      returning webhook_deliveries.id, webhook_deliveries.attempts, webhook_deliveries.webhook_id, webhook_deliveries.event_id
    )
    select claimed.*, webhooks.url, webhooks.sealed_secret, webhooks.master_key_id, events.type, events.data, events.occurred_at
    from claimed join webhooks on webhooks.id = claimed.webhook_id join events on events.id = claimed.event_id`.execute(db)
  return rows
}

export interface AttemptOutcome {
  status: DeliveryStatus
  /** When the next attempt is due (pending), else null. */
  nextAttemptAt: Date | null
  /** Null when no answer came (refused address, timeout, network). */
  statusCode: number | null
  error: string | null
  /** The start of the reply body (null when there was none). */
  responseExcerpt: string | null
  startedAt: Date
  durationMs: number
}

/**
 * Records an attempt and, unless the delivery has been claimed again since (a lease ran out), its outcome on the delivery,
 * lifting the lease. The attempt is recorded either way (it was sent), once: a repeat of the same attempt adds nothing.
 */
export async function recordOutcome(db: Db, delivery: { id: string; attempts: number }, outcome: AttemptOutcome): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // Through a select, so a delivery deleted meanwhile (its webhook was) records nothing rather than break the foreign key.
    await sql`
      insert into webhook_delivery_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt)
      select id, ${delivery.attempts}, ${outcome.startedAt}, ${outcome.durationMs}, ${outcome.statusCode}, ${outcome.error}, ${outcome.responseExcerpt}
      from webhook_deliveries where id = ${delivery.id}
      on conflict (delivery_id, attempt) do nothing`.execute(trx)
    await trx.updateTable('webhook_deliveries')
      .set({
        status: outcome.status, next_attempt_at: outcome.nextAttemptAt, locked_until: null,
        last_status_code: outcome.statusCode, last_error: outcome.error
      })
      .where('id', '=', delivery.id).where('attempts', '=', delivery.attempts).execute()
  })
}

/** A delivery's attempts, first to last, after attempt `after`. */
export async function listAttempts(db: Db, filter: { deliveryId: string; after?: number; limit: number }): Promise<WebhookDeliveryAttemptRow[]> {
  let query = db.selectFrom('webhook_delivery_attempts').selectAll().where('delivery_id', '=', filter.deliveryId).orderBy('attempt').limit(filter.limit)
  if (filter.after !== undefined) query = query.where('attempt', '>', filter.after)
  return query.execute()
}

/** Whether the webhook has this delivery. */
export async function hasDelivery(db: Db, webhookId: string, id: string): Promise<boolean> {
  const row = await db.selectFrom('webhook_deliveries').select('id').where('id', '=', id).where('webhook_id', '=', webhookId).executeTakeFirst()
  return row !== undefined
}
