// The reviewers' pages: signing in by an emailed link, the queue of submissions, and one submission with its decision form.
// No script: every action is a plain POST form, and every form of a signed-in reviewer carries the session's CSRF token.
import type { ResultDescription, ReviewDecision, RubricCriterionLevel } from '../db/schema.js'
import { escapeHtml, httpUrl, page } from './html.js'

export type ReviewSignInState =
  | { kind: 'request'; sent?: boolean; error?: string }
  /** `action` is the sign-in link's own URL: only a POST to it uses the link, so mail scanners that open links do not. */
  | { kind: 'confirm'; action: string }
  | { kind: 'closed'; reason: 'used' | 'expired' | 'unknown' }

export type ReviewSignInPageModel = ReviewSignInState & {
  /** PUBLIC_URL, no trailing slash. */
  publicUrl: string
}

export interface ReviewQueueItem {
  id: string
  /** The submission's review page. */
  url: string
  achievementName: string
  issuerName: string
  learnerName: string | null
  version: number
  submittedAt: Date
  approvals: { count: number; required: number }
}

export interface ReviewQueuePageModel {
  publicUrl: string
  reviewer: { email: string; name: string | null }
  csrfToken: string
  items: ReviewQueueItem[]
  /** The outcome of the reviewer's last action, e.g. "Approved: the badge was issued". */
  notice?: string
}

export interface SubmissionEvidence {
  name: string
  narrative?: string
  url?: string
  genre?: string
}

export interface SubmissionFile {
  name: string
  /** Where the reviewer opens it. */
  url: string
  contentType: string
  /** In bytes. */
  size: number
}

export interface SubmissionDecisionRecord {
  version: number
  decision: ReviewDecision
  comment: string | null
  /** The reviewer's name, or email. */
  reviewer: string
  decidedAt: Date
}

/** A form field a message can point at: `level-<i>` is the i-th rubric's radio group. */
export type DecisionField = 'decision' | 'comment' | `level-${number}`

export interface FieldMessage {
  field: DecisionField
  message: string
}

export interface SubmissionReviewPageModel {
  publicUrl: string
  csrfToken: string
  /** Where the decision form posts. */
  action: string
  submission: {
    achievementName: string
    issuerName: string
    criteriaNarrative?: string
    /** The learner as this reviewer may see them: a name, or "A learner", with an identity when one may be shown. */
    learner: { label: string }
    version: number
    submittedAt: Date
    evidence: SubmissionEvidence[]
    files: SubmissionFile[]
    /** Decisions on earlier versions, oldest first. */
    history: SubmissionDecisionRecord[]
    approvals: { count: number; required: number }
  }
  rubrics: ResultDescription[]
  /** What the reviewer sent, when the form comes back with errors. `levels` maps a rubric's index to the chosen level id. */
  values?: { decision?: ReviewDecision; comment?: string; levels?: Record<number, string> }
  errors?: FieldMessage[]
  /** Set when this reviewer cannot decide (already decided, their own submission): the form is replaced by the reason. */
  readOnly?: { reason: string }
}

// The shared style makes every input a full-width block; radios sit beside their labels.
const STYLE = `<style>
.option { display: flex; gap: .625rem; align-items: flex-start; margin-top: .75rem }
.option input { flex: none; width: 1.25rem; height: 1.25rem; margin: .2rem 0 0 }
.option label { margin: 0 }
legend .hint { font-weight: 400 }
.error-message { margin: .5rem 0 0; color: #7a1010; font-weight: 600 }
ul.queue { padding: 0; list-style: none }
ul.queue > li { padding: .75rem 0; border-bottom: 1px solid var(--line) }
.meta { margin: .25rem 0 0; color: var(--muted) }
button.secondary { margin-top: 0; color: var(--link); background: #fff; border: 2px solid var(--link) }
</style>
`

function reviewPage(publicUrl: string, title: string, main: string): string {
  return page({ title, head: `<meta name="robots" content="noindex">\n${STYLE}`, main, verifyHref: `${publicUrl}/verify` })
}

const csrfInput = (token: string) => `<input type="hidden" name="csrf" value="${escapeHtml(token)}">`

