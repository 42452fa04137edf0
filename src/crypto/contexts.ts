// JSON-LD context URLs Lanyard writes into the documents it publishes.
export const VC_V2_CONTEXT = 'https://www.w3.org/ns/credentials/v2'
export const OB3_CONTEXT = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'
