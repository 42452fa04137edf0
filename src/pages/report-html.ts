// A verification report as HTML for people, shared by the badge page and the verify page: status word, summary, checks, endorsements.
import type { Check, CheckName, CheckStatus, EndorsementReport, ReportSummary, VerificationReport } from '../verify/report.js'
import { escapeHtml, httpUrl } from './html.js'

export type StatusWord = 'Verified' | 'Revoked' | 'Expired' | 'Not yet valid' | 'Not verified'

/** The one word a person sees first; revocation and dates are named because they are what people act on. */
export function statusWord(report: VerificationReport): StatusWord {
  if (report.verified) return 'Verified'
  const failedWith = (check: CheckName, prefix: string) =>
    report.checks.some((c) => c.check === check && c.status === 'failed' && c.message.startsWith(prefix))
  if (failedWith('status', 'Revoked')) return 'Revoked'
  if (failedWith('validity', 'Expired')) return 'Expired'
  if (failedWith('validity', 'Not valid yet')) return 'Not yet valid'
  return 'Not verified'
}

// Colour backs up the word and the mark, never replaces them.
const STATUSES: Record<StatusWord, { className: string; mark: string; explanation: string }> = {
  'Verified': { className: 'status-verified', mark: '✓', explanation: 'Signed by its issuer, unchanged since, and current.' },
  'Revoked': { className: 'status-revoked', mark: '✗', explanation: 'Its issuer has revoked this badge.' },
  'Expired': { className: 'status-expired', mark: '!', explanation: 'This badge has passed its expiry date.' },
  'Not yet valid': { className: 'status-not-yet-valid', mark: '!', explanation: 'This badge only becomes valid on its issue date.' },
  'Not verified': { className: 'status-not-verified', mark: '✗', explanation: 'At least one check failed, so this badge cannot be trusted.' }
}

export function statusHtml(report: VerificationReport): string {
  const word = statusWord(report)
  const { className, mark, explanation } = STATUSES[word]
  return `<div class="status ${className}">
<p><span aria-hidden="true">${mark}</span> <span class="word">${word}</span></p>
<p>${explanation}</p>
</div>`
}

const CHECK_LABELS: Record<CheckName, string> = {
  format: 'Format',
  schema: 'Schema',
  proof: 'Signature (proof)',
  issuer: 'Issuer',
  validity: 'Dates (validity)',
  status: 'Revocation status',
  recipient: 'Recipient',
  subject: 'Endorsed subject',
  endorsements: 'Endorsements'
}

const STATUS_LABELS: Record<CheckStatus, string> = { passed: 'Passed', failed: 'Failed', warning: 'Warning', skipped: 'Skipped' }

export function checksHtml(checks: Check[]): string {
  const items = checks.map((check) =>
    `<li><strong>${CHECK_LABELS[check.check]}</strong>: <span class="check-status check-${check.status}">${STATUS_LABELS[check.status]}</span>. ${escapeHtml(check.message)}</li>`)
  return `<ul class="checks">\n${items.join('\n')}\n</ul>`
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']

export function parsedDate(value: string | null): Date | null {
  if (value === null) return null
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}

/** "25 November 2026" (UTC, as the credential states it), with the instant for machines; text that is no date stays as given. */
export function dateHtml(value: string): string {
  const date = parsedDate(value)
  if (date === null) return escapeHtml(value)
  return `<time datetime="${date.toISOString()}">${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}</time>`
}

/** The issuer's name (or its id when unnamed), linked to its http(s) homepage if the credential gives one. */
function issuerHtml(issuer: ReportSummary['issuer'], credential: Record<string, unknown>): string | null {
  const label = issuer.name ?? issuer.id
  if (label === null) return null
  const profile = credential.issuer
  const homepage = typeof profile === 'object' && profile !== null ? httpUrl((profile as Record<string, unknown>).url) : null
  return homepage === null ? escapeHtml(label) : `<a href="${escapeHtml(homepage)}">${escapeHtml(label)}</a>`
}

/**
 * Who issued what to whom, and when. The recipient appears by name only: identifiers (email hashes, DIDs) are not for
 * a public page. `credential` supplies the issuer's homepage, which the summary does not carry.
 */
export function summaryHtml(report: VerificationReport, credential: Record<string, unknown>, options: { achievement: boolean }): string {
  const { summary } = report
  const rows: [string, string][] = []
  const achievement = summary.achievement?.name
  if (options.achievement && typeof achievement === 'string') rows.push(['Achievement', escapeHtml(achievement)])
  const issuer = issuerHtml(summary.issuer, credential)
  if (issuer !== null) rows.push(['Issued by', issuer])
  if (summary.recipient !== null) rows.push(['Awarded to', escapeHtml(summary.recipient.name ?? 'the holder of this badge')])
  if (summary.validFrom !== null) rows.push(['Issued', dateHtml(summary.validFrom)])
  if (summary.validUntil !== null) rows.push(['Valid until', dateHtml(summary.validUntil)])
  if (rows.length === 0) return ''
  return `<dl>\n${rows.map(([term, detail]) => `<dt>${term}</dt><dd>${detail}</dd>`).join('\n')}\n</dl>`
}

/**
 * One endorsement: who endorses, its own result (and why not, when it fails), what the endorser says, the signed
 * endorsement to look at, and its checks. A revoked or forged one is shown as such, never as praise.
 */
function endorsementHtml(endorsement: EndorsementReport): string {
  const by = escapeHtml(endorsement.issuer.name ?? endorsement.issuer.id ?? 'an unnamed issuer')
  const word = endorsement.verified ? 'Verified' : 'Not verified'
  const problem = endorsement.checks.find((check) => check.status === 'failed')
  const link = httpUrl(endorsement.id)
  return `<li>
<h3>Endorsed by ${by}</h3>
<p><span class="check-status check-${endorsement.verified ? 'passed' : 'failed'}">${word}</span></p>
${problem === undefined ? '' : `<p>${escapeHtml(problem.message)}</p>\n`}${
  endorsement.endorsementComment === undefined ? '' : `<blockquote><p class="narrative">${escapeHtml(endorsement.endorsementComment)}</p></blockquote>\n`}${
  link === null ? '' : `<p><a href="${escapeHtml(link)}" type="application/ld+json">The signed endorsement by ${by}</a></p>\n`}<details>
<summary>How this endorsement was checked</summary>
${checksHtml(endorsement.checks)}
</details>
</li>`
}

/** The endorsements section of the badge page and the verify result; nothing when there are none. */
export function endorsementsHtml(endorsements: EndorsementReport[] | undefined): string {
  if (endorsements === undefined || endorsements.length === 0) return ''
  return `<h2>Endorsements</h2>\n<ul class="endorsements">\n${endorsements.map(endorsementHtml).join('\n')}\n</ul>\n`
}
