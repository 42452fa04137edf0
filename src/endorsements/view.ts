// The admin API's view of an endorsement: who endorses what, whether it is live and embedded, and the signed credential.
import type { ServiceContext } from '../context.js'
import { credentialDocument } from '../credentials/view.js'
import type { EndorsementFormat, EndorsementRow, JwtAlg } from '../db/schema.js'

export interface EndorsementView {
  id: string
  /** Where Lanyard publishes it (for one signed here, also its id). */
  url: string
  /** `issued`: signed here by one of its issuers; `attached`: signed elsewhere and attached to an achievement here. */
  origin: 'issued' | 'attached'
  format: EndorsementFormat
  jwtAlg: JwtAlg | null
  status: 'active' | 'revoked'
  /** The endorsing issuer here; null for an attached endorsement. */
  endorserId: string | null
  endorser: { id: string; name: string | null }
  subjectId: string
  achievementId: string | null
  subjectIssuerId: string | null
  endorsementComment: string | null
  /** In the endorsed achievement's or profile's public document, and in credentials issued from now on. */
  embedded: boolean
  revokedAt: string | null
  revocationReason: string | null
  detachedAt: string | null
  createdAt: string
  /** The signed credential (Data Integrity), or the credential a VC-JWT carries. */
  credential: Record<string, unknown>
  jwt?: string
}

export function endorsementUrl(publicUrl: string, id: string): string {
  return `${publicUrl}/endorsements/${id}`
}

export function endorsementView(ctx: ServiceContext, row: EndorsementRow): EndorsementView {
  return {
    id: row.id,
    url: endorsementUrl(ctx.publicUrl, row.id),
    origin: row.endorser_id === null ? 'attached' : 'issued',
    format: row.format,
    jwtAlg: row.jwt_alg,
    status: row.status,
    endorserId: row.endorser_id,
    endorser: { id: row.endorser, name: row.endorser_name },
    subjectId: row.subject_id,
    achievementId: row.achievement_id,
    subjectIssuerId: row.subject_issuer_id,
    endorsementComment: row.comment,
    embedded: row.status === 'active' && row.detached_at === null && (row.achievement_id !== null || row.subject_issuer_id !== null),
    revokedAt: row.revoked_at?.toISOString() ?? null,
    revocationReason: row.revocation_reason,
    detachedAt: row.detached_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    credential: credentialDocument(row),
    ...(row.format === 'vc-jwt' ? { jwt: row.signed } : {})
  }
}
