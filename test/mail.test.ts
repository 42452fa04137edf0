// Reviewers' emails through a real SMTP server on loopback: what arrives, from whom, and failures that tell no secret.
import { createServer } from 'node:net'
import t, { type Test } from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { AppError } from '../src/http/errors.js'
import { createMailer, mailerFor, type Mailer } from '../src/mail/mailer.js'
import { reviewerInvitation, reviewerSignInLink } from '../src/mail/templates.js'
import { freePort } from './helpers/net.js'
import { startSmtpServer } from './helpers/smtp.js'

const SIGN_IN = 'https://badges.example.edu/review/sign-in/s3cret-t0ken?x=1&y=2'
const EXPIRES = new Date('2030-05-13T10:00:00Z')
const FROM = 'Riverside Badges <badges@riverside.example.edu>'

const invitation = (overrides: Partial<Parameters<typeof reviewerInvitation>[0]> = {}) => reviewerInvitation({
  reviewerName: 'Ada Lovelace', issuerName: 'Riverside College', achievementName: 'Safe Welding', signInUrl: SIGN_IN, expiresAt: EXPIRES, ...overrides
})

function open(t: Test, config: Parameters<typeof createMailer>[0]): Mailer {
  const mailer = createMailer(config)!
  t.teardown(() => mailer.close())
  return mailer
}

t.test('an invitation arrives with its sign-in link in both parts', async (t) => {
  const smtp = await startSmtpServer(t, { user: 'lanyard', pass: 'p@ss word' })
  const mailer = open(t, { smtpUrl: smtp.url, from: FROM })
  await mailer.send({ to: 'ada@example.edu', ...invitation() })
  const mail = await smtp.next()
  t.equal(mail.subject, 'You are invited to review evidence for Safe Welding (Riverside College)')
  t.same(mail.from?.value, [{ address: 'badges@riverside.example.edu', name: 'Riverside Badges' }])
  t.same(mail.to && !Array.isArray(mail.to) && mail.to.value, [{ address: 'ada@example.edu', name: '' }])
  t.match(mail.text, 'Hello Ada Lovelace,')
  t.match(mail.text, `Sign in to review:\n${SIGN_IN}\n`)
  t.match(mail.text, 'The link works once, until Mon, 13 May 2030 10:00:00 GMT.')
  t.match(mail.text, 'opening it offers to email you a new one')
  const html = mail.html as string
  t.match(html, '<html lang="en">')
  t.match(html, `<a href="${SIGN_IN.replaceAll('&', '&amp;')}"`, 'the link, escaped as an attribute')
  t.match(html, '>Sign in to review</a>')
  t.notMatch(html, /<script|<img/i)
  t.equal(smtp.messages.length, 1)
})

t.test('names are text in the HTML part and one line in the subject', async (t) => {
  const smtp = await startSmtpServer(t)
  const mailer = open(t, { smtpUrl: smtp.url, from: FROM })
  await mailer.send({ to: 'ada@example.edu', ...invitation({ achievementName: '<script>alert(1)</script>', issuerName: 'Tom & Jerry\r\nBcc: eve@example.edu', reviewerName: undefined }) })
  const mail = await smtp.next()
  t.equal(mail.subject, 'You are invited to review evidence for <script>alert(1)</script> (Tom & Jerry Bcc: eve@example.edu)')
  t.equal(mail.headers.get('bcc'), undefined, 'a line break in a name adds no header')
  t.match(mail.text, 'Hello,\n')
  const html = mail.html as string
  t.match(html, '&lt;script&gt;alert(1)&lt;/script&gt; (Tom &amp; Jerry Bcc: eve@example.edu)')
  t.notMatch(html, '<script')
})

t.test('a requested sign-in link arrives', async (t) => {
  const smtp = await startSmtpServer(t)
  const mailer = open(t, { smtpUrl: smtp.url, from: FROM })
  await mailer.send({ to: 'ada@example.edu', ...reviewerSignInLink({ reviewerName: 'Ada', signInUrl: SIGN_IN, expiresAt: EXPIRES }) })
  await mailer.send({ to: 'bob@example.edu', ...reviewerSignInLink({ signInUrl: `${SIGN_IN}2`, expiresAt: EXPIRES }) })
  const [first, second] = [await smtp.next(), await smtp.next()]
  t.equal(first.subject, 'Your link to sign in and review evidence')
  t.match(first.text, 'Hello Ada,\n\nHere is the new sign-in link you asked for.')
  t.match(first.html, SIGN_IN.replaceAll('&', '&amp;'))
  t.match(second.text, `${SIGN_IN}2`)
  t.match(second.text, /^Hello,/)
})

