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
    constructor(options: { cryptosuite: object })
  }
}

declare module '@digitalbazaar/eddsa-rdfc-2022-cryptosuite' {
  export const cryptosuite: object
}

declare module '@digitalbazaar/ed25519-signature-2020' {
  export class Ed25519Signature2020 {}
}
