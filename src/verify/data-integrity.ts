// Verifies embedded Data Integrity proofs (eddsa-rdfc-2022, the draft eddsa-2022, Ed25519Signature2020) with the
// @digitalcredentials suites, our bundled contexts only, and keys resolved by ./keys.ts. Any one valid proof is enough.
import { DataIntegrityProof } from '@digitalcredentials/data-integrity'
import jsonld from '@digitalcredentials/jsonld'
import jsigs from '@digitalcredentials/jsonld-signatures'
import { canonize } from '../crypto/canonicalize/index.js'
import { CachedEd25519Signature2020, cachedEddsaRdfc2022 } from '../crypto/canonicalize/suites.js'
import { documentLoader as bundledContexts } from '../crypto/document-loader.js'
import { jsonLdBreach } from '../crypto/jsonld-errors.js'
import type { DocumentFetcher } from './documents.js'
import { KeyResolutionError, multibaseOf, resolveVerificationMethod, type ResolvedKey } from './keys.js'
import type { ProofFormat } from './report.js'

/** eddsa-2022 is eddsa-rdfc-2022 under its draft name: the same canonicalization (URDNA2015 = RDFC-1.0), hashing and key. */
const eddsa2022 = { ...cachedEddsaRdfc2022, name: 'eddsa-2022' }

const DID_CONTEXT = 'https://www.w3.org/ns/did/v1'

export type ProofPurposeSpec = { term: 'assertionMethod' } | { term: 'authentication'; challenge?: string; domain?: string }

export interface EmbeddedProofOutcome {
  verified: boolean
  format: ProofFormat
  /** For a person: which key signed, or why nothing verified. */
  message: string
  /** The keys of the proofs that verified. */
  keys: ResolvedKey[]
  /** Set when the document is not valid JSON-LD under its contexts (safe mode): a `format` failure, not a signature one. */
  jsonLdProblem?: string
}

type Json = Record<string, unknown>

/** An error as it crosses to and from a worker thread: what the messages below read of it. */
export interface PlainError {
  name: string
  message: string
  details?: { url?: string; event?: { code: string; message: string; details?: Record<string, string> } }
  /** The JSON-LD rule the document breaks, when jsonld.js refused it for one (see jsonLdBreach). */
  breach?: string
}

/** The CPU-bound part of checking proofs (JSON-LD canonicalization and Ed25519), given every key document it may need. */
export interface ProofCheckJob {
  document: Json
  /** Verification methods and controllers by URL, as the suites' purpose checks read them. */
  keyDocuments: [string, object][]
  purpose: ProofPurposeSpec
}

export interface ProofCheckResult {
  results: { verified: boolean; proof: Json; error?: PlainError }[]
  error?: PlainError
}

/** Where the CPU-bound work of verifying runs: on the proof threads, or in-process. */
export interface ProofWork {
  checkProofs(job: ProofCheckJob): Promise<ProofCheckResult>
  /** Expands the document in JSON-LD safe mode; answers why it is not valid JSON-LD, or undefined. */
  safeModeProblem(document: Json): Promise<string | undefined>
}

/** The Data Integrity format a proof claims, when it is one Lanyard checks. */
export function proofFormat(proof: Json): ProofFormat | undefined {
  if (proof.type === 'Ed25519Signature2020') return 'Ed25519Signature2020'
  if (proof.type === 'DataIntegrityProof' && (proof.cryptosuite === 'eddsa-rdfc-2022' || proof.cryptosuite === 'eddsa-2022')) return proof.cryptosuite
  return undefined
}

function describe(proof: Json): string {
  return proof.type === 'DataIntegrityProof' ? `DataIntegrityProof with cryptosuite "${String(proof.cryptosuite)}"` : `"${String(proof.type)}"`
}

