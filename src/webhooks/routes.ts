// HTTP for webhooks: subscriptions, their deliveries and each one's attempts, and a manual retry.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import { EVENT_TYPES } from '../events/types.js'
import { callerOf } from '../http/auth.js'
import type { FetchPolicy } from '../http/guarded-fetch.js'
import { BEARER, httpUrl, idParams, pageOf, pageQuery, problemResponses } from '../http/schemas.js'
import { EXCERPT_BYTES } from './deliver.js'
import { createWebhook, deleteWebhook, getWebhook, listAttempts, listDeliveries, listWebhooks, retryDelivery, updateWebhook } from './service.js'

const eventList = z.array(z.enum(EVENT_TYPES)).min(1).max(EVENT_TYPES.length * 2).describe('the event types to receive')
const description = z.string().trim().min(1).max(500)

const webhook = z.object({
  id: z.uuid(),
  issuerId: z.uuid().nullable().describe('whose events it receives; null: every issuer\'s (made with the admin token)'),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string()
}).meta({ id: 'Webhook' })

const createdWebhook = webhook.extend({
  secret: z.string().describe('whsec_<base64>: the signing secret (Standard Webhooks), shown this once')
}).meta({ id: 'CreatedWebhook' })

const webhookInput = z.strictObject({
  url: httpUrl.describe('where deliveries are POSTed: https, and public unless LANYARD_ALLOW_PRIVATE_FETCH=true'),
  events: eventList,
  description: description.optional(),
  issuerId: z.uuid().optional().describe('admin only: receive this issuer\'s events only (default: every issuer\'s)')
}).meta({ id: 'NewWebhook' })

const webhookPatch = z.strictObject({
  url: httpUrl.optional(),
  events: eventList.optional(),
  description: description.nullable().optional()
}).meta({ id: 'WebhookPatch' })

const delivery = z.object({
  id: z.uuid(),
  eventId: z.uuid().describe('also the webhook-id header: the same on every retry, for the receiver to de-duplicate by'),
  type: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastStatusCode: z.number().int().optional(),
  lastError: z.string().optional().describe('why the last attempt failed, with the start of the reply body at most'),
  nextAttemptAt: z.string().optional()
}).meta({ id: 'WebhookDelivery' })

const deliveryParams = idParams.extend({ deliveryId: z.uuid({ message: 'expected a UUID' }) })

const deliveryAttempt = z.object({
  attempt: z.number().int().describe('1 for the first; a manual retry adds one more'),
  startedAt: z.string(),
  durationMs: z.number().int().describe('until the answer (or the failure)'),
  statusCode: z.number().int().optional().describe('absent when no answer came (refused address, timeout, network)'),
  error: z.string().optional().describe('why the attempt failed; absent when it delivered'),
  responseExcerpt: z.string().optional().describe(`the start of the reply body, its first ${EXCERPT_BYTES} bytes at most; absent when empty`)
}).meta({ id: 'WebhookDeliveryAttempt' })

const attemptsQuery = pageQuery.extend({
  cursor: z.string().regex(/^\d{1,9}$/, 'expected the nextCursor of the previous page').optional().describe('the nextCursor of the previous page')
})

export function webhookRoutes(ctx: ServiceContext, policy: FetchPolicy): FastifyPluginAsyncZod {
  return async (app) => {
    const common = { tags: ['Webhooks'], security: BEARER }
    app.post('/webhooks', {
      schema: { ...common, summary: 'Subscribe a URL to events (signed per Standard Webhooks)', body: webhookInput, response: { 201: createdWebhook, ...problemResponses } }
    }, async (request, reply) => reply.code(201).send(await createWebhook(ctx, policy, callerOf(request), request.body)))

    app.get('/webhooks', {
      schema: { ...common, summary: 'List webhooks', querystring: pageQuery, response: { 200: pageOf(webhook), ...problemResponses } }
    }, async (request) => listWebhooks(ctx, callerOf(request), request.query))

    app.get('/webhooks/:id', {
      schema: { ...common, summary: 'Get a webhook', params: idParams, response: { 200: webhook, ...problemResponses } }
    }, async (request) => getWebhook(ctx, callerOf(request), request.params.id))

    app.patch('/webhooks/:id', {
      schema: { ...common, summary: 'Change a webhook\'s URL, events or description', params: idParams, body: webhookPatch, response: { 200: webhook, ...problemResponses } }
    }, async (request) => updateWebhook(ctx, policy, callerOf(request), request.params.id, request.body))

    app.delete('/webhooks/:id', {
      schema: { ...common, summary: 'Delete a webhook and its delivery log', params: idParams, response: { 204: z.null().describe('deleted'), ...problemResponses } }
    }, async (request, reply) => {
      await deleteWebhook(ctx, callerOf(request), request.params.id)
      return reply.code(204).send(null)
    })

    app.get('/webhooks/:id/deliveries', {
      schema: {
        ...common, summary: 'A webhook\'s deliveries, newest first', params: idParams, querystring: pageQuery,
        response: { 200: pageOf(delivery), ...problemResponses }
      }
    }, async (request) => listDeliveries(ctx, callerOf(request), request.params.id, request.query))

    app.get('/webhooks/:id/deliveries/:deliveryId/attempts', {
      schema: {
        ...common, summary: 'A delivery\'s attempts, first to last', params: deliveryParams, querystring: attemptsQuery,
        response: { 200: pageOf(deliveryAttempt), ...problemResponses }
      }
    }, async (request) => {
      const { limit, cursor } = request.query
      return listAttempts(ctx, callerOf(request), request.params.id, request.params.deliveryId, { limit, ...(cursor !== undefined && { cursor: Number(cursor) }) })
    })

    app.post('/webhooks/:id/deliveries/:deliveryId/retry', {
      schema: {
        ...common, summary: 'Send a delivery again now (one more attempt, whatever its state)', params: deliveryParams,
        response: { 202: z.null().describe('queued'), ...problemResponses }
      }
    }, async (request, reply) => {
      await retryDelivery(ctx, callerOf(request), request.params.id, request.params.deliveryId)
      return reply.code(202).send(null)
    })
  }
}
