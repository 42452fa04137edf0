// The badge as people see it, in a real browser (Debian's Chromium driven by playwright-core): the badge page of an
// issued badge says "Verified", says "Revoked" once revoked; the verify page checks an uploaded baked PNG; an
// achievement named like a script stays text everywhere.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { admin } from './helpers/app.js'
import { browserSetup, withoutChromium } from './helpers/browser.js'
import { createAchievement } from './helpers/credentials.js'

const XSS = '<script>alert(1)</script>'

/** Fails the test when any script runs a dialog (the XSS probe calls alert). */
function watchDialogs(t: Test, page: Page) {
  page.on('dialog', async (dialog) => {
    t.fail(`a script ran: ${dialog.message()}`)
    await dialog.dismiss()
  })
}

t.test('in Chromium', { skip: withoutChromium }, async (t) => {
  const { app, origin, browser, issuer, badge } = await browserSetup(t)
  const issue = async (achievementId: string) => {
    const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId, recipient: { email: 'ada@example.com', name: 'Ada Lovelace' } } })
    t.equal(res.statusCode, 201, 'issued')
    return res.json()
  }

  await t.test('the badge page shows what, who, and "Verified"; after revoking, "Revoked"', async (t) => {
    const issued = await issue(badge.id)
    const page = await browser.newPage()
    watchDialogs(t, page)
    await page.goto(issued.url)
    t.equal(await page.locator('h1').innerText(), 'Safe Welding')
    const body = await page.locator('body').innerText()
    t.match(body, 'Riverside College')
    t.match(body, 'Ada Lovelace')
    t.notMatch(body, 'ada@example.com', 'never the email')
    t.match(body, /\bVerified\b/)
    t.equal(await page.locator('img').first().getAttribute('alt'), 'Badge: Safe Welding')
    t.equal(await page.locator('img').first().evaluate((img: HTMLImageElement) => img.naturalWidth > 0), true, 'the badge image loads')

    const revoked = await app.inject({ method: 'POST', url: `/v1/credentials/${issued.id}/revoke`, headers: admin, payload: { reason: 'issued in error' } })
    t.equal(revoked.statusCode, 200)
    await page.reload()
    const after = await page.locator('body').innerText()
    t.match(after, /\bRevoked\b/)
    t.notMatch(after, /\bVerified\b/)
    await page.close()
  })

  await t.test('the verify page checks an uploaded baked PNG', async (t) => {
    const issued = await issue(badge.id)
    const png = await app.inject({ method: 'GET', url: `/credentials/${issued.id}/badge.png` })
    t.equal(png.statusCode, 200)
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'lanyard-browser-')), 'badge.png')
    writeFileSync(file, png.rawPayload)
    const page = await browser.newPage()
    watchDialogs(t, page)
    await page.goto(`${origin}/verify`)
    await page.getByLabel('Badge file').setInputFiles(file)
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.waitForLoadState()
    const body = await page.locator('body').innerText()
    t.match(body, /\bVerified\b/)
    t.match(body, 'Safe Welding')
    t.match(body, 'Riverside College')
    await page.close()
  })

  await t.test('an achievement named like a script is text on the badge page and on the verify page', async (t) => {
    const hostile = await createAchievement(app, issuer.id, { name: XSS, description: `${XSS} <img src=x onerror=alert(2)>` })
    const issued = await issue(hostile.id)
    const page = await browser.newPage()
    watchDialogs(t, page)
    await page.goto(issued.url)
    t.equal(await page.locator('h1').innerText(), XSS)
    t.equal(await page.locator('script').count(), 0, 'no script element on the page')

    await page.goto(`${origin}/verify`)
    await page.getByLabel('Credential (JSON or JWT)').fill(JSON.stringify(issued.credential))
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.waitForLoadState()
    t.match(await page.locator('body').innerText(), XSS)
    t.equal(await page.locator('script').count(), 0)
    await page.close()
  })
})
