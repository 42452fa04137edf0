// SQL for the outbox: events are appended in the caller's transaction, so they commit (or vanish) with the change.
import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../db/schema.js'
import type { EventType, NewEvent } from './types.js'

export async function appendEvent(db: Db, event: NewEvent): Promise<void> {
  await appendEvents(db, [event])
}

/** Several events in one statement (a bulk revocation appends one per credential). */
export async function appendEvents(db: Db, events: NewEvent[]): Promise<void> {
  await db.insertInto('events')
    .values(events.map((event) => ({ type: event.type, issuer_id: event.issuerId, data: JSON.stringify(event.data) })))
    .execute()
}

/**
 * For a writer that stores a change in one statement of CTEs (the issuing group insert): the CTE body appending an
 * event of `type` for each row of the CTE `source`, which has the columns issuer_id and event (the data, jsonb).
 * Being part of the same statement, the events exist exactly when the rows do.
 */
export function appendEventsFrom(source: string, type: EventType): RawBuilder<unknown> {
  return sql`insert into events (type, issuer_id, data) select ${sql.lit(type)}, issuer_id, event from ${sql.table(source)}`
}

/** An event as a subscriber reads it, with its place in commit order. */
export interface OutboxEvent {
  id: string
  /** The appending transaction's id (xid8 as text). */
  xid: string
  type: string
  issuer_id: string | null
  data: Record<string, unknown>
  occurred_at: Date
}

/** Where a subscriber is, while it holds the lease on its cursor. */
export interface CursorLease {
  consumer: string
  token: string
  xid: string
  id: string
}

/**
 * Takes the lease of `consumer`'s cursor for `leaseMs` (undefined while another instance holds it): one instance reads a
 * consumer's events at a time, and a crashed one's lease runs out. Times are the database's, so instances agree.
 */
export async function leaseCursor(db: Db, consumer: string, token: string, leaseMs: number): Promise<CursorLease | undefined> {
  const { rows } = await sql<{ xid: string; id: string }>`
    update event_cursors set lease_token = ${token}, leased_until = now() + make_interval(secs => ${leaseMs / 1000})
    where consumer = ${consumer} and (leased_until is null or leased_until < now())
    returning last_xid::text as xid, last_id as id`.execute(db)
  const row = rows[0]
  return row === undefined ? undefined : { consumer, token, ...row }
}

/**
 * Up to `limit` events after the cursor, in commit order: only those of transactions older than every transaction still
 * running (the snapshot's xmin), so an event committed later can never land behind the cursor.
 */
export async function eventsAfter(db: Db, cursor: { xid: string; id: string }, limit: number): Promise<OutboxEvent[]> {
  const { rows } = await sql<OutboxEvent>`
    select id, xid::text as xid, type, issuer_id, data, occurred_at from events
    where (xid, id) > (${cursor.xid}::xid8, ${cursor.id}::uuid) and xid < pg_snapshot_xmin(pg_current_snapshot())
    order by xid, id limit ${limit}`.execute(db)
  return rows
}

/** Moves the cursor to `to` (when given) and gives up the lease, if this lease still holds it. */
export async function releaseCursor(db: Db, lease: CursorLease, to?: { xid: string; id: string }): Promise<void> {
  await db.updateTable('event_cursors')
    .set({ lease_token: null, leased_until: null, ...(to !== undefined && { last_xid: sql<string>`${to.xid}::xid8`, last_id: to.id }) })
    .where('consumer', '=', lease.consumer).where('lease_token', '=', lease.token).execute()
}

/** Whether `consumer` has events to read: one read-only statement, so an idle instance's polls write nothing. */
export async function hasEventsAfterCursor(db: Db, consumer: string): Promise<boolean> {
  const { rows } = await sql<{ pending: boolean }>`
    select exists (
      select from event_cursors c cross join lateral (
        -- Ordered and limited, so the plan is a step into the (xid, id) index, never a scan of the outbox.
        select from events e where (e.xid, e.id) > (c.last_xid, c.last_id) and e.xid < pg_snapshot_xmin(pg_current_snapshot())
        order by e.xid, e.id limit 1
      ) next
      where c.consumer = ${consumer}
    ) as pending`.execute(db)
  return rows[0]!.pending
}
