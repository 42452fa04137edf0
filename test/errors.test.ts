import type { FastifyError } from 'fastify'
import t from 'tap'
import { AppError, problemOf, toAppError } from '../src/http/errors.js'

const fastifyError = (fields: Partial<FastifyError>) => Object.assign(new Error(fields.message ?? 'boom'), fields) as FastifyError

t.test('an unexpected client error keeps its status and message', async (t) => {
  t.match(toAppError(fastifyError({ statusCode: 418, message: 'short and stout' })), { status: 418, code: 'bad-request', detail: 'short and stout' })
})

t.test('anything else is a 500 that says nothing about internals', async (t) => {
  const error = toAppError(fastifyError({ message: 'relation "issuers" does not exist at /srv/app/x.ts:1' }))
  t.match(error, { status: 500, code: 'internal' })
  t.notMatch(error.detail, /relation|issuers|x\.ts/)
})

t.test('our own errors pass through with their extra members', async (t) => {
  const error = new AppError('database-unavailable', 503, 'down', undefined, { database: 'unreachable' })
  t.equal(toAppError(error as unknown as FastifyError), error)
  t.match(problemOf(error, 'req-1'), { type: 'urn:lanyard:problem:database-unavailable', title: 'Service Unavailable', database: 'unreachable', requestId: 'req-1' })
  t.equal(problemOf(new AppError('teapot', 418, 'no')).title, 'Error', 'a status without a known title still gets one')
})
