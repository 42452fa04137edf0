// Test helpers for endorsements: endorsing through the admin API, and an endorser elsewhere (a did:key of a test key)
// that signs EndorsementCredentials Lanyard has never seen.
import { generateKeyPairSync } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { signDataIntegrity } from '../../src/crypto/data-integrity.js'
import { didKeyFor } from '../../src/crypto/did.js'
import { signVcJwt } from '../../src/crypto/vc-jwt.js'
import { admin } from './app.js'

export async function endorse(app: FastifyInstance, endorserId: string, body: Record<string, unknown>, headers: Record<string, string> = admin) {
  return app.inject({ method: 'POST', url: `/v1/issuers/${endorserId}/endorsements`, headers, payload: body })
}

export const ENDORSEMENT_SCHEMA = 'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json'

/** An endorser Lanyard does not host: a did:key of a fresh Ed25519 key, signing in eddsa-rdfc-2022 or as an EdDSA VC-JWT. */
export function foreignEndorser(name = 'Welders\' Guild') {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const did = didKeyFor(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'))
  const verificationMethod = `${did}#${did.slice('did:key:'.length)}`
  const endorsement = (subjectId: string, fields: Record<string, unknown> = {}, comment: string | null = 'Our members hold this badge.') => ({
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json', 'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json'],
    id: `urn:uuid:${crypto.randomUUID()}`,
    type: ['VerifiableCredential', 'EndorsementCredential'],
    name: `Endorsement by ${name}`,
    issuer: { id: did, type: ['Profile'], name },
    validFrom: '2025-01-01T00:00:00Z',
    credentialSubject: { id: subjectId, type: ['EndorsementSubject'], ...(comment === null ? {} : { endorsementComment: comment }) },
    credentialSchema: [{ id: ENDORSEMENT_SCHEMA, type: '1EdTechJsonSchemaValidator2019' }],
    ...fields
  })
  return {
    did,
    name,
    endorsement,
    /** Signed as eddsa-rdfc-2022. */
    signed: async (document: Record<string, unknown>) =>
      signDataIntegrity(document, { suite: 'eddsa-rdfc-2022', key: { verificationMethod, controller: did, privateKey } }) as Promise<Record<string, any>>,
    /** Signed as an EdDSA VC-JWT. */
    jwt: async (document: Record<string, unknown>) => signVcJwt(document, { alg: 'EdDSA', kid: verificationMethod, privateKey })
  }
}
