// W3C VC-API issue: sign any W3C credential (VC 2.0 or 1.1) a caller sends with its issuer's key, adding only the proof
// (and what the data model requires and the caller left out: an Open Badge's id, a VC 1.1 issuanceDate).
import { v7 as uuidv7 } from 'uuid'
import { recordAuditEvent } from '../audit/store.js'
import type { Caller, ServiceContext } from '../context.js'
import { VC_V1_CONTEXT } from '../crypto/contexts.js'
import { w3cDate } from '../crypto/w3c-date.js'
import { actorOf, issuerScope } from '../http/auth.js'
import { AppError } from '../http/errors.js'
import { signerFor } from '../issuers/service.js'
import { findIssuerByDid } from '../issuers/store.js'
import { achievementCredentialErrors } from '../ob3/schema.js'
import { envelopedCredential } from './publish.js'
import { keyAlgorithmFor, proofFor, signCredential, type RequestedProof } from './sign.js'
import { allocateStatusEntries, credentialStatusEntry } from '../status/service.js'
import { insertCredentials } from './store.js'
import { credentialIssuedData } from './events.js'
import { eventsCommitted } from '../events/notify.js'
import { appendEvent } from '../events/store.js'

export type W3cCredential = Record<string, unknown> & {
  '@context': unknown[]
  type: string[]
  issuer: string | { id: string }
}

const OPEN_BADGE_TYPES = ['OpenBadgeCredential', 'AchievementCredential']

const isOpenBadge = (credential: W3cCredential) => credential.type.some((type) => OPEN_BADGE_TYPES.includes(type))

/**
 * The credential to sign: as sent, plus what its data model requires and a caller may leave to the issuer. VC 1.1
 * requires issuanceDate (now); the OB 3.0 schema requires an id where VC does not (a URN of the row's id, second after
 * @context as Lanyard's own credentials have it).
 */
function completed(input: W3cCredential, isV1: boolean, rowId: string): Record<string, unknown> {
  const credential: Record<string, unknown> = isV1 && input.issuanceDate === undefined ? { ...input, issuanceDate: w3cDate(new Date()) } : { ...input }
  return input.id === undefined && isOpenBadge(input) ? { '@context': input['@context'], id: `urn:uuid:${rowId}`, ...credential } : credential
}

function dateOrNull(value: unknown): Date | null {
  return typeof value === 'string' ? new Date(value) : null
}

export async function issueW3cCredential(
  ctx: ServiceContext, caller: Caller, input: W3cCredential, requested: RequestedProof, withStatus: boolean
): Promise<{ verifiableCredential: Record<string, unknown> }> {
  const did = typeof input.issuer === 'string' ? input.issuer : input.issuer.id
  const issuer = await findIssuerByDid(ctx.db, did)
  const scope = issuerScope(caller.principal)
  if (issuer === undefined || (scope !== undefined && scope !== issuer.id)) {
    throw new AppError('issuer-mismatch', 422,
      `the credential's issuer (${did}) is not ${scope === undefined ? 'an issuer of this Lanyard' : 'the issuer this API key belongs to'}: ` +
      'set issuer (or issuer.id) to your issuer\'s DID')
  }
  const proof = proofFor(requested, issuer)
  const isV1 = input['@context'][0] === VC_V1_CONTEXT
  if (isV1 && proof.format === 'vc-jwt') {
    throw new AppError('format-unsupported', 422, 'vc-jwt signs VC Data Model 2.0 credentials only; send a credentials/v2 credential or pick a Data Integrity format')
  }
  if (withStatus && (isV1 || input.credentialStatus !== undefined)) {
    throw new AppError('status-unavailable', 422, isV1
      ? 'BitstringStatusListEntry is a VC Data Model 2.0 term: a credentials/v1 credential cannot carry it'
      : 'the credential already has a credentialStatus; OB 3.0 allows one, so Lanyard will not add another')
  }
  const id = uuidv7()
  const credential = completed(input, isV1, id)
  if (!isV1 && isOpenBadge(input)) {
    const errors = achievementCredentialErrors(credential)
    if (errors.length > 0) {
      throw new AppError('credential-invalid', 422, 'this Open Badge does not meet the Open Badges 3.0 schema, so it was not signed',
        errors.map((error) => ({ pointer: `/credential${error.pointer}`, message: error.message })))
    }
  }

  const signer = await signerFor(ctx, caller, issuer, keyAlgorithmFor(proof))
  const [statusEntry] = withStatus ? await allocateStatusEntries(ctx, issuer.id, 1) : []
  if (statusEntry !== undefined) credential.credentialStatus = credentialStatusEntry(ctx.publicUrl, statusEntry)

  const signed = await signCredential(credential, proof, signer, ctx.signDataIntegrity)
  await ctx.db.transaction().execute(async (trx) => {
    await insertCredentials(trx, [{
      id,
      issuer_id: issuer.id,
      achievement_id: null,
      recipient_id: null,
      issuer_key_id: signer.keyId,
      format: proof.format,
      jwt_alg: proof.format === 'vc-jwt' ? proof.jwtAlg : null,
      signed: signed.signed,
      valid_from: dateOrNull(credential.validFrom ?? credential.issuanceDate),
      valid_until: dateOrNull(credential.validUntil ?? credential.expirationDate),
      status_list_id: statusEntry?.listId ?? null,
      status_list_index: statusEntry?.index ?? null
    }])
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'credential.issued', issuerId: issuer.id, targetType: 'credential', targetId: id,
      details: { via: 'vc-api', credentialId: typeof credential.id === 'string' ? credential.id : null, format: proof.format }, requestId: caller.requestId
    })
    await appendEvent(trx, {
      type: 'credential.issued', issuerId: issuer.id, data: credentialIssuedData(ctx.publicUrl, { id, issuerId: issuer.id, achievementId: null, recipient: null })
    })
  })
  eventsCommitted(ctx.db)
  const verifiableCredential = signed.jwt === undefined ? signed.credential : JSON.parse(envelopedCredential(signed.jwt)) as Record<string, unknown>
  return { verifiableCredential }
}
