// HTTP for API keys (admin only).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import { callerOf } from '../http/auth.js'
import { BEARER, idParams, pageOf, pageQuery, problemResponses } from '../http/schemas.js'
import { createApiKey, listApiKeys, revokeApiKey } from './service.js'

const apiKey = z.object({
  id: z.uuid(),
  issuerId: z.uuid(),
  name: z.string().nullable(),
  prefix: z.string().describe('the non-secret start of the key, to recognise it'),
  createdAt: z.string(),
  revokedAt: z.string().nullable()
}).meta({ id: 'ApiKey' })

const createdApiKey = apiKey.extend({
  key: z.string().describe('the bearer secret: shown this once, stored only as a hash')
}).meta({ id: 'CreatedApiKey' })

const apiKeyInput = z.strictObject({
  issuerId: z.uuid(),
  name: z.string().trim().min(1).max(200).optional()
}).meta({ id: 'NewApiKey' })

export function apiKeyRoutes(ctx: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    const common = { tags: ['API keys'], security: BEARER }
    app.post('/api-keys', {
      schema: { ...common, summary: 'Create an API key for one issuer (admin)', body: apiKeyInput, response: { 201: createdApiKey, ...problemResponses } }
    }, async (request, reply) => reply.code(201).send(await createApiKey(ctx, callerOf(request), request.body)))

    app.get('/api-keys', {
      schema: {
        ...common,
        summary: 'List API keys (admin)',
        querystring: pageQuery.extend({ issuerId: z.uuid().optional() }),
        response: { 200: pageOf(apiKey), ...problemResponses }
      }
    }, async (request) => listApiKeys(ctx, callerOf(request), request.query))

    app.delete('/api-keys/:id', {
      schema: { ...common, summary: 'Revoke an API key (admin); repeating it is harmless', params: idParams, response: { 200: apiKey, ...problemResponses } }
    }, async (request) => revokeApiKey(ctx, callerOf(request), request.params.id))
  }
}
