// The admin API's view of an issued credential: its state, and the signed credential itself.
import type { ServiceContext } from '../context.js'
import type { CredentialFormat, CredentialRow, JwtAlg } from '../db/schema.js'
import { decodeVcJwt } from '../verify/vc-jwt.js'

export type CredentialState = 'active' | 'revoked' | 'expired'

export interface CredentialView {
  id: string
  url: string
  format: CredentialFormat
  jwtAlg: JwtAlg | null
  status: CredentialState
  issuerId: string
  achievementId: string | null
  recipientId: string | null
  validFrom: string | null
  validUntil: string | null
  revokedAt: string | null
  revocationReason: string | null
  createdAt: string
  /** The signed credential (Data Integrity), or the credential a VC-JWT carries. */
  credential: Record<string, unknown>
  jwt?: string
}

/** The credential a row holds: the signed document, or the credential a VC-JWT carries. */
export function credentialDocument(row: { format: string; signed: string }): Record<string, unknown> {
  // The JWT's payload is the credential plus the registered claims OB 3.0 adds; the VC-JWT decoder takes those off.
  return row.format === 'vc-jwt' ? decodeVcJwt(row.signed)!.credential : JSON.parse(row.signed) as Record<string, unknown>
}

export function credentialState(row: Pick<CredentialRow, 'status' | 'valid_until'>, now = new Date()): CredentialState {
  if (row.status === 'revoked') return 'revoked'
  return row.valid_until !== null && row.valid_until <= now ? 'expired' : 'active'
}

export function credentialView(ctx: ServiceContext, row: CredentialRow): CredentialView {
  return {
    id: row.id,
    url: `${ctx.publicUrl}/credentials/${row.id}`,
    format: row.format,
    jwtAlg: row.jwt_alg,
    status: credentialState(row),
    issuerId: row.issuer_id,
    achievementId: row.achievement_id,
    recipientId: row.recipient_id,
    validFrom: row.valid_from?.toISOString() ?? null,
    validUntil: row.valid_until?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    revocationReason: row.revocation_reason,
    createdAt: row.created_at.toISOString(),
    credential: credentialDocument(row),
    ...(row.format === 'vc-jwt' ? { jwt: row.signed } : {})
  }
}
