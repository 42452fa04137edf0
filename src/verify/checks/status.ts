// The `status` check: has the issuer revoked or suspended the credential? Bitstring Status List (and its predecessor
// StatusList2021) and 1EdTech Revocation List. Fail closed: a list that cannot be fetched or does not verify fails the check.
import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { verifyEmbeddedProofs, type ProofWork } from '../data-integrity.js'
import { jsonOf, type DocumentFetcher, type FetchedDocument } from '../documents.js'
import { issuerIdOf } from '../../crypto/credential-issuer.js'
import { decodeVcJwt, verifyVcJwtProof } from '../vc-jwt.js'
import { failed, passed, skipped, type Check } from '../report.js'
import { checkIssuer, type SigningEvidence } from './issuer.js'
import { checkValidity } from './validity.js'

/** Verifiers should see a revocation within minutes; the list we publish says the same in its Cache-Control. */
const LIST_MAX_AGE_MS = 60_000
/** The largest list we inflate: 16 M entries; a bigger "list" is a decompression bomb, not a status list. */
const MAX_LIST_BYTES = 2 * 1024 * 1024
const ACCEPT_LIST = 'application/vc+ld+json, application/ld+json;q=0.9, application/json;q=0.9, application/vc+jwt;q=0.8, application/jwt;q=0.8'

type Json = Record<string, unknown>

/** A status list credential whose signature was checked, kept by the hash of its bytes so a busy list is checked once per version. */
export interface VerifiedList {
  issuer: string | undefined
  subject: Json
  /** The list credential's own dates, re-checked on every use (a cached list can expire). */
  dates: Json
  /** Why the list cannot be trusted, when it cannot. */
  problem?: string
  /** The inflated bitstring, once a check has read it (a cached list is read by every verification until it changes). */
  bits?: Buffer
}
export type VerifiedListCache = Map<string, VerifiedList>
const VERIFIED_LIST_CACHE_SIZE = 256

export interface StatusDeps {
  fetch: DocumentFetcher
  now: Date
  lists: VerifiedListCache
  /** Where list signatures are checked; in-process when absent. */
  work?: ProofWork
}

export async function checkStatus(credential: Json, deps: StatusDeps): Promise<Check> {
  const entries = (Array.isArray(credential.credentialStatus) ? credential.credentialStatus : [credential.credentialStatus])
    .filter((entry) => entry !== undefined)
  if (entries.length === 0) return skipped('status', 'The credential has no status entry, so its issuer cannot revoke it')
  const results: Check[] = []
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null) {
      results.push(failed('status', 'The credentialStatus entry is not an object'))
      continue
    }
    results.push(await checkEntry(credential, entry as Json, deps))
  }
  return results.find((check) => check.status === 'failed') ?? results[0]!
}

async function checkEntry(credential: Json, entry: Json, deps: StatusDeps): Promise<Check> {
  const type = entry.type
  if (type === 'BitstringStatusListEntry' || type === 'StatusList2021Entry') return checkBitstringEntry(credential, entry, deps)
  if (type === '1EdTechRevocationList') return checkRevocationList(credential, entry, deps)
  return failed('status', `The status type ${JSON.stringify(type)} is unknown to Lanyard, so the status could not be checked`)
}

async function checkBitstringEntry(credential: Json, entry: Json, deps: StatusDeps): Promise<Check> {
  const purpose = entry.statusPurpose
  const url = entry.statusListCredential
  const index = typeof entry.statusListIndex === 'number' ? entry.statusListIndex : /^\d{1,10}$/.test(String(entry.statusListIndex)) ? Number(entry.statusListIndex) : NaN
  if (typeof url !== 'string' || !Number.isSafeInteger(index) || index < 0 || typeof purpose !== 'string') {
    return failed('status', 'The status entry lacks a statusListCredential URL, a statusListIndex or a statusPurpose, so the status could not be checked')
  }
  if ((entry.statusSize ?? 1) !== 1) return failed('status', `Status entries of ${String(entry.statusSize)} bits are not supported, so the status could not be checked`)
  let list: VerifiedList
  try {
    list = await verifiedList(url, deps)
  } catch (error) {
    return failed('status', `The status list ${url} could not be checked: ${(error as Error).message}`)
  }
  if (list.problem !== undefined) return failed('status', `The status list ${url} could not be checked: ${list.problem}`)
  const issuer = issuerIdOf(credential)
  if (list.issuer !== issuer) return failed('status', `The status list ${url} is signed by ${String(list.issuer)}, not by the credential's issuer`)
  if (list.subject.statusPurpose !== purpose && !(Array.isArray(list.subject.statusPurpose) && list.subject.statusPurpose.includes(purpose))) {
    return failed('status', `The status list ${url} is for ${JSON.stringify(list.subject.statusPurpose)}, not ${purpose}`)
  }
  let bits: Buffer
  try {
    bits = list.bits ??= decodeList(list.subject.encodedList)
  } catch (error) {
    return failed('status', `The status list ${url} could not be checked: ${(error as Error).message}`)
  }
  if (index >= bits.length * 8) return failed('status', `The status index ${index} is outside the list ${url} (${bits.length * 8} entries)`)
  const set = (bits[index >> 3]! & (0x80 >> (index & 7))) !== 0
  if (!set) return passed('status', `Not ${purpose === 'suspension' ? 'suspended' : purpose === 'revocation' ? 'revoked' : `flagged for ${purpose}`} (checked ${url})`)
  if (purpose === 'revocation') return failed('status', 'Revoked by its issuer')
  if (purpose === 'suspension') return failed('status', 'Suspended by its issuer')
  return failed('status', `Flagged for ${purpose} by its issuer`)
}

