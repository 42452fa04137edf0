// The verification pipeline: a decoded credential in, a report out. Pure apart from the document fetcher and the clock it
// is given; the /verify endpoint, the VC-API endpoints and the badge page all use it.
import { checkFormat } from './checks/format.js'
import { checkIssuer, type SigningEvidence } from './checks/issuer.js'
import { checkRecipient, type ExpectedRecipient } from './checks/recipient.js'
import { checkSchema } from './checks/schema.js'
import { checkStatus, type VerifiedListCache } from './checks/status.js'
import { checkValidity, validityPeriod } from './checks/validity.js'
import { inProcessProofWork, proofFormat, verifyEmbeddedProofs, type ProofWork } from './data-integrity.js'
import type { DocumentFetcher } from './documents.js'
import { failed, noneFailed, ordered, passed, skipped, warning, type Check, type EndorsementReport, type ProofFormat, type ReportSummary, type VerificationReport } from './report.js'
import { issuerIdOf } from '../crypto/credential-issuer.js'
import { decodeVcJwt, verifyVcJwtProof, type DecodedVcJwt } from './vc-jwt.js'

type Json = Record<string, unknown>

/** A credential as it arrived: the JSON document, and the JWT when it came as VC-JWT. */
export interface DecodedCredential {
  credential: Json
  jwt?: DecodedVcJwt
}

export interface VerifyOptions {
  recipient?: ExpectedRecipient
}

export interface Verifier {
  verify(decoded: DecodedCredential, options?: VerifyOptions): Promise<VerificationReport>
  /** The fetcher the verifier resolves keys and lists with (the presentation check reuses it). */
  fetch: DocumentFetcher
  /** Where canonicalization and signature checks run (the presentation check reuses it). */
  work: ProofWork
  now(): Date
}

/** Endorsements of endorsements are followed this deep, and at most this many are checked per credential. */
const MAX_ENDORSEMENT_DEPTH = 2
export const MAX_ENDORSEMENTS = 20