const dateHtml = (date: Date) => `<time datetime="${date.toISOString()}">${date.toUTCString()}</time>`

/** A message about one field of a form; the sign-in form's one field is `email`. */
interface Message { field: string; message: string }

function errorSummary(errors: Message[]): string {
  if (errors.length === 0) return ''
  return `<div class="alert" role="alert">
<h2>There is a problem</h2>
<ul>
${errors.map((error) => `<li><a href="#${escapeHtml(error.field)}">${escapeHtml(error.message)}</a></li>`).join('\n')}
</ul>
</div>
`
}

/** The messages beside a field, with the id its control's aria-describedby names. */
function fieldError(errors: Message[], field: string): { html: string; id: string | null } {
  const messages = errors.filter((error) => error.field === field)
  if (messages.length === 0) return { html: '', id: null }
  const id = `${field}-error`
  return { html: `<p class="error-message" id="${id}">${messages.map((m) => `Error: ${escapeHtml(m.message)}`).join(' ')}</p>\n`, id }
}

const describedBy = (...ids: (string | null)[]) => {
  const present = ids.filter((id) => id !== null)
  return present.length === 0 ? '' : ` aria-describedby="${present.join(' ')}"`
}

// --- Signing in ---------------------------------------------------------------------------------------------------

function requestForm(publicUrl: string, error?: string): string {
  const errors = error === undefined ? [] : [{ field: 'email', message: error }]
  const message = fieldError(errors, 'email')
  return `${errorSummary(errors)}<form method="post" action="${escapeHtml(publicUrl)}/review/sign-in">
<label for="email">Email address</label>
${message.html}<input id="email" name="email" type="email" autocomplete="email" spellcheck="false" required${message.id === null ? '' : ' aria-invalid="true"'}${describedBy(message.id)}>
<button type="submit">Email me a sign-in link</button>
</form>`
}

const CLOSED: Record<Extract<ReviewSignInState, { kind: 'closed' }>['reason'], string> = {
  used: 'This sign-in link was already used: each link works once.',
  expired: 'This sign-in link has expired.',
  unknown: 'This sign-in link is not one we know. It may have been cut short when it was copied.'
}

function signInMain(model: ReviewSignInPageModel): { title: string; main: string } {
  switch (model.kind) {
    case 'confirm':
      return {
        title: 'Sign in to review',
        main: `<h1>Sign in to review</h1>
<p>Press the button to sign in. The link from your email works once, and only this button uses it, so a mail scanner that opens the link cannot.</p>
<form method="post" action="${escapeHtml(model.action)}">
<button type="submit">Sign in to review</button>
</form>`
      }
    case 'closed':
      return {
        title: 'This sign-in link cannot be used',
        main: `<h1>This sign-in link cannot be used</h1>
<p class="alert">${CLOSED[model.reason]}</p>
<h2>Email me a new link</h2>
<p>Enter the address your invitation was sent to.</p>
${requestForm(model.publicUrl)}`
      }
    case 'request':
      return {
        title: 'Sign in to review evidence',
        main: `<h1>Sign in to review evidence</h1>
${model.sent === true ? '<div class="status" role="status"><p>If that address belongs to a reviewer, a link is on its way.</p></div>\n' : ''}<p>Reviewers sign in with a link sent by email. Each link works once.</p>
${requestForm(model.publicUrl, model.error)}`
      }
  }
}

export function reviewSignInPage(model: ReviewSignInPageModel): string {
  const { title, main } = signInMain(model)
  return reviewPage(model.publicUrl, title, main)
}

// --- The queue ----------------------------------------------------------------------------------------------------

function queueItemHtml(item: ReviewQueueItem): string {
  return `<li><a href="${escapeHtml(item.url)}">${escapeHtml(item.achievementName)} from ${escapeHtml(item.learnerName ?? 'a learner')}</a>
<p class="meta">Issued by ${escapeHtml(item.issuerName)} · version ${item.version} · submitted ${dateHtml(item.submittedAt)} · ${item.approvals.count} of ${item.approvals.required} approvals</p></li>`
}

