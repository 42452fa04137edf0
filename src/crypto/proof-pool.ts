// Data Integrity work on a pool of worker threads, one per core by default: signing a batch of a thousand credentials
// or verifying many badges uses every core, and the event loop stays free for other requests. Deterministic Ed25519
// makes the signed bytes the same as in-process.
import { AsyncLocalStorage } from 'node:async_hooks'
import { Worker } from 'node:worker_threads'
import type { ProofCheckJob, ProofCheckResult, ProofWork } from '../verify/data-integrity.js'
import { signDataIntegrity, UnsignableCredentialError, type DataIntegrityOptions } from './data-integrity.js'
import { emptyStatistics, type CanonicalizationStats, type FallbackReason } from './canonicalize/index.js'
import type { ProofJob, ProofReply } from './proof-worker.js'

export type DataIntegritySigner = (credential: object, options: DataIntegrityOptions) => Promise<object>

export interface ProofPool extends ProofWork {
  sign: DataIntegritySigner
  /** The shape cache's counters, summed over the threads (each keeps its own cache). */
  canonicalizationStats(): Promise<CanonicalizationStats>
  /** What the pool is doing at this moment (for /metrics); reads counters only, so a scrape never waits on a thread. */
  stats(): ProofPoolStats
  close(): Promise<void>
}

export interface ProofPoolStats {
  /** Threads started: they start on first use, up to LANYARD_SIGNING_THREADS. */
  threads: number
  /** Threads with at least one proof in hand. */
  busyThreads: number
  /** Proofs handed to threads and not yet answered. */
  inFlight: number
  /** Background proofs (a job's) waiting for one of their slots. */
  queued: number
}

interface Thread {
  worker: Worker
  inFlight: Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>
}

// Compiled (`npm run build`, dist/): tsc emits proof-worker.js beside this file and copies no .mjs, so the thread runs
// it directly. Run as TypeScript (tsx, tap), the thread starts from the .mjs shim, which registers tsx in the thread
// when it cannot load .ts yet (worker threads do not inherit tsx's loader hooks).
const ENTRY = import.meta.filename.endsWith('.js')
  /* c8 ignore next: only the compiled build runs this file as .js; test/build.test.ts covers it */
  ? new URL('./proof-worker.js', import.meta.url)
  : new URL('./proof-worker-entry.mjs', import.meta.url)

/**
 * Background work (a job's chunks) marks itself with runAsBackgroundWork. It gets at most this many proofs in flight per
 * thread, the rest waiting here, so an interactive request's proof queues behind a handful of background ones, never
 * behind a whole chunk; a few in flight keep every thread busy while the event loop hands out the next.
 */
const BACKGROUND_IN_FLIGHT_PER_THREAD = 3
const background = new AsyncLocalStorage<true>()

/** Runs `work` with its proofs on the pool as background work (see BACKGROUND_IN_FLIGHT_PER_THREAD). */
export function runAsBackgroundWork<T>(work: () => Promise<T>): Promise<T> {
  return background.run(true, work)
}

type Job = ProofJob extends infer J ? J extends { id: number } ? Omit<J, 'id'> : never : never

/** Threads start on first use, so an instance that never signs or verifies (or a test app) pays nothing. */
export function createProofPool(size: number): ProofPool {
  const threads: Thread[] = []
  let nextId = 0

  function start(): Thread {
    const thread: Thread = { worker: new Worker(ENTRY), inFlight: new Map() }
    thread.worker.on('message', (reply: ProofReply) => {
      const job = thread.inFlight.get(reply.id)!
      thread.inFlight.delete(reply.id)
      if ('result' in reply) job.resolve(reply.result)
      else job.reject(reply.unsignable ? new UnsignableCredentialError(reply.error) : new Error(reply.error))
    })
    /* c8 ignore start: a thread dies only of a bug or memory exhaustion; its jobs fail and a fresh thread takes its place */
    thread.worker.on('error', (error) => {
      for (const job of thread.inFlight.values()) job.reject(error)
      thread.inFlight.clear()
      threads.splice(threads.indexOf(thread), 1)
    })
    /* c8 ignore stop */
    thread.worker.unref()
    threads.push(thread)
    return thread
  }

  /** The least busy thread, or a new one while the pool is not full. */
  function pick(): Thread {
    const idle = threads.find((thread) => thread.inFlight.size === 0)
    if (idle !== undefined) return idle
    if (threads.length < size) return start()
    return threads.reduce((least, thread) => (thread.inFlight.size < least.inFlight.size ? thread : least))
  }

  // Background submissions waiting for a free background slot, oldest first.
  const waiting: (() => void)[] = []
  let backgroundInFlight = 0
  const backgroundSlot = async (): Promise<void> => {
    if (backgroundInFlight < size * BACKGROUND_IN_FLIGHT_PER_THREAD) {
      backgroundInFlight++
      return
    }
    // A slot freed later is handed straight to the oldest waiter.
    await new Promise<void>((resolve) => waiting.push(resolve))
  }
  const freeBackgroundSlot = () => {
    const next = waiting.shift()
    if (next !== undefined) next()
    else backgroundInFlight--
  }

  function submit<T>(job: Job, thread?: Thread): Promise<T> {
    if (thread !== undefined || background.getStore() === undefined) return send(job, thread ?? pick())
    return backgroundSlot().then(() => send<T>(job, pick())).finally(freeBackgroundSlot)
  }

  function send<T>(job: Job, thread: Thread): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = nextId++
      thread.inFlight.set(id, { resolve: resolve as (result: unknown) => void, reject })
      // ref while working, so the process does not exit under a pending job; unref when idle again.
      thread.worker.ref()
      thread.worker.postMessage({ id, ...job } as ProofJob)
    }).finally(() => {
      for (const thread of threads) if (thread.inFlight.size === 0) thread.worker.unref()
    })
  }

  return {
    sign: (credential, { suite, key, created }) => submit<object>({
      kind: 'sign',
      job: {
        credential, suite, verificationMethod: key.verificationMethod, controller: key.controller, privateKey: key.privateKey,
        ...(created !== undefined && { created: created.getTime() })
      }
    }),
    checkProofs: (job: ProofCheckJob) => submit<ProofCheckResult>({ kind: 'check', job }),
    safeModeProblem: (document) => submit<string | undefined>({ kind: 'safe-mode', document }),
    canonicalizationStats: async () => {
      const each = await Promise.all(threads.map((thread) => submit<CanonicalizationStats>({ kind: 'statistics' }, thread)))
      const total = emptyStatistics()
      for (const stats of each) {
        total.hits += stats.hits
        total.misses += stats.misses
        total.generalCanonicalization += stats.generalCanonicalization
        for (const [reason, count] of Object.entries(stats.fallbacks) as [FallbackReason, number][]) {
          total.fallbacks[reason] = (total.fallbacks[reason] ?? 0) + count
        }
      }
      return total
    },
    stats: () => ({
      threads: threads.length,
      busyThreads: threads.filter((thread) => thread.inFlight.size > 0).length,
      inFlight: threads.reduce((sum, thread) => sum + thread.inFlight.size, 0),
      queued: waiting.length
    }),
    close: async () => {
      await Promise.all(threads.splice(0).map((thread) => thread.worker.terminate()))
    }
  }
}

/** In-process signing, for LANYARD_SIGNING_THREADS=0. */
export const inProcessSigner: DataIntegritySigner = signDataIntegrity
