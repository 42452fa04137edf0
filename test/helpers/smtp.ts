// A real SMTP server on loopback (smtp-server), keeping every message it accepts parsed (mailparser), for mail tests.
import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import type { Test } from 'tap'

export interface TestSmtpServer {
  /** smtp://user:pass@127.0.0.1:<port>, or without credentials when the server takes anyone. */
  url: string
  /** Every message received, in order. */
  messages: ParsedMail[]
  /** The next message not yet taken (one already received, or the next to arrive). */
  next(timeoutMs?: number): Promise<ParsedMail>
  close(): Promise<void>
}

export async function startSmtpServer(t: Test, options: { user?: string; pass?: string } = {}): Promise<TestSmtpServer> {
  const messages: ParsedMail[] = []
  const untaken: ParsedMail[] = []
  const waiting: ((message: ParsedMail) => void)[] = []
  const { user, pass = '' } = options
  const server = new SMTPServer({
    // Plain text on loopback: no certificate to make, and nodemailer does not try to upgrade.
    disabledCommands: user === undefined ? ['STARTTLS', 'AUTH'] : ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: user === undefined,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === pass) callback(null, { user })
      else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }))
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then((message) => {
        messages.push(message)
        const waiter = waiting.shift()
        if (waiter === undefined) untaken.push(message)
        else waiter(message)
        callback()
      }, callback)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  const close = () => new Promise<void>((resolve) => server.close(resolve))
  t.teardown(close)
  const auth = user === undefined ? '' : `${encodeURIComponent(user)}:${encodeURIComponent(pass)}@`
  return {
    url: `smtp://${auth}127.0.0.1:${port}`,
    messages,
    next(timeoutMs = 5_000) {
      const ready = untaken.shift()
      if (ready !== undefined) return Promise.resolve(ready)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(taker), 1)
          reject(new Error(`no email arrived within ${timeoutMs} ms`))
        }, timeoutMs)
        const taker = (message: ParsedMail) => {
          clearTimeout(timer)
          resolve(message)
        }
        waiting.push(taker)
      })
    },
    close
  }
}
