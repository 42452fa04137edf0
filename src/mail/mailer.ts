// Sends Lanyard's emails through the SMTP server of LANYARD_SMTP_URL; a failure is a 502 that tells nothing secret.
import { createTransport } from 'nodemailer'
import type { Config } from '../config.js'
import { AppError } from '../http/errors.js'

export interface MailMessage {
  to: string
  subject: string
  text: string
  html: string
}

export interface Mailer {
  /** Resolves once the SMTP server has accepted the message; an AppError 502 `mail-failed` otherwise. */
  send(message: MailMessage): Promise<void>
  close(): void
}

// A server that never answers would otherwise hold a request for nodemailer's minutes-long defaults.
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 }

/** The mailer of a configuration, or undefined when mail is off (no LANYARD_SMTP_URL). */
export function mailerFor(config: Pick<Config, 'LANYARD_SMTP_URL' | 'LANYARD_MAIL_FROM' | 'PUBLIC_URL'>): Mailer | undefined {
  const from = config.LANYARD_MAIL_FROM ?? `Lanyard <no-reply@${new URL(config.PUBLIC_URL).hostname}>`
  return createMailer({ smtpUrl: config.LANYARD_SMTP_URL, from })
}

export function createMailer(config: { smtpUrl?: string; from: string }): Mailer | undefined {
  if (config.smtpUrl === undefined) return undefined
  // Options the URL sets (?socketTimeout=…) win over these.
  const transport = createTransport({ url: config.smtpUrl, ...TIMEOUTS, logger: false, debug: false })
  return {
    async send(message) {
      try {
        await transport.sendMail({ from: config.from, ...message })
      } catch (error) {
        throw mailFailed(error)
      }
    },
    close: () => transport.close()
  }
}

/**
 * Only the SMTP reply code goes into the detail, never nodemailer's message or the error itself as a cause: those can
 * quote the server's reply, the failing command (AUTH carries the credentials) or the recipient.
 */
function mailFailed(error: unknown): AppError {
  const code = (error as { responseCode?: unknown }).responseCode
  const detail = typeof code === 'number'
    ? `the SMTP server refused the email (reply code ${code})`
    : 'the SMTP server could not be reached, or it closed the connection'
  return new AppError('mail-failed', 502, detail)
}
