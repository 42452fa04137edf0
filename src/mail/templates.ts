// The emails Lanyard sends reviewers, as subject, plain text and a simple accessible HTML part (no images, no scripts).
import { escapeHtml } from '../pages/html.js'

export interface MailContent {
  subject: string
  text: string
  html: string
}

export interface ReviewerInvitation {
  reviewerName?: string
  issuerName: string
  achievementName: string
  /** Single-use: a secret, for the recipient only. */
  signInUrl: string
  expiresAt: Date
}

export interface ReviewerSignInLink {
  reviewerName?: string
  signInUrl: string
  expiresAt: Date
}

// Names come from issuers: a line break in one must not start a new header or paragraph.
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim()

const greeting = (name: string | undefined) => (name === undefined ? 'Hello,' : `Hello ${oneLine(name)},`)

function linkLines(expiresAt: Date): string[] {
  return [
    `The link works once, until ${expiresAt.toUTCString()}. Once it is used or expired, opening it offers to email you a new one.`,
    'If you did not expect this email, you can ignore it.'
  ]
}

function textPart(paragraphs: string[], signInUrl: string, expiresAt: Date): string {
  return [...paragraphs, `Sign in to review:\n${signInUrl}`, ...linkLines(expiresAt)].join('\n\n') + '\n'
}

// Inline styles: many mail clients drop <style>. The link's colours have a contrast ratio above 7:1.
function htmlPart(subject: string, paragraphs: string[], signInUrl: string, expiresAt: Date): string {
  const href = escapeHtml(signInUrl)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(subject)}</title>
</head>
<body style="margin:0;padding:1.5rem;background:#ffffff;color:#1a1a1a;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif">
<main style="max-width:36rem">
${paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`).join('\n')}
<p><a href="${href}" style="display:inline-block;padding:.625rem 1.25rem;background:#0b4f9c;color:#ffffff;font-weight:600;border-radius:.25rem;text-decoration:none">Sign in to review</a></p>
<p>Or copy this address into your browser:<br><a href="${href}" style="color:#0b4f9c;word-break:break-all">${href}</a></p>
${linkLines(expiresAt).map((line) => `<p>${escapeHtml(line)}</p>`).join('\n')}
</main>
</body>
</html>
`
}

function mail(subject: string, paragraphs: string[], signInUrl: string, expiresAt: Date): MailContent {
  return { subject, text: textPart(paragraphs, signInUrl, expiresAt), html: htmlPart(subject, paragraphs, signInUrl, expiresAt) }
}

export function reviewerInvitation(invitation: ReviewerInvitation): MailContent {
  const achievement = `${oneLine(invitation.achievementName)} (${oneLine(invitation.issuerName)})`
  return mail(`You are invited to review evidence for ${achievement}`, [
    greeting(invitation.reviewerName),
    `You are invited to review evidence for ${achievement}: learners submit their work, and you judge it against the badge's criteria.`
  ], invitation.signInUrl, invitation.expiresAt)
}

export function reviewerSignInLink(request: ReviewerSignInLink): MailContent {
  return mail('Your link to sign in and review evidence', [
    greeting(request.reviewerName),
    'Here is the new sign-in link you asked for.'
  ], request.signInUrl, request.expiresAt)
}
