// SQL for the audit log: append-only events saying who did what, when.
import type { AuditEventRow, Db } from '../db/schema.js'

export interface NewAuditEvent {
  actor: string
  action: string
  issuerId: string | null
  targetType: string
  targetId: string
  details: Record<string, unknown>
  requestId: string
}

export async function recordAuditEvent(db: Db, event: NewAuditEvent): Promise<void> {
  await recordAuditEvents(db, [event])
}

/** Several events in one statement (a batch issue writes one per credential). */
export async function recordAuditEvents(db: Db, events: NewAuditEvent[]): Promise<void> {
  await db.insertInto('audit_events').values(events.map((event) => ({
    actor: event.actor,
    action: event.action,
    issuer_id: event.issuerId,
    target_type: event.targetType,
    target_id: event.targetId,
    details: JSON.stringify(event.details),
    request_id: event.requestId
  }))).execute()
}

export async function listAuditEvents(
  db: Db,
  filter: { issuerId?: string; before?: string; limit: number }
): Promise<AuditEventRow[]> {
  let query = db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(filter.limit)
  if (filter.issuerId !== undefined) query = query.where('issuer_id', '=', filter.issuerId)
  if (filter.before !== undefined) query = query.where('id', '<', filter.before)
  return query.execute()
}
