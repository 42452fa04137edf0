// The wallet copy of a credential: the same award, bound to the holder's DID, as a credential of its own (own id, own
// status entry, signed now) that names its original, so revoking the original revokes it too.
import { v7 as uuidv7 } from 'uuid'
import { recordAuditEvent } from '../audit/store.js'
import type { ServiceContext } from '../context.js'
import { credentialDocument, credentialState } from '../credentials/view.js'
import { findIssuingContext, insertCredentials, lockCredentials } from '../credentials/store.js'
import { signCredential, type ProofRequest } from '../credentials/sign.js'
import type { ClaimRow, CredentialRow, Db } from '../db/schema.js'
import { appendEvent } from '../events/store.js'
import { AppError } from '../http/errors.js'
import { signerFor } from '../issuers/service.js'
import { achievementCredentialErrors } from '../ob3/schema.js'
import { allocateStatusEntries, credentialStatusEntry } from '../status/service.js'
import { setClaimCopy } from './store.js'

/** The OID4VCI formats, and the proof each is signed with: Data Integrity for ldp_vc, an EdDSA VC-JWT for jwt_vc_json. */
export type CopyFormat = 'ldp_vc' | 'jwt_vc_json'
const PROOFS: Record<CopyFormat, ProofRequest> = {
  ldp_vc: { format: 'eddsa-rdfc-2022', jwtAlg: 'EdDSA' },
  jwt_vc_json: { format: 'vc-jwt', jwtAlg: 'EdDSA' }
}

export interface PreparedCopy {
  row: Parameters<typeof insertCredentials>[1][number]
  /** What the wallet receives: the signed document, or the compact JWS. */
  delivered: Record<string, unknown> | string
}

type Json = Record<string, unknown>

/** The original's AchievementSubject with the holder's DID as its id; the recipient's identifier stays (OB 3.0 `identifier`). */
function boundSubject(subject: Json, holderDid: string): Json {
  const { id, identifier, ...rest } = subject
  const kept = identifier ?? [{ type: 'IdentityObject', identityType: 'identifier', hashed: false, identityHash: id }]
  return { id: holderDid, ...rest, identifier: kept }
}

/** Refuses a credential no wallet should receive a copy of now: revoked or expired. */
export function assertDeliverable(original: CredentialRow): void {
  const state = credentialState(original)
  if (state !== 'active') throw new AppError('credential-not-active', 409, `the credential is ${state}, so no wallet copy is made`)
}

/**
 * Builds, checks against the OB 3.0 schema and signs the copy, with a status entry of its own. Nothing is written: the
 * caller writes it in the transaction that redeems the claim (a position of a copy never written stays unused).
 */
export async function prepareHolderCopy(ctx: ServiceContext, original: CredentialRow, holderDid: string, format: CopyFormat, requestId: string): Promise<PreparedCopy> {
  assertDeliverable(original)
  const context = (await findIssuingContext(ctx.db, original.achievement_id!, 'Ed25519'))!
  const { proof: _proof, credentialStatus: _status, ...document } = credentialDocument(original)
  const id = uuidv7()
  const copy: Json = {
    ...document,
    id: `${ctx.publicUrl}/credentials/${id}`,
    credentialSubject: boundSubject(document.credentialSubject as Json, holderDid)
  }
  const invalid = achievementCredentialErrors(copy)
  /* c8 ignore next 3: the original passed the schema, and only the subject's id (a DID) and identifier change */
  if (invalid.length > 0) {
    throw new AppError('credential-invalid', 422, `the wallet copy would fail the OB 3.0 schema: ${invalid.map((e) => `${e.pointer} ${e.message}`).join('; ')}`)
  }
  // An issuer always has an active Ed25519 key, so no key is created here and the caller (needed only then) is nominal.
  const signer = await signerFor(ctx, { principal: { kind: 'admin' }, requestId }, context.issuer, 'Ed25519', context.key)
  const [entry] = await allocateStatusEntries(ctx, original.issuer_id, 1)
  copy.credentialStatus = credentialStatusEntry(ctx.publicUrl, entry!)
  const proof = PROOFS[format]
  const signed = await signCredential(copy, proof, signer, ctx.signDataIntegrity)
  return {
    row: {
      id,
      issuer_id: original.issuer_id,
      achievement_id: original.achievement_id,
      recipient_id: original.recipient_id,
      issuer_key_id: signer.keyId,
      format: proof.format,
      jwt_alg: proof.format === 'vc-jwt' ? proof.jwtAlg : null,
      signed: signed.signed,
      valid_from: original.valid_from,
      valid_until: original.valid_until,
      status_list_id: entry!.listId,
      status_list_index: entry!.index,
      original_credential_id: original.id
    },
    delivered: signed.jwt ?? signed.credential
  }
}

/** Writes a prepared copy for a claim just redeemed in the same transaction, with its audit event and claim.accepted. */
export async function writeHolderCopy(
  trx: Db, publicUrl: string, prepared: PreparedCopy, claim: ClaimRow, holderDid: string, requestId: string
): Promise<void> {
  // Revocation locks the original first, so a copy is never written beside a revocation that would miss it.
  const [original] = await lockCredentials(trx, [claim.credential_id])
  /* c8 ignore next: only a revocation landing between preparing and writing the copy reaches this */
  if (original!.status === 'revoked') throw new AppError('credential-not-active', 409, 'the credential was revoked a moment ago, so no wallet copy was made')
  await insertCredentials(trx, [prepared.row])
  await setClaimCopy(trx, claim.id, prepared.row.id)
  await recordAuditEvent(trx, {
    actor: `wallet:${claim.used_by}`, action: 'credential.issued', issuerId: claim.issuer_id, targetType: 'credential', targetId: prepared.row.id,
    details: { originalCredentialId: claim.credential_id, claimId: claim.id, holder: holderDid, format: prepared.row.format }, requestId
  })
  await appendEvent(trx, {
    type: 'claim.accepted', issuerId: claim.issuer_id,
    data: {
      claimId: claim.id, credentialId: claim.credential_id, achievementId: prepared.row.achievement_id, issuerId: claim.issuer_id,
      wallet: claim.used_by, holder: holderDid, copyCredentialId: prepared.row.id, copyUrl: `${publicUrl}/credentials/${prepared.row.id}`
    }
  })
}