t.test('without LANYARD_MAIL_FROM the sender is no-reply at PUBLIC_URL\'s host', async (t) => {
  const smtp = await startSmtpServer(t)
  const mailer = mailerFor(loadConfig({ LANYARD_SMTP_URL: smtp.url, PUBLIC_URL: 'https://badges.example.edu/lanyard' }))!
  t.teardown(() => mailer.close())
  await mailer.send({ to: 'ada@example.edu', ...invitation() })
  t.same((await smtp.next()).from?.value, [{ address: 'no-reply@badges.example.edu', name: 'Lanyard' }])

  const configured = mailerFor(loadConfig({ LANYARD_SMTP_URL: smtp.url, LANYARD_MAIL_FROM: FROM }))!
  t.teardown(() => configured.close())
  await configured.send({ to: 'ada@example.edu', ...invitation() })
  t.same((await smtp.next()).from?.value, [{ address: 'badges@riverside.example.edu', name: 'Riverside Badges' }])
})

t.test('with no SMTP URL mail is off', async (t) => {
  t.equal(createMailer({ from: FROM }), undefined)
  t.equal(mailerFor(loadConfig({})), undefined)
})

t.test('a wrong SMTP password is a 502 that names neither the password nor the link', async (t) => {
  const smtp = await startSmtpServer(t, { user: 'lanyard', pass: 'right-password' })
  const mailer = open(t, { smtpUrl: smtp.url.replace('right-password', 'wrong-password'), from: FROM })
  const error = await mailer.send({ to: 'ada@example.edu', ...invitation() }).catch((e: unknown) => e)
  t.type(error, AppError)
  t.match(error, { status: 502, code: 'mail-failed', detail: 'the SMTP server refused the email (reply code 535)' })
  const told = JSON.stringify({ ...(error as AppError), message: (error as AppError).message, cause: (error as AppError).cause })
  for (const secret of ['wrong-password', 'right-password', 's3cret-t0ken', 'ada@example.edu']) t.notMatch(told, secret, `no ${secret}`)
  await t.rejects(smtp.next(200), /no email arrived within 200 ms/, 'nothing was delivered')
  t.equal(smtp.messages.length, 0)
})

t.test('an SMTP server that cannot be reached is a 502 soon', async (t) => {
  const mailer = open(t, { smtpUrl: `smtp://lanyard:hunter2@127.0.0.1:${await freePort()}`, from: FROM })
  const started = Date.now()
  const error = await mailer.send({ to: 'ada@example.edu', ...invitation() }).catch((e: unknown) => e)
  t.match(error, { status: 502, code: 'mail-failed', detail: 'the SMTP server could not be reached, or it closed the connection' })
  t.notMatch((error as AppError).message, 'hunter2')
  t.ok(Date.now() - started < 10_000, 'well within the connection timeout')
})

t.test('an SMTP server that accepts the connection and hangs up is a 502', async (t) => {
  const silent = createServer((socket) => socket.destroy())
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => silent.close())
  const { port } = silent.address() as { port: number }
  const mailer = open(t, { smtpUrl: `smtp://127.0.0.1:${port}`, from: FROM })
  await t.rejects(mailer.send({ to: 'ada@example.edu', ...invitation() }), { status: 502, code: 'mail-failed' })
})

t.test('LANYARD_SMTP_URL must be an smtp:// or smtps:// URL, and LANYARD_MAIL_FROM an address', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ LANYARD_SMTP_URL: 'http://x' }, /LANYARD_SMTP_URL: expected an smtp:\/\/ or smtps:\/\/ URL/],
    [{ LANYARD_SMTP_URL: 'smtp://' }, /LANYARD_SMTP_URL/],
    [{ LANYARD_SMTP_URL: 'mail.example.edu:587' }, /LANYARD_SMTP_URL/],
    [{ LANYARD_MAIL_FROM: 'Lanyard' }, /LANYARD_MAIL_FROM: expected an address/],
    [{ LANYARD_MAIL_FROM: 'no reply@example.edu' }, /LANYARD_MAIL_FROM/]
  ]
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), ConfigError, JSON.stringify(env))
    t.throws(() => loadConfig(env), { message }, JSON.stringify(env))
  }
  t.throws(() => loadConfig({ LANYARD_SMTP_URL: 'https://user:hunter2@mail.example.edu' }), { message: /^(?![\s\S]*hunter2)/ }, 'the error does not repeat the password')
  const config = loadConfig({ LANYARD_SMTP_URL: 'smtps://user:p%40ss@mail.example.edu:465', LANYARD_MAIL_FROM: 'badges@example.edu' })
  t.equal(config.LANYARD_SMTP_URL, 'smtps://user:p%40ss@mail.example.edu:465')
  t.equal(config.LANYARD_MAIL_FROM, 'badges@example.edu')
  t.equal(loadConfig({}).LANYARD_SMTP_URL, undefined)
})
