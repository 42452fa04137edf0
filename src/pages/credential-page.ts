// The credential's public page for people: the badge, what was achieved, who says so, whether it checks out, and how to share it.
import type { VerificationReport } from '../verify/report.js'
import { escapeHtml, httpUrl, page } from './html.js'
import { checksHtml, endorsementsHtml, parsedDate, statusHtml, statusWord, summaryHtml } from './report-html.js'

export { escapeHtml } from './html.js'

export interface CredentialPageModel {
  /** The credential's public URL (absolute). */
  url: string
  /** PUBLIC_URL, no trailing slash. */
  publicUrl: string
  /** The decoded credential (an OB 3.0 AchievementCredential). */
  credential: Record<string, unknown>
  /** The live verification of this credential, from the shared pipeline. */
  report: VerificationReport
  /** Absolute URLs of the baked downloads; png is null when there is no PNG. */
  images: { png: string | null; svg: string }
}

type Json = Record<string, unknown>

const record = (value: unknown): Json | undefined => (typeof value === 'object' && value !== null ? value as Json : undefined)
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null)

function achievementOf(credential: Json): Json {
  const subject = Array.isArray(credential.credentialSubject) ? credential.credentialSubject[0] : credential.credentialSubject
  return record(record(subject)?.achievement) ?? {}
}

function criteriaHtml(criteria: Json | undefined): string {
  const narrative = text(criteria?.narrative)
  const link = httpUrl(criteria?.id)
  if (narrative === null && link === null) return ''
  return `<h2>Criteria</h2>\n${narrative === null ? '' : `<p class="narrative">${escapeHtml(narrative)}</p>\n`}` +
    `${link === null ? '' : `<p><a href="${escapeHtml(link)}">The full criteria for this badge</a></p>\n`}`
}

function metaHtml(tags: [attribute: 'property' | 'name', key: string, value: string][]): string {
  return tags.map(([attribute, key, value]) => `<meta ${attribute}="${key}" content="${escapeHtml(value)}">\n`).join('')
}

/** LinkedIn's "add a licence or certification" form, filled in; months count from 1. */
function linkedInHref(name: string, issuerName: string | null, model: CredentialPageModel): string {
  const params = new URLSearchParams({ startTask: 'CERTIFICATION_NAME', name })
  if (issuerName !== null) params.set('organizationName', issuerName)
  for (const [prefix, value] of [['issue', model.report.summary.validFrom], ['expiration', model.report.summary.validUntil]] as const) {
    const date = parsedDate(value)
    if (date === null) continue
    params.set(`${prefix}Year`, String(date.getUTCFullYear()))
    params.set(`${prefix}Month`, String(date.getUTCMonth() + 1))
  }
  params.set('certUrl', model.url)
  const id = text(model.credential.id)
  if (id !== null) params.set('certId', id)
  return `https://www.linkedin.com/profile/add?${params}`
}

function link(href: string, label: string, attributes = ''): string {
  return `<li><a href="${escapeHtml(href)}"${attributes}>${label}</a></li>\n`
}

export function credentialPage(model: CredentialPageModel): string {
  const { url, publicUrl, credential, report, images } = model
  const achievement = achievementOf(credential)
  const name = report.summary.achievement?.name ?? 'Open Badge'
  const issuerName = report.summary.issuer.name
  const description = text(achievement.description)
  const shareText = description ?? `${name}: an Open Badge${issuerName === null ? '' : ` issued by ${issuerName}`}`
  const image = images.png ?? images.svg
  const verified = statusWord(report) === 'Verified'

  const head = `<link rel="canonical" href="${escapeHtml(url)}">
<link rel="alternate" type="application/ld+json" href="${escapeHtml(url)}">
` + metaHtml([
    ['name', 'description', shareText],
    ['property', 'og:type', 'website'],
    ['property', 'og:title', name],
    ['property', 'og:description', shareText],
    ['property', 'og:url', url],
    ['property', 'og:image', image],
    ['property', 'og:image:alt', `Badge: ${name}`],
    ['name', 'twitter:card', 'summary'],
    ['name', 'twitter:title', name],
    ['name', 'twitter:description', shareText],
    ['name', 'twitter:image', image]
  ])

  const main = `<img class="badge" src="${escapeHtml(image)}" alt="Badge: ${escapeHtml(name)}">
<h1>${escapeHtml(name)}</h1>
${description === null ? '' : `<p>${escapeHtml(description)}</p>\n`}${statusHtml(report)}
${summaryHtml(report, credential, { achievement: false })}
${criteriaHtml(record(achievement.criteria))}${endorsementsHtml(report.endorsements)}<details>
<summary>How this was checked</summary>
${checksHtml(report.checks)}
</details>
<h2>Share and download</h2>
<ul class="actions">
${link(url, 'View the signed credential (JSON)', ' type="application/ld+json"')}${
  images.png === null ? '' : link(images.png, 'Download the badge image (PNG)', ' download')}${
  link(images.svg, 'Download the badge image (SVG)', ' download')}${
  // Offered only for a badge that checks out: a revoked or expired one should not be put on a profile.
  verified ? link(linkedInHref(name, issuerName, model), 'Add to LinkedIn profile') : ''}</ul>`

  return page({ title: name, head, main, verifyHref: `${publicUrl}/verify` })
}
