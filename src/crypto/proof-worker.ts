// A proof thread: the CPU-bound work of Data Integrity proofs (JSON-LD canonicalization dominates it) off the event loop.
// Messages in: a job to sign a credential, check a document's proofs, or expand it in safe mode; out: its result or error.
import { setPriority } from 'node:os'
import { parentPort } from 'node:worker_threads'
import type { KeyObject } from 'node:crypto'
import { inProcessProofWork, type ProofCheckJob } from '../verify/data-integrity.js'
import { canonicalizationStats } from './canonicalize/index.js'
import { signDataIntegrity, UnsignableCredentialError, type DataIntegritySuite } from './data-integrity.js'

export interface SigningJob {
  credential: object
  suite: DataIntegritySuite
  verificationMethod: string
  controller: string
  privateKey: KeyObject
  /** proof.created, in ms; absent means now. */
  created?: number
}

export type ProofJob = { id: number } & (
  | { kind: 'sign'; job: SigningJob }
  | { kind: 'check'; job: ProofCheckJob }
  | { kind: 'safe-mode'; document: Record<string, unknown> }
  | { kind: 'statistics' }
)

export type ProofReply = { id: number; result: unknown } | { id: number; error: string; unsignable: boolean }

async function run(message: ProofJob): Promise<unknown> {
  if (message.kind === 'check') return inProcessProofWork.checkProofs(message.job)
  if (message.kind === 'safe-mode') return inProcessProofWork.safeModeProblem(message.document)
  if (message.kind === 'statistics') return canonicalizationStats()
  const { credential, suite, verificationMethod, controller, privateKey, created } = message.job
  return signDataIntegrity(credential, {
    suite, key: { verificationMethod, controller, privateKey }, ...(created !== undefined && { created: new Date(created) })
  })
}

// On Linux this lowers only this thread's priority: when the cores are busy signing, the event loop thread still gets
// a core at once, so /health and light requests stay fast under a batch. Lowering one's own priority is always allowed
// on Linux; elsewhere it may be refused, and the thread runs as it was.
try {
  setPriority(10)
} catch {
  /* c8 ignore next: not reachable on Linux */
}

parentPort!.on('message', async (message: ProofJob) => {
  try {
    parentPort!.postMessage({ id: message.id, result: await run(message) } satisfies ProofReply)
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: (error as Error).message, unsignable: error instanceof UnsignableCredentialError } satisfies ProofReply)
  }
})
