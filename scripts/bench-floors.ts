// The in-process floors of `npm run bench`: raw Ed25519 with node:crypto, and the library's eddsa-rdfc-2022 sign and
// verify of one of Lanyard's credentials, each on one thread. Everything HTTP is bounded by these.
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto'
import { signDataIntegrity, type SigningKey } from '../src/crypto/data-integrity.js'
import { didKeyFor, verificationMethodId } from '../src/crypto/did.js'
import { publicKeyMultibase } from '../src/crypto/ed25519.js'
import type { DocumentFetcher } from '../src/verify/documents.js'
import { verifyEmbeddedProofs } from '../src/verify/data-integrity.js'

export type Operation = () => unknown

/** Runs `op` back to back (awaiting it when it is async) for `seconds`; answers operations per second. */
export async function opsPerSecond(seconds: number, op: Operation): Promise<number> {
  const started = performance.now()
  const until = started + seconds * 1000
  let count = 0
  let now = started
  while (now < until) {
    const result = op()
    if (result instanceof Promise) await result
    count++
    now = performance.now()
  }
  return count / ((now - started) / 1000)
}

/** eddsa-rdfc-2022 signs SHA-256(proof options) ‖ SHA-256(credential): 64 bytes. */
export function rawEd25519(): { sign: Operation; verify: Operation } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const message = randomBytes(64)
  const signature = sign(null, message, privateKey)
  return {
    sign: () => sign(null, message, privateKey),
    verify: () => { if (!verify(null, message, publicKey, signature)) throw new Error('raw Ed25519 did not verify') }
  }
}

const noFetch: DocumentFetcher = async (url) => { throw new Error(`the bench fetches nothing (asked for ${url})`) }

/**
 * Signs `credential` (one Lanyard issued, its proof removed) as a did:key issuer, so verifying resolves the key from the
 * DID itself: no fetch, no database, only the library's work.
 */
export async function libraryDataIntegrity(credential: Record<string, unknown>): Promise<{ sign: Operation; verify: Operation }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
  const did = didKeyFor(raw)
  const key: SigningKey = { verificationMethod: verificationMethodId(did, publicKeyMultibase(raw)), controller: did, privateKey }
  const { proof: _proof, ...unsigned } = credential
  const document = { ...unsigned, issuer: { ...(unsigned.issuer as object), id: did } }
  const signed = await signDataIntegrity(document, { suite: 'eddsa-rdfc-2022', key }) as Record<string, unknown>
  const check = async () => {
    const outcome = await verifyEmbeddedProofs(signed, noFetch, { term: 'assertionMethod' })
    if (!outcome.verified) throw new Error(`the library did not verify its own credential: ${outcome.message}`)
  }
  await check()
  return { sign: () => signDataIntegrity(document, { suite: 'eddsa-rdfc-2022', key }), verify: check }
}
