// The public page of a learning stack in a real browser (Debian's Chromium driven by playwright-core): the award, each
// badge it takes with its issuer and criteria, nested stacks as links; it passes axe-core with no serious or critical
// violations, and names written like scripts stay text.
import t from 'tap'
import { admin, createIssuer } from './helpers/app.js'
import { assertAccessible } from './helpers/axe.js'
import { browserSetup, withoutChromium } from './helpers/browser.js'
import { createAchievement } from './helpers/credentials.js'
import { awaitAward, createPathway, issue } from './helpers/pathways.js'

const XSS = '<script>alert(1)</script>'

t.test('the learning stack page in Chromium', { skip: withoutChromium }, async (t) => {
  const { app, browser, issuer, badge: award } = await browserSetup(t)
  const partner = await createIssuer(app, { name: 'Open Data Institute' })
  const [assessment, analytics, ai, literacy] = await Promise.all([
    createAchievement(app, issuer.id, { name: 'Digital Assessment', criteria: { narrative: 'Design and mark a digital quiz.', id: 'https://college.example.edu/criteria/assessment' } }),
    createAchievement(app, issuer.id, { name: 'Classroom Analytics', criteria: { narrative: 'Read a class dashboard and act on it.' } }),
    createAchievement(app, issuer.id, { name: XSS, description: `${XSS} <img src=x onerror=alert(2)>`, criteria: { narrative: XSS } }),
    createAchievement(app, partner.id, { name: 'Open Data Literacy', criteria: { narrative: 'Find and cite an open data set.' } })
  ])
  const inner = await createPathway(app, issuer.id, {
    name: 'Data Foundations', awardAchievementId: (await createAchievement(app, issuer.id, { name: 'Data Foundations' })).id,
    requirement: { achievementId: literacy.id }
  })
  const pathway = await createPathway(app, issuer.id, {
    name: 'Data-Informed Educator', description: 'Three badges in teaching with data, and the foundations.', awardAchievementId: award.id,
    requirement: {
      all: [
        { achievementId: assessment.id },
        { atLeast: 1, of: [{ achievementId: analytics.id }, { achievementId: ai.id }] },
        { any: [{ pathwayId: inner.id }] }
      ]
    }
  })

  const page = await browser.newPage()
  page.on('dialog', async (dialog) => {
    t.fail(`a script ran: ${dialog.message()}`)
    await dialog.dismiss()
  })
  const res = await page.goto(pathway.url)
  t.equal(res?.status(), 200)
  t.match(res?.headers()['content-type'], /^text\/html/, 'a browser gets the page')
  t.equal(await page.locator('h1').innerText(), 'Data-Informed Educator')
  t.same(await page.locator('h2').allInnerTexts(), ['The award', 'What it takes', 'Share'])
  const body = await page.locator('main').innerText()
  t.match(body, 'Three badges in teaching with data')
  t.match(body, 'Safe Welding', 'the award')
  t.match(body, 'Design and mark a digital quiz.')
  t.match(body, 'At least 1 of these 2:')
  t.match(body, 'Issued by Riverside College')
  t.match(body, XSS, 'a name like a script is text')
  t.equal(await page.locator('main script').count(), 0)
  t.equal(await page.locator('img.badge').getAttribute('alt'), 'Badge: Safe Welding')
  t.equal(await page.locator('img.badge').evaluate((img: HTMLImageElement) => img.naturalWidth > 0), true, 'the award\'s image loads')
  await assertAccessible(t, page, 'the learning stack page')

  await page.getByRole('link', { name: 'Data Foundations' }).click()
  await page.waitForLoadState()
  t.equal(await page.locator('h1').innerText(), 'Data Foundations', 'a nested stack is a link to its own page')
  t.match(await page.locator('main').innerText(), 'Issued by Open Data Institute')
  await assertAccessible(t, page, 'the nested stack\'s page')

  // The award that follows by itself has its own badge page, like any badge.
  const learner = { email: 'grace@example.edu', name: 'Grace Hopper' }
  for (const achievement of [assessment, analytics, literacy]) await issue(app, achievement.id, learner)
  const { progress } = await awaitAward(app, pathway.id, 'email=grace@example.edu')
  await page.goto(progress.award.url)
  t.equal(await page.locator('h1').innerText(), 'Safe Welding')
  t.match(await page.locator('body').innerText(), /\bVerified\b/)
  await assertAccessible(t, page, 'the award\'s badge page')
  await page.close()
  t.ok((await app.inject({ method: 'GET', url: `/v1/credentials/${progress.award.credentialId}`, headers: admin })).json().credential.evidence.length === 3)
})
