// A webhook's signing secret: whsec_ + base64 of 32 random bytes (the Standard Webhooks form), sealed at rest.
import { randomBytes } from 'node:crypto'
import type { Keyring } from '../crypto/keyring.js'

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

/** The associated data binds a sealed secret to its webhook, so a ciphertext copied onto another row does not open. */
const boundTo = (webhookId: string) => `webhook:${webhookId}`

export function sealWebhookSecret(keyring: Keyring, webhookId: string, secret: string): { sealed_secret: string; master_key_id: string } {
  return { sealed_secret: keyring.seal(Buffer.from(secret), boundTo(webhookId)), master_key_id: keyring.keyId }
}

export function openWebhookSecret(keyring: Keyring, row: { id: string; sealed_secret: string; master_key_id: string }): string {
  return keyring.open(row.sealed_secret, row.master_key_id, boundTo(row.id)).toString()
}
