// A learner's wallet built from Digital Bazaar's libraries (no code from src/): a did:key, and presentations it signs.
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import { createPresentation, signPresentation } from '@digitalbazaar/vc'
import { didKeyDocument, documentLoaderFor } from './independent-verifier.js'

export interface Holder {
  did: string
  key: Ed25519Multikey.Ed25519KeyPair
}

export async function newHolder(): Promise<Holder> {
  const key = await Ed25519Multikey.generate()
  const did = `did:key:${key.publicKeyMultibase}`
  // The key's id is read when a signer is made, so naming it after its own DID here is enough.
  key.id = `${did}#${key.publicKeyMultibase}`
  key.controller = did
  return { did, key }
}

export interface PresentationOptions {
  challenge: string
  domain?: string
  /** The holder the presentation names (default: the signer's DID); null names none. */
  claimedHolder?: string | null
  /** LCW's form: a VC 1.1 presentation signed with Ed25519Signature2020. Default: VC 2.0 with eddsa-rdfc-2022. */
  legacy?: boolean
}

/** A presentation of `credentials` by the holder, signed for authentication. */
export async function presentation(holder: Holder, credentials: object[], options: PresentationOptions): Promise<Record<string, any>> {
  const named = options.claimedHolder === undefined ? holder.did : options.claimedHolder
  const unsigned = createPresentation({ verifiableCredential: credentials, ...(named !== null && { holder: named }), ...(options.legacy && { version: 1.0 }) })
  const suite = options.legacy
    ? new Ed25519Signature2020({ signer: holder.key.signer() })
    : new DataIntegrityProof({ signer: holder.key.signer(), cryptosuite: eddsaRdfc2022 })
  return signPresentation({
    presentation: unsigned, suite, challenge: options.challenge, ...(options.domain !== undefined && { domain: options.domain }),
    documentLoader: documentLoaderFor(async (did) => didKeyDocument(did))
  })
}