export function createVerifier(deps: { fetch: DocumentFetcher; now?: () => Date; work?: ProofWork }): Verifier {
  const now = deps.now ?? (() => new Date())
  const work = deps.work ?? inProcessProofWork
  const lists: VerifiedListCache = new Map()
  const verifier: Verifier = {
    fetch: deps.fetch,
    work,
    now,
    verify: (decoded, options = {}) => verifyAt(decoded, options, 0)
  }

  async function verifyAt(decoded: DecodedCredential, options: VerifyOptions, depth: number): Promise<VerificationReport> {
    const { credential, jwt } = decoded
    const at = now()
    const format = checkFormat(credential)
    const summary = summaryOf(credential)
    if (format.check.status === 'failed' || format.version === undefined) {
      const reason = 'Not checked: the credential\'s format is not valid'
      const rest = (['schema', 'proof', 'issuer', 'validity', 'status'] as const).map((name) => skipped(name, reason))
      if (options.recipient) rest.push(skipped('recipient', reason))
      return { verified: false, format: jwt ? 'vc-jwt' : declaredFormat(credential), credential, summary, checks: [format.check, ...rest] }
    }

    const checks: Check[] = [checkSchema(credential, format.version)]
    let proofFormat: ProofFormat
    let evidence: SigningEvidence
    let jsonLdProblem: string | undefined
    if (jwt !== undefined) {
      const outcome = await verifyVcJwtProof(jwt, deps.fetch)
      proofFormat = 'vc-jwt'
      evidence = { verified: outcome.verified, keys: outcome.key ? [outcome.key] : [] }
      if (outcome.embeddedJwk) evidence.embeddedJwk = outcome.embeddedJwk
      checks.push(outcome.verified ? passed('proof', outcome.message) : failed('proof', outcome.message))
    } else {
      const outcome = await verifyEmbeddedProofs(credential, deps.fetch, { term: 'assertionMethod' }, work)
      proofFormat = outcome.format
      evidence = { verified: outcome.verified, keys: outcome.keys }
      jsonLdProblem = outcome.jsonLdProblem
      const legacy = outcome.verified && outcome.format === 'eddsa-2022'
      checks.push(legacy
        ? warning('proof', `${outcome.message}; eddsa-2022 is a superseded draft of eddsa-rdfc-2022`)
        : outcome.verified ? passed('proof', outcome.message) : failed('proof', outcome.message))
    }
    // A verified Data Integrity proof has already expanded the document in JSON-LD safe mode; otherwise do it here.
    if (jsonLdProblem === undefined && !(jwt === undefined && evidence.verified)) jsonLdProblem = await work.safeModeProblem(credential)
    const formatCheck = jsonLdProblem === undefined ? format.check : failed('format', `Not valid JSON-LD: ${jsonLdProblem}`)

    checks.push(await checkIssuer(issuerIdOf(credential), evidence, deps.fetch))
    checks.push(checkValidity(credential, at))
    checks.push(await checkStatus(credential, { fetch: deps.fetch, now: at, lists, work }))
    if (options.recipient) checks.push(checkRecipient(credential, options.recipient))

    const endorsements = depth < MAX_ENDORSEMENT_DEPTH ? await verifyEndorsements(credential, depth) : []
    if (endorsements.length > 0) checks.push(endorsementsCheck(endorsements))
    const all = ordered([formatCheck, ...checks])
    return {
      verified: noneFailed(all),
      format: proofFormat,
      credential,
      summary,
      checks: all,
      ...(endorsements.length > 0 && { endorsements })
    }
  }

  async function verifyEndorsements(credential: Json, depth: number): Promise<EndorsementReport[]> {
    const found = endorsementsIn(credential).slice(0, MAX_ENDORSEMENTS)
    const parties = partiesOf(credential)
    const reports: EndorsementReport[] = []
    for (const endorsement of found) {
      const decoded = typeof endorsement === 'string' ? decodeVcJwt(endorsement) : { credential: endorsement }
      if (decoded === undefined) {
        reports.push({ id: null, issuer: { id: null, name: null }, verified: false, checks: [failed('format', 'An endorsementJwt is not a JWT carrying a credential')] })
        continue
      }
      const decodedCredential: DecodedCredential = 'jwt' in decoded ? { credential: decoded.credential, jwt: decoded } : decoded
      const report = await verifyAt(decodedCredential, {}, depth + 1)
      const subject = firstSubject(report.credential)
      const checks = ordered([...report.checks, subjectCheck(subject?.id, parties)])
      reports.push({
        id: typeof report.credential.id === 'string' ? report.credential.id : null,
        issuer: report.summary.issuer,
        ...(typeof subject?.endorsementComment === 'string' && { endorsementComment: subject.endorsementComment }),
        verified: noneFailed(checks),
        checks
      })
    }
    return reports
  }

  return verifier
}

/** EndorsementCredentials embedded where OB 3.0 allows them: on the credential, its achievement and its issuer (JSON or JWT). */
function endorsementsIn(credential: Json): (Json | string)[] {
  const subject = credential.credentialSubject as Json | undefined
  const holders = [credential, subject?.achievement, credential.issuer, (subject?.achievement as Json | undefined)?.creator]
    .filter((holder): holder is Json => typeof holder === 'object' && holder !== null && !Array.isArray(holder))
  return holders.flatMap((holder) => [
    ...(Array.isArray(holder.endorsement) ? holder.endorsement : []).filter((e): e is Json => typeof e === 'object' && e !== null),
    ...(Array.isArray(holder.endorsementJwt) ? holder.endorsementJwt : []).filter((e): e is string => typeof e === 'string')
  ])
}

/** The credential's subject, or the first of its subjects. */
export function firstSubject(credential: Json): Json | undefined {
  const first: unknown = Array.isArray(credential.credentialSubject) ? credential.credentialSubject[0] : credential.credentialSubject
  return typeof first === 'object' && first !== null ? first as Json : undefined
}

