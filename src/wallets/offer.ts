// OID4VCI 1.0 documents: the credential offer, the credential issuer metadata and the authorization server metadata.
// Lanyard is its own authorization server, and PUBLIC_URL is its credential issuer identifier.
import { OB3_CONTEXT, VC_V2_CONTEXT } from '../crypto/contexts.js'
import type { CopyFormat } from './holder-copy.js'

export const PRE_AUTHORIZED_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code'

/** The credential configurations Lanyard offers: an Open Badge as a VC-JWT, and as a Data Integrity JSON-LD credential. */
export const CREDENTIAL_CONFIGURATIONS: Record<string, CopyFormat> = {
  OpenBadgeCredential_jwt_vc_json: 'jwt_vc_json',
  OpenBadgeCredential_ldp_vc: 'ldp_vc'
}

const OPEN_BADGE_TYPES = ['VerifiableCredential', 'OpenBadgeCredential']
/** Algorithms Lanyard checks holder key proofs with. */
export const PROOF_ALGORITHMS = ['EdDSA', 'ES256']

export const oid4vciPaths = {
  token: '/oid4vci/token',
  nonce: '/oid4vci/nonce',
  credential: '/oid4vci/credential'
}

export function credentialOffer(publicUrl: string, preAuthorizedCode: string, txCodeRequired: boolean): Record<string, unknown> {
  return {
    credential_issuer: publicUrl,
    credential_configuration_ids: Object.keys(CREDENTIAL_CONFIGURATIONS),
    grants: {
      [PRE_AUTHORIZED_GRANT]: {
        'pre-authorized_code': preAuthorizedCode,
        ...(txCodeRequired && { tx_code: { input_mode: 'numeric', length: 6, description: 'The six-digit code your issuer sent you with this badge' } })
      }
    }
  }
}

const display = [{ name: 'Open Badge', locale: 'en', description: 'An Open Badges 3.0 achievement credential', background_color: '#0b4f9c', text_color: '#ffffff' }]

function configuration(format: CopyFormat): Record<string, unknown> {
  return {
    format,
    scope: 'OpenBadgeCredential',
    cryptographic_binding_methods_supported: ['did:key', 'did:jwk', 'jwk'],
    credential_signing_alg_values_supported: format === 'ldp_vc' ? ['eddsa-rdfc-2022'] : ['EdDSA'],
    proof_types_supported: { jwt: { proof_signing_alg_values_supported: PROOF_ALGORITHMS } },
    credential_definition: format === 'ldp_vc' ? { '@context': [VC_V2_CONTEXT, OB3_CONTEXT], type: OPEN_BADGE_TYPES } : { type: OPEN_BADGE_TYPES },
    // 1.0 keeps display under credential_metadata; draft 13 wallets read it from the configuration itself.
    credential_metadata: { display },
    display
  }
}

export function credentialIssuerMetadata(publicUrl: string): Record<string, unknown> {
  return {
    credential_issuer: publicUrl,
    // Draft 13 wallets look for the token endpoint here; 1.0 wallets read the authorization server metadata.
    token_endpoint: `${publicUrl}${oid4vciPaths.token}`,
    credential_endpoint: `${publicUrl}${oid4vciPaths.credential}`,
    nonce_endpoint: `${publicUrl}${oid4vciPaths.nonce}`,
    display: [{ name: 'Lanyard', locale: 'en' }],
    credential_configurations_supported: Object.fromEntries(
      Object.entries(CREDENTIAL_CONFIGURATIONS).map(([id, format]) => [id, configuration(format)])
    )
  }
}

export function authorizationServerMetadata(publicUrl: string): Record<string, unknown> {
  return {
    issuer: publicUrl,
    token_endpoint: `${publicUrl}${oid4vciPaths.token}`,
    grant_types_supported: [PRE_AUTHORIZED_GRANT],
    'pre-authorized_grant_anonymous_access_supported': true,
    token_endpoint_auth_methods_supported: ['none'],
    response_types_supported: []
  }
}
