// The verification report: the steps of the OB 3.0 verification algorithm, each with an outcome a person can read.

/**
 * The steps, in the order they are reported (CONTRACT.md fixes this order). `subject` appears on endorsements only:
 * does it endorse something the credential it is embedded in is about.
 */
export const CHECK_ORDER = ['format', 'schema', 'proof', 'issuer', 'validity', 'status', 'recipient', 'subject', 'endorsements'] as const
export type CheckName = (typeof CHECK_ORDER)[number]
export type CheckStatus = 'passed' | 'failed' | 'warning' | 'skipped'

export interface Check {
  check: CheckName
  status: CheckStatus
  message: string
}

/** How the credential was secured: a Data Integrity cryptosuite, the legacy suite, or VC-JWT. */
export type ProofFormat = 'eddsa-rdfc-2022' | 'eddsa-2022' | 'Ed25519Signature2020' | 'vc-jwt' | 'none'

export interface ReportSummary {
  issuer: { id: string | null; name: string | null }
  achievement: { name: string | null } | null
  recipient: { id?: string; name?: string; hashedIdentifier?: boolean } | null
  validFrom: string | null
  validUntil: string | null
}

export interface EndorsementReport {
  id: string | null
  issuer: { id: string | null; name: string | null }
  /** What the endorser says (credentialSubject.endorsementComment), when it says it in one plain string. */
  endorsementComment?: string
  verified: boolean
  checks: Check[]
}

export interface VerificationReport {
  verified: boolean
  format: ProofFormat
  credential: Record<string, unknown>
  summary: ReportSummary
  checks: Check[]
  /** Endorsements found in the credential, each verified the same way (without the recipient step). */
  endorsements?: EndorsementReport[]
}

export const passed = (check: CheckName, message: string): Check => ({ check, status: 'passed', message })
export const failed = (check: CheckName, message: string): Check => ({ check, status: 'failed', message })
export const warning = (check: CheckName, message: string): Check => ({ check, status: 'warning', message })
export const skipped = (check: CheckName, message: string): Check => ({ check, status: 'skipped', message })

/** Checks in report order; `verified` is true only when none failed. */
export function ordered(checks: Check[]): Check[] {
  return [...checks].sort((a, b) => CHECK_ORDER.indexOf(a.check) - CHECK_ORDER.indexOf(b.check))
}

export function noneFailed(checks: Check[]): boolean {
  return checks.every((check) => check.status !== 'failed')
}
