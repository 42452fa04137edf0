// The job worker: claims one chunk at a time from the database queue and does it, until stopped. One chunk at a time per
// process, its proofs signed as background work (a few in flight per signing thread), is the jobs' bounded share of the
// signing threads: single issues and /health are never queued behind a job.
import type { FastifyBaseLogger } from 'fastify'
import type { ServiceContext } from '../context.js'
import { runAsBackgroundWork } from '../crypto/proof-pool.js'
import { processChunk, type JobKinds } from './chunk.js'
import { claimChunk, failJob, releaseChunk, renewLease, type ClaimedChunk } from './store.js'

export interface WorkerSettings {
  /** How long a claimed chunk is the claimer's; past it (the worker died) another worker takes the chunk. */
  leaseMs: number
  /** How often an idle worker looks for work (a job submitted to this process wakes it at once). */
  pollMs: number
  /** Tries of a chunk that keeps failing (a database or signing fault) before its job fails. */
  maxAttempts: number
  /** Wait before a failed chunk is tried again. */
  retryDelayMs: number
  /**
   * Chunks this process works on at once. Two overlap one chunk's building and writing (the event loop, the database)
   * with another's signing (the threads); the pool's cap on background proofs bounds their share of the threads however many.
   */
  concurrency: number
}

export const DEFAULT_WORKER_SETTINGS: WorkerSettings = { leaseMs: 30_000, pollMs: 1_000, maxAttempts: 5, retryDelayMs: 5_000, concurrency: 2 }

/** Leases shorter than this (tests that make them run out on purpose) are not renewed. */
const SHORTEST_RENEWED_LEASE_MS = 3_000

/**
 * Renews the lease of a chunk in hand every third of its length until stopped, so a chunk that takes longer than one
 * lease (a slow database, a large chunk) stays this worker's while it lives, and a dead worker's runs out soon.
 */
function keepLease(ctx: ServiceContext, chunk: ClaimedChunk, leaseMs: number, log: FastifyBaseLogger): () => void {
  if (leaseMs < SHORTEST_RENEWED_LEASE_MS) return () => {}
  const timer = setInterval(() => {
    renewLease(ctx.db, chunk.job_id, chunk.chunk, leaseMs)
      /* c8 ignore next: the database went away mid-chunk; the chunk fails with it and is tried again */
      .catch((error: unknown) => log.warn({ err: error, jobId: chunk.job_id, chunk: chunk.chunk }, 'a job chunk lease could not be renewed'))
  }, leaseMs / 3)
  timer.unref()
  return () => clearInterval(timer)
}

export interface JobWorker {
  /** Starts the loops, `concurrency` of them (again after stop). */
  start(): void
  /** Stops after the chunks in hand are done. */
  stop(): Promise<void>
  /** Looks for work now rather than at the next poll. */
  wake(): void
  /** Claims and does one chunk; false when there was none. */
  runOnce(): Promise<boolean>
  /** Whether the loops are running: between start and stop (readiness). */
  isRunning(): boolean
}

export function createJobWorker(ctx: ServiceContext, settings: WorkerSettings, log: FastifyBaseLogger, kinds: JobKinds = {}): JobWorker {
  let running = false
  let loops: Promise<void>[] = []
  // The wake-up of each idle loop.
  const sleepers = new Set<() => void>()

  async function runOnce(): Promise<boolean> {
    const chunk = await claimChunk(ctx.db, settings.leaseMs)
    if (chunk === undefined) return false
    const release = keepLease(ctx, chunk, settings.leaseMs, log)
    try {
      await runAsBackgroundWork(() => processChunk(ctx, chunk, kinds))
    } catch (error) {
      log.error({ err: error, jobId: chunk.job_id, chunk: chunk.chunk, attempt: chunk.attempts }, 'a job chunk failed')
      if (chunk.attempts >= settings.maxAttempts) {
        await failJob(ctx.db, chunk.job_id, `chunk ${chunk.chunk} could not be done in ${chunk.attempts} attempts (see the server log)`)
      } else {
        await releaseChunk(ctx.db, chunk.job_id, chunk.chunk, settings.retryDelayMs)
      }
    } finally {
      release()
    }
    return true
  }

  const idle = () => new Promise<void>((resolve) => {
    const wakeUp = () => {
      clearTimeout(timer)
      sleepers.delete(wakeUp)
      resolve()
    }
    const timer = setTimeout(wakeUp, settings.pollMs)
    sleepers.add(wakeUp)
  })
  const wakeAll = () => {
    for (const wakeUp of [...sleepers]) wakeUp()
  }

  async function run(): Promise<void> {
    while (running) {
      let worked = false
      try {
        worked = await runOnce()
      } catch (error) {
        // The database is away: keep polling, it may come back.
        log.error({ err: error }, 'the job worker could not reach the database')
      }
      if (!worked && running) await idle()
    }
  }

  return {
    start() {
      if (running) return
      running = true
      loops = Array.from({ length: settings.concurrency }, run)
    },
    async stop() {
      running = false
      wakeAll()
      await Promise.all(loops)
    },
    wake() {
      wakeAll()
    },
    runOnce,
    isRunning: () => running
  }
}
