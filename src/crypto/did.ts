// DIDs for issuers (did:web under PUBLIC_URL, or did:key) and the DID documents that publish their keys.
import { publicKeyMultibase } from './ed25519.js'

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

/** The verification method id of a key under a DID: its multibase as fragment (did:key's own convention). */
export function verificationMethodId(did: string, multibase: string): string {
  return `${did}#${multibase}`
}

export interface PublishedKey {
  verificationMethod: string
  publicKeyMultibase: string
}

export type DidDocument = {
  '@context': string[]
  id: string
  verificationMethod: { id: string; type: 'Multikey'; controller: string; publicKeyMultibase: string }[]
  assertionMethod: string[]
}

/**
 * Active key first, then retired ones: retired keys stay in assertionMethod so what they signed still verifies.
 */
export function didDocument(did: string, keys: PublishedKey[]): DidDocument {
  const methods = keys.map((key) => ({
    id: key.verificationMethod,
    type: 'Multikey' as const,
    controller: did,
    publicKeyMultibase: key.publicKeyMultibase
  }))
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did,
    verificationMethod: methods,
    assertionMethod: methods.map((m) => m.id)
  }
}
