// A signing thread: Data Integrity proofs (canonicalization dominates their cost) off the event loop. Messages in:
// a credential, the suite and the issuer key; out: the signed document, or why it could not be signed.
import { parentPort } from 'node:worker_threads'
import type { KeyObject } from 'node:crypto'
import { signDataIntegrity, UnsignableCredentialError, type DataIntegritySuite } from './data-integrity.js'

export interface SigningJob {
  id: number
  credential: object
  suite: DataIntegritySuite
  verificationMethod: string
  controller: string
  privateKey: KeyObject
  /** proof.created, in ms; absent means now. */
  created?: number
}

export type SigningReply = { id: number; signed: object } | { id: number; error: string; unsignable: boolean }

parentPort!.on('message', async (job: SigningJob) => {
  const { id, credential, suite, verificationMethod, controller, privateKey, created } = job
  try {
    const signed = await signDataIntegrity(credential, {
      suite, key: { verificationMethod, controller, privateKey }, ...(created !== undefined && { created: new Date(created) })
    })
    parentPort!.postMessage({ id, signed } satisfies SigningReply)
  } catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message, unsignable: error instanceof UnsignableCredentialError } satisfies SigningReply)
  }
})
