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
      signer: { id: string; algorithm: string; sign(options: { data: Uint8Array }): Promise<Uint8Array> }
      cryptosuite: object
      date?: Date
    })
  }
}

declare module '@digitalcredentials/eddsa-rdfc-2022-cryptosuite' {
  export const cryptosuite: object
}

declare module '@digitalcredentials/ed25519-signature-2020' {
  export class Ed25519Signature2020 {
    constructor(options: {
      signer: { id: string; algorithm: string; sign(options: { data: Uint8Array }): Promise<Uint8Array> }
      date?: Date
    })
  }
}
