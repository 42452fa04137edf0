// HTTP for evidence and review under /v1: submissions (JSON, or multipart with files), their files, reviews, reviewers.
import multipart from '@fastify/multipart'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import { recipient } from '../credentials/award-input.js'
import { callerOf } from '../http/auth.js'
import { validationFailed } from '../http/errors.js'
import { BEARER, binaryBody, httpUrl, idParams, pageOf, pageQuery, problemResponses } from '../http/schemas.js'
import type { Mailer } from '../mail/mailer.js'
import { EVIDENCE_TYPES } from './file-type.js'
import { readableFile, sendFile } from './files.js'
import { decide } from './review.js'
import { inviteReviewer, listReviewers, removeReviewer } from './reviewers.js'
import { createSubmission, getSubmission, listSubmissions, reviseSubmission } from './service.js'
import { MULTIPART_LIMITS, readSubmissionUpload, type SpooledFile } from './uploads.js'

const TAGS = ['Evidence and review']

const evidenceItem = z.strictObject({
  name: z.string().trim().min(1).max(500),
  narrative: z.string().trim().min(1).max(20_000).optional().describe('what the learner did, in their words'),
  url: httpUrl.optional().describe('where the work can be seen (a project, a video, a document)'),
  genre: z.string().trim().min(1).max(200).optional().describe('what kind of evidence: "Lesson plan", "Student work", "Video"…')
})

const evidenceFields = {
  evidence: z.array(evidenceItem).max(50).default([]),
  public: z.boolean().default(false).describe('true: the files are open to anyone with their URL (they are listed in the badge\'s evidence); ' +
    'false (default): only the issuer, its reviewers and the learner\'s claim link open them')
}

const submissionInput = z.strictObject({ recipient, ...evidenceFields }).meta({ id: 'NewSubmission' })
const revisionInput = z.strictObject(evidenceFields).meta({ id: 'SubmissionRevision' })

const result = z.strictObject({
  resultDescription: z.string().min(1).max(2048).describe('the id of one of the achievement\'s resultDescription entries'),
  achievedLevel: z.string().min(1).max(2048).describe('the id of one of that rubric\'s levels')
})

const reviewInput = z.strictObject({
  decision: z.enum(['approve', 'reject', 'revise']),
  comment: z.string().trim().min(1).max(10_000).optional().describe('for the learner and the other reviewers; never published'),
  results: z.array(result).max(20).default([]).describe('the level reached on each rubric; an approval must meet every requiredLevel'),
  reviewer: z.strictObject({
    email: z.email().max(320),
    name: z.string().trim().min(1).max(200).optional()
  }).optional().describe('the person deciding in your own reviewer screens: approvals are counted per person, and nobody decides their own submission')
}).meta({ id: 'NewReview' })

const reviewerInput = z.strictObject({
  email: z.email().max(320),
  name: z.string().trim().min(1).max(200).optional()
}).meta({ id: 'NewReviewer' })

const evidenceView = z.object({ name: z.string(), narrative: z.string().optional(), url: z.string().optional(), genre: z.string().optional() })
const reviewView = z.object({
  id: z.uuid(),
  version: z.number().int(),
  decision: z.enum(['approve', 'reject', 'revise']),
  comment: z.string().nullable(),
  results: z.array(z.object({ resultDescription: z.string(), achievedLevel: z.string() })),
  reviewer: z.object({ id: z.uuid().optional(), email: z.string().optional(), name: z.string().optional() }),
  actor: z.string(),
  createdAt: z.string()
}).meta({ id: 'Review' })

