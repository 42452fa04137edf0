// DIDs for issuers (did:web under PUBLIC_URL, or did:key) and the DID documents that publish their keys.
import { publicKeyMultibase } from './ed25519.js'
import type { PublicJwk } from './keys.js'

/**
 * did:web for a path under PUBLIC_URL: the host (port percent-encoded) then each path segment,
 * so `did:web:localhost%3A3000:issuers:<id>` resolves to http(s)://localhost:3000/issuers/<id>/did.json.
 */
export function didWebFor(publicUrl: string, pathSegments: string[]): string {
  const url = new URL(publicUrl)
  const basePath = url.pathname.split('/').filter(Boolean)
  return ['did:web', encodeURIComponent(url.host), ...basePath, ...pathSegments].join(':')
}

export function didKeyFor(publicKey: Uint8Array): string {
  return `did:key:${publicKeyMultibase(publicKey)}`
}

/** The verification method id of a key under a DID: its Multikey multibase, or its JWK thumbprint, as fragment. */
export function verificationMethodId(did: string, fragment: string): string {
  return `${did}#${fragment}`
}

/** A key as the DID document publishes it: Ed25519 as Multikey (Data Integrity), RSA and P-256 as JsonWebKey (VC-JWT). */
export type PublishedKey =
  | { verificationMethod: string; publicKeyMultibase: string }
  | { verificationMethod: string; publicKeyJwk: PublicJwk }

export type VerificationMethod =
  | { id: string; type: 'Multikey'; controller: string; publicKeyMultibase: string }
  | { id: string; type: 'JsonWebKey'; controller: string; publicKeyJwk: PublicJwk }

export type DidDocument = {
  '@context': string[]
  id: string
  verificationMethod: VerificationMethod[]
  assertionMethod: string[]
}

const DID_CONTEXT = 'https://www.w3.org/ns/did/v1'
const MULTIKEY_CONTEXT = 'https://w3id.org/security/multikey/v1'
const JWK_CONTEXT = 'https://w3id.org/security/jwk/v1'

/**
 * Active keys first, then retired ones: retired keys stay in assertionMethod so what they signed still verifies.
 */
export function didDocument(did: string, keys: PublishedKey[]): DidDocument {
  const methods: VerificationMethod[] = keys.map((key) => 'publicKeyMultibase' in key
    ? { id: key.verificationMethod, type: 'Multikey', controller: did, publicKeyMultibase: key.publicKeyMultibase }
    : { id: key.verificationMethod, type: 'JsonWebKey', controller: did, publicKeyJwk: key.publicKeyJwk })
  const hasJwk = methods.some((method) => method.type === 'JsonWebKey')
  return {
    '@context': [DID_CONTEXT, MULTIKEY_CONTEXT, ...(hasJwk ? [JWK_CONTEXT] : [])],
    id: did,
    verificationMethod: methods,
    assertionMethod: methods.map((m) => m.id)
  }
}
