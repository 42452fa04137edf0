// The claim page for a learner: the badge, and the ways to put it in a wallet (LCW, any OID4VCI wallet, or by download).
// No script: the buttons are links, and the QR codes are PNG data: URIs drawn on the server.
import QRCode from 'qrcode'
import { escapeHtml, page } from './html.js'

export interface ClaimPageModel {
  publicUrl: string
  badgeName: string
  issuerName: string
  description: string
  /** The badge image to show (the baked PNG, or the SVG). */
  image: string
  lcwDeepLink: string
  credentialOffer: string
  txCodeRequired: boolean
  expiresAt: Date
  downloads: { json: string; png: string | null; svg: string }
}

/** A QR code as a data: URI, sized for phones to read from a screen. */
export async function qrDataUri(text: string): Promise<string> {
  return QRCode.toDataURL(text, { errorCorrectionLevel: 'M', margin: 4, scale: 4 })
}

function qr(id: string, src: string, label: string): string {
  return `<img class="qr" id="${id}" src="${src}" alt="${escapeHtml(label)}">`
}

export async function claimPage(model: ClaimPageModel): Promise<string> {
  const { badgeName, issuerName, downloads } = model
  const [lcwQr, offerQr] = await Promise.all([qrDataUri(model.lcwDeepLink), qrDataUri(model.credentialOffer)])
  const main = `<img class="badge" src="${escapeHtml(model.image)}" alt="Badge: ${escapeHtml(badgeName)}">
<h1>${escapeHtml(badgeName)}</h1>
<p>Your badge from ${escapeHtml(issuerName)} is ready to go into your wallet.</p>
<p>${escapeHtml(model.description)}</p>
<p>This page works once, until ${escapeHtml(model.expiresAt.toUTCString())}: the first wallet to accept the badge gets it.</p>
<h2>Learner Credential Wallet</h2>
<p><a class="button" id="add-lcw" href="${escapeHtml(model.lcwDeepLink)}">Add to Learner Credential Wallet</a></p>
<p>On a computer? Scan this code with the Learner Credential Wallet app on your phone.</p>
${qr('qr-lcw', lcwQr, 'QR code to add the badge to Learner Credential Wallet')}
<h2>Another wallet</h2>
<p><a class="button" id="add-oid4vci" href="${escapeHtml(model.credentialOffer)}">Add to another wallet (OpenID4VCI)</a></p>
${model.txCodeRequired ? '<p>Your wallet will ask for the six-digit code your issuer sent you separately.</p>\n' : ''}<p>Or scan this code with a wallet that supports OpenID for Verifiable Credential Issuance.</p>
${qr('qr-oid4vci', offerQr, 'QR code to add the badge to an OpenID4VCI wallet')}
<h2>Download</h2>
<ul class="actions">
<li><a href="${escapeHtml(downloads.json)}" download>Download the signed badge (JSON)</a></li>
${downloads.png === null ? '' : `<li><a href="${escapeHtml(downloads.png)}" download>Download the badge image with the credential inside (PNG)</a></li>\n`}<li><a href="${escapeHtml(downloads.svg)}" download>Download the badge image with the credential inside (SVG)</a></li>
</ul>`
  return page({ title: `Claim your badge: ${badgeName}`, head: '<meta name="robots" content="noindex">\n', main, verifyHref: `${model.publicUrl}/verify` })
}

/** The claim page when the claim cannot be used (unknown, used, expired): why, and what to do. */
export function claimUnavailablePage(publicUrl: string, detail: string): string {
  const main = `<h1>This badge link cannot be used</h1>
<p class="alert">${escapeHtml(detail.charAt(0).toUpperCase() + detail.slice(1))}.</p>
<p>If the badge is already in your wallet, there is nothing more to do.</p>`
  return page({ title: 'This badge link cannot be used', head: '<meta name="robots" content="noindex">\n', main, verifyHref: `${publicUrl}/verify` })
}