const submissionView = z.object({
  id: z.uuid(),
  issuerId: z.uuid(),
  achievementId: z.uuid(),
  status: z.enum(['pending', 'approved', 'rejected', 'revision_requested']),
  version: z.number().int().describe('the version of the evidence under review; a revision adds one'),
  recipient: z.object({
    email: z.string().optional(), did: z.string().optional(), url: z.string().optional(), name: z.string().optional(), externalId: z.string().optional()
  }).describe('the learner, as the submission named them'),
  evidence: z.array(evidenceView),
  files: z.array(z.object({
    id: z.uuid(), version: z.number().int(), name: z.string(), contentType: z.string().describe('as read from the bytes'),
    size: z.number().int(), sha256: z.string(), public: z.boolean(), url: z.string()
  })),
  versions: z.array(z.object({ version: z.number().int(), submittedAt: z.string(), evidence: z.array(evidenceView) })),
  reviews: z.array(reviewView),
  approvals: z.object({ required: z.number().int(), count: z.number().int().describe('approvals of the current version') }),
  credentialId: z.uuid().optional(),
  credentialUrl: z.string().optional(),
  issueError: z.string().optional().describe('why the approved submission\'s credential could not be issued'),
  createdAt: z.string(),
  updatedAt: z.string()
}).meta({ id: 'Submission' })

const reviewerView = z.object({
  id: z.uuid(), email: z.string(), name: z.string().nullable(), achievementId: z.uuid(), invitedAt: z.string()
}).meta({ id: 'Reviewer' })

/** A file as stored: one of the evidence types, read from its bytes. */
export const evidenceFile = { description: 'the file, typed as its bytes are', content: Object.fromEntries(EVIDENCE_TYPES.map((type) => [type, binaryBody])) }

const fileParams = z.object({ id: z.uuid({ message: 'expected a UUID' }), fileId: z.uuid({ message: 'expected a UUID' }) })
const reviewerParams = z.object({ id: z.uuid({ message: 'expected a UUID' }), reviewerId: z.uuid({ message: 'expected a UUID' }) })

/** The schema's issues as field errors under `prefix` (the multipart field holding the JSON is `/submission`). */
function parsed<T extends z.ZodType>(schema: T, value: unknown, prefix: string): z.output<T> {
  const outcome = schema.safeParse(value)
  if (outcome.success) return outcome.data
  throw validationFailed('body', outcome.error.issues.map((issue) => ({ pointer: `${prefix}/${issue.path.join('/')}`.replace(/\/$/, ''), message: issue.message })))
}

/** A JSON body, or a form with the JSON as its `submission` field and the files: either way checked by one schema. */
async function submissionBody<T extends z.ZodType>(request: FastifyRequest, schema: T, handle: (input: z.output<T>, files: SpooledFile[]) => Promise<unknown>): Promise<unknown> {
  if (!request.isMultipart()) return handle(parsed(schema, request.body, ''), [])
  const upload = await readSubmissionUpload(request)
  try {
    return await handle(parsed(schema, upload.submission, '/submission'), upload.files)
  } finally {
    await upload.dispose()
  }
}

const BODY_DESCRIPTION = 'Body: `application/json` as the schema says, or `multipart/form-data` with that JSON as the field `submission` (first) ' +
  'and up to 10 files as `file` (PDF, PNG, JPEG, WebP, MP4 or plain text, each at most 25 MB; the type is read from the bytes: anything ' +
  'else, such as a renamed executable, is a 415 naming the file, and a larger file a 413). Nothing is stored unless all of it is.'

export interface SubmissionRouteOptions {
  /** Sends reviewers their invitations; undefined when mail is off (LANYARD_SMTP_URL unset). */
  mailer: Mailer | undefined
}

