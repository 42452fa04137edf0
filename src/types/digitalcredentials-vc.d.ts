// The @digitalcredentials signing stack ships no types: declared only as far as Lanyard uses it.
declare module '@digitalcredentials/vc' {
  export function issue(options: {
    credential: object
    suite: object
    documentLoader: (url: string) => Promise<object>
  }): Promise<object>
  /** The library's VC data model check (exported, though underscored): throws an Error naming the broken rule. */
  export function _checkCredential(options: { credential: object; mode: 'issue' | 'verify'; now?: Date }): void
}

declare module '@digitalcredentials/data-integrity' {
  export class DataIntegrityProof {
    constructor(options: {
      /** Absent when the suite only verifies. */
      signer?: { id: string; algorithm: string; sign(options: { data: Uint8Array }): Promise<Uint8Array> }
      cryptosuite: object
      date?: Date
      /** Use the data-integrity/v1 context (the draft eddsa-2022 era) instead of v2. */
      legacyContext?: boolean
    })
  }
}

declare module '@digitalcredentials/eddsa-rdfc-2022-cryptosuite' {
  export const cryptosuite: object
}

declare module '@digitalcredentials/ed25519-signature-2020' {
  export class Ed25519Signature2020 {
    constructor(options: {
      signer?: { id: string; algorithm: string; sign(options: { data: Uint8Array }): Promise<Uint8Array> }
      date?: Date
    })
  }
}

declare module '@digitalcredentials/jsonld-signatures' {
  export interface ProofResult {
    proof: Record<string, unknown>
    verified: boolean
    verificationMethod?: { id: string }
    error?: Error & { errors?: Error[] }
  }
  export interface VerifyResult {
    verified: boolean
    results?: ProofResult[]
    error?: Error & { errors?: Error[] }
  }
  class ProofPurpose {}
  const jsigs: {
    verify(document: object, options: {
      suite: object | object[]
      purpose: ProofPurpose
      documentLoader: (url: string) => Promise<object>
    }): Promise<VerifyResult>
    purposes: {
      AssertionProofPurpose: new (options?: { controller?: object; date?: Date }) => ProofPurpose
      AuthenticationProofPurpose: new (options: { challenge?: string; domain?: string; controller?: object }) => ProofPurpose
    }
  }
  export default jsigs
}

declare module '@digitalcredentials/jsonld' {
  const jsonld: {
    expand(input: object, options: { documentLoader: (url: string) => Promise<object>; safe?: boolean }): Promise<object[]>
  }
  export default jsonld
}