export async function verifyEmbeddedProofs(
  document: Json, fetch: DocumentFetcher, purpose: ProofPurposeSpec, work: ProofWork = inProcessProofWork
): Promise<EmbeddedProofOutcome> {
  const proofs = (Array.isArray(document.proof) ? document.proof : [document.proof]).filter((p): p is Json => typeof p === 'object' && p !== null)
  if (proofs.length === 0) return { verified: false, format: 'none', message: 'There is no proof: the document is not signed', keys: [] }
  const supported = proofs.filter((proof) => proofFormat(proof) !== undefined)
  if (supported.length === 0) {
    return {
      verified: false,
      format: 'none',
      keys: [],
      message: `No proof Lanyard can check: found ${proofs.map(describe).join(', ')}; supported are DataIntegrityProof (eddsa-rdfc-2022, eddsa-2022) and Ed25519Signature2020`
    }
  }
  const format = proofFormat(supported[0]!)!
  const withPurpose = supported.filter((proof) => proof.proofPurpose === purpose.term)
  if (withPurpose.length === 0) {
    return { verified: false, format, keys: [], message: `No proof has the purpose "${purpose.term}" (found ${supported.map((p) => JSON.stringify(p.proofPurpose)).join(', ')})` }
  }

  const keys = new Map<string, ResolvedKey>()
  const problems: string[] = []
  for (const proof of withPurpose) {
    const id = typeof proof.verificationMethod === 'string' ? proof.verificationMethod : (proof.verificationMethod as Json | undefined)?.id
    if (typeof id !== 'string') {
      problems.push('A proof names no verificationMethod')
      continue
    }
    if (keys.has(id)) continue
    try {
      const key = await resolveVerificationMethod(id, fetch)
      if (key.ed25519 === undefined) throw new KeyResolutionError(`The verification method ${id} is not an Ed25519 key`)
      keys.set(id, key)
    } catch (error) {
      // resolveVerificationMethod turns every way a key can be missing or malformed into a KeyResolutionError.
      problems.push((error as KeyResolutionError).message)
    }
  }
  if (keys.size === 0) return { verified: false, format, keys: [], message: problems.join('; ') }

  const legacy2020 = new Set(withPurpose.filter((p) => p.type === 'Ed25519Signature2020').map((p) => p.verificationMethod))
  const documents = new Map<string, object>()
  for (const key of keys.values()) {
    const [context, type] = legacy2020.has(key.id)
      ? ['https://w3id.org/security/suites/ed25519-2020/v1', 'Ed25519VerificationKey2020']
      : ['https://w3id.org/security/multikey/v1', 'Multikey']
    const method = { id: key.id, type, controller: key.controller, publicKeyMultibase: multibaseOf(key) }
    // The controller as the purpose check reads it: a DID-context document listing the methods it vouches for.
    const controller = documents.get(key.controller) as { assertionMethod?: string[]; authentication?: string[] } | undefined
    const controllerDocument = {
      id: key.controller,
      assertionMethod: [...(controller?.assertionMethod ?? []), ...key.assertionMethod],
      authentication: [...(controller?.authentication ?? []), ...key.authentication]
    }
    // A bare did:key names the method by the DID itself: one document is both the method and its controller.
    if (key.id === key.controller) documents.set(key.id, { '@context': [DID_CONTEXT, context], ...method, ...controllerDocument })
    else {
      documents.set(key.id, { '@context': context, ...method })
      documents.set(key.controller, { '@context': DID_CONTEXT, ...controllerDocument })
    }
  }
  const result = await work.checkProofs({ document, keyDocuments: [...documents], purpose })
  const results = result.results
  const good = results.filter((r) => r.verified)
  if (good.length > 0) {
    const signers = good.map((r) => keys.get(String(r.proof.verificationMethod))!).filter(Boolean)
    const used = proofFormat(good[0]!.proof)!
    return { verified: true, format: used, keys: signers, message: `Valid ${used} signature by ${signers.map((k) => k.id).join(', ')}` }
  }
  /* c8 ignore next */
  const errors = results.length > 0 ? results.map((r) => r.error!) : [result.error!]
  const jsonLd = errors.find(isJsonLdProblem)
  if (jsonLd !== undefined) {
    const message = jsonLdMessage(jsonLd)
    return { verified: false, format, keys: [], message: `The signature could not be checked: ${message}`, jsonLdProblem: message }
  }
  return { verified: false, format, keys: [], message: [...problems, ...errors.map(signatureMessage)].join('; ') }
}

/** jsigs.verify with our bundled contexts and the key documents the main thread resolved; errors made plain. */
/** The suites a verification tries, made afresh for each (they hold per-use state). */
export type ProofSuites = () => object[]

const cachedSuites: ProofSuites = () => [
  new DataIntegrityProof({ cryptosuite: cachedEddsaRdfc2022 }),
  new DataIntegrityProof({ cryptosuite: eddsa2022, legacyContext: true }),
  new CachedEd25519Signature2020({})
]

