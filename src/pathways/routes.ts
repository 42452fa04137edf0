// HTTP for pathways (learning stacks): the admin API under /v1, and the public stack (JSON, or a page for people).
import accepts from 'accepts'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import { callerOf } from '../http/auth.js'
import { AppError } from '../http/errors.js'
import { BEARER, idParams, issuerParams, pageOf, pageQuery, problemResponses } from '../http/schemas.js'
import { jobView } from '../jobs/schemas.js'
import { pathwayPage } from '../pages/pathway-page.js'
import { requirementSchema, tooDeep, type EvaluatedNode } from './requirement.js'
import {
  createPathway, deletePathway, evaluatePathway, getPathway, listPathways, pathwayInvalid, pathwayProgress, publicPathway, updatePathway
} from './service.js'

const TAGS = ['Pathways']

const name = z.string().trim().min(1).max(200)
const description = z.string().trim().min(1).max(10_000)

const pathwayInput = z.strictObject({
  name,
  description: description.optional(),
  awardAchievementId: z.uuid().describe('the badge completing the stack earns: an achievement of this issuer'),
  requirement: requirementSchema
}).meta({ id: 'NewPathway' })

const pathwayPatch = z.strictObject({
  name: name.optional(),
  description: description.nullable().optional().describe('null removes it'),
  awardAchievementId: z.uuid().optional(),
  requirement: requirementSchema.optional().describe('replaces the tree; awards already made stay')
}).refine((patch) => Object.keys(patch).length > 0, {
  message: 'send at least one field to change',
  when: (payload) => payload.issues.length === 0
}).meta({ id: 'PathwayChanges', description: 'Fields to change' })

const pathway = z.object({
  id: z.uuid(),
  issuerId: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  awardAchievementId: z.uuid(),
  requirement: requirementSchema,
  url: z.string().describe('the public stack: JSON, or a page for text/html'),
  createdAt: z.string(),
  updatedAt: z.string()
}).meta({ id: 'Pathway' })

const progressNode: z.ZodType<EvaluatedNode> = z.object({
  achievementId: z.string().optional(),
  pathwayId: z.string().optional(),
  get all() { return z.array(progressNode).optional() },
  get any() { return z.array(progressNode).optional() },
  atLeast: z.number().int().optional(),
  get of() { return z.array(progressNode).optional() },
  satisfied: z.boolean(),
  credentialIds: z.array(z.uuid()).describe('the learner\'s credentials that satisfy this node (active, valid now); none while it is not satisfied')
}).meta({ id: 'RequirementProgress', description: 'A node of the requirement tree, as far as one learner has come' })

const progress = z.object({
  pathwayId: z.uuid(),
  complete: z.boolean(),
  award: z.object({ credentialId: z.uuid(), url: z.string() }).nullable().describe('the award credential, once issued'),
  requirement: progressNode
}).meta({ id: 'PathwayProgress' })

const progressQuery = z.object({
  recipientId: z.uuid().optional().describe('a recipient of your issuer (any identity: email, DID or URL)'),
  email: z.email().optional().describe('the learner\'s email address')
}).refine((query) => (query.recipientId === undefined) !== (query.email === undefined), {
  message: 'give recipientId or email (one of them)',
  when: (payload) => payload.issues.length === 0
})

const publicNode = z.looseObject({}).meta({
  id: 'PublicRequirement',
  description: 'The requirement tree with each achievement leaf carrying `achievement` (its OB 3.0 Achievement) and each pathway leaf `pathway` ({ id: its URL, name })'
})
const publicDocument = z.object({
  id: z.string().describe('this URL'),
  name: z.string(),
  description: z.string().optional(),
  issuer: z.object({ id: z.string().describe('the issuer\'s DID'), name: z.string(), url: z.string() }),
  award: z.looseObject({ id: z.string(), name: z.string() }).describe('the OB 3.0 Achievement the stack awards'),
  requirement: publicNode
}).meta({ id: 'PublicPathway' })

/** Before the schema: a tree nested past the limit is refused at its first node too deep, before anything recurses into it. */
async function refuseDeepTrees(request: FastifyRequest): Promise<void> {
  const body = request.body
  if (typeof body !== 'object' || body === null) return
  const error = tooDeep((body as { requirement?: unknown }).requirement, '/requirement')
  if (error !== undefined) throw pathwayInvalid([error])
}

export interface PathwayRouteOptions {
  /** Learners per chunk of an evaluate job (LANYARD_JOB_CHUNK_SIZE). */
  chunkSize: number
  /** Called when an evaluate job is queued, so this process's job worker starts on it at once. */
  onQueued(): void
}

