// Builds the unsigned OB 3.0 OpenBadgeCredential (VC Data Model 2.0) for one recipient of one achievement.
import type { Ob3Achievement } from '../achievements/service.js'
import { OB3_EXTENSIONS_CONTEXT } from '../crypto/contexts.js'
import { w3cDate } from '../crypto/w3c-date.js'
import type { IssuerProfile } from '../issuers/service.js'
import { documentContexts } from '../ob3/documents.js'
import { ACHIEVEMENT_CREDENTIAL_SCHEMA_ID } from '../ob3/schema.js'
import { subjectIdentity } from '../recipients/identity.js'
import type { RecipientIdentity } from '../recipients/store.js'

export interface EvidenceInput {
  id?: string
  name?: string
  description?: string
  narrative?: string
  genre?: string
  audience?: string
}

export interface AwardDetails {
  validFrom: Date
  validUntil?: Date
  narrative?: string
  evidence?: EvidenceInput[]
  /** OB 3.0 Results (a reviewer's levels on the achievement's rubrics), stated as the subject's `result`. */
  results?: Record<string, unknown>[]
}

export interface CredentialParts {
  /** The credential's public URL, which is also its id. */
  url: string
  issuer: Omit<IssuerProfile, '@context'>
  achievement: Ob3Achievement
  recipient: RecipientIdentity
  award: AwardDetails
}

export type UnsignedCredential = Record<string, unknown> & { id: string; validFrom: string }

export function buildOpenBadgeCredential(parts: CredentialParts): UnsignedCredential {
  const { award } = parts
  return {
    // extensions.json defines 1EdTechJsonSchemaValidator2019: without it, safe-mode canonicalization of credentialSchema fails.
    '@context': documentContexts(parts.achievement, OB3_EXTENSIONS_CONTEXT),
    id: parts.url,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    name: parts.achievement.name,
    issuer: parts.issuer,
    validFrom: w3cDate(award.validFrom),
    ...(award.validUntil !== undefined ? { validUntil: w3cDate(award.validUntil) } : {}),
    credentialSubject: {
      ...subjectIdentity(parts.recipient),
      type: ['AchievementSubject'],
      ...(parts.recipient.name !== null ? { name: parts.recipient.name } : {}),
      achievement: parts.achievement,
      ...(award.narrative !== undefined ? { narrative: award.narrative } : {}),
      ...(award.results !== undefined && award.results.length > 0 ? { result: award.results } : {})
    },
    ...(award.evidence !== undefined && award.evidence.length > 0
      ? { evidence: award.evidence.map((item) => ({ ...(item.id !== undefined ? { id: item.id } : {}), type: ['Evidence'], ...withoutId(item) })) }
      : {}),
    credentialSchema: [{ id: ACHIEVEMENT_CREDENTIAL_SCHEMA_ID, type: '1EdTechJsonSchemaValidator2019' }]
  }
}

function withoutId({ id: _id, ...rest }: EvidenceInput): Omit<EvidenceInput, 'id'> {
  return rest
}
