// The verify page for people: a form taking a badge in any shape we read, and the report it gets back.
import type { VerificationReport } from '../verify/report.js'
import { escapeHtml, page } from './html.js'
import { checksHtml, endorsementsHtml, statusHtml, statusWord, summaryHtml } from './report-html.js'

const VERIFY = '/verify'

export function verifyFormPage(options: { error?: string } = {}): string {
  const alert = options.error === undefined
    ? ''
    : `<div class="alert" role="alert"><p><strong>This badge could not be read.</strong> ${escapeHtml(options.error)}</p></div>\n`
  const main = `<h1>Verify an Open Badge</h1>
<p>Check that a badge was signed by its issuer, has not been changed, and has not been revoked or expired.</p>
${alert}<form method="post" action="${VERIFY}" enctype="multipart/form-data">
<fieldset>
<legend>The badge: paste it, give its address, or upload it</legend>
<label for="credential">Credential (JSON or JWT)</label>
<span class="hint" id="credential-hint">Paste the whole signed credential.</span>
<textarea id="credential" name="credential" aria-describedby="credential-hint" spellcheck="false" autocomplete="off"></textarea>
<label for="url">Credential URL</label>
<span class="hint" id="url-hint">The address the badge is published at, starting with https://</span>
<input id="url" name="url" type="url" inputmode="url" aria-describedby="url-hint">
<label for="file">Badge file</label>
<span class="hint" id="file-hint">A baked PNG or SVG badge image, or a .json or .jwt file.</span>
<input id="file" name="file" type="file" accept=".png,.svg,.json,.jwt,image/png,image/svg+xml" aria-describedby="file-hint">
</fieldset>
<label for="email">Check it was issued to this email</label>
<span class="hint" id="email-hint">Optional: compared with the recipient the badge names.</span>
<input id="email" name="email" type="email" autocomplete="email" aria-describedby="email-hint">
<button type="submit">Verify</button>
</form>`
  return page({ title: 'Verify an Open Badge', main, verifyHref: VERIFY })
}

export function verifyResultPage(report: VerificationReport): string {
  const main = `<h1>Verification result</h1>
${statusHtml(report)}
${summaryHtml(report, report.credential, { achievement: true })}
<h2>Checks</h2>
${checksHtml(report.checks)}
${endorsementsHtml(report.endorsements)}<p><a href="${VERIFY}">Verify another badge</a></p>`
  return page({ title: `${statusWord(report)}: verification result`, main, verifyHref: VERIFY })
}
