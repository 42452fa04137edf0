// Signs a built credential in the requested format with an issuer key, and keeps the exact bytes to store and serve.
import { UnsignableCredentialError } from '../crypto/data-integrity.js'
import type { DataIntegritySigner } from '../crypto/proof-pool.js'
import { signVcJwt } from '../crypto/vc-jwt.js'
import type { CredentialFormat, JwtAlg, KeyAlgorithm } from '../db/schema.js'
import { AppError } from '../http/errors.js'
import type { IssuerSigner } from '../issuers/service.js'

export interface ProofRequest {
  format: CredentialFormat
  /** Used with vc-jwt only. */
  jwtAlg: JwtAlg
}

export interface SignedCredential {
  /** Exactly what is stored and served: the JSON text, or the compact JWS. */
  signed: string
  /** The credential as a document: with its proof, or (vc-jwt) the JWT's credential claims. */
  credential: Record<string, unknown>
  jwt?: string
}

const JWT_KEY_ALGORITHM: Record<JwtAlg, KeyAlgorithm> = { RS256: 'RSA', ES256: 'P-256', EdDSA: 'Ed25519' }

/** The issuer key a proof needs: Data Integrity and EdDSA sign with Ed25519. */
export function keyAlgorithmFor(request: ProofRequest): KeyAlgorithm {
  return request.format === 'vc-jwt' ? JWT_KEY_ALGORITHM[request.jwtAlg] : 'Ed25519'
}

export async function signCredential(
  credential: Record<string, unknown>, request: ProofRequest, signer: IssuerSigner, signDataIntegrity: DataIntegritySigner
): Promise<SignedCredential> {
  if (request.format === 'vc-jwt') {
    const jwt = await signVcJwt(credential, { alg: request.jwtAlg, kid: signer.verificationMethod, privateKey: signer.privateKey })
    return { signed: jwt, credential, jwt }
  }
  try {
    const signed = await signDataIntegrity(credential, { suite: request.format, key: signer }) as Record<string, unknown>
    return { signed: JSON.stringify(signed), credential: signed }
  } catch (error) {
    if (error instanceof UnsignableCredentialError) throw new AppError('credential-unsignable', 422, error.message)
    throw error
  }
}
