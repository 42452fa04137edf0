// HTTP for recipients: the people an issuer has awarded, listed under /v1.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import { callerOf } from '../http/auth.js'
import { BEARER, issuerParams, pageOf, pageQuery, problemResponses } from '../http/schemas.js'
import { listRecipients } from './service.js'

const recipient = z.object({
  id: z.uuid(),
  issuerId: z.uuid(),
  identityType: z.enum(['email', 'did', 'url']),
  identity: z.string().describe('the email address (lower-cased), DID or URL; credentials carry an email only as a salted hash'),
  name: z.string().nullable(),
  externalId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string()
}).meta({ id: 'RecipientRecord' })

const listQuery = pageQuery.extend({
  email: z.email().optional(),
  externalId: z.string().min(1).max(200).optional().describe('the LMS\'s id for the learner')
})

export function adminRecipientRoutes(ctx: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/issuers/:issuerId/recipients', {
      schema: {
        tags: ['Recipients'],
        security: BEARER,
        summary: 'List the people an issuer has awarded (one row per person, however many badges)',
        params: issuerParams,
        querystring: listQuery,
        response: { 200: pageOf(recipient), ...problemResponses }
      }
    }, async (request) => listRecipients(ctx, callerOf(request), request.params.issuerId, request.query))
  }
}