/** Proof checks in this thread with these suites: ours, or (for the bench's floor) the libraries' own. */
export function proofChecksWith(makeSuites: ProofSuites): ProofWork['checkProofs'] {
  return (job) => checkProofsHere(job, makeSuites())
}

async function checkProofsHere({ document, keyDocuments, purpose }: ProofCheckJob, suites: object[]): Promise<ProofCheckResult> {
  const documents = new Map(keyDocuments)
  const loader = async (url: string) => {
    const known = documents.get(url)
    return known === undefined ? bundledContexts(url) : { contextUrl: null, documentUrl: url, document: known }
  }
  const proofPurpose = purpose.term === 'assertionMethod'
    ? new jsigs.purposes.AssertionProofPurpose()
    : new jsigs.purposes.AuthenticationProofPurpose({ challenge: purpose.challenge, domain: purpose.domain })
  const result = await jsigs.verify(document, { suite: suites, purpose: proofPurpose, documentLoader: loader })
  return {
    /* c8 ignore next: jsigs answers without per-proof results only when no proof matched a suite, which the caller rules out */
    results: (result.results ?? []).map((r) => ({ verified: r.verified, proof: r.proof, ...(r.error !== undefined && { error: plainError(r.error) }) })),
    ...(result.error !== undefined && { error: plainError(result.error) })
  }
}

/**
 * A VC-JWT's credential (and any document whose proof did not verify) is still read as JSON-LD in safe mode. Canonizing
 * it in safe mode expands it first, so its success through the shape cache (microseconds for a shape seen before)
 * means jsonld.js's safe-mode expansion succeeds too; only a refusal needs jsonld.js itself, for its exact answer.
 */
async function safeModeProblemHere(document: Json): Promise<string | undefined> {
  try {
    await canonize(document, { documentLoader: bundledContexts, safe: true })
    return undefined
  } catch {
    return expansionProblem(document)
  }
}

/** jsonld.js's own safe-mode expansion: why it refuses `document`, or undefined. */
export async function expansionProblem(document: Json): Promise<string | undefined> {
  try {
    await jsonld.expand(document, { documentLoader: bundledContexts, safe: true })
    return undefined
  } catch (error) {
    return jsonLdMessage(plainError(error as Error))
  }
}

export const inProcessProofWork: ProofWork = { checkProofs: proofChecksWith(cachedSuites), safeModeProblem: safeModeProblemHere }

/** Name, message and the jsonld.js details the messages use; nothing else of an error survives a thread hop. */
export function plainError(error: Error): PlainError {
  const { details } = error as Error & { details?: { url?: unknown; event?: { code: string; message: string; details?: Record<string, unknown> } } }
  const event = details?.event
  const terms = event?.details === undefined
    ? undefined
    : Object.fromEntries(['term', 'property', 'type', 'iri'].flatMap((key) => typeof event.details![key] === 'string' ? [[key, event.details![key] as string]] : []))
  const breach = jsonLdBreach(error)
  return {
    name: error.name,
    message: error.message,
    ...(breach !== undefined && { breach }),
    ...(details !== undefined && {
      details: {
        ...(typeof details.url === 'string' && { url: details.url }),
        ...(event !== undefined && { event: { code: event.code, message: event.message, ...(terms !== undefined && { details: terms }) } })
      }
    })
  }
}

function isJsonLdProblem(error: PlainError): boolean {
  return error.name.startsWith('jsonld.')
}

/** jsonld.js errors, in words: an unknown context, a term the contexts do not define (safe mode), or another JSON-LD rule broken. */
export function jsonLdMessage(error: PlainError): string {
  const { name, details } = error
  if (name === 'jsonld.InvalidUrl') return `it uses the JSON-LD context ${details!.url} which Lanyard does not know (it never fetches contexts)`
  const event = details?.event
  if (event !== undefined) {
    const term = event.details?.term ?? event.details?.property ?? event.details?.type ?? event.details?.iri
    return `the JSON-LD contexts do not define ${term === undefined ? 'every term it uses' : `"${String(term)}"`} (${event.message})`
  }
  return error.breach === undefined ? error.message : `${error.breach} (${error.message})`
}

function signatureMessage(error: PlainError): string {
  if (error.message === 'Invalid signature.') return 'The signature does not match the document: it was changed after signing, or signed with another key'
  return error.message
}
