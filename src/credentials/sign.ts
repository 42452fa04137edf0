// Signs a built credential in the requested format with an issuer key, and keeps the exact bytes to store and serve.
import { UnsignableCredentialError } from '../crypto/data-integrity.js'
import type { DataIntegritySigner } from '../crypto/proof-pool.js'
import { signVcJwt } from '../crypto/vc-jwt.js'
import type { CredentialFormat, IssuerRow, JwtAlg, KeyAlgorithm } from '../db/schema.js'
import { AppError } from '../http/errors.js'
import type { IssuerSigner } from '../issuers/service.js'

/** A proof as a caller asks for it: a vc-jwt without jwtAlg takes its issuer's default (proofFor). */
export interface RequestedProof {
  format: CredentialFormat
  jwtAlg?: JwtAlg
}

/** The proof to sign with. */
export interface ProofRequest extends RequestedProof {
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

/**
 * The proof `issuer` signs a request with. Without jwtAlg, a vc-jwt is EdDSA from a did:key issuer, whose one key is
 * Ed25519, and RS256 from any other, the algorithm OB 3.0 requires verifiers to support.
 */
export function proofFor(requested: RequestedProof, issuer: Pick<IssuerRow, 'did_method'>): ProofRequest {
  return { format: requested.format, jwtAlg: requested.jwtAlg ?? (issuer.did_method === 'key' ? 'EdDSA' : 'RS256') }
}

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
