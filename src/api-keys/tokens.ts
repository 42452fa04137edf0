// Bearer secrets: API keys are random, prefixed for recognition, and kept only as SHA-256 hashes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex')
  const right = Buffer.from(b, 'hex')
  return left.length === right.length && timingSafeEqual(left, right)
}

export interface NewApiKeySecret {
  /** The whole key, shown to the caller once. */
  key: string
  /** Non-secret part that names the key in lists and logs. */
  prefix: string
  hash: string
}

/** `lny_<prefix>_<secret>`: 256 bits of secret, so a plain SHA-256 is a safe at-rest form (no slow hash needed). */
export function newApiKeySecret(): NewApiKeySecret {
  const prefix = randomBytes(6).toString('base64url')
  const key = `lny_${prefix}_${randomBytes(32).toString('base64url')}`
  return { key, prefix: `lny_${prefix}`, hash: hashToken(key) }
}

export function newAdminToken(): string {
  return `lny_admin_${randomBytes(32).toString('base64url')}`
}