export function reviewQueuePage(model: ReviewQueuePageModel): string {
  const { reviewer, items } = model
  const who = reviewer.name === null ? escapeHtml(reviewer.email) : `${escapeHtml(reviewer.name)} (${escapeHtml(reviewer.email)})`
  const main = `<h1>Submissions to review</h1>
${model.notice === undefined ? '' : `<div class="status" role="status"><p>${escapeHtml(model.notice)}</p></div>\n`}<p>Signed in as ${who}.</p>
<form method="post" action="${escapeHtml(model.publicUrl)}/review/sign-out">
${csrfInput(model.csrfToken)}
<button type="submit" class="secondary">Sign out</button>
</form>
<h2>Waiting for a decision</h2>
${items.length === 0 ? '<p>Nothing is waiting for review. New submissions appear here.</p>' : `<ul class="queue">\n${items.map(queueItemHtml).join('\n')}\n</ul>`}`
  return reviewPage(model.publicUrl, 'Submissions to review', main)
}

// --- One submission -----------------------------------------------------------------------------------------------

const DECISIONS: { value: ReviewDecision; label: string }[] = [
  { value: 'approve', label: 'Approve and issue the badge' },
  { value: 'revise', label: 'Ask for a revision' },
  { value: 'reject', label: 'Reject' }
]

const DECIDED: Record<ReviewDecision, string> = { approve: 'Approved', revise: 'Revision requested', reject: 'Rejected' }

function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`
  const [value, unit] = bytes < 1024 ** 2 ? [bytes / 1024, 'KB'] : [bytes / 1024 ** 2, 'MB']
  return `${value.toFixed(1).replace(/\.0$/, '')} ${unit}`
}

/** A learner's URL is a link only when it is http(s); otherwise the reviewer still sees what was given. */
function linkHtml(url: string): string {
  const href = httpUrl(url)
  return href === null ? escapeHtml(url) : `<a href="${escapeHtml(href)}">${escapeHtml(url)}</a>`
}

function evidenceHtml(item: SubmissionEvidence): string {
  const details = [
    item.url === undefined ? '' : `<dt>Link</dt><dd>${linkHtml(item.url)}</dd>`,
    item.genre === undefined ? '' : `<dt>Kind</dt><dd>${escapeHtml(item.genre)}</dd>`
  ].join('')
  return `<h3>${escapeHtml(item.name)}</h3>
${item.narrative === undefined ? '' : `<p class="narrative">${escapeHtml(item.narrative)}</p>\n`}${details === '' ? '' : `<dl>${details}</dl>\n`}`
}

function filesHtml(files: SubmissionFile[]): string {
  if (files.length === 0) return ''
  return `<h2>Files</h2>
<ul class="actions">
${files.map((file) => `<li><a href="${escapeHtml(file.url)}">${escapeHtml(file.name)}</a> <span class="hint">${escapeHtml(file.contentType)}, ${humanSize(file.size)}</span></li>`).join('\n')}
</ul>
`
}

function historyHtml(history: SubmissionDecisionRecord[]): string {
  if (history.length === 0) return ''
  const entry = (record: SubmissionDecisionRecord) => `<li><p><strong>Version ${record.version}: ${DECIDED[record.decision]}</strong>
by ${escapeHtml(record.reviewer)}, ${dateHtml(record.decidedAt)}</p>
${record.comment === null ? '' : `<blockquote><p class="narrative">${escapeHtml(record.comment)}</p></blockquote>\n`}</li>`
  return `<h2>Earlier decisions</h2>
<ul class="queue">
${history.map(entry).join('\n')}
</ul>
`
}

/** One radio in a group: the first takes the group's own id, so the error summary's link lands on it. */
function radio(group: string, index: number, option: { value: string; label: string; hint?: string; checked: boolean }): string {
  const id = index === 0 ? group : `${group}-${index + 1}`
  const hintId = option.hint === undefined ? null : `${id}-hint`
  const hint = option.hint === undefined ? '' : `<span class="hint" id="${hintId}">${escapeHtml(option.hint)}</span>`
  return `<div class="option">
