// Issuing Open Badges: one or a batch, all or nothing, safe to retry with an Idempotency-Key; reading them back.
import { mapInSlices } from '../event-loop.js'
import { v7 as uuidv7 } from 'uuid'
import { achievementDocument } from '../achievements/service.js'
import { wholeSeconds } from '../crypto/w3c-date.js'
import type { Caller, ServiceContext } from '../context.js'
import type { CredentialRow, Db, IssuerRow } from '../db/schema.js'
import { actorOf, assertIssuerAccess, issuerScope } from '../http/auth.js'
import { AppError, notFound, type FieldError } from '../http/errors.js'
import { profileDocument, signerFor, type IssuerSigner } from '../issuers/service.js'
import { achievementCredentialErrors } from '../ob3/schema.js'
import { identityKey, recipientIdentity, type RecipientInput } from '../recipients/identity.js'
import type { RecipientIdentity } from '../recipients/store.js'
import { pageFrom, type Page } from '../pagination.js'
import { allocateStatusEntries, credentialStatusEntry } from '../status/service.js'
import { buildOpenBadgeCredential, type AwardDetails, type UnsignedCredential } from './build.js'
import { replayOrConflict, requestHash, type IdempotencyRequest } from './idempotency.js'
import { keyAlgorithmFor, proofFor, signCredential, type ProofRequest, type RequestedProof, type SignedCredential } from './sign.js'
import { inProcessSigner } from '../crypto/proof-pool.js'
import { issuingContext } from './issuing-context.js'
import { issueWriterOf } from './issue-writer.js'
import { credentialIssuedData } from './events.js'
import { eventsCommitted } from '../events/notify.js'
import {
  findCredential, findCredentialsByIds, listCredentials as listCredentialRows, type CredentialStatusFilter, type IssuingContext
} from './store.js'
import { credentialView, type CredentialView } from './view.js'

export interface AwardInput extends Omit<AwardDetails, 'validFrom'> {
  recipient: RecipientInput
  validFrom?: Date
  /** The credential's id, when the caller chose it ahead (an approved submission records it first); a new one otherwise. */
  id?: string
}

export interface IssueRequest {
  achievementId: string
  proof: RequestedProof
  awards: AwardInput[]
  /**
   * Set by the review of submitted evidence, the one way to issue an achievement whose review policy requires review.
   */
  reviewed?: true
}

export interface IssueResult {
  credentials: CredentialView[]
  /** True when an earlier request with the same Idempotency-Key made these credentials. */
  replayed: boolean
}

const CREDENTIAL = 'credential'

interface PreparedAward {
  id: string
  recipient: RecipientIdentity
  award: AwardDetails
  document: UnsignedCredential
}

/**
 * Issues one credential per award, all or nothing: every credential is built and checked against the OB 3.0 schema
 * before any is signed, gets a revocation entry in one of the issuer's status lists, and all are written in one transaction.
 * `pointerOf(i)` says where award i came from in the request, for error pointers.
 */
export async function issueCredentials(
  ctx: ServiceContext, caller: Caller, request: IssueRequest, pointerOf: (index: number) => string, idempotency?: IdempotencyRequest
): Promise<IssueResult> {
  // The first attempt may build from a remembered context; a write that finds it changed is retried from a fresh read.
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const result = await issueOnce(ctx, caller, request, pointerOf, idempotency, attempt > 1)
    if (result !== 'changed') return result
  /* c8 ignore start */
  }
  // The achievement or issuer is being edited as fast as it is issued: the client retries. Reaching this takes an edit
  // landing inside each of three read-to-write windows of a few milliseconds, which no test can arrange on purpose.
  throw new AppError('issuing-context-changed', 503, 'the achievement, its issuer or its key kept changing while the credential was issued: try again')
}
/* c8 ignore stop */

const MAX_ATTEMPTS = 3

async function issueOnce(
  ctx: ServiceContext, caller: Caller, request: IssueRequest, pointerOf: (index: number) => string,
  idempotency: IdempotencyRequest | undefined, fresh: boolean
): Promise<IssueResult | 'changed'> {
  const { context, remembered, proof } = await contextFor(ctx.db, request.achievementId, request.proof, fresh)
  try {
    return await issueFrom(ctx, caller, request, pointerOf, idempotency, { context, proof, fresh })
  } catch (error) {
    // A refusal (a 422 from the schema check, say) built from a remembered context may be about rows that have changed
    // since: it is answered only if a fresh read gives it too. Database and signing failures are not about the context.
    if (remembered && error instanceof AppError) return 'changed'
    throw error
  }
}

/**
 * The context to issue from, read with the key of the proof its issuer signs with. A vc-jwt without jwtAlg signs with
 * the issuer's default, known once the issuer is read: the first read is for Ed25519 (every Data Integrity proof, and a
 * did:key issuer's default), a second for the key of the issuer's default when that is another (did:web: RSA).
 */
