// Ed25519 key pairs with node:crypto, and their Multikey (multibase, multicodec 0xed01) encoding.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import * as base58 from 'base58-universal'
import { Lru } from '../lru.js'

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

/** Public key objects by their key: verifications meet the same few issuer keys again and again (~10 µs each to make). */
const publicKeyObjects = new Lru<string, KeyObject>(1000)

/** node:crypto's key object for a 32-byte Ed25519 public key, made once per key. */
export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const jwk = publicJwk(publicKey)
  let key = publicKeyObjects.get(jwk.x)
  if (key === undefined) {
    key = createPublicKey({ format: 'jwk', key: jwk })
    publicKeyObjects.set(jwk.x, key)
  }
  return key
}

export function privateKeyObject(seed: Uint8Array, publicKey: Uint8Array): KeyObject {
  return createPrivateKey({ format: 'jwk', key: { ...publicJwk(publicKey), d: Buffer.from(seed).toString('base64url') } })
}

export function signEd25519(privateKey: KeyObject, message: Uint8Array): Buffer {
  return sign(null, message, privateKey)
}
