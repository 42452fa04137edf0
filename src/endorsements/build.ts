// Builds the unsigned OB 3.0 EndorsementCredential (VC Data Model 2.0): an issuer's signed word about an achievement or a profile.
import { OB3_EXTENSIONS_CONTEXT } from '../crypto/contexts.js'
import { w3cDate } from '../crypto/w3c-date.js'
import type { IssuerProfile } from '../issuers/service.js'
import { documentContexts } from '../ob3/documents.js'
import { ENDORSEMENT_CREDENTIAL_SCHEMA_ID } from '../ob3/schema.js'

export interface EndorsementParts {
  /** The endorsement's public URL, which is also its id. */
  url: string
  endorser: Omit<IssuerProfile, '@context'>
  /** credentialSubject.id: the URL of what is endorsed. */
  subjectId: string
  /** The endorsed achievement's or issuer's name, when it is one of this Lanyard's. */
  subjectName: string | undefined
  comment: string
  /** Whole seconds: the row keeps the same instant. */
  validFrom: Date
}

export function buildEndorsementCredential(parts: EndorsementParts): Record<string, unknown> {
  return {
    // extensions.json defines 1EdTechJsonSchemaValidator2019, as for every credential that names its schema.
    '@context': documentContexts({}, OB3_EXTENSIONS_CONTEXT),
    id: parts.url,
    type: ['VerifiableCredential', 'EndorsementCredential'],
    // The schema requires a name; a wallet lists the credential by it.
    name: parts.subjectName === undefined ? `Endorsement by ${parts.endorser.name}` : `Endorsement of ${parts.subjectName} by ${parts.endorser.name}`,
    issuer: parts.endorser,
    validFrom: w3cDate(parts.validFrom),
    credentialSubject: { id: parts.subjectId, type: ['EndorsementSubject'], endorsementComment: parts.comment },
    credentialSchema: [{ id: ENDORSEMENT_CREDENTIAL_SCHEMA_ID, type: '1EdTechJsonSchemaValidator2019' }]
  }
}