/** What a credential is about, by id: itself, its achievement, its issuer and the achievement's creator. */
function partiesOf(credential: Json): [what: string, id: string][] {
  const achievement = firstSubject(credential)?.achievement as Json | undefined
  const candidates: [string, unknown][] = [
    ['this credential', credential.id], ['its achievement', achievement?.id], ['its issuer', issuerIdOf(credential)],
    ['the achievement\'s creator', (achievement?.creator as Json | undefined)?.id]
  ]
  return candidates.filter((candidate): candidate is [string, string] => typeof candidate[1] === 'string')
}

/** The https URL a did:web names (`did:web:host%3Aport:a:b` → `https://host:port/a/b`), which a profile endorsement may use instead. */
function didWebUrl(id: string): string | undefined {
  if (!id.startsWith('did:web:')) return undefined
  const [host, ...path] = id.slice('did:web:'.length).split(':')
  return `https://${decodeURIComponent(host!)}/${path.map(decodeURIComponent).join('/')}`
}

/**
 * Does the endorsement endorse something this credential is about (OB 3.0's own examples embed endorsements of the
 * issuer in the achievement)? A genuine endorsement of another achievement, copied in, must not pass for praise of this
 * one. A did:web issuer may be endorsed by the URL its DID names (https or, in development, http).
 */
function subjectCheck(subjectId: unknown, parties: [string, string][]): Check {
  if (typeof subjectId !== 'string') return failed('subject', 'The endorsement names no subject (credentialSubject.id)')
  const bare = subjectId.replace(/^http:/, 'https:')
  const match = parties.find(([, id]) => id === subjectId || didWebUrl(id) === bare)
  if (match !== undefined) return passed('subject', `Endorses ${match[0]} (${subjectId})`)
  return failed('subject', `Endorses ${subjectId}, which is not this credential, its achievement or its issuer`)
}

/** A bad endorsement does not make the badge itself untrustworthy, so it is a warning, not a failure. */
function endorsementsCheck(reports: EndorsementReport[]): Check {
  const bad = reports.filter((report) => !report.verified)
  if (bad.length === 0) return passed('endorsements', `${reports.length === 1 ? 'The endorsement verifies' : `All ${reports.length} endorsements verify`}`)
  const why = bad.map((report) => `${report.issuer.name ?? report.issuer.id ?? 'unknown endorser'}: ${report.checks.find((c) => c.status === 'failed')?.message}`)
  return warning('endorsements', `${bad.length} of ${reports.length} endorsements do not verify (${why.join('; ')})`)
}

/** The format a credential that could not be read claims, from its first proof. */
function declaredFormat(credential: Json): ProofFormat {
  const first: unknown = Array.isArray(credential.proof) ? credential.proof[0] : credential.proof
  return (typeof first === 'object' && first !== null ? proofFormat(first as Json) : undefined) ?? 'none'
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

export function summaryOf(credential: Json): ReportSummary {
  const issuer = credential.issuer
  const subject = firstSubject(credential)
  const achievement = subject?.achievement as Json | undefined
  const { from, until } = validityPeriod(credential)
  const recipient: ReportSummary['recipient'] = subject === undefined
    ? null
    : {
        ...(typeof subject.id === 'string' && { id: subject.id }),
        ...(typeof subject.name === 'string' && { name: subject.name }),
        ...(subject.identifier !== undefined && { hashedIdentifier: true })
      }
  return {
    issuer: { id: issuerIdOf(credential) ?? null, name: typeof issuer === 'object' && issuer !== null ? text((issuer as Json).name) : null },
    achievement: typeof achievement === 'object' && achievement !== null ? { name: text(achievement.name) } : null,
    recipient,
    validFrom: text(from),
    validUntil: text(until)
  }
}
