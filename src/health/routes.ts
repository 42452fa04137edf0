// GET /health: liveness plus a database round trip; 503 when the database does not answer.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { sql } from 'kysely'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import { AppError } from '../http/errors.js'
import { problemSchema } from '../http/schemas.js'

const DATABASE_TIMEOUT_MS = 2_000

async function databaseAnswers(ctx: ServiceContext): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), DATABASE_TIMEOUT_MS) })
  const ping = sql`select 1`.execute(ctx.db).then(() => true, () => false)
  try {
    return await Promise.race([ping, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export function healthRoutes(ctx: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/health', {
      schema: {
        tags: ['Health'],
        summary: 'Is the service up and its database reachable?',
        response: {
          200: z.object({ status: z.literal('ok'), database: z.literal('ok') }),
          503: problemSchema
        }
      }
    }, async () => {
      if (!(await databaseAnswers(ctx))) {
        throw new AppError('database-unavailable', 503, 'the database does not answer', undefined, { database: 'unreachable' })
      }
      return { status: 'ok' as const, database: 'ok' as const }
    })
  }
}
