// JSON-LD context URLs Lanyard writes into the documents it publishes.
export const VC_V2_CONTEXT = 'https://www.w3.org/ns/credentials/v2'
export const OB3_CONTEXT = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'
/** Defines `1EdTechJsonSchemaValidator2019`: needed whenever a credential carries `credentialSchema`. */
export const OB3_EXTENSIONS_CONTEXT = 'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json'
/** VC Data Model 1.1, for wallets that still need `issuanceDate`/`expirationDate`. */
export const VC_V1_CONTEXT = 'https://www.w3.org/2018/credentials/v1'

/**
 * Defines `endorsementJwt` (OB 3.0's Achievement and Profile property for VC-JWT endorsements), which the published
 * context-3.0.3.json lacked until 1EdTech added it (openbadges-specification#639): without a definition, JSON-LD safe
 * mode refuses a document that carries one. The same definition as 1EdTech's, so a verifier holding the updated
 * context reads an identical (allowed) redefinition of its protected term, and one holding the old copy a new term.
 * A document carries it only when it has JWT endorsements.
 */
export const ENDORSEMENT_JWT_CONTEXT = Object.freeze({
  endorsementJwt: Object.freeze({ '@id': 'https://purl.imsglobal.org/spec/vc/ob/vocab.html#endorsementJwt', '@container': '@set' })
})

/** Whether a @context entry is ENDORSEMENT_JWT_CONTEXT (the only embedded context Lanyard writes or reads). */
export function isEndorsementJwtContext(entry: unknown): boolean {
  return JSON.stringify(entry) === JSON.stringify(ENDORSEMENT_JWT_CONTEXT)
}
