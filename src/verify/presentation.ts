// Verifiable Presentations (VC-API /presentations/verify, and the wallet flows): the holder's proof (authentication
// purpose, challenge, domain) and then every credential inside it through the credential pipeline.
import { verifyEmbeddedProofs } from './data-integrity.js'
import { assertShallow, fromJson, InputError } from './input.js'
import type { Verifier } from './pipeline.js'
import { failed, noneFailed, passed, skipped, warning, type Check, type VerificationReport } from './report.js'
import { VC_V1_CONTEXT, VC_V2_CONTEXT } from '../crypto/contexts.js'

type Json = Record<string, unknown>

export interface PresentationOptions {
  challenge?: string
  domain?: string
}

export interface PresentationReport {
  verified: boolean
  holder: string | null
  /** The presentation's own checks: `format` and `proof` (with the holder binding). */
  checks: Check[]
  credentials: VerificationReport[]
}

/** Throws InputError when the body is not a presentation at all (a 400, not a report). */
export async function verifyPresentation(verifier: Verifier, presentation: unknown, options: PresentationOptions): Promise<PresentationReport> {
  if (typeof presentation !== 'object' || presentation === null || Array.isArray(presentation)) throw new InputError('verifiablePresentation must be a JSON object')
  assertShallow(presentation)
  const vp = presentation as Json
  const types = Array.isArray(vp.type) ? vp.type : [vp.type]
  if (!types.includes('VerifiablePresentation')) throw new InputError('The document is not a VerifiablePresentation (its type does not say so)')
  const holder = typeof vp.holder === 'string' ? vp.holder : typeof (vp.holder as Json | undefined)?.id === 'string' ? (vp.holder as Json).id as string : null
  const embedded = vp.verifiableCredential === undefined ? [] : Array.isArray(vp.verifiableCredential) ? vp.verifiableCredential : [vp.verifiableCredential]
  const decoded = embedded.map((credential) => fromJson(credential, 'json'))

  const context = vp['@context']
  const format = Array.isArray(context) && (context[0] === VC_V2_CONTEXT || context[0] === VC_V1_CONTEXT)
    ? passed('format', `A verifiable presentation holding ${embedded.length} credential${embedded.length === 1 ? '' : 's'}`)
    : failed('format', `The first @context must be ${VC_V2_CONTEXT} (or ${VC_V1_CONTEXT})`)
  const proof = format.status === 'failed' ? skipped('proof', 'Not checked: the presentation\'s format is not valid') : await presentationProof(verifier, vp, holder, options)
  const credentials: VerificationReport[] = []
  for (const credential of decoded) credentials.push(await verifier.verify(credential))
  const checks = [format, proof]
  return { verified: noneFailed(checks) && credentials.every((report) => report.verified), holder, checks, credentials }
}

async function presentationProof(verifier: Verifier, vp: Json, holder: string | null, options: PresentationOptions): Promise<Check> {
  if (vp.proof === undefined) {
    return options.challenge === undefined
      ? warning('proof', 'The presentation is not signed, so nothing shows who presented it')
      : failed('proof', 'A challenge was given, but the presentation is not signed')
  }
  const proofs = (Array.isArray(vp.proof) ? vp.proof : [vp.proof]) as Json[]
  // Without a requested challenge the proof's own is taken: the signature still binds the holder, but replay is possible.
  const challenge = options.challenge ?? (typeof proofs[0]?.challenge === 'string' ? proofs[0].challenge : '')
  const purpose = { term: 'authentication' as const, challenge, ...(options.domain !== undefined && { domain: options.domain }) }
  const outcome = await verifyEmbeddedProofs(vp, verifier.fetch, purpose, verifier.work)
  if (!outcome.verified) return failed('proof', outcome.message)
  if (holder !== null && !outcome.keys.some((key) => key.controller === holder)) {
    return failed('proof', `The presentation is signed by ${outcome.keys.map((key) => key.controller).join(', ')}, not by its holder ${holder}`)
  }
  if (options.challenge === undefined) return warning('proof', `${outcome.message}; no challenge was asked for, so this could be a replayed presentation`)
  return passed('proof', outcome.message)
}
