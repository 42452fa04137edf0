// The VC-API exchange LCW speaks: `{}` → a DID Authentication request; the holder's signed presentation → the wallet copy.
// LCW's deep link (auth_type=bearer) skips the first step and posts the presentation itself, signed with the challenge.
import type { ServiceContext } from '../context.js'
import { VC_V2_CONTEXT } from '../crypto/contexts.js'
import { findCredential } from '../credentials/store.js'
import { AppError, validationFailed } from '../http/errors.js'
import { verifyPresentation } from '../verify/presentation.js'
import type { Verifier } from '../verify/pipeline.js'
import { invalidInput } from '../verify/routes.js'
import { exchangeUrl, openClaim } from './claims.js'
import { prepareHolderCopy, writeHolderCopy } from './holder-copy.js'
import { challengeOf } from './secrets.js'
import { redeemClaim } from './store.js'

type Json = Record<string, unknown>

/** Holder DIDs whose keys are in the identifier: no resolution over the network to bind a badge to them. */
const SELF_CERTIFYING = /^did:(key|jwk):/

export function presentationRequest(ctx: ServiceContext, exchangeId: string): Json {
  return {
    verifiablePresentationRequest: {
      query: { type: 'DIDAuthentication', acceptedMethods: [{ method: 'key' }, { method: 'jwk' }], acceptedCryptosuites: [{ cryptosuite: 'eddsa-rdfc-2022' }, { cryptosuite: 'Ed25519Signature2020' }] },
      challenge: challengeOf(exchangeId),
      domain: ctx.publicUrl,
      interact: { service: [{ type: 'VerifiableCredentialApiExchangeService', serviceEndpoint: exchangeUrl(ctx.publicUrl, exchangeId) }] }
    }
  }
}

/** The domain a proof states, which must then be ours; LCW's deep-link presentation states none (its challenge is ours alone). */
function statedDomain(vp: unknown): string | undefined {
  const first = [(vp as Json).proof].flat()[0] as Json | undefined
  return first?.domain === undefined ? undefined : String(first.domain)
}

/**
 * One step of the exchange. An empty body asks for the presentation request; a body holding the holder's presentation
 * (as `{ verifiablePresentation }`, the VC-API form, or bare, as LCW's deep link posts it) is verified against this
 * exchange's challenge and our domain, and answers the copy bound to the holder in the same form.
 */
export async function participate(ctx: ServiceContext, verifier: Verifier, exchangeId: string, body: Json, requestId: string): Promise<Json> {
  const claim = await openClaim(ctx, 'exchange_hash', exchangeId)
  if (Object.keys(body).length === 0) return presentationRequest(ctx, exchangeId)
  const wrapped = body.verifiablePresentation !== undefined
  const vp = wrapped ? body.verifiablePresentation : body
  if (typeof vp !== 'object' || vp === null || Array.isArray(vp)) {
    throw validationFailed('body', [{ pointer: '/verifiablePresentation', message: 'expected a presentation (an object)' }])
  }
  const report = await verifyPresentation(verifier, vp, {
    challenge: challengeOf(exchangeId), ...(statedDomain(vp) !== undefined && { domain: ctx.publicUrl })
  }).catch(invalidInput)
  const failing = report.checks.find((check) => check.status === 'failed')
  if (failing !== undefined) throw new AppError('presentation-rejected', 422, `the presentation does not authenticate its holder: ${failing.message}`, undefined, { checks: report.checks })
  if (report.holder === null || !SELF_CERTIFYING.test(report.holder)) {
    throw new AppError('presentation-rejected', 422, 'the presentation must name its holder, a did:key or did:jwk, which the badge is bound to')
  }
  const holder = report.holder
  const original = (await findCredential(ctx.db, claim.credential_id))!
  const copy = await prepareHolderCopy(ctx, original, holder, 'ldp_vc', requestId)
  await ctx.db.transaction().execute(async (trx) => {
    const redeemed = await redeemClaim(trx, claim.id, 'lcw')
    // Another request redeemed it (or it expired) while this one verified and signed: nothing is written.
    if (redeemed === undefined) throw new AppError('claim-used', 410, 'this claim was used or expired a moment ago; nothing was issued')
    await writeHolderCopy(trx, ctx.publicUrl, copy, redeemed, holder, requestId)
  })
  const verifiablePresentation = { '@context': [VC_V2_CONTEXT], type: ['VerifiablePresentation'], verifiableCredential: [copy.delivered] }
  return wrapped ? { verifiablePresentation } : verifiablePresentation
}
