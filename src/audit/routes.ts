// HTTP for reading the audit log: the admin sees every event, an API key its own issuer's.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import type { AuditEventRow } from '../db/schema.js'
import { assertIssuerAccess, callerOf, issuerScope } from '../http/auth.js'
import { BEARER, pageOf, problemResponses } from '../http/schemas.js'
import { pageFrom } from '../pagination.js'
import { listAuditEvents } from './store.js'

const auditEvent = z.object({
  id: z.string(),
  occurredAt: z.string(),
  actor: z.string().describe('"admin" or "api-key:<id>"'),
  action: z.string(),
  issuerId: z.string().nullable(),
  targetType: z.string(),
  targetId: z.string(),
  details: z.record(z.string(), z.unknown()),
  requestId: z.string().nullable()
}).meta({ id: 'AuditEvent' })

const auditQuery = z.object({
  issuerId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^\d{1,19}$/, 'expected the nextCursor of the previous page').optional()
})

function auditEventView(row: AuditEventRow) {
  return {
    id: String(row.id),
    occurredAt: row.occurred_at.toISOString(),
    actor: row.actor,
    action: row.action,
    issuerId: row.issuer_id,
    targetType: row.target_type,
    targetId: row.target_id,
    details: row.details,
    requestId: row.request_id
  }
}

export function auditRoutes(ctx: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/audit-events', {
      schema: {
        tags: ['Audit'],
        security: BEARER,
        summary: 'Who did what, when: newest first',
        querystring: auditQuery,
        response: { 200: pageOf(auditEvent), ...problemResponses }
      }
    }, async (request) => {
      const { principal } = callerOf(request)
      const { issuerId, limit, cursor } = request.query
      if (issuerId !== undefined) assertIssuerAccess(principal, issuerId, 'issuer')
      const rows = await listAuditEvents(ctx.db, { issuerId: issuerId ?? issuerScope(principal), before: cursor, limit: limit + 1 })
      return pageFrom(rows, limit, auditEventView, (event) => event.id)
    })
  }
}
