// What a request to issue says about each award, as zod schemas (recipient, validity, evidence, proof format) and as the
// service's input: shared by the credential routes and the jobs that issue in bulk, so a row of a job is an award exactly
// as /v1/credentials/batch takes one.
import { z } from 'zod'
import type { CredentialFormat, JwtAlg } from '../db/schema.js'
import { httpUrl } from '../http/schemas.js'
import type { AwardInput } from './service.js'
import type { RequestedProof } from './sign.js'

export const recipient = z.strictObject({
  email: z.email().max(320).optional().describe('published only as a salted SHA-256 hash (IdentityObject)'),
  did: z.string().max(2048).regex(/^did:[a-z0-9]+:\S+$/, 'expected a DID (did:method:…)').optional().describe('becomes credentialSubject.id'),
  url: httpUrl.optional().describe('becomes credentialSubject.id'),
  name: z.string().trim().min(1).max(200).optional().describe('shown in the credential as credentialSubject.name'),
  externalId: z.string().trim().min(1).max(200).optional().describe('the LMS\'s own id for this learner; never published')
}).refine((value) => [value.email, value.did, value.url].filter((v) => v !== undefined).length === 1, {
  message: 'give exactly one of email, did or url',
  when: (payload) => payload.issues.length === 0
}).meta({ id: 'Recipient' })

const evidence = z.strictObject({
  id: httpUrl.optional().describe('where the evidence can be seen'),
  name: z.string().trim().min(1).max(500).optional(),
  description: z.string().trim().min(1).max(10_000).optional(),
  narrative: z.string().trim().min(1).max(20_000).optional(),
  genre: z.string().trim().min(1).max(200).optional(),
  audience: z.string().trim().min(1).max(200).optional()
})

/** PostgreSQL's calendar has no year 0, and the dates are stored: the first instant it can hold. */
const FIRST_STORABLE_INSTANT = Date.parse('0001-01-01T00:00:00Z')
export function storable(dateTime: z.ZodISODateTime) {
  // Not `>=`: a value that is no date-time at all (NaN) is the format check's to report, once.
  return dateTime.refine((value) => !(Date.parse(value) < FIRST_STORABLE_INSTANT), { message: 'expected a date-time from year 1 (0001-01-01T00:00:00Z) on' })
}
const dateTime = storable(z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time with a time zone, e.g. 2026-01-31T12:00:00Z' }))

export const awardFields = {
  validFrom: dateTime.optional().describe('default: now'),
  validUntil: dateTime.optional().describe('when the badge expires; default: never'),
  narrative: z.string().trim().min(1).max(20_000).optional().describe('how this learner earned it'),
  evidence: z.array(evidence).max(50).optional()
}

/** validUntil must come after validFrom (or after now, when validFrom is left to default). */
export function validityIsOrdered(award: { validFrom?: string; validUntil?: string }): boolean {
  if (award.validUntil === undefined) return true
  const from = award.validFrom === undefined ? Date.now() : Date.parse(award.validFrom)
  return Date.parse(award.validUntil) > from
}
export const validityRule = { message: 'validUntil must be later than validFrom (or than now)', path: ['validUntil'], when: (payload: { issues: unknown[] }) => payload.issues.length === 0 }

export const proofFields = {
  format: z.enum(['eddsa-rdfc-2022', 'Ed25519Signature2020', 'vc-jwt']).default('eddsa-rdfc-2022')
    .describe('eddsa-rdfc-2022 (Data Integrity, default), Ed25519Signature2020 (legacy Data Integrity) or vc-jwt'),
  jwtAlg: z.enum(['RS256', 'ES256', 'EdDSA']).optional()
    .describe('vc-jwt only; default EdDSA for a did:key issuer (its only key is Ed25519), else RS256, the algorithm OB 3.0 requires verifiers to support')
}
export const jwtAlgRule = {
  message: 'jwtAlg applies to format vc-jwt only', path: ['jwtAlg'], when: (payload: { issues: unknown[] }) => payload.issues.length === 0
}
export const jwtAlgFits = (body: { format: string; jwtAlg?: string }) => body.jwtAlg === undefined || body.format === 'vc-jwt'

export const batchItem = z.strictObject({ recipient, ...awardFields }).refine(validityIsOrdered, validityRule)
export const idempotencyHeaders = z.looseObject({
  'idempotency-key': z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, 'expected 1–255 visible ASCII characters').optional()
    .describe('a retry with the same key and body returns the same credentials; the same key with another body answers 409')
})

export const reason = z.string().trim().min(1).max(1000).optional().describe('kept in Lanyard\'s audit log and admin API; never published')
export function awardOf(body: z.infer<typeof batchItem>): AwardInput {
  return {
    recipient: body.recipient,
    ...(body.validFrom !== undefined ? { validFrom: new Date(body.validFrom) } : {}),
    ...(body.validUntil !== undefined ? { validUntil: new Date(body.validUntil) } : {}),
    ...(body.narrative !== undefined ? { narrative: body.narrative } : {}),
    ...(body.evidence !== undefined ? { evidence: body.evidence } : {})
  }
}

/** The requested proof; a vc-jwt without jwtAlg is given its issuer's default when issued (proofFor). */
export function proofOf(body: { format: CredentialFormat; jwtAlg?: JwtAlg }): RequestedProof {
  return { format: body.format, jwtAlg: body.jwtAlg }
}