async function contextFor(
  db: Db, achievementId: string, requested: RequestedProof, fresh: boolean
): Promise<{ context: IssuingContext; remembered: boolean; proof: ProofRequest }> {
  const algorithm = keyAlgorithmFor({ ...requested, jwtAlg: requested.jwtAlg ?? 'EdDSA' })
  const { context, remembered } = await issuingContext(db, achievementId, algorithm, fresh)
  if (context === undefined) throw notFound('achievement')
  // An issuer's DID method never changes, so even a remembered context tells it right.
  const proof = proofFor(requested, context.issuer)
  return keyAlgorithmFor(proof) === algorithm ? { context, remembered, proof } : contextFor(db, achievementId, proof, fresh)
}

/** Builds, signs and writes the credentials from `context`; 'changed' when the write found it outdated. */
async function issueFrom(
  ctx: ServiceContext, caller: Caller, request: IssueRequest, pointerOf: (index: number) => string,
  idempotency: IdempotencyRequest | undefined, { context, proof, fresh }: { context: IssuingContext; proof: ProofRequest; fresh: boolean }
): Promise<IssueResult | 'changed'> {
  const { achievement, issuer } = context
  assertIssuerAccess(caller.principal, achievement.issuer_id, 'achievement')
  if (achievement.review_policy !== null && request.reviewed !== true) {
    throw new AppError('review-required', 409,
      'this achievement is earned through review: submit the learner\'s evidence (POST /v1/achievements/:id/submissions) and approve it')
  }
  const scope = actorOf(caller.principal)
  const hash = idempotency === undefined ? undefined : requestHash(idempotency)
  if (idempotency !== undefined && !fresh) {
    const replay = await replayOrConflict(ctx, scope, idempotency.key, hash!)
    if (replay !== undefined) return { credentials: await viewsOf(ctx, replay), replayed: true }
  }

  const prepared = await prepareAwards(ctx, issuer, achievementDocument(ctx.publicUrl, achievement, { id: issuer.did, name: issuer.name }), request.awards)
  const invalid = (await mapInSlices(prepared, (item, index) => schemaErrors(item.document, pointerOf(index)))).flat()
  if (invalid.length > 0) {
    throw new AppError('credential-invalid', 422, 'the credential built from this request does not meet the Open Badges 3.0 schema, so it was not signed', invalid)
  }

  // The signer first: an issuer that cannot sign this format (did:key and RS256) must not use up status entries.
  const signer = await signerFor(ctx, caller, issuer, keyAlgorithmFor(proof), context.key)
  const statusEntries = await allocateStatusEntries(ctx, issuer.id, prepared.length)
  prepared.forEach((item, index) => { item.document.credentialStatus = credentialStatusEntry(ctx.publicUrl, statusEntries[index]!) })

  const signed = await signAll(ctx, prepared.map((item) => item.document), proof, signer)

  const rows = await issueWriterOf(ctx.db).write({
    issuerId: issuer.id,
    builtFrom: { achievementId: achievement.id, versions: context.versions, keyId: signer.keyId },
    ...(idempotency !== undefined && { idempotency: { scope, key: idempotency.key, requestHash: hash!, ttlMs: ctx.idempotencyTtlMs } }),
    recipients: distinctRecipients(prepared.map((p) => p.recipient)),
    credentials: prepared.map((item, index) => ({
      id: item.id,
      identityType: item.recipient.identityType,
      identity: item.recipient.identity,
      achievement_id: achievement.id,
      issuer_key_id: signer.keyId,
      format: proof.format,
      jwt_alg: proof.format === 'vc-jwt' ? proof.jwtAlg : null,
      signed: signed[index]!.signed,
      valid_from: item.award.validFrom,
      valid_until: item.award.validUntil ?? null,
      status_list_id: statusEntries[index]!.listId,
      status_list_index: statusEntries[index]!.index,
      event: credentialIssuedData(ctx.publicUrl, { id: item.id, issuerId: issuer.id, achievementId: achievement.id, recipient: item.recipient })
    })),
    audit: { actor: scope, requestId: caller.requestId }
  })
  if (rows !== undefined) {
    eventsCommitted(ctx.db)
    return { credentials: await mapInSlices(rows, (row) => credentialView(ctx, row)), replayed: false }
  }
  // Nothing written: a concurrent request with the same key won (answer what it made, or 409 if its body differed),
  // or what these credentials were built from changed (the status entries they took stay unused: gaps, bits clear).
  if (idempotency !== undefined) {
    const replay = await replayOrConflict(ctx, scope, idempotency.key, hash!)
    if (replay !== undefined) return { credentials: await viewsOf(ctx, replay), replayed: true }
  }
  return 'changed'
}

