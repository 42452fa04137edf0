// GET /metrics: the Prometheus exposition text, for the admin token only unless LANYARD_METRICS_PUBLIC opens it.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Db } from '../db/schema.js'
import { bearerAuthentication, principalOf, requireAdmin } from '../http/auth.js'
import type { Metrics } from './metrics.js'

export interface MetricsRouteOptions {
  db: Db
  adminTokenHash: string
  /** LANYARD_METRICS_PUBLIC: no token asked, for a Prometheus on a private network. */
  public: boolean
}

/** The admin token only: the figures span every issuer, so an issuer's API key may not read them (403). */
function adminOnly(db: Db, adminTokenHash: string) {
  const authenticate = bearerAuthentication(db, adminTokenHash)
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await authenticate(request, reply)
    requireAdmin(principalOf(request))
  }
}

export function metricsRoutes(metrics: Metrics, options: MetricsRouteOptions): FastifyPluginAsyncZod {
  return async (app) => {
    // Hidden from the OpenAPI document: it is the Prometheus text format, not a JSON API (CONTRACT.md, Operations).
    app.get('/metrics', {
      schema: { hide: true },
      ...(!options.public && { onRequest: adminOnly(options.db, options.adminTokenHash) })
    }, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()))
  }
}
