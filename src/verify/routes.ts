// HTTP for verification: POST /verify (anything: JSON, JWT, URL, baked image) and the VC-API verify endpoints.
import multipart from '@fastify/multipart'
import accepts from 'accepts'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError, validationFailed } from '../http/errors.js'
import { httpUrl, problemResponses, problemSchema } from '../http/schemas.js'
import { verifyFormPage, verifyResultPage } from '../pages/verify-page.js'
import { decodeInput, fromJson, InputError, type VerifyInput } from './input.js'
import type { Verifier } from './pipeline.js'
import { verifyPresentation } from './presentation.js'
import { CHECK_ORDER, type Check, type VerificationReport } from './report.js'

const TAGS = ['Verification']

const emailAddress = z.email().max(320)

const recipientSchema = z.strictObject({
  email: emailAddress.optional().describe('checked against the credential\'s (hashed) email identifier'),
  id: z.string().min(1).max(2048).optional().describe('checked against credentialSubject.id')
}).refine((value) => (value.email === undefined) !== (value.id === undefined), { message: 'give exactly one of email or id' })

/** POST /verify with a JSON body: the credential itself, or one of credential / jwt / url, optionally with a recipient to check. */
const wrappedInput = z.strictObject({
  credential: z.union([z.record(z.string(), z.unknown()), z.string().max(1_000_000)]).optional(),
  jwt: z.string().max(1_000_000).optional(),
  url: httpUrl.optional(),
  recipient: recipientSchema.optional()
}).refine((value) => [value.credential, value.jwt, value.url].filter((v) => v !== undefined).length === 1, { message: 'give exactly one of credential, jwt or url' })

const checkSchema = z.object({
  check: z.enum(CHECK_ORDER),
  status: z.enum(['passed', 'failed', 'warning', 'skipped']),
  message: z.string()
}).meta({ id: 'VerificationCheck' })

const summarySchema = z.object({
  issuer: z.object({ id: z.string().nullable(), name: z.string().nullable() }),
  achievement: z.object({ name: z.string().nullable() }).nullable(),
  recipient: z.object({ id: z.string().optional(), name: z.string().optional(), hashedIdentifier: z.boolean().optional() }).nullable(),
  validFrom: z.string().nullable(),
  validUntil: z.string().nullable()
})

export const reportSchema = z.object({
  verified: z.boolean(),
  format: z.enum(['eddsa-rdfc-2022', 'eddsa-2022', 'Ed25519Signature2020', 'vc-jwt', 'none']),
  credential: z.record(z.string(), z.unknown()).describe('the decoded credential'),
  summary: summarySchema,
  checks: z.array(checkSchema),
  endorsements: z.array(z.object({
    id: z.string().nullable(),
    issuer: z.object({ id: z.string().nullable(), name: z.string().nullable() }),
    endorsementComment: z.string().optional().describe('what the endorser says'),
    verified: z.boolean().describe('this endorsement\'s own result: false for a revoked or forged one (the credential\'s `verified` is its own)'),
    checks: z.array(checkSchema).describe('as for a credential, plus `subject`: does it endorse what it is embedded in')
  }).meta({ id: 'EndorsementVerification' })).optional()
    .describe('each endorsement embedded in the credential, its achievement or its issuer, verified on its own; any that fails makes the `endorsements` check a warning')
}).meta({ id: 'VerificationReport' })

const noteSchema = z.object({ check: z.string(), message: z.string() })
const vcApiResult = z.object({
  verified: z.boolean(),
  checks: z.array(z.string()).describe('the checks that ran and did not fail'),
  warnings: z.array(noteSchema),
  errors: z.array(noteSchema)
})

/** The 422 of the VC-API endpoints: a problem whose `errors` are the failed checks (VC-API's shape), not request fields. */
const vcApiProblem = problemSchema.omit({ errors: true }).extend({
  ...vcApiResult.shape,
  report: z.looseObject({}).optional().describe('the full report: format, summary and every check'),
  credentialResults: z.array(vcApiResult).optional()
}).meta({ id: 'VerificationProblem' })

const vcApiOptions = z.looseObject({
  recipient: recipientSchema.optional(),
  challenge: z.string().max(1000).optional(),
  domain: z.string().max(1000).optional()
})

/** Media types /verify reads besides JSON: a compact JWT as text, a baked image as bytes, or a multipart upload. */
const TEXT_TYPES = ['text/plain', 'application/vc+jwt', 'application/jwt']
const IMAGE_TYPES = ['image/png', 'image/svg+xml']

export function invalidInput(error: unknown): never {
  if (error instanceof InputError) throw new AppError('not-a-credential', 400, error.message)
  /* c8 ignore next 2 -- anything else is our fault, and stays a 500 */
  throw error
}

type Recipient = { email?: string; id?: string }

function fieldErrors(issues: z.core.$ZodIssue[], prefix = ''): AppError {
  return validationFailed('body', issues.map((issue) => ({ pointer: `${prefix}/${issue.path.join('/')}`.replace(/\/$/, ''), message: issue.message })))
}