<input type="radio" id="${id}" name="${group}" value="${escapeHtml(option.value)}"${option.checked ? ' checked' : ''}${describedBy(hintId)}>
<div><label for="${id}">${escapeHtml(option.label)}</label>${hint}</div>
</div>`
}

function radioGroup(group: DecisionField, legend: string, errors: Message[], radios: string[]): string {
  const error = fieldError(errors, group)
  return `<fieldset${describedBy(error.id)}>
<legend>${legend}</legend>
${error.html}${radios.join('\n')}
</fieldset>`
}

function levelHint(level: RubricCriterionLevel): string | undefined {
  const points = level.points === undefined ? undefined : `${level.points} ${level.points === '1' ? 'point' : 'points'}`
  const parts = [level.description, points].filter((part) => part !== undefined)
  return parts.length === 0 ? undefined : parts.join(' · ')
}

function rubricHtml(rubric: ResultDescription, index: number, model: SubmissionReviewPageModel): string {
  const required = rubric.rubricCriterionLevel.find((level) => level.id === rubric.requiredLevel)
  const legend = `${escapeHtml(rubric.name)}${required === undefined ? '' : ` <span class="hint">Required level: ${escapeHtml(required.name)}</span>`}`
  const chosen = model.values?.levels?.[index]
  return radioGroup(`level-${index}`, legend, model.errors ?? [], rubric.rubricCriterionLevel.map((level, j) =>
    radio(`level-${index}`, j, { value: level.id, label: level.name, hint: levelHint(level), checked: level.id === chosen })))
}

// The newline after <textarea> is the one HTML drops, so a comment that starts with a line break keeps it.
function decisionForm(model: SubmissionReviewPageModel): string {
  const errors = model.errors ?? []
  const comment = fieldError(errors, 'comment')
  const decisions = DECISIONS.map((decision, j) =>
    radio('decision', j, { value: decision.value, label: decision.label, checked: decision.value === model.values?.decision }))
  return `<form method="post" action="${escapeHtml(model.action)}">
${csrfInput(model.csrfToken)}
${model.rubrics.length === 0 ? '' : '<p>Judge the evidence against each rubric, then decide.</p>\n'}${model.rubrics.map((rubric, i) => rubricHtml(rubric, i, model)).join('\n')}
${radioGroup('decision', 'Decision', errors, decisions)}
<label for="comment">Comment</label>
<span class="hint" id="comment-hint">What you saw in the evidence, and what is missing if you ask for a revision.</span>
${comment.html}<textarea id="comment" name="comment"${comment.id === null ? '' : ' aria-invalid="true"'}${describedBy('comment-hint', comment.id)}>
${escapeHtml(model.values?.comment ?? '')}</textarea>
<button type="submit">Submit decision</button>
</form>`
}

export function submissionReviewPage(model: SubmissionReviewPageModel): string {
  const { submission } = model
  const achievement = escapeHtml(submission.achievementName)
  const main = `<p><a href="${escapeHtml(model.publicUrl)}/review">Back to the submissions to review</a></p>
${model.readOnly === undefined ? errorSummary(model.errors ?? []) : ''}<h1>Evidence for ${achievement}</h1>
<p>A badge issued by ${escapeHtml(submission.issuerName)}.</p>
${submission.criteriaNarrative === undefined ? '' : `<h2>What the badge asks</h2>\n<p class="narrative">${escapeHtml(submission.criteriaNarrative)}</p>\n`}<h2>The submission</h2>
<dl>
<dt>Learner</dt><dd>${escapeHtml(submission.learner.label)}</dd>
<dt>Version</dt><dd>${submission.version}</dd>
<dt>Submitted</dt><dd>${dateHtml(submission.submittedAt)}</dd>
<dt>Approvals so far</dt><dd>${submission.approvals.count} of ${submission.approvals.required}</dd>
</dl>
<h2>Evidence</h2>
${submission.evidence.length === 0 ? '<p>The learner gave no evidence items.</p>\n' : submission.evidence.map(evidenceHtml).join('')}${filesHtml(submission.files)}${historyHtml(submission.history)}<h2>Your decision</h2>
${model.readOnly === undefined ? decisionForm(model) : `<p class="status">${escapeHtml(model.readOnly.reason)}</p>`}`
  return reviewPage(model.publicUrl, `Review evidence for ${submission.achievementName}`, main)
}
