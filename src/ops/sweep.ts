// The periodic sweep: deletes what has expired (Idempotency-Key records, closed claim and sign-in links, OID4VCI access
// tokens and nonces, reviewer sessions) a batch at a time, so those tables stay the size of what is live. Nothing waits
// on it for correctness: every lookup checks expiry itself. Each instance sweeps; two at once only split the work.
import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/schema.js'
import {
  deleteClosedClaims, deleteClosedSignIns, deleteExpiredAccessTokens, deleteExpiredIdempotencyRecords, deleteExpiredNonces,
  deleteExpiredSessions, forgetExpiredJobKeys
} from './sweep-store.js'

/** Every 10 minutes: expired rows cost only space (no lookup answers from them), so there is no hurry. */
export const SWEEP_INTERVAL_MS = 600_000
/** Rows per statement: locks and WAL stay small, and a backlog never becomes one long transaction. */
export const SWEEP_BATCH = 1000
/**
 * How long a used or expired claim or sign-in link is kept: for a week, a learner or reviewer opening it is told it was
 * used or has expired (410), not that there is no such link (404).
 */
export const CLOSED_LINK_RETENTION_MS = 7 * 24 * 3_600_000

export interface SweepSettings {
  idempotencyTtlMs: number
  /** Rows per statement (SWEEP_BATCH unless a test says). */
  batch?: number
}

/** How many rows one sweep deleted, by kind (for jobs: Idempotency-Keys forgotten; the jobs stay). */
export interface SweepCounts {
  idempotencyRecords: number
  jobKeys: number
  accessTokens: number
  nonces: number
  claims: number
  signIns: number
  sessions: number
}

/** One sweep of every table, each drained a batch per statement until a batch comes back short. */
export async function sweep(db: Db, settings: SweepSettings): Promise<SweepCounts> {
  const batch = settings.batch ?? SWEEP_BATCH
  const drain = async (step: (limit: number) => Promise<number>): Promise<number> => {
    let total = 0
    let deleted: number
    do {
      deleted = await step(batch)
      total += deleted
    } while (deleted === batch)
    return total
  }
  return {
    idempotencyRecords: await drain((limit) => deleteExpiredIdempotencyRecords(db, settings.idempotencyTtlMs, limit)),
    jobKeys: await drain((limit) => forgetExpiredJobKeys(db, settings.idempotencyTtlMs, limit)),
    // Tokens before claims: a claim is deleted only once no token names it.
    accessTokens: await drain((limit) => deleteExpiredAccessTokens(db, limit)),
    nonces: await drain((limit) => deleteExpiredNonces(db, limit)),
    claims: await drain((limit) => deleteClosedClaims(db, CLOSED_LINK_RETENTION_MS, limit)),
    signIns: await drain((limit) => deleteClosedSignIns(db, CLOSED_LINK_RETENTION_MS, limit)),
    sessions: await drain((limit) => deleteExpiredSessions(db, limit))
  }
}

export interface SweeperOptions extends SweepSettings {
  db: Db
  log: FastifyBaseLogger
  /** The wait before each sweep (the first included: a starting instance has enough to do). */
  intervalMs: number
}

export interface Sweeper {
  /** Stops scheduling and waits for the sweep in hand. */
  stop(): Promise<void>
}

/** Counts only: the rows swept hold hashes of secrets, never logged. */
async function sweepAndLog(options: SweeperOptions): Promise<void> {
  try {
    const counts = await sweep(options.db, options)
    if (Object.values(counts).some((n) => n > 0)) options.log.info(counts, 'swept expired records')
  } catch (error) {
    options.log.error({ err: error }, 'the sweep of expired records failed; it runs again at its next interval')
  }
}

/** Sweeps every `intervalMs`, one sweep at a time (the next is scheduled when one ends). */
export function startSweeper(options: SweeperOptions): Sweeper {
  let timer: NodeJS.Timeout
  let running: Promise<void> | undefined
  const schedule = () => {
    timer = setTimeout(() => { running = sweepAndLog(options).finally(schedule) }, options.intervalMs).unref()
  }
  schedule()
  return {
    async stop() {
      // The sweep in hand schedules the next as it ends: clearing after it is what stops the loop.
      await running
      clearTimeout(timer)
    }
  }
}
