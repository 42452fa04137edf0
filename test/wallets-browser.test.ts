// The claim page in a real browser (Debian's Chromium driven by playwright-core): both wallet buttons and both QR codes
// show, with no script; each QR code, read back from the pixels the browser drew, is the LCW deep link or the OID4VCI offer.
import jsQRModule from 'jsqr'
import t from 'tap'
import { admin } from './helpers/app.js'
import { browserSetup, withoutChromium } from './helpers/browser.js'

// jsqr is CommonJS with its function on `default`; its types describe the ESM shape.
const jsQR = (jsQRModule as unknown as { default: typeof jsQRModule.default }).default

t.test('the claim page in Chromium', { skip: withoutChromium }, async (t) => {
  const { app, browser, badge } = await browserSetup(t)
  const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: badge.id, recipient: { email: 'ada@example.com' }, deliver: true } })
  t.equal(res.statusCode, 201)
  const { claim } = res.json()

  const page = await browser.newPage()
  const refused: string[] = []
  page.on('console', (message) => { if (/Content Security Policy|Refused/.test(message.text())) refused.push(message.text()) })
  await page.goto(claim.claimUrl)
  t.equal(await page.locator('h1').innerText(), 'Safe Welding')
  t.equal(await page.locator('#add-lcw').innerText(), 'Add to Learner Credential Wallet')
  t.equal(await page.locator('#add-lcw').getAttribute('href'), claim.lcwDeepLink)
  t.equal(await page.locator('#add-oid4vci').innerText(), 'Add to another wallet (OpenID4VCI)')
  t.equal(await page.locator('#add-oid4vci').getAttribute('href'), claim.credentialOffer)
  t.equal(await page.locator('img.badge').evaluate((img: HTMLImageElement) => img.naturalWidth > 0), true, 'the badge image loads')
  t.equal(await page.locator('a[download]').count(), 3, 'downloads: JSON, baked PNG, baked SVG')
  t.equal(await page.locator('script').count(), 0, 'no script on the page')

  for (const [id, expected] of [['#qr-lcw', claim.lcwDeepLink], ['#qr-oid4vci', claim.credentialOffer]] as const) {
    const qr = page.locator(id)
    t.ok(await qr.isVisible(), `${id} is shown`)
    // The pixels as the browser decoded and drew the image, read back through a canvas.
    const drawn = await qr.evaluate((img: HTMLImageElement) => {
      const canvas = document.createElement('canvas')
      canvas.width = img.naturalWidth
      canvas.height = img.naturalHeight
      const context = canvas.getContext('2d')!
      context.drawImage(img, 0, 0)
      const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height)
      return { data: Array.from(data), width, height }
    })
    t.ok(drawn.width > 0, `${id} was drawn`)
    const decoded = jsQR(Uint8ClampedArray.from(drawn.data), drawn.width, drawn.height)
    t.equal(decoded?.data, expected, `${id} decodes to the link`)
  }
  t.same(refused, [], 'the Content-Security-Policy refused nothing')
  await page.close()
})
