// The credential's public page for people: what was achieved, who says so, and links to the signed document.
import type { ServiceContext } from '../context.js'
import type { CredentialRow } from '../db/schema.js'
import { credentialDocument, credentialState } from '../credentials/view.js'

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' }

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

type Named = { name?: unknown; description?: unknown }

function text(value: unknown): string {
  return typeof value === 'string' ? escapeHtml(value) : ''
}

export function credentialPage(ctx: ServiceContext, row: CredentialRow): string {
  const credential = credentialDocument(row)
  const subject = (Array.isArray(credential.credentialSubject) ? credential.credentialSubject[0] : credential.credentialSubject) as
    { achievement?: Named; name?: unknown } | undefined
  const issuer = (typeof credential.issuer === 'object' && credential.issuer !== null ? credential.issuer : { name: credential.issuer }) as Named
  const achievement = subject?.achievement ?? {}
  const url = `${ctx.publicUrl}/credentials/${row.id}`
  const state = credentialState(row)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${text(achievement.name) || 'Open Badge'}</title>
<link rel="alternate" type="application/ld+json" href="${escapeHtml(url)}">
</head>
<body>
<main>
<h1>${text(achievement.name)}</h1>
<p>${text(achievement.description)}</p>
<dl>
<dt>Awarded to</dt><dd>${text(subject?.name) || 'the holder of this badge'}</dd>
<dt>Issued by</dt><dd>${text(issuer.name)}</dd>
<dt>Valid from</dt><dd>${text(credential.validFrom)}</dd>
${typeof credential.validUntil === 'string' ? `<dt>Valid until</dt><dd>${text(credential.validUntil)}</dd>\n` : ''}<dt>Status</dt><dd>${state}</dd>
</dl>
<p>This is an Open Badges 3.0 credential, signed as ${escapeHtml(row.format)}. <a href="${escapeHtml(url)}" type="application/ld+json">The signed credential</a>.</p>
</main>
</body>
</html>
`
}
