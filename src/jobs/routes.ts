// HTTP for jobs under /v1: submit (JSON or CSV, checked whole before anything is queued), watch, read results, cancel.
import type { IncomingMessage } from 'node:http'
import accepts from 'accepts'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import { idempotencyHeaders, jwtAlgFits, jwtAlgRule, proofFields, reason } from '../credentials/award-input.js'
import { callerOf } from '../http/auth.js'
import { AppError, validationFailed, type FieldError } from '../http/errors.js'
import { BEARER, idParams, pageOf, pageQuery, problemResponses } from '../http/schemas.js'
import { CSV_COLUMNS, readIssueCsv } from './csv.js'
import { checkIssueRow, issueErrors, MAX_JOB_ROWS, RowErrors, tooManyRows, type IssueRowInput, type JobRowInput } from './rows.js'
import { JOB_STATUSES, jobView } from './schemas.js'
import { cancelJob, getJob, jobResults, jobResultsCsv, listJobs, submitJob, type JobSubmission } from './service.js'

const TAGS = ['Jobs']

// Rows are arrays of anything here: each is checked on its own after, so that one 422 can name every bad row.
const jsonJob = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('issue'), achievementId: z.uuid(), ...proofFields, items: z.array(z.unknown()).min(1) }).refine(jwtAlgFits, jwtAlgRule),
  z.strictObject({ type: z.literal('revoke'), ids: z.array(z.unknown()).min(1), reason })
], { error: 'expected type "issue" or "revoke"' })

const csvQuery = z.object({
  type: z.literal('issue', { error: 'a CSV upload makes an issue job: ?type=issue' }).optional(),
  achievementId: z.uuid().optional(),
  ...proofFields
})


const jobResult = z.object({
  row: z.number().int().describe('the item\'s index in items/ids, or its row in the CSV (the header is row 1)'),
  externalId: z.string().optional(),
  credentialId: z.uuid().optional(),
  url: z.string().optional(),
  error: z.string().optional()
}).meta({ id: 'JobResult' })

const resultsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('page size (1–1000, default 100); CSV answers every result'),
  cursor: z.string().regex(/^\d{1,9}$/, 'expected the nextCursor of the previous page').optional().describe('the nextCursor of the previous page'),
  outcome: z.enum(['succeeded', 'failed']).optional()
})

/** A CSV body as the text/csv parser left it: rows already read and checked. */
class CsvRows {
  constructor(readonly rows: JobRowInput<IssueRowInput>[]) {}
}

/** A JSON body as a submission: its shape first (400), then its count (413), then every row (one 422). */
function jsonSubmission(body: unknown): JobSubmission {
  const parsed = jsonJob.safeParse(body)
  if (!parsed.success) throw validationFailed('body', issueErrors(parsed.error.issues, ''))
  const job = parsed.data
  const rows = job.type === 'issue' ? job.items : job.ids
  if (rows.length > MAX_JOB_ROWS) throw tooManyRows()
  const errors = new RowErrors()
  if (job.type === 'issue') {
    const { items, ...params } = job
    const checked = items.map((item, row) => ({ row, checked: checkIssueRow(item, `/items/${row}`) }))
    for (const { checked: c } of checked) if ('errors' in c) errors.add(c.errors)
    errors.throwIfAny()
    return { ...params, rows: checked.map(({ row, checked: c }) => ({ row, input: (c as { input: IssueRowInput }).input })) }
  }
  const seen = new Set<unknown>()
  const id = z.uuid()
  job.ids.forEach((value, row) => {
    if (!id.safeParse(value).success) errors.add([{ pointer: `/ids/${row}`, message: 'expected a credential id (a UUID)' }])
    else if (seen.has(value)) errors.add([{ pointer: `/ids/${row}`, message: 'this id is already in the job' }])
    seen.add(value)
  })
  errors.throwIfAny()
  return { type: 'revoke', ...(job.reason !== undefined && { reason: job.reason }), rows: job.ids.map((value, row) => ({ row, input: { id: value as string } })) }
}

/** A CSV body as a submission: the query names the job (only issue jobs come as CSV). */
function csvSubmission(query: z.infer<typeof csvQuery>, rows: JobRowInput<IssueRowInput>[]): JobSubmission {
  const errors: FieldError[] = []
  if (query.type === undefined) errors.push({ pointer: '/type', message: 'required with a CSV body: ?type=issue' })
  if (query.achievementId === undefined) errors.push({ pointer: '/achievementId', message: 'required with a CSV body: the achievement to award' })
  if (query.jwtAlg !== undefined && query.format !== 'vc-jwt') errors.push({ pointer: '/jwtAlg', message: 'jwtAlg applies to format vc-jwt only' })
  if (errors.length > 0) throw validationFailed('querystring', errors)
  return { type: 'issue', achievementId: query.achievementId!, format: query.format, ...(query.jwtAlg && { jwtAlg: query.jwtAlg }), rows }
}

