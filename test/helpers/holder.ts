// A learner's wallet built from Digital Bazaar's libraries (no code from src/): a did:key, and presentations it signs.
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
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

/** A VC 2.0 presentation of `credentials` by the holder, signed with eddsa-rdfc-2022 for authentication. */
export async function presentation(holder: Holder, credentials: object[], options: { challenge: string; domain?: string; claimedHolder?: string }): Promise<Record<string, any>> {
  const unsigned = createPresentation({ verifiableCredential: credentials, holder: options.claimedHolder ?? holder.did })
  const suite = new DataIntegrityProof({ signer: holder.key.signer(), cryptosuite: eddsaRdfc2022 })
  return signPresentation({
    presentation: unsigned, suite, challenge: options.challenge, ...(options.domain !== undefined && { domain: options.domain }),
    documentLoader: documentLoaderFor(async (did) => didKeyDocument(did))
  })
}
