// JSON-LD context URLs Lanyard writes into the documents it publishes.
export const VC_V2_CONTEXT = 'https://www.w3.org/ns/credentials/v2'
export const OB3_CONTEXT = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'
/** Defines `1EdTechJsonSchemaValidator2019`: needed whenever a credential carries `credentialSchema`. */
export const OB3_EXTENSIONS_CONTEXT = 'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json'
/** VC Data Model 1.1, for wallets that still need `issuanceDate`/`expirationDate`. */
export const VC_V1_CONTEXT = 'https://www.w3.org/2018/credentials/v1'
