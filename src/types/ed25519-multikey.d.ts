// @digitalcredentials/ed25519-multikey ships no types: the one call Lanyard makes.
declare module '@digitalcredentials/ed25519-multikey' {
  /** Checks a Multikey verification method and reads its key; throws when it is not an Ed25519 Multikey. */
  export function from(key: object): Promise<{ id: string; controller: string; publicKey: Uint8Array }>
}
