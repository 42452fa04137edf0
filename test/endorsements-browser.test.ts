// The badge page of an endorsed badge in a real browser (Debian's Chromium driven by playwright-core): "Endorsed by …"
// with what the endorser says and a link to the signed endorsement; once the endorsement is revoked, it says so while
// the badge stays verified. Both states, and the verify result, pass axe-core with no serious or critical violations.
import t from 'tap'
import { admin, createIssuer } from './helpers/app.js'
import { assertAccessible } from './helpers/axe.js'
import { browserSetup, withoutChromium } from './helpers/browser.js'
import { endorse } from './helpers/endorsements.js'

t.test('the badge page of an endorsed badge in Chromium', { skip: withoutChromium }, async (t) => {
  const { app, origin, browser, badge } = await browserSetup(t)
  const employer = await createIssuer(app, { name: 'Acme Fabrication', url: 'https://acme.example.com' })
  const made = await endorse(app, employer.id, { subjectId: badge.achievementUrl, endorsementComment: 'Every welder we hire holds this badge.' })
  t.equal(made.statusCode, 201, made.body)
  const endorsement = made.json()
  const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: badge.id, recipient: { email: 'ada@example.com', name: 'Ada Lovelace' } } })
  t.equal(res.statusCode, 201, res.body)
  const issued = res.json()

  const page = await browser.newPage()
  await page.goto(issued.url)
  t.equal(await page.locator('h3').first().innerText(), 'Endorsed by Acme Fabrication')
  const section = page.locator('ul.endorsements li').first()
  t.match(await section.innerText(), /Verified[\s\S]*Every welder we hire holds this badge\./)
  const link = section.getByRole('link', { name: 'The signed endorsement by Acme Fabrication' })
  t.equal(await link.getAttribute('href'), endorsement.url)
  t.match(await page.locator('.status .word').innerText(), 'Verified')
  await assertAccessible(t, page, 'badge page with an endorsement')

  const signed = await page.request.get(endorsement.url)
  t.equal(signed.status(), 200, 'the link opens the signed endorsement')
  t.same(await signed.json(), endorsement.credential)

  const revoked = await app.inject({ method: 'POST', url: `/v1/endorsements/${endorsement.id}/revoke`, headers: admin })
  t.equal(revoked.statusCode, 200)
  await page.reload()
  t.match(await page.locator('.status .word').innerText(), 'Verified', 'the badge itself is still verified')
  t.match(await page.locator('ul.endorsements li').first().innerText(), /Not verified\s+Revoked by its issuer/)
  t.match(await page.locator('body').textContent(), /Endorsements: Warning\. 1 of 1 endorsements do not verify/, 'among the checks, a warning')
  await assertAccessible(t, page, 'badge page with a revoked endorsement')

  await page.goto(`${origin}/verify`)
  await page.getByLabel('Credential (JSON or JWT)').fill(JSON.stringify(issued.credential))
  await page.getByRole('button', { name: 'Verify' }).click()
  await page.waitForLoadState()
  t.match(await page.locator('body').innerText(), /Endorsed by Acme Fabrication/)
  await assertAccessible(t, page, 'verify result with an endorsement')
  await page.close()
})
