// Embedded Data Integrity proofs (eddsa-rdfc-2022, legacy Ed25519Signature2020) on a credential, with our static document
// loader and the shape-cached canonicalization (./canonicalize/).
import { sign, type KeyObject } from 'node:crypto'
import { DataIntegrityProof } from '@digitalcredentials/data-integrity'
import { _checkCredential, issue } from '@digitalcredentials/vc'
import { CachedEd25519Signature2020, cachedEddsaRdfc2022 } from './canonicalize/suites.js'
import { VC_V1_CONTEXT } from './contexts.js'
import { issuerIdOf } from './credential-issuer.js'
import { documentLoader } from './document-loader.js'
import { jsonLdBreach } from './jsonld-errors.js'
import { w3cDate } from './w3c-date.js'

export type DataIntegritySuite = 'eddsa-rdfc-2022' | 'Ed25519Signature2020'

/** An issuer's Ed25519 key, opened for signing. */
export interface SigningKey {
  /** `did#fragment`: what `proof.verificationMethod` names. */
  verificationMethod: string
  /** The DID that controls the key; it must be the credential's issuer. */
  controller: string
  privateKey: KeyObject
}

export interface DataIntegrityOptions {
  suite: DataIntegritySuite
  key: SigningKey
  /** `proof.created`; defaults to now. */
  created?: Date
}

/**
 * The credential cannot be signed as given (unknown context, undefined term, JSON-LD that does not expand, wrong issuer):
 * the caller's mistake, not a server fault.
 */
export class UnsignableCredentialError extends Error {
  override name = 'UnsignableCredentialError'
}

/**
 * Returns a signed copy, which shares nested values with the input; the input is left alone. What the suites add to
 * `@context`: eddsa-rdfc-2022 adds data-integrity/v2 to a VC 1.1 credential only (VC 2.0 defines DataIntegrityProof);
 * Ed25519Signature2020 always appends https://w3id.org/security/suites/ed25519-2020/v1, VC 2.0 included (its verifiers
 * require it there).
 */
export async function signDataIntegrity(credential: object, options: DataIntegrityOptions): Promise<object> {
  const { key } = options
  const created = options.created ?? new Date()
  // The libraries write only top-level members of the document they sign (a new @context array, proof, a VC 1.1
  // issuanceDate): a shallow copy keeps the caller's document as it was, at a tenth of a deep copy's cost.
  const document = { ...credential } as Record<string, unknown>
  const issuerId = issuerIdOf(document)
  if (issuerId !== key.controller) {
    throw new UnsignableCredentialError(`The credential's issuer ${String(issuerId)} is not the controller of key ${key.verificationMethod}`)
  }
  // Left to the library, a VC 1.1 credential without issuanceDate gets the wall clock; the proof's time keeps them equal.
  if (isVc1(document) && document.issuanceDate === undefined) document.issuanceDate = w3cDate(created)
  // issue() runs this same data-model check and throws a plain Error; run first, a breach is the caller's mistake, not a 500.
  try {
    _checkCredential({ credential: document, mode: 'issue', now: created })
  } catch (error) {
    throw new UnsignableCredentialError(`The credential is not a valid verifiable credential: ${(error as Error).message}`, { cause: error })
  }
  const signer = {
    id: key.verificationMethod,
    algorithm: 'Ed25519',
    // Holds the KeyObject: re-importing the raw key per signature costs ~9 % of an issue.
    sign: async ({ data }: { data: Uint8Array }) => sign(null, data, key.privateKey)
  }
  const suite = options.suite === 'eddsa-rdfc-2022'
    ? new DataIntegrityProof({ signer, cryptosuite: cachedEddsaRdfc2022, date: created })
    : new CachedEd25519Signature2020({ signer, date: created })
  try {
    return await issue({ credential: document, suite, documentLoader })
  } catch (error) {
    throw explained(error)
  }
}

function isVc1(document: Record<string, unknown>): boolean {
  const context = document['@context']
  return Array.isArray(context) && context[0] === VC_V1_CONTEXT
}

interface JsonLdError {
  name: string
  message: string
  details?: { url?: string; event?: { message: string; details?: unknown } }
}

/** jsonld.js errors about the document become UnsignableCredentialError with a message a caller can act on. */
function explained(error: unknown): unknown {
  const { name, message, details } = error as JsonLdError
  if (name === 'jsonld.InvalidUrl') {
    return new UnsignableCredentialError(`Unknown JSON-LD context ${details?.url}: Lanyard signs only with its bundled contexts`, { cause: error })
  }
  if (name === 'jsonld.ValidationError') {
    const event = details?.event
    return new UnsignableCredentialError(`The credential's @context does not define all its terms: ${event?.message} ${JSON.stringify(event?.details)}`, { cause: error })
  }
  // Any other rule of JSON-LD the document breaks (a protected term redefined, an @type that is a number, …).
  const breach = jsonLdBreach(error)
  if (breach !== undefined) return new UnsignableCredentialError(`The credential is not valid JSON-LD (${breach}): ${message}`, { cause: error })
  return error
}
