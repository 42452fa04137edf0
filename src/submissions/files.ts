// Who may open an evidence file, and the file as a reply: its bytes streamed from the database, typed as they were checked.
import type { FastifyReply } from 'fastify'
import type { Caller, ServiceContext } from '../context.js'
import type { ReviewerRow, SubmissionFileRow } from '../db/schema.js'
import { assertIssuerAccess } from '../http/auth.js'
import { AppError, notFound } from '../http/errors.js'
import { openClaim } from '../wallets/claims.js'
import { fileBytes, fileSize, findSubmissionFile } from './file-store.js'
import { isAssigned } from './reviewer-store.js'
import { findSubmission, findSubmissionByCredential } from './store.js'

/** Who asks: the issuer's API caller, a signed-in reviewer (or nobody), or the learner through their claim link. */
export type FileReader =
  | { kind: 'api'; caller: Caller }
  | { kind: 'visitor'; reviewer?: ReviewerRow }
  | { kind: 'claim'; token: string }

const FILE = 'file'

async function fileOf(ctx: ServiceContext, submissionId: string, fileId: string): Promise<SubmissionFileRow> {
  const file = await findSubmissionFile(ctx.db, fileId)
  if (file === undefined || file.submission_id !== submissionId) throw notFound(FILE)
  return file
}

/** The file, when the reader may open it; 404 for a file that is not there or not theirs to know of, 403 for a private one. */
export async function readableFile(ctx: ServiceContext, reader: FileReader, submissionId: string, fileId: string): Promise<SubmissionFileRow> {
  if (reader.kind === 'claim') {
    const claim = await openClaim(ctx, 'token_hash', reader.token)
    const submission = await findSubmissionByCredential(ctx.db, claim.credential_id)
    if (submission === undefined) throw notFound(FILE)
    return fileOf(ctx, submission.id, fileId)
  }
  const submission = await findSubmission(ctx.db, submissionId)
  if (submission === undefined) throw notFound(FILE)
  if (reader.kind === 'api') {
    assertIssuerAccess(reader.caller.principal, submission.issuer_id, FILE)
    return fileOf(ctx, submissionId, fileId)
  }
  const file = await fileOf(ctx, submissionId, fileId)
  if (file.public) return file
  if (reader.reviewer !== undefined && await isAssigned(ctx.db, reader.reviewer.id, submission.achievement_id)) return file
  throw new AppError('evidence-private', 403,
    'this evidence file is private: the issuer, its reviewers (signed in at /review) and the learner (through their claim link) can open it')
}

/** RFC 6266 / 8187: the name as UTF-8, and an ASCII fallback for old clients. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`
}

/** Sends the file: streamed chunk by chunk, never run as a page (sandboxed, not sniffed), cached only when public. */
export function sendFile(ctx: ServiceContext, reply: FastifyReply, file: SubmissionFileRow): FastifyReply {
  return reply
    .header('content-type', file.content_type === 'text/plain' ? 'text/plain; charset=utf-8' : file.content_type)
    .header('content-length', String(fileSize(file)))
    .header('content-disposition', contentDisposition(file.name))
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', file.public ? 'public, max-age=300' : 'private, no-store')
    .header('etag', `"${file.sha256}"`)
    .send(fileBytes(ctx.db, file.id))
}
