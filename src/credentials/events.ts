// What credentials tell the outbox: the data of credential.issued and credential.revoked, for an LMS to act on.
import type { RecipientIdentityType } from '../db/schema.js'

export interface IssuedEventSource {
  id: string
  issuerId: string
  achievementId: string | null
  /** As the admin API shows a recipient (the email in the clear: the event goes to the issuer's own systems). */
  recipient: { identityType: RecipientIdentityType; identity: string; externalId: string | null } | null
}

export function credentialIssuedData(publicUrl: string, source: IssuedEventSource): Record<string, unknown> {
  return {
    credentialId: source.id,
    url: `${publicUrl}/credentials/${source.id}`,
    issuerId: source.issuerId,
    achievementId: source.achievementId,
    recipient: source.recipient === null ? null : { identityType: source.recipient.identityType, identity: source.recipient.identity },
    externalId: source.recipient?.externalId ?? null
  }
}

export function credentialRevokedData(
  publicUrl: string, row: { id: string; issuer_id: string; achievement_id: string | null; original_credential_id: string | null }, reason: string | null
): Record<string, unknown> {
  return {
    credentialId: row.id,
    url: `${publicUrl}/credentials/${row.id}`,
    issuerId: row.issuer_id,
    achievementId: row.achievement_id,
    reason,
    ...(row.original_credential_id !== null && { originalCredentialId: row.original_credential_id })
  }
}