export function submissionRoutes(ctx: ServiceContext, options: SubmissionRouteOptions): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(multipart, { limits: MULTIPART_LIMITS })
    const common = { tags: TAGS, security: BEARER }

    app.post('/achievements/:id/submissions', {
      schema: {
        ...common,
        summary: 'Submit a learner\'s evidence for review: items and files',
        description: `${BODY_DESCRIPTION} The reply is the pending submission; reviewers invited to the achievement see it in their queue, ` +
          'and `submission.created` is sent to webhooks.',
        params: idParams,
        response: { 201: submissionView, ...problemResponses }
      }
    }, async (request, reply) => reply.code(201).send(await submissionBody(request, submissionInput,
      (input, files) => createSubmission(ctx, callerOf(request), request.params.id, input, files)) as z.infer<typeof submissionView>))

    app.get('/submissions', {
      schema: {
        ...common,
        summary: 'List submissions (an API key sees its issuer\'s)',
        querystring: pageQuery.extend({
          achievementId: z.uuid().optional(),
          status: z.enum(['pending', 'approved', 'rejected', 'revision_requested']).optional()
        }),
        response: { 200: pageOf(submissionView), ...problemResponses }
      }
    }, async (request) => listSubmissions(ctx, callerOf(request), request.query))

    app.get('/submissions/:id', {
      schema: { ...common, summary: 'A submission: its evidence, files, every version and every review', params: idParams, response: { 200: submissionView, ...problemResponses } }
    }, async (request) => getSubmission(ctx, callerOf(request), request.params.id))

    app.get('/submissions/:id/files/:fileId', {
      schema: { ...common, summary: 'An evidence file, as uploaded', params: fileParams, response: { 200: evidenceFile, ...problemResponses } }
    }, async (request, reply) => sendFile(ctx, reply, await readableFile(ctx, { kind: 'api', caller: callerOf(request) }, request.params.id, request.params.fileId)))

    app.post('/submissions/:id/versions', {
      schema: {
        ...common,
        summary: 'Send the revised evidence after a reviewer asked for a revision',
        description: `${BODY_DESCRIPTION} The submission is pending again, on the new version; the earlier versions, files and reviews stay. ` +
          'Only a submission whose status is `revision_requested` takes one (409 otherwise).',
        params: idParams,
        response: { 201: submissionView, ...problemResponses }
      }
    }, async (request, reply) => reply.code(201).send(await submissionBody(request, revisionInput,
      (input, files) => reviseSubmission(ctx, callerOf(request), request.params.id, input, files)) as z.infer<typeof submissionView>))

    app.post('/submissions/:id/reviews', {
      schema: {
        ...common,
        summary: 'Decide a submission: approve, ask for a revision, or reject',
        description: 'An approval carries the rubric results (`results`): each `achievedLevel` a level of its `resultDescription`, every ' +
          '`requiredLevel` met (422 otherwise). When approvals by distinct reviewers reach the achievement\'s `review.approvals`, the ' +
          'credential is issued with the evidence and the results, and the reply names it. A submission already decided, or awaiting ' +
          'its revision, answers 409; a person deciding their own submission 403. Each decision is in the audit log and sent to webhooks.',
        params: idParams,
        body: reviewInput,
        response: { 201: z.object({ review: reviewView, submission: submissionView }), ...problemResponses }
      }
    }, async (request, reply) => {
      const { reviewer, ...input } = request.body
      const outcome = await decide(ctx, { kind: 'api', caller: callerOf(request), ...(reviewer !== undefined && { person: reviewer }) }, request.params.id, input)
      return reply.code(201).send(outcome)
    })

    app.post('/achievements/:id/reviewers', {
      schema: {
        ...common,
        summary: 'Invite a reviewer of this achievement\'s submissions: they get an email with a single-use sign-in link',
        description: 'Inviting again sends a new link. With mail off (`LANYARD_SMTP_URL` unset) the reviewer is added and `invitationSent` is false. ' +
          'A mail server that refuses answers 502 (the reviewer is added: invite again to resend).',
        params: idParams,
        body: reviewerInput,
        response: { 201: reviewerView.extend({ invitationSent: z.boolean(), warning: z.string().optional() }), ...problemResponses }
      }
    }, async (request, reply) => reply.code(201).send(await inviteReviewer(ctx, options.mailer, callerOf(request), request.params.id, request.body)))

    app.get('/achievements/:id/reviewers', {
      schema: { ...common, summary: 'The reviewers of this achievement', params: idParams, response: { 200: z.object({ items: z.array(reviewerView) }), ...problemResponses } }
    }, async (request) => ({ items: await listReviewers(ctx, callerOf(request), request.params.id) }))

    app.delete('/achievements/:id/reviewers/:reviewerId', {
      schema: { ...common, summary: 'Take a reviewer off this achievement (their decisions stay)', params: reviewerParams, response: { 204: z.null(), ...problemResponses } }
    }, async (request, reply) => {
      await removeReviewer(ctx, callerOf(request), request.params.id, request.params.reviewerId)
      return reply.code(204).send(null)
    })
  }
}

