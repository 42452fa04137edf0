// The HTML shell every page shares: escaping, safe links, and one accessible layout with its stylesheet.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' }

/** Safe in element text and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

/** The value as a link target, or null: only http(s) URLs, so a credential cannot smuggle in `javascript:` or `data:`. */
export function httpUrl(value: unknown): string | null {
  if (typeof value !== 'string' || !URL.canParse(value)) return null
  const url = new URL(value)
  return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null
}

export interface Layout {
  /** Plain text; escaped here. */
  title: string
  /** Extra `<head>` markup, already escaped. */
  head?: string
  /** The contents of `<main>`, already escaped. */
  main: string
  /** Where the footer's "verify a badge" link points. */
  verifyHref: string
}

// Inline styles are allowed by the Content-Security-Policy; scripts are not, and none are needed.
const STYLE = `
:root { color-scheme: light; --ink: #1a1a1a; --muted: #4a4a4a; --line: #c8c8c8; --link: #0b4f9c; --focus: #b35900 }
* { box-sizing: border-box }
body { margin: 0; font: 1.0625rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff }
header, main, footer { max-width: 40rem; margin: 0 auto; padding: 1rem }
header { border-bottom: 1px solid var(--line) }
header p { margin: 0; font-weight: 600 }
footer { border-top: 1px solid var(--line); color: var(--muted); font-size: .9375rem }
h1 { font-size: 1.75rem; line-height: 1.25; margin: .5rem 0 }
h2 { font-size: 1.25rem; margin: 1.5rem 0 .5rem }
a { color: var(--link) }
a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible, summary:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px
}
img.badge { display: block; width: 100%; max-width: 12rem; height: auto; margin: 0 auto 1rem }
dl { display: grid; grid-template-columns: minmax(7rem, auto) 1fr; gap: .25rem 1rem; margin: 1rem 0 }
dt { font-weight: 600 }
dd { margin: 0; overflow-wrap: anywhere }
.narrative { white-space: pre-line }
.status { margin: 1rem 0; padding: .75rem 1rem; border: 2px solid; border-left-width: .75rem; border-radius: .25rem }
.status p { margin: 0 }
.status .word { font-size: 1.375rem; font-weight: 700 }
.status-verified { background: #e7f5ec; border-color: #1e7a3e; color: #0a4d22 }
.status-revoked, .status-not-verified { background: #fdecec; border-color: #b42318; color: #7a1010 }
.status-expired, .status-not-yet-valid { background: #fff4d6; border-color: #a86a00; color: #5c3b00 }
ul.checks { padding: 0; list-style: none }
ul.checks li { padding: .5rem 0; border-bottom: 1px solid var(--line); overflow-wrap: anywhere }
.check-status { font-weight: 700 }
.check-passed { color: #0a4d22 }
.check-failed { color: #7a1010 }
.check-warning { color: #5c3b00 }
.check-skipped { color: var(--muted) }
ul.endorsements { padding: 0; list-style: none }
blockquote { margin: .5rem 0; padding: .25rem 0 .25rem 1rem; border-left: 4px solid var(--line) }
blockquote p { margin: 0 }
h3 { font-size: 1.0625rem; margin: 1rem 0 .25rem }
ul.actions { padding-left: 1.25rem }
ul.actions li { margin: .375rem 0 }
label { display: block; font-weight: 600; margin-top: 1rem }
.hint { display: block; color: var(--muted); font-size: .9375rem }
input, textarea { display: block; width: 100%; margin-top: .25rem; padding: .5rem; font: inherit; color: var(--ink); border: 1px solid #6b6b6b; border-radius: .25rem }
textarea { min-height: 8rem; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9375rem }
fieldset { border: 1px solid var(--line); border-radius: .25rem; margin: 1rem 0; padding: 0 1rem 1rem }
legend { font-weight: 600; padding: 0 .25rem }
button { margin-top: 1rem; padding: .625rem 1.5rem; font: inherit; font-weight: 600; color: #fff; background: var(--link); border: 0; border-radius: .25rem; cursor: pointer }
a.button { display: inline-block; padding: .625rem 1.25rem; font-weight: 600; color: #fff; background: var(--link); border-radius: .25rem; text-decoration: none }
img.qr { display: block; width: 12rem; height: 12rem; margin: .75rem 0; image-rendering: pixelated }
.alert { padding: .75rem 1rem; border: 2px solid #b42318; border-radius: .25rem; background: #fdecec; color: #7a1010 }
`

export function page({ title, head = '', main, verifyHref }: Layout): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
${head}<style>${STYLE}</style>
</head>
<body>
<header><p>Lanyard · Open Badges</p></header>
<main>
${main}
</main>
<footer><p>Open Badges 3.0 credentials, checked live. <a href="${escapeHtml(verifyHref)}">Verify a badge</a>.</p></footer>
</body>
</html>
`
}
