// Data Integrity signing on a pool of worker threads, one per core by default: a batch of a thousand credentials uses
// every core and the event loop stays free for other requests. Deterministic Ed25519 makes the bytes the same as in-process.
import { Worker } from 'node:worker_threads'
import { signDataIntegrity, UnsignableCredentialError, type DataIntegrityOptions } from './data-integrity.js'
import type { SigningJob, SigningReply } from './signing-worker.js'

export type DataIntegritySigner = (credential: object, options: DataIntegrityOptions) => Promise<object>

export interface SigningPool {
  sign: DataIntegritySigner
  close(): Promise<void>
}

interface Thread {
  worker: Worker
  inFlight: Map<number, { resolve: (signed: object) => void; reject: (error: Error) => void }>
}

const ENTRY = new URL('./signing-worker-entry.mjs', import.meta.url)

/** Threads start on first use, so an instance that never signs (or a test app) pays nothing. */
export function createSigningPool(size: number): SigningPool {
  const threads: Thread[] = []
  let nextId = 0

  function start(): Thread {
    const thread: Thread = { worker: new Worker(ENTRY), inFlight: new Map() }
    thread.worker.on('message', (reply: SigningReply) => {
      const job = thread.inFlight.get(reply.id)!
      thread.inFlight.delete(reply.id)
      if ('signed' in reply) job.resolve(reply.signed)
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

  return {
    sign: (credential, options) => new Promise<object>((resolve, reject) => {
      const thread = pick()
      const id = nextId++
      thread.inFlight.set(id, { resolve, reject })
      // ref while working, so the process does not exit under a pending signature; unref when idle again.
      thread.worker.ref()
      const job: SigningJob = {
        id, credential, suite: options.suite, verificationMethod: options.key.verificationMethod, controller: options.key.controller,
        privateKey: options.key.privateKey, ...(options.created !== undefined && { created: options.created.getTime() })
      }
      thread.worker.postMessage(job)
    }).finally(() => {
      for (const thread of threads) if (thread.inFlight.size === 0) thread.worker.unref()
    }),
    close: async () => {
      await Promise.all(threads.splice(0).map((thread) => thread.worker.terminate()))
    }
  }
}

/** In-process signing, for LANYARD_SIGNING_THREADS=0. */
export const inProcessSigner: DataIntegritySigner = signDataIntegrity
