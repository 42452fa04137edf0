// Issuer key material of every algorithm Lanyard signs with: generation, the public JWK, and the private KeyObject from its sealed secret.
import { createHash, createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import type { KeyAlgorithm } from '../db/schema.js'
import { generateEd25519, privateKeyObject, publicJwk as ed25519Jwk, publicKeyMultibase } from './ed25519.js'

const generateKeyPairAsync = promisify(generateKeyPair)

export type PublicJwk = Record<string, string>

export interface KeyMaterial {
  algorithm: KeyAlgorithm
  publicJwk: PublicJwk
  /** Ed25519 only: its Multikey encoding. */
  publicKeyMultibase: string | null
  /** The secret to seal: the 32-byte seed for Ed25519, PKCS#8 DER otherwise. */
  secret: Buffer
}

export async function generateKeyMaterial(algorithm: KeyAlgorithm): Promise<KeyMaterial> {
  if (algorithm === 'Ed25519') {
    const pair = generateEd25519()
    return { algorithm, publicJwk: ed25519Jwk(pair.publicKey), publicKeyMultibase: publicKeyMultibase(pair.publicKey), secret: pair.seed }
  }
  // RSA-2048 generation takes a noticeable fraction of a second: the async form keeps the event loop free.
  const { privateKey, publicKey } = algorithm === 'RSA'
    ? await generateKeyPairAsync('rsa', { modulusLength: 2048 })
    : await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
  return {
    algorithm,
    publicJwk: publicKey.export({ format: 'jwk' }) as PublicJwk,
    publicKeyMultibase: null,
    secret: privateKey.export({ format: 'der', type: 'pkcs8' })
  }
}

export function privateKeyFromSecret(algorithm: KeyAlgorithm, secret: Buffer, publicJwk: PublicJwk): KeyObject {
  if (algorithm === 'Ed25519') return privateKeyObject(secret, Buffer.from(publicJwk.x!, 'base64url'))
  return createPrivateKey({ key: secret, format: 'der', type: 'pkcs8' })
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA or EC key: a stable fragment for keys that have no Multikey form. */
export function jwkThumbprint(jwk: PublicJwk): string {
  const members = jwk.kty === 'RSA' ? ['e', 'kty', 'n'] : ['crv', 'kty', 'x', 'y']
  const canonical = JSON.stringify(Object.fromEntries(members.map((name) => [name, jwk[name]])))
  return createHash('sha256').update(canonical).digest('base64url')
}
