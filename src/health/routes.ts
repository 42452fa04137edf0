// GET /health (a database round trip), /health/live (the process alone) and /health/ready (database, migrations and job
// queue, for a readiness probe): 503 when a check fails.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { sql } from 'kysely'
import { z } from 'zod'
import { migrations } from '../../migrations/index.js'
import type { ServiceContext } from '../context.js'
import type { Db } from '../db/schema.js'
import { AppError } from '../http/errors.js'
import { problemSchema } from '../http/schemas.js'

const DATABASE_TIMEOUT_MS = 2_000
/** A probe that found the service not ready asks again after this long. */
const RETRY_AFTER_SECONDS = 5
const KNOWN_MIGRATIONS = Object.keys(migrations)
/** PostgreSQL's undefined_table: a database Kysely never migrated has no bookkeeping table. */
const UNDEFINED_TABLE = '42P01'

export interface HealthOptions {
  /** Whether this process's job worker is running (JobWorker.isRunning). */
  queueRunning: () => boolean
}

/** What `query` answers, or `unanswered` when it fails or the database takes longer than DATABASE_TIMEOUT_MS. */
async function withinTimeout<T>(query: Promise<T>, unanswered: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<T>((resolve) => { timer = setTimeout(() => resolve(unanswered), DATABASE_TIMEOUT_MS) })
  try {
    return await Promise.race([query.catch(() => unanswered), timeout])
  } finally {
    clearTimeout(timer)
  }
}

function databaseAnswers(db: Db): Promise<boolean> {
  return withinTimeout(sql`select 1`.execute(db).then(() => true), false)
}

/** The migrations this code knows that the database has not applied, in order; undefined when the database does not answer. */
async function pendingMigrations(db: Db): Promise<string[] | undefined> {
  const applied = sql<{ name: string }>`select name from kysely_migration`.execute(db).then(
    ({ rows }) => new Set(rows.map((row) => row.name)),
    (error: unknown) => {
      if ((error as { code?: unknown }).code === UNDEFINED_TABLE) return new Set<string>()
      throw error
    }
  )
  const names = await withinTimeout<Set<string> | undefined>(applied, undefined)
  return names && KNOWN_MIGRATIONS.filter((name) => !names.has(name))
}

const readinessSchema = z.object({
  status: z.enum(['ready', 'not-ready']),
  database: z.enum(['ok', 'unreachable']),
  migrations: z.string().describe('ok; pending: and the names of the migrations not applied; or unknown while the database is unreachable'),
  queue: z.enum(['running', 'stopped']).describe('this process\'s job worker')
}).meta({ id: 'Readiness' })
type Readiness = z.infer<typeof readinessSchema>

/**
 * The readiness checks of one app. Migrations never un-apply while it runs, so once all are applied only the database
 * is asked (a ping); until then the migrations query is the database's check too.
 */
function readinessOf(db: Db, options: HealthOptions): () => Promise<Readiness> {
  let migrated = false
  const databaseAndMigrations = async (): Promise<Pick<Readiness, 'database' | 'migrations'>> => {
    if (migrated) return { database: await databaseAnswers(db) ? 'ok' : 'unreachable', migrations: 'ok' }
    const pending = await pendingMigrations(db)
    if (pending === undefined) return { database: 'unreachable', migrations: 'unknown' }
    migrated = pending.length === 0
    return { database: 'ok', migrations: migrated ? 'ok' : `pending: ${pending.join(', ')}` }
  }
  return async () => {
    const checks = { ...await databaseAndMigrations(), queue: options.queueRunning() ? 'running' as const : 'stopped' as const }
    const ready = checks.database === 'ok' && checks.migrations === 'ok' && checks.queue === 'running'
    return { status: ready ? 'ready' : 'not-ready', ...checks }
  }
}

export function healthRoutes(ctx: ServiceContext, options: HealthOptions): FastifyPluginAsyncZod {
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
      if (!(await databaseAnswers(ctx.db))) {
        throw new AppError('database-unavailable', 503, 'the database does not answer', undefined, { database: 'unreachable' })
      }
      return { status: 'ok' as const, database: 'ok' as const }
    })

    app.get('/health/live', {
      schema: {
        tags: ['Health'],
        summary: 'Is the process up? (liveness: asks nothing of the database)',
        response: { 200: z.object({ status: z.literal('ok') }) }
      }
    }, async () => ({ status: 'ok' as const }))

    const readiness = readinessOf(ctx.db, options)
    app.get('/health/ready', {
      schema: {
        tags: ['Health'],
        summary: 'Is the service ready for traffic: database reachable, migrations applied, job queue running?',
        description: `503, with the same body naming what failed and Retry-After: ${RETRY_AFTER_SECONDS}, when any check fails.`,
        response: { 200: readinessSchema, 503: readinessSchema }
      }
    }, async (_request, reply) => {
      const report = await readiness()
      if (report.status === 'ready') return report
      return reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send(report)
    })
  }
}