function prepareAwards(
  ctx: ServiceContext, issuer: IssuerRow, achievement: ReturnType<typeof achievementDocument>, awards: AwardInput[]
): Promise<PreparedAward[]> {
  const now = new Date()
  const profile = profileDocument(issuer)
  return mapInSlices(awards, ({ id: chosenId, ...input }) => {
    const id = chosenId ?? uuidv7()
    const recipient = recipientIdentity(input.recipient)
    // The credential states whole seconds; the row keeps the same instants so both always agree.
    const award: AwardDetails = {
      ...input,
      validFrom: wholeSeconds(input.validFrom ?? now),
      ...(input.validUntil !== undefined ? { validUntil: wholeSeconds(input.validUntil) } : {})
    }
    const document = buildOpenBadgeCredential({ url: `${ctx.publicUrl}/credentials/${id}`, issuer: profile, achievement, recipient, award })
    return { id, recipient, award, document }
  })
}

function schemaErrors(document: UnsignedCredential, pointer: string): FieldError[] {
  return achievementCredentialErrors(document).map((error) => ({
    pointer,
    message: `the credential built from it fails the OB 3.0 schema at JSON Pointer "${error.pointer}": ${error.message}`
  }))
}

/** Each person once (PostgreSQL refuses to upsert one row twice in a statement), with a new id in case they are new. */
function distinctRecipients(recipients: RecipientIdentity[]): (RecipientIdentity & { id: string })[] {
  const distinct = new Map<string, RecipientIdentity & { id: string }>()
  for (const recipient of recipients) {
    const key = identityKey(recipient)
    const seen = distinct.get(key)
    // A later mention of a person wins for name and external id where it gives them, as a later single issue would.
    const merged = seen === undefined ? recipient : { ...recipient, name: recipient.name ?? seen.name, externalId: recipient.externalId ?? seen.externalId }
    distinct.set(key, { ...merged, id: uuidv7() })
  }
  return [...distinct.values()]
}

async function viewsOf(ctx: ServiceContext, ids: string[]): Promise<CredentialView[]> {
  return mapInSlices(await findCredentialsByIds(ctx.db, ids), (row) => credentialView(ctx, row))
}

async function visibleCredential(ctx: ServiceContext, caller: Caller, id: string): Promise<CredentialRow> {
  const row = await findCredential(ctx.db, id)
  if (row === undefined) throw notFound(CREDENTIAL)
  assertIssuerAccess(caller.principal, row.issuer_id, CREDENTIAL)
  return row
}

export async function getCredential(ctx: ServiceContext, caller: Caller, id: string): Promise<CredentialView> {
  return credentialView(ctx, await visibleCredential(ctx, caller, id))
}

export interface CredentialQuery {
  issuerId?: string
  achievementId?: string
  email?: string
  status?: CredentialStatusFilter
  limit: number
  cursor?: string
}

export async function listCredentials(ctx: ServiceContext, caller: Caller, query: CredentialQuery): Promise<Page<CredentialView>> {
  const scope = issuerScope(caller.principal)
  // An API key asking for another issuer's credentials sees none, as if that issuer had none.
  if (scope !== undefined && query.issuerId !== undefined && query.issuerId !== scope) return { items: [], nextCursor: null }
  const rows = await listCredentialRows(ctx.db, {
    issuerId: scope ?? query.issuerId,
    achievementId: query.achievementId,
    email: query.email?.trim().toLowerCase(),
    status: query.status,
    now: new Date(),
    after: query.cursor,
    limit: query.limit + 1
  })
  return pageFrom(rows, query.limit, (row) => credentialView(ctx, row), (item) => item.id)
}

/** The public, signed document of a credential, exactly as it was signed. */
export async function publishedCredential(ctx: ServiceContext, id: string): Promise<CredentialRow> {
  const row = await findCredential(ctx.db, id)
  if (row === undefined) throw notFound(CREDENTIAL)
  return row
}

/**
 * Data Integrity proofs go to the proof threads (they queue them; posting is sliced too); VC-JWTs are signed here, ten
 * at a time (an RS256 signature is ~1 ms), and without threads Data Integrity proofs one at a time (~5 ms each).
 */
function signAll(ctx: ServiceContext, documents: Record<string, unknown>[], proof: ProofRequest, signer: IssuerSigner): Promise<SignedCredential[]> {
  const sign = (document: Record<string, unknown>) => signCredential(document, proof, signer, ctx.signDataIntegrity)
  if (proof.format === 'vc-jwt') return mapInSlices(documents, sign, 10)
  return mapInSlices(documents, sign, ctx.signDataIntegrity === inProcessSigner ? 1 : 50)
}
