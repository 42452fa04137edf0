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
