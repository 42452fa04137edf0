// Pieces of the OB 3.0 documents Lanyard publishes, shared by achievements, issuer profiles and credentials: where
// embedded endorsements go, and the @context that defines what a document carries.
import { ENDORSEMENT_JWT_CONTEXT, OB3_CONTEXT, VC_V2_CONTEXT } from '../crypto/contexts.js'
import type { EmbeddedEndorsement } from '../db/schema.js'

/** One entry of a @context list: a context's URL, or an embedded definition. */
export type JsonLdContext = string | Record<string, unknown>

export type EndorsementMembers = {
  endorsement?: Record<string, unknown>[]
  endorsementJwt?: string[]
}

/**
 * OB 3.0's two places for endorsements on an Achievement or a Profile: `endorsement` for signed documents,
 * `endorsementJwt` for VC-JWTs, each only when there are some.
 */
export function endorsementMembers(embedded: EmbeddedEndorsement[]): EndorsementMembers {
  const documents = embedded.filter((item): item is Record<string, unknown> => typeof item !== 'string')
  const jwts = embedded.filter((item): item is string => typeof item === 'string')
  return { ...(documents.length > 0 ? { endorsement: documents } : {}), ...(jwts.length > 0 ? { endorsementJwt: jwts } : {}) }
}

/**
 * The @context of a document: VC 2.0, OB 3.0, `more` (the extensions context of a credential with credentialSchema), and
 * the definition of endorsementJwt when `holder` (the document itself, or the achievement a credential embeds) carries one.
 */
export function documentContexts(holder: EndorsementMembers, ...more: string[]): JsonLdContext[] {
  return [VC_V2_CONTEXT, OB3_CONTEXT, ...more, ...(holder.endorsementJwt !== undefined ? [ENDORSEMENT_JWT_CONTEXT] : [])]
}
