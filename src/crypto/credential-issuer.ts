// The issuer of a credential: `issuer` is either its id or a Profile object carrying it.

export function issuerIdOf(credential: Record<string, unknown>): string | undefined {
  const issuer = credential.issuer
  if (typeof issuer === 'string') return issuer
  if (typeof issuer === 'object' && issuer !== null && typeof (issuer as { id?: unknown }).id === 'string') return (issuer as { id: string }).id
  return undefined
}