export interface JobRouteOptions {
  /** LANYARD_JOB_BODY_LIMIT. */
  bodyLimit: number
  /** Rows per chunk: one chunk is one issueCredentials call and one transaction of results. */
  chunkSize: number
  /** Called when a job is queued, so this process's worker starts on it at once. */
  onQueued(): void
}

export function jobRoutes(ctx: ServiceContext, options: JobRouteOptions): FastifyPluginAsyncZod {
  return async (app) => {
    app.addContentTypeParser('text/csv', async (request: FastifyRequest, payload: IncomingMessage) => {
      if (Number(request.headers['content-length']) > options.bodyLimit) {
        throw new AppError('body-too-large', 413, `the request body is larger than this endpoint accepts (${options.bodyLimit} bytes)`)
      }
      return new CsvRows(await readIssueCsv(payload, options.bodyLimit))
    })
    const common = { tags: TAGS, security: BEARER }

    app.post('/jobs', {
      bodyLimit: options.bodyLimit,
      schema: {
        ...common,
        summary: `Queue a background job: issue one achievement to up to ${MAX_JOB_ROWS.toLocaleString('en')} recipients, or revoke credentials`,
        description: 'Body: `application/json` `{ type: "issue", achievementId, format?, jwtAlg?, items: [ { recipient, validFrom?, validUntil?, narrative?, evidence? } ] }` ' +
          '(items as in POST /v1/credentials/batch) or `{ type: "revoke", ids: [ … ], reason? }`; or `text/csv` with `?type=issue&achievementId=…` ' +
          `and a header row of the columns ${CSV_COLUMNS.join(', ')} (one of email, did, url per row; UTF-8, BOM and CRLF welcome). ` +
          'Every row is checked first: bad rows answer one 422 whose `errors` name each (`/items/41/recipient/email`, `/rows/42/email` with the ' +
          'header as row 1; the first 100, and `errorCount`), and nothing is queued. Over 100,000 rows or the body limit: 413.',
        headers: idempotencyHeaders,
        querystring: csvQuery,
        response: { 202: jobView, ...problemResponses }
      }
    }, async (request, reply) => {
      const submission = request.body instanceof CsvRows ? csvSubmission(request.query, request.body.rows) : jsonSubmission(request.body)
      const { job, replayed } = await submitJob(ctx, callerOf(request), options, submission, request.headers['idempotency-key'])
      if (replayed) reply.header('idempotent-replayed', 'true')
      else options.onQueued()
      return reply.code(202).header('location', `/v1/jobs/${job.id}`).send(job)
    })

    app.get('/jobs', {
      schema: {
        ...common,
        summary: 'List jobs (an API key sees only its issuer\'s)',
        querystring: pageQuery.extend({ status: z.enum(JOB_STATUSES).optional() }),
        response: { 200: pageOf(jobView), ...problemResponses }
      }
    }, async (request) => listJobs(ctx, callerOf(request), request.query))

    app.get('/jobs/:id', {
      schema: { ...common, summary: 'A job\'s progress', params: idParams, response: { 200: jobView, ...problemResponses } }
    }, async (request) => getJob(ctx, callerOf(request), request.params.id))

    app.get('/jobs/:id/results', {
      schema: {
        ...common,
        summary: 'A job\'s results so far, one per row done: JSON pages, or every result as CSV (Accept: text/csv)',
        params: idParams,
        querystring: resultsQuery,
        response: {
          200: { description: 'the results', content: { 'application/json': { schema: pageOf(jobResult) }, 'text/csv': { schema: z.string() } } },
          ...problemResponses
        }
      }
    }, async (request, reply) => {
      const { cursor, outcome, limit } = request.query
      const query = { ...(cursor !== undefined && { cursor: Number(cursor) }), ...(outcome !== undefined && { outcome }) }
      reply.header('vary', 'Accept')
      if (accepts(request.raw).type(['application/json', 'text/csv']) === 'text/csv') {
        // Streamed past the serializer (the type provider only knows objects); the stream reads the results a page at a time.
        return reply.type('text/csv; charset=utf-8').send(await jobResultsCsv(ctx, callerOf(request), request.params.id, query) as never)
      }
      return jobResults(ctx, callerOf(request), request.params.id, { ...query, limit })
    })

    app.post('/jobs/:id/cancel', {
      schema: {
        ...common,
        summary: 'Cancel a job: it stops between chunks, and rows not yet done are not done (an ended job stays as it is)',
        params: idParams,
        response: { 200: jobView, ...problemResponses }
      }
    }, async (request) => cancelJob(ctx, callerOf(request), request.params.id))
  }
}