/** RFC 2046 §5.1.1: a multipart body is framed by the Content-Type's boundary parameter, 1–70 characters, quoted or not. */
const BOUNDARY_PARAMETER = /;\s*boundary=(?:"[^"]{1,70}"|[^\s";]{1,70})\s*(?:;|$)/i

/**
 * Why a form could not be read. @fastify/multipart's own refusals (a limit, a forbidden field name) carry their 4xx
 * already; anything else the parser throws (a body cut short before its closing boundary, say) is a malformed body.
 */
function unreadableForm(error: Error & { statusCode?: number }): Error {
  if (error.statusCode !== undefined) return error
  return new AppError('invalid-multipart', 400, `the multipart/form-data body cannot be read (${error.message}): it must end with its closing boundary`,
    [{ pointer: '', message: error.message, in: 'body' }])
}

/** The form's first non-empty file and its text fields. */
async function formParts(request: FastifyRequest): Promise<{ fields: Record<string, string>; file?: { bytes: Buffer; mimetype: string } }> {
  if (!BOUNDARY_PARAMETER.test(request.headers['content-type']!)) {
    throw new AppError('invalid-multipart', 400, 'multipart/form-data needs a boundary parameter (1–70 characters) in the Content-Type, as browsers and curl -F send it',
      [{ pointer: '/content-type', message: 'needs a boundary parameter of 1–70 characters', in: 'headers' }])
  }
  const fields: Record<string, string> = {}
  let file: { bytes: Buffer; mimetype: string } | undefined
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const bytes = await part.toBuffer()
        if (file === undefined && bytes.length > 0) file = { bytes, mimetype: part.mimetype }
      } else if (typeof part.value === 'string') fields[part.fieldname] = part.value.trim()
    }
  } catch (error) {
    throw unreadableForm(error as Error)
  }
  return { fields, ...(file !== undefined && { file }) }
}

/** A form upload (the verify page, or curl -F): a file, a pasted credential or a URL, and optionally an email to check. */
async function multipartInput(request: FastifyRequest): Promise<{ input: VerifyInput; recipient?: Recipient }> {
  const { fields, file } = await formParts(request)
  const email = fields.email ? emailAddress.safeParse(fields.email) : undefined
  if (email && !email.success) throw fieldErrors(email.error.issues, '/email')
  const recipient = email?.data ? { recipient: { email: email.data } } : {}
  if (file !== undefined) {
    const image = IMAGE_TYPES.includes(file.mimetype) || file.bytes[0] === 0x89 || file.bytes[0] === 0x3c
    return { input: image ? { kind: 'image', bytes: file.bytes } : { kind: 'text', value: file.bytes.toString('utf8') }, ...recipient }
  }
  if (fields.credential) return { input: { kind: 'text', value: fields.credential }, ...recipient }
  if (fields.url) {
    const url = httpUrl.safeParse(fields.url)
    if (!url.success) throw fieldErrors(url.error.issues, '/url')
    return { input: { kind: 'url', url: url.data }, ...recipient }
  }
  throw new AppError('validation-failed', 400, 'nothing to verify: upload the badge as "file", paste it as "credential", or give its "url"', [{ pointer: '/file', message: 'required', in: 'body' }])
}

/** The body as the pipeline's input, and the recipient to check when the JSON form asks for one. */
async function verifyInputOf(request: FastifyRequest): Promise<{ input: VerifyInput; recipient?: Recipient }> {
  const body = request.body
  if (request.isMultipart()) return multipartInput(request)
  if (Buffer.isBuffer(body)) return { input: { kind: 'image', bytes: body } }
  if (typeof body === 'string') return { input: { kind: 'text', value: body } }
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && ['credential', 'jwt', 'url', 'recipient'].some((key) => key in body)) {
    const parsed = wrappedInput.safeParse(body)
    if (!parsed.success) throw fieldErrors(parsed.error.issues)
    const { credential, jwt, url, recipient } = parsed.data
    const input: VerifyInput = url !== undefined ? { kind: 'url', url } : { kind: 'json', value: credential ?? jwt }
    return { input, ...(recipient && { recipient }) }
  }
  return { input: { kind: 'json', value: body } }
}

/** VC-API's result shape, from a list of our checks. */
function vcApiOf(checks: Check[], verified: boolean) {
  return {
    verified,
    checks: checks.filter((c) => c.status === 'passed' || c.status === 'warning').map((c) => c.check),
    warnings: checks.filter((c) => c.status === 'warning').map(({ check, message }) => ({ check, message })),
    errors: checks.filter((c) => c.status === 'failed').map(({ check, message }) => ({ check, message }))
  }
}

/** Generic tooling reads the status code: a credential that does not verify is a 422 problem that still carries the result. */
function sendVcApi(reply: FastifyReply, result: ReturnType<typeof vcApiOf>, detail: string, report?: object) {
  if (result.verified) return reply.code(200).send(result)
  throw new AppError('verification-failed', 422, detail, undefined, { ...result, ...(report && { report }) })
}

