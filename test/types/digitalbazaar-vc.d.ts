// The @digitalbazaar verifier stack (devDependencies, used by the independent test verifier) ships no types.
declare module '@digitalbazaar/vc' {
  export function verifyCredential(options: {
    credential: object
    suite: object[]
    documentLoader: (url: string) => Promise<object>
    checkStatus?: () => Promise<{ verified: boolean }>
  }): Promise<{
    verified: boolean
    error?: { message: string; errors?: { message: string }[] }
    results?: { verified: boolean; error?: { message: string } }[]
  }>
}

declare module '@digitalbazaar/data-integrity' {
  export class DataIntegrityProof {
    constructor(options: { cryptosuite: object; signer?: object })
  }
}

declare module '@digitalbazaar/eddsa-rdfc-2022-cryptosuite' {
  export const cryptosuite: object
}

declare module '@digitalbazaar/ed25519-signature-2020' {
  export class Ed25519Signature2020 {
    constructor(options?: { signer?: object })
  }
}

declare module '@digitalbazaar/vc' {
  export function createPresentation(options: { verifiableCredential?: object | object[]; holder?: string; id?: string; version?: number }): Record<string, unknown>
  export function signPresentation(options: {
    presentation: object
    suite: object
    challenge: string
    domain?: string
    documentLoader: (url: string) => Promise<object>
  }): Promise<Record<string, any>>
}

declare module '@digitalbazaar/ed25519-multikey' {
  export interface Ed25519KeyPair {
    id: string
    controller: string
    publicKeyMultibase: string
    signer(): { id: string; algorithm: string; sign(options: { data: Uint8Array }): Promise<Uint8Array> }
  }
  export function generate(options?: { id?: string; controller?: string; seed?: Uint8Array }): Promise<Ed25519KeyPair>
}

declare module '@digitalbazaar/vc' {
  export function issue(options: { credential: object; suite: object; documentLoader: (url: string) => Promise<object> }): Promise<Record<string, any>>
}
