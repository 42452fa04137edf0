// A Lanyard listening on a free port, Debian's Chromium (driven by playwright-core) to look at it, and a badge to show.
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'
import type { Test } from 'tap'
import { buildTestApp, createIssuer, openTestDatabase } from './app.js'
import { createAchievement } from './credentials.js'
import { freePort } from './net.js'
import { solidPngDataUri } from './png.js'

const CHROMIUM = '/usr/bin/chromium'

/** The `skip` option of a browser test: .ci/run installs Chromium; elsewhere the test says why it did not run. */
export const withoutChromium = existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: .ci/run installs Debian's chromium`

export async function browserSetup(t: Test) {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const { app } = await buildTestApp(t, await openTestDatabase(t, 'pglite'), { env: { PUBLIC_URL: origin, PUBLIC_RATE_LIMIT: '100000' } })
  await app.listen({ host: '127.0.0.1', port })
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())
  const issuer = await createIssuer(app, { name: 'Riverside College' })
  const badge = await createAchievement(app, issuer.id, { name: 'Safe Welding', image: { id: solidPngDataUri(), caption: 'A blue square' } })
  return { app, origin, browser, issuer, badge }
}
