// An endorsement's public URL: its exact signed bytes, as JSON or (signed as VC-JWT) the JWT, by content negotiation;
// served to people and verifiers over HTTP, and to Lanyard's own verifier in-process.
import accepts, { type Accepts } from 'accepts'
import type { ServiceContext } from '../context.js'
import { negotiateCredential } from '../credentials/publish.js'
import { AppError, notFound } from '../http/errors.js'
import type { LocalDocument } from '../verify/local-documents.js'
import { ENDORSEMENT } from './service.js'
import { findEndorsement } from './store.js'

/** The signed endorsement in the form `accept` asks for (revoked ones too: their status list says so); 404, or 406. */
export async function negotiatedEndorsement(ctx: ServiceContext, id: string, accept: Accepts): Promise<{ mediaType: string; body: string }> {
  const row = await findEndorsement(ctx.db, id)
  if (row === undefined) throw notFound(ENDORSEMENT)
  const answer = negotiateCredential(row, accept, { html: false })
  if (answer === undefined || answer.kind === 'html') {
    throw new AppError('not-acceptable', 406, 'this endorsement is available as application/json, application/ld+json, application/vc+ld+json' +
      `${row.format === 'vc-jwt' ? ', application/vc+jwt and application/jwt' : ''}`)
  }
  return answer
}

/** /endorsements/:id for Lanyard's verifier, without a network round trip. */
export const endorsementDocument: LocalDocument = async (ctx, id, accept) => {
  const answer = await negotiatedEndorsement(ctx, id, accepts({ headers: { accept } } as never))
  return { contentType: answer.mediaType, body: answer.body }
}
