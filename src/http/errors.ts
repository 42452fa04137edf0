// One error type with stable codes, and its RFC 9457 problem+json form (the only place errors become HTTP).
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'

export interface FieldError {
  /** JSON Pointer into the part of the request named by `in`. */
  pointer: string
  message: string
  in?: 'body' | 'querystring' | 'params' | 'headers'
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** Fastify's limit on one path parameter (its default), named here so the 414 problem can say it. */
export const MAX_PARAM_LENGTH = 100

/** Problem `type` URIs are `urn:lanyard:problem:<code>`: stable, ours, and never dereferenced. */
export function problemType(code: string): string {
  return `urn:lanyard:problem:${code}`
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable'
}

export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** Extra members for the problem body. */
    readonly extra?: Record<string, unknown>
  ) {
    super(detail)
    this.name = 'AppError'
  }
}

export function notFound(what: string): AppError {
  return new AppError('not-found', 404, `${what} was not found`)
}

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: string
  errors?: FieldError[]
  requestId?: string
  [member: string]: unknown
}

export function problemOf(error: AppError, requestId?: string): Problem {
  return {
    ...error.extra,
    type: problemType(error.code),
    title: TITLES[error.status] ?? 'Error',
    status: error.status,
    detail: error.detail,
    code: error.code,
    ...(error.errors ? { errors: error.errors } : {}),
    ...(requestId ? { requestId } : {})
  }
}

export function sendProblem(reply: FastifyReply, error: AppError): FastifyReply {
  return reply.code(error.status).type(PROBLEM_CONTENT_TYPE).send(problemOf(error, String(reply.request.id)))
}

/** Fastify's own client errors, by code, as our problems. */
const FASTIFY_CLIENT_ERRORS: Record<string, [code: string, status: number, detail: string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['body-too-large', 413, 'the request body is larger than this endpoint accepts'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported-media-type', 415, 'this endpoint does not accept that Content-Type; send application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['bad-content-length', 400, 'Content-Length does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid-json', 400, 'the body is empty but Content-Type says JSON'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid-json', 400, 'the body is not valid JSON'],
  // Raised before routing (Fastify's frameworkErrors): a path find-my-way cannot decode, or a parameter over maxParamLength.
  FST_ERR_BAD_URL: ['bad-url', 400, 'the request path has a malformed percent-encoding (not UTF-8, or not %XX)'],
  FST_ERR_MAX_PARAM_LENGTH: ['uri-too-long', 414, `a path segment is longer than ${MAX_PARAM_LENGTH} characters, more than any id here`],
  // @fastify/multipart's limits and refusals (the verify form).
  FST_REQ_FILE_TOO_LARGE: ['body-too-large', 413, 'the uploaded file is larger than this endpoint accepts'],
  FST_FILES_LIMIT: ['form-too-large', 413, 'the form has more files, fields or parts than this endpoint accepts'],
  FST_FIELDS_LIMIT: ['form-too-large', 413, 'the form has more files, fields or parts than this endpoint accepts'],
  FST_PARTS_LIMIT: ['form-too-large', 413, 'the form has more files, fields or parts than this endpoint accepts'],
  FST_PROTO_VIOLATION: ['invalid-multipart', 400, 'a form field is named __proto__ or constructor']
}

/** The 400 for input that fails its schema: each field's error, in `where`, and all of them in one detail line. */
export function validationFailed(where: NonNullable<FieldError['in']>, errors: Omit<FieldError, 'in'>[]): AppError {
  return new AppError('validation-failed', 400, `the request ${where} is not valid: ${errors.map((e) => `${e.pointer || '(root)'} ${e.message}`).join('; ')}`,
    errors.map((error) => ({ ...error, in: where })))
}

/** Any error → our AppError: ours as they are, validation with per-field pointers, Fastify's by code, the rest as a bare 500. */
export function toAppError(error: FastifyError): AppError {
  if (error instanceof AppError) return error
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = error.validation.flatMap((issue): Omit<FieldError, 'in'>[] => {
      const base = issue.instancePath === '/' ? '' : issue.instancePath
      const unknownKeys = (issue.params as { keys?: unknown }).keys
      if (issue.keyword === 'unrecognized_keys' && Array.isArray(unknownKeys)) {
        return unknownKeys.map((key) => ({ pointer: `${base}/${String(key)}`, message: 'unknown field' }))
      }
      return [{ pointer: base, message: String(issue.message) }]
    })
    return validationFailed(error.validationContext as NonNullable<FieldError['in']>, errors)
  }
  const known = error.code ? FASTIFY_CLIENT_ERRORS[error.code] : undefined
  if (known) return new AppError(...known)
  if (error.statusCode === 429) return new AppError('rate-limited', 429, error.message)
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new AppError('bad-request', error.statusCode, error.message)
  }
  return new AppError('internal', 500, 'something went wrong on our side; the request id identifies it in our logs')
}