function failureDetail(report: VerificationReport): string {
  const first = report.checks.find((check) => check.status === 'failed')
  return first === undefined ? 'the credential does not verify' : `the credential does not verify: ${first.check} — ${first.message}`
}

export function verifyRoutes(verifier: Verifier, options: { bodyLimit: number }): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(multipart, { limits: { files: 1, fileSize: options.bodyLimit, fields: 4, parts: 5 } })
    app.addContentTypeParser(TEXT_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body))
    app.addContentTypeParser(IMAGE_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body))

    app.post('/verify', {
      schema: {
        tags: TAGS,
        summary: 'Verify a badge given as JSON, a VC-JWT, a URL, or a baked PNG/SVG',
        description: 'Body: `application/json` (the credential, or `{ "credential" | "jwt" | "url": …, "recipient"?: { "email" } }`), ' +
          'a compact VC-JWT as `text/plain` or `application/vc+jwt`, a baked image as `image/png` or `image/svg+xml`, or ' +
          '`multipart/form-data` with the badge in the field `file`. A badge that does not verify is still a 200: read `verified` and `checks`.',
        response: { 200: { description: 'the report (JSON), or the result page when the client prefers text/html', content: { 'application/json': { schema: reportSchema }, 'text/html': { schema: z.string() } } }, ...problemResponses }
      }
    }, async (request, reply) => {
      // A browser posting the verify page's form gets a page back; everyone else gets JSON.
      const html = accepts(request.raw).type(['application/json', 'text/html']) === 'text/html'
      try {
        const { input, recipient } = await verifyInputOf(request)
        const decoded = await decodeInput(input, verifier.fetch).catch(invalidInput)
        const report = await verifier.verify(decoded, recipient ? { recipient } : {})
        return html ? reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(verifyResultPage(report)) : report
      } catch (error) {
        if (html && error instanceof AppError) return reply.code(400).type('text/html; charset=utf-8').send(verifyFormPage({ error: error.detail }))
        throw error
      }
    })

    app.get('/verify', {
      schema: {
        tags: TAGS,
        summary: 'A page where a person pastes a badge (JSON or JWT) or its URL, or uploads a baked image, and sees the result',
        response: { 200: { description: 'the page', content: { 'text/html': { schema: z.string() } } } }
      }
    }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(verifyFormPage()))

    app.post('/credentials/verify', {
      schema: {
        tags: ['VC-API'],
        summary: 'Verify a credential (W3C VC-API)',
        description: 'Runs the same checks as POST /verify. 200 when the credential verifies; otherwise a 422 problem that also carries `verified`, `checks`, `warnings`, `errors` and the full `report`.',
        body: z.object({
          verifiableCredential: z.union([z.record(z.string(), z.unknown()), z.string().max(1_000_000)]).describe('the credential, or a compact VC-JWT'),
          options: vcApiOptions.optional()
        }),
        response: { 200: vcApiResult, 422: vcApiProblem, ...problemResponses }
      }
    }, async (request, reply) => {
      let decoded
      try {
        decoded = fromJson(request.body.verifiableCredential, 'json')
      } catch (error) {
        invalidInput(error)
      }
      const recipient = request.body.options?.recipient
      const report = await verifier.verify(decoded, recipient ? { recipient } : {})
      return sendVcApi(reply, vcApiOf(report.checks, report.verified), failureDetail(report), { format: report.format, summary: report.summary, checks: report.checks })
    })

    app.post('/presentations/verify', {
      schema: {
        tags: ['VC-API'],
        summary: 'Verify a presentation and the credentials in it (W3C VC-API)',
        description: 'Checks the holder\'s proof (purpose authentication, with `options.challenge` and `options.domain` when given) and every credential inside. 200 when all verify; otherwise 422 as for /credentials/verify.',
        body: z.object({
          verifiablePresentation: z.record(z.string(), z.unknown()),
          options: vcApiOptions.optional()
        }),
        response: { 200: vcApiResult.extend({ credentialResults: z.array(vcApiResult) }), 422: vcApiProblem, ...problemResponses }
      }
    }, async (request, reply) => {
      const { challenge, domain } = request.body.options ?? {}
      const report = await verifyPresentation(verifier, request.body.verifiablePresentation, {
        ...(challenge !== undefined && { challenge }),
        ...(domain !== undefined && { domain })
      }).catch(invalidInput)
      const credentialResults = report.credentials.map((credential) => vcApiOf(credential.checks, credential.verified))
      const result = { ...vcApiOf(report.checks, report.verified), credentialResults }
      const failing = report.checks.find((check) => check.status === 'failed')
      const detail = failing !== undefined
        ? `the presentation does not verify: ${failing.message}`
        : `a credential in the presentation does not verify: ${report.credentials.map(failureDetail).find((d) => d !== 'the credential does not verify') ?? ''}`
      return sendVcApi(reply, result, detail)
    })
  }
}
