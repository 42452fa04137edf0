// Seals issuer private keys at rest with AES-256-GCM under the master key; the key id names which master key sealed a row.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { AppError } from '../http/errors.js'

const SEAL_VERSION = 'v1'

export interface Keyring {
  /** Short public id of the master key that seals new keys (stored beside each sealed key). */
  readonly keyId: string
  seal(plaintext: Uint8Array, associatedData: string): string
  open(sealed: string, masterKeyId: string, associatedData: string): Buffer
}

export function masterKeyId(masterKey: Uint8Array): string {
  return createHash('sha256').update('lanyard master key id\0').update(masterKey).digest('hex').slice(0, 16)
}

/**
 * The associated data binds a sealed key to its row (the issuer key's id), so a ciphertext copied
 * onto another row does not open.
 */
export function createKeyring(masterKey: Uint8Array): Keyring {
  if (masterKey.length !== 32) throw new Error('the master key must be 32 bytes')
  const key = Buffer.from(masterKey)
  const keyId = masterKeyId(key)
  return {
    keyId,
    seal(plaintext, associatedData) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(associatedData))
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
      return [SEAL_VERSION, iv, ciphertext, cipher.getAuthTag()]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.')
    },
    open(sealed, sealedWithKeyId, associatedData) {
      if (sealedWithKeyId !== keyId) {
        throw new AppError('master-key-mismatch', 500,
          `an issuer key is sealed under master key ${sealedWithKeyId}, but LANYARD_MASTER_KEY has id ${keyId}: ` +
          'start Lanyard with the master key the issuer keys were created under')
      }
      const [version, iv, ciphertext, tag] = sealed.split('.')
      if (version !== SEAL_VERSION || !iv || ciphertext === undefined || !tag) {
        throw new AppError('sealed-key-corrupt', 500, 'a stored issuer key is not in a format this version can read')
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
        decipher.setAAD(Buffer.from(associatedData))
        decipher.setAuthTag(Buffer.from(tag, 'base64url'))
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()])
      } catch {
        throw new AppError('sealed-key-corrupt', 500,
          'a stored issuer key failed its integrity check: it was altered, or sealed under a different master key')
      }
    }
  }
}