export function adminPathwayRoutes(ctx: ServiceContext, options: PathwayRouteOptions): FastifyPluginAsyncZod {
  return async (app) => {
    const common = { tags: TAGS, security: BEARER }
    app.post('/issuers/:issuerId/pathways', {
      preValidation: refuseDeepTrees,
      schema: {
        ...common,
        summary: 'Define a learning stack: the badges (of any issuer here) that together earn an award of this issuer',
        description: 'The tree is checked whole: an unknown achievement or pathway, a nested pathway leading back to this one, an empty ' +
          '`all`/`any`/`of`, `atLeast` outside 1 to its number of requirements, or a tree over the limits answers 422 with `errors` naming ' +
          'each node by JSON Pointer (`/requirement/all/2/achievementId`). From then on every credential issued that completes the stack ' +
          'for its learner brings the award, once per learner.',
        params: issuerParams,
        body: pathwayInput,
        response: { 201: pathway, ...problemResponses }
      }
    }, async (request, reply) => reply.code(201).send(await createPathway(ctx, callerOf(request), request.params.issuerId, request.body)))

    app.get('/issuers/:issuerId/pathways', {
      schema: {
        ...common, summary: 'List an issuer\'s learning stacks', params: issuerParams, querystring: pageQuery, response: { 200: pageOf(pathway), ...problemResponses }
      }
    }, async (request) => listPathways(ctx, callerOf(request), request.params.issuerId, request.query))

    app.get('/pathways/:id', {
      schema: { ...common, summary: 'Get a learning stack', params: idParams, response: { 200: pathway, ...problemResponses } }
    }, async (request) => getPathway(ctx, callerOf(request), request.params.id))

    app.patch('/pathways/:id', {
      preValidation: refuseDeepTrees,
      schema: {
        ...common,
        summary: 'Change a learning stack (checked as on creation; awards already made stay)',
        params: idParams,
        body: pathwayPatch,
        response: { 200: pathway, ...problemResponses }
      }
    }, async (request) => updatePathway(ctx, callerOf(request), request.params.id, request.body))

    app.delete('/pathways/:id', {
      schema: {
        ...common,
        summary: 'Delete a learning stack (409 while another stack nests it; the credentials it awarded stay valid)',
        params: idParams,
        response: { 204: z.null().describe('deleted'), ...problemResponses }
      }
    }, async (request, reply) => {
      await deletePathway(ctx, callerOf(request), request.params.id)
      return reply.code(204).send(null)
    })

    app.get('/pathways/:id/progress', {
      schema: {
        ...common,
        summary: 'How far a learner has come: the tree with each node satisfied or not, and by which credentials',
        description: 'Credentials count from every issuer on this Lanyard when their recipient is the same email, DID or URL; revoked, ' +
          'expired and not yet valid ones do not.',
        params: idParams,
        querystring: progressQuery,
        response: { 200: progress, ...problemResponses }
      }
    }, async (request) => pathwayProgress(ctx, callerOf(request), request.params.id, request.query))

    app.post('/pathways/:id/evaluate', {
      schema: {
        ...common,
        summary: 'Award everyone already complete (a job): for stacks defined or changed after their badges were issued',
        description: 'The job looks at every learner holding a credential that counts towards the stack and not yet awarded; its results ' +
          'list each award made (with its credential). `total` counts the learners looked at, `succeeded` the awards.',
        params: idParams,
        response: { 202: jobView, ...problemResponses }
      }
    }, async (request, reply) => {
      const job = await evaluatePathway(ctx, callerOf(request), request.params.id, options)
      if (job.status === 'queued') options.onQueued()
      return reply.code(202).header('location', `/v1/jobs/${job.id}`).send(job)
    })
  }
}

export function publicPathwayRoutes(ctx: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/pathways/:id', {
      schema: {
        tags: ['Public'],
        summary: 'A learning stack: JSON, or a page for people (text/html)',
        params: idParams,
        response: {
          200: { description: 'the stack', content: { 'application/json': { schema: publicDocument }, 'text/html': { schema: z.string() } } },
          ...problemResponses
        }
      }
    }, async (request, reply) => {
      const chosen = accepts(request.raw).type(['application/json', 'text/html'])
      if (chosen === false) throw new AppError('not-acceptable', 406, 'this learning stack is available as application/json and text/html')
      const document = await publicPathway(ctx, request.params.id)
      reply.header('vary', 'Accept').header('cache-control', 'public, max-age=60')
      if (chosen === 'text/html') {
        return reply.type('text/html; charset=utf-8').send(pathwayPage({ url: document.id, publicUrl: ctx.publicUrl, pathway: document }))
      }
      return document
    })
  }
}
