// The in-process floors of `npm run bench`: raw Ed25519 with node:crypto, and eddsa-rdfc-2022 sign, verify and
// canonicalization of one of Lanyard's credentials on one thread, by the standard libraries (jsonld.js: where every
// issuer in this field sits) and by Lanyard's shape-cached path. Everything HTTP is bounded by these.
import { generateKeyPairSync, randomBytes, randomUUID, sign, verify } from 'node:crypto'
import { DataIntegrityProof } from '@digitalcredentials/data-integrity'
import { cryptosuite as libraryCryptosuite } from '@digitalcredentials/eddsa-rdfc-2022-cryptosuite'
import { issue } from '@digitalcredentials/vc'
import { canonize, Canonizer } from '../src/crypto/canonicalize/index.js'
import { signDataIntegrity, type SigningKey } from '../src/crypto/data-integrity.js'
import { documentLoader } from '../src/crypto/document-loader.js'
import { didKeyFor, verificationMethodId } from '../src/crypto/did.js'
import { publicKeyMultibase } from '../src/crypto/ed25519.js'
import type { DocumentFetcher } from '../src/verify/documents.js'
import { inProcessProofWork, proofChecksWith, verifyEmbeddedProofs, type ProofWork } from '../src/verify/data-integrity.js'

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

/** The libraries' own suite, verifying as Lanyard did before its shape cache: jsonld.js expands every document. */
const libraryProofWork: ProofWork = {
  checkProofs: proofChecksWith(() => [new DataIntegrityProof({ cryptosuite: libraryCryptosuite })]),
  safeModeProblem: inProcessProofWork.safeModeProblem
}
const libraryCanonize = (libraryCryptosuite as unknown as { canonize(input: object, options: object): Promise<string> }).canonize
const CANONIZE_OPTIONS = { documentLoader, base: null, safe: true }

export interface DataIntegrityFloors {
  /** A credential of a did:key issuer (no fetch, no database to verify it), signed: what "foreign" verification sends. */
  signed: Record<string, unknown>
  library: { sign: Operation; verify: Operation; canonize: Operation }
  lanyard: { sign: Operation; verify: Operation; canonizeCached: Operation; canonizeFirstSight: Operation }
}

/**
 * Signs `credential` (one Lanyard issued, its proof and status entry removed) as a did:key issuer, so verifying resolves
 * the key from the DID itself: no fetch, no database, only the proof's work. Each operation takes the next of 100
 * copies with their own ids, so cached paths see new values, as they would in production.
 */
export async function dataIntegrityFloors(credential: Record<string, unknown>): Promise<DataIntegrityFloors> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
  const did = didKeyFor(raw)
  const key: SigningKey = { verificationMethod: verificationMethodId(did, publicKeyMultibase(raw)), controller: did, privateKey }
  const { proof: _proof, credentialStatus: _status, ...unsigned } = credential
  const documents = Array.from({ length: 100 }, () => ({ ...unsigned, id: `urn:uuid:${randomUUID()}`, issuer: { ...(unsigned.issuer as object), id: did } }))
  let next = 0
  const document = () => documents[next++ % documents.length]!
  const signedDocuments = await Promise.all(documents.map((d) => signDataIntegrity(d, { suite: 'eddsa-rdfc-2022', key }))) as Record<string, unknown>[]
  const signedDocument = () => signedDocuments[next++ % signedDocuments.length]!
  // 300 copies of the credential whose shapes all differ (each of five strings takes one of four lexical classes, which
  // are part of the shape key) at the same size: taken in turn, more than the cache keeps, each is a first sight.
  const LEXICAL_VARIANTS = ['plain', 'two words', 'a:b', 'https://example.org/x']
  const firstSightDocuments = Array.from({ length: 300 }, (_, i) => {
    const variant = (digit: number) => LEXICAL_VARIANTS[Math.floor(i / 4 ** digit) % 4]!
    const copy = structuredClone(documents[0]!) as Record<string, any>
    copy.name = variant(0)
    copy.description = variant(1)
    copy.credentialSubject.achievement.name = variant(2)
    copy.credentialSubject.achievement.description = variant(3)
    copy.credentialSubject.achievement.criteria = { narrative: variant(4) }
    return copy
  })
  const firstSight = new Canonizer()
  let nextFirstSight = 0
  const signer = { id: key.verificationMethod, algorithm: 'Ed25519', sign: async ({ data }: { data: Uint8Array }) => sign(null, data, privateKey) }
  const check = (work: ProofWork) => async () => {
    const outcome = await verifyEmbeddedProofs(signedDocument(), noFetch, { term: 'assertionMethod' }, work)
    if (!outcome.verified) throw new Error(`the bench's own credential did not verify: ${outcome.message}`)
  }
  await check(libraryProofWork)()
  await check(inProcessProofWork)()
  return {
    signed: signedDocuments[0]!,
    library: {
      sign: () => issue({ credential: structuredClone(document()), suite: new DataIntegrityProof({ signer, cryptosuite: libraryCryptosuite }), documentLoader }),
      verify: check(libraryProofWork),
      canonize: () => libraryCanonize(document(), CANONIZE_OPTIONS)
    },
    lanyard: {
      sign: () => signDataIntegrity(document(), { suite: 'eddsa-rdfc-2022', key }),
      verify: check(inProcessProofWork),
      canonizeCached: () => canonize(document(), CANONIZE_OPTIONS),
      // A canonizer that knows the contexts but not this document's shape: the template is built from it.
      canonizeFirstSight: () => firstSight.canonizeRdfc(firstSightDocuments[nextFirstSight++ % firstSightDocuments.length], CANONIZE_OPTIONS)
    }
  }
}