/** Fetches, verifies (signature, issuer's key, dates) and remembers a status list credential. */
async function verifiedList(url: string, deps: StatusDeps): Promise<VerifiedList> {
  const document = await deps.fetch(url, { accept: ACCEPT_LIST, maxAgeMs: LIST_MAX_AGE_MS })
  const hash = createHash('sha256').update(document.body).digest('base64url')
  let list = deps.lists.get(hash)
  if (list === undefined) {
    list = await verifyListDocument(document, deps.fetch, deps.work)
    // Only a list that verified is kept: a failure may be passing (the issuer's DID document or JWK Set was unreachable).
    if (list.problem !== undefined) return list
    deps.lists.set(hash, list)
    if (deps.lists.size > VERIFIED_LIST_CACHE_SIZE) deps.lists.delete(deps.lists.keys().next().value!)
  }
  const validity = checkValidity(list.dates, deps.now)
  return validity.status === 'failed' ? { ...list, problem: `the list itself is not valid now (${validity.message})` } : list
}

async function verifyListDocument(document: FetchedDocument, fetch: DocumentFetcher, work?: ProofWork): Promise<VerifiedList> {
  const text = document.body.toString('utf8').trim()
  const jwt = decodeVcJwt(text)
  let credential: Json
  let evidence: SigningEvidence & { message: string }
  if (jwt !== undefined) {
    credential = jwt.credential
    const outcome = await verifyVcJwtProof(jwt, fetch)
    evidence = { verified: outcome.verified, keys: outcome.key ? [outcome.key] : [], message: outcome.message }
    if (outcome.embeddedJwk) evidence.embeddedJwk = outcome.embeddedJwk
  } else {
    const parsed = jsonOf(document)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('it is not a credential')
    credential = parsed as Json
    evidence = await verifyEmbeddedProofs(credential, fetch, { term: 'assertionMethod' }, work)
  }
  const issuer = issuerIdOf(credential)
  const subject = (credential.credentialSubject ?? {}) as Json
  const dates = { validFrom: credential.validFrom ?? credential.issuanceDate, validUntil: credential.validUntil ?? credential.expirationDate }
  const types = Array.isArray(credential.type) ? credential.type : []
  if (!types.includes('BitstringStatusListCredential') && !types.includes('StatusList2021Credential')) {
    return { issuer, subject, dates, problem: 'it is not a BitstringStatusListCredential' }
  }
  if (!evidence.verified) return { issuer, subject, dates, problem: `its signature does not verify (${evidence.message})` }
  const provenance = await checkIssuer(issuer, evidence, fetch)
  if (provenance.status !== 'passed') return { issuer, subject, dates, problem: provenance.message }
  return { issuer, subject, dates }
}

/** encodedList: GZIP of the bitstring, as multibase base64url (`u…`, Bitstring Status List) or bare base64url (StatusList2021). */
function decodeList(encodedList: unknown): Buffer {
  if (typeof encodedList !== 'string' || !/^u?[A-Za-z0-9_\-+/]+={0,2}$/.test(encodedList)) throw new Error('its encodedList is not base64')
  const compressed = Buffer.from(encodedList.startsWith('u') ? encodedList.slice(1) : encodedList, 'base64url')
  try {
    return gunzipSync(compressed, { maxOutputLength: MAX_LIST_BYTES })
  } catch {
    throw new Error('its encodedList is not a GZIP bitstring of a sensible size')
  }
}

/** 1EdTech Revocation List: a JSON document listing revoked credential ids (unsigned; trusted through TLS). */
async function checkRevocationList(credential: Json, entry: Json, deps: StatusDeps): Promise<Check> {
  const url = entry.id
  if (typeof url !== 'string') return failed('status', 'The 1EdTechRevocationList entry has no id URL, so the status could not be checked')
  let list: unknown
  try {
    list = jsonOf(await deps.fetch(url, { accept: 'application/json', maxAgeMs: LIST_MAX_AGE_MS }))
  } catch (error) {
    return failed('status', `The revocation list ${url} could not be checked: ${(error as Error).message}`)
  }
  const revoked = (list as { revokedCredentials?: unknown } | null)?.revokedCredentials
  if (!Array.isArray(revoked)) return failed('status', `The revocation list ${url} could not be checked: it has no revokedCredentials list`)
  const hit = revoked.find((item) => typeof item === 'object' && item !== null && (item as Json).id === credential.id && (item as Json).revoked !== false) as Json | undefined
  if (hit === undefined) return passed('status', `Not revoked (checked ${url})`)
  return failed('status', typeof hit.revocationReason === 'string' ? `Revoked by its issuer: ${hit.revocationReason}` : 'Revoked by its issuer')
}
