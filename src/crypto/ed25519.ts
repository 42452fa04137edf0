// Ed25519 key pairs with node:crypto, and their Multikey (multibase, multicodec 0xed01) encoding.
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import * as base58 from 'base58-universal'

/** multicodec prefix for an Ed25519 public key (varint 0xed). */
const ED25519_PUB_PREFIX = Uint8Array.of(0xed, 0x01)

export interface Ed25519KeyPair {
  /** 32-byte public key. */
  publicKey: Buffer
  /** 32-byte private seed: the secret to seal. */
  seed: Buffer
}

export function generateEd25519(): Ed25519KeyPair {
  const { privateKey } = generateKeyPairSync('ed25519')
  const jwk = privateKey.export({ format: 'jwk' })
  return { publicKey: Buffer.from(jwk.x!, 'base64url'), seed: Buffer.from(jwk.d!, 'base64url') }
}

export function publicKeyMultibase(publicKey: Uint8Array): string {
  const bytes = new Uint8Array(ED25519_PUB_PREFIX.length + publicKey.length)
  bytes.set(ED25519_PUB_PREFIX)
  bytes.set(publicKey, ED25519_PUB_PREFIX.length)
  return `z${base58.encode(bytes)}`
}

export function publicJwk(publicKey: Uint8Array): { kty: 'OKP'; crv: 'Ed25519'; x: string } {
  return { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }
}

export function privateKeyObject(seed: Uint8Array, publicKey: Uint8Array): KeyObject {
  return createPrivateKey({ format: 'jwk', key: { ...publicJwk(publicKey), d: Buffer.from(seed).toString('base64url') } })
}

export function signEd25519(privateKey: KeyObject, message: Uint8Array): Buffer {
  return sign(null, message, privateKey)
}