/** Every error leaves as problem+json; 5xx bodies say nothing about internals. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(error)
    if (appError.status >= 500) request.log.error({ err: error }, 'request failed')
    return sendProblem(reply, appError)
  })
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new AppError('not-found', 404, `no route for ${request.method} ${request.url.split('?')[0]}`)))
}

/** Fastify's errors from before routing (a path it cannot decode, a parameter too long) as problems, like every other. */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (error, _request, reply) => {
  sendProblem(reply, toAppError(error))
}

/** Node's HTTP parser errors (Fastify's clientErrorHandler), by code: what a client sent that is not HTTP we can read. */
const PARSER_ERRORS: Record<string, [code: string, status: number, detail: string]> = {
  HPE_HEADER_OVERFLOW: ['headers-too-large', 431, 'the request headers are larger than this server accepts (16 KiB in all)'],
  HPE_INVALID_HEADER_TOKEN: ['bad-http-request', 400, 'a request header has a character HTTP does not allow in it (a NUL byte or a control character, say)'],
  ERR_HTTP_REQUEST_TIMEOUT: ['request-timeout', 408, 'the request did not arrive in time']
}

/** A problem written straight to a socket or a bare Node response: there is no Fastify reply to send it with. */
function rawProblem(error: AppError): { status: number; title: string; headers: Record<string, string | number>; body: string } {
  const problem = problemOf(error)
  const body = JSON.stringify(problem)
  return { status: problem.status, title: problem.title, body, headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), connection: 'close' } }
}

/**
 * Answers a request Node could not parse (a bad character in a header, oversized headers, a malformed request line) with a
 * problem on the raw socket, then closes it. Logged at debug with the parser's code only: the error also carries the raw
 * bytes of the request, headers and all.
 */
export function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const known = error.code !== undefined ? PARSER_ERRORS[error.code] : undefined
  const { status, title, headers, body } = rawProblem(known !== undefined
    ? new AppError(...known)
    : new AppError('bad-http-request', 400, `the request is not HTTP/1.1 this server can read (${error.code ?? 'unparseable'})`))
  this.log.debug({ code: error.code }, 'unreadable request')
  if (socket.writable) {
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
    socket.write(`HTTP/1.1 ${status} ${title}\r\n${head}\r\n${body}`)
  }
  socket.destroy()
}

/** An `Expect` other than 100-continue (Node's 'checkExpectation', which it would answer with a bare 417). */
export function expectationFailed(_request: IncomingMessage, response: ServerResponse): void {
  const { status, headers, body } = rawProblem(new AppError('expectation-failed', 417, 'this server meets no Expect but 100-continue'))
  response.writeHead(status, headers).end(body)
}

/**
 * An OAuth 2.0 error (RFC 6749 §5.2, RFC 6750 §3.1), the shape OID4VCI requires of its token and credential endpoints:
 * `{ error, error_description }`, not problem+json.
 */
export class OAuthError extends Error {
  constructor(readonly error: string, readonly description: string, readonly status = 400) {
    super(description)
    this.name = 'OAuthError'
  }
}

/**
 * Errors of the routes in `scope` leave in the OAuth shape: OAuthErrors as they are, bad input (validation, body parsing)
 * as `invalidRequest`, server faults as the usual problem+json 500.
 */
export function registerOAuthErrorHandling(scope: FastifyInstance, invalidRequest: string): void {
  scope.setErrorHandler((error: FastifyError | OAuthError, request: FastifyRequest, reply: FastifyReply) => {
    const oauth = error instanceof OAuthError ? error : clientOAuthError(toAppError(error as FastifyError), invalidRequest)
    if (oauth === undefined) {
      request.log.error({ err: error }, 'request failed')
      return sendProblem(reply, toAppError(error as FastifyError))
    }
    if (oauth.error === 'invalid_token') reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${oauth.description.replace(/["\\]/g, '')}"`)
    return reply.code(oauth.status).header('cache-control', 'no-store').send({ error: oauth.error, error_description: oauth.description })
  })
}

function clientOAuthError(error: AppError, invalidRequest: string): OAuthError | undefined {
  return error.status < 500 ? new OAuthError(invalidRequest, error.detail, error.status) : undefined
}
