// How a recipient appears in a credential: a DID or URL as the subject id, an email only as a salted hash (never in the clear).
import { createHash, randomBytes } from 'node:crypto'
import type { RecipientIdentityType } from '../db/schema.js'
import type { RecipientIdentity } from './store.js'

export interface RecipientInput {
  email?: string
  did?: string
  url?: string
  name?: string
  externalId?: string
}

/** The one identity a recipient input names; emails are compared case-insensitively, so they are stored lower-cased. */
export function recipientIdentity(input: RecipientInput): RecipientIdentity {
  const [identityType, identity] = input.email !== undefined
    ? ['email', input.email.trim().toLowerCase()] as const
    : input.did !== undefined ? ['did', input.did] as const : ['url', input.url!] as const
  return { identityType, identity, name: input.name ?? null, externalId: input.externalId ?? null }
}

export function identityKey(identity: { identityType: RecipientIdentityType; identity: string }): string {
  return `${identity.identityType}\u0000${identity.identity}`
}

/** OB 3.0 IdentityHash: `sha256$` + hex SHA-256 of the identifier followed by the salt. */
export function identityHash(identifier: string, salt: string): string {
  return `sha256$${createHash('sha256').update(identifier + salt).digest('hex')}`
}

export interface IdentityObject {
  type: 'IdentityObject'
  identityHash: string
  identityType: 'emailAddress'
  hashed: true
  salt: string
}

/**
 * The AchievementSubject fields naming the recipient. Each credential gets its own salt, so two badges of one learner
 * cannot be linked by their hashes.
 */
export function subjectIdentity(identity: RecipientIdentity): { id: string } | { identifier: [IdentityObject] } {
  if (identity.identityType !== 'email') return { id: identity.identity }
  const salt = randomBytes(16).toString('hex')
  return {
    identifier: [{ type: 'IdentityObject', identityHash: identityHash(identity.identity, salt), identityType: 'emailAddress', hashed: true, salt }]
  }
}
