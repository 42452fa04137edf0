// What the request log may contain: no secret Lanyard hands out (API keys, admin tokens, claim tokens and everything derived
// from them, access tokens, nonces) and no learner email addresses, at any level.
import type { FastifyRequest, FastifyServerOptions } from 'fastify'
import type { Config } from '../config.js'

export const REDACTED = '[redacted]'

/** Query parameters whose values are secrets or personal data: ours, and the OAuth / OID4VCI names a client may put there. */
const SECRET_PARAMETERS = new Set([
  'email', 'token', 'access_token', 'refresh_token', 'code', 'pre-authorized_code', 'tx_code', 'user_pin', 'nonce', 'c_nonce',
  'challenge', 'code_verifier', 'client_secret', 'credential_offer', 'credential_offer_uri'
])

/**
 * Path segments that are bearer secrets: the claim page's token (/claim/<token>, …/offer), the LCW exchange id, and a
 * reviewer's single-use sign-in link (/review/sign-in/<token>).
 */
const SECRET_PATH_SEGMENT = /(\/(?:claim|exchanges|review\/sign-in)\/)[^/?#]+/gi

/**
 * The URL as the log may show it: the secret path segments and the values of secret query parameters (whatever the case or
 * percent-encoding of their names: Fastify decodes names too) replaced by [redacted].
 */
export function redactedUrl(url: string): string {
  const query = url.indexOf('?')
  const path = (query === -1 ? url : url.slice(0, query)).replace(SECRET_PATH_SEGMENT, `$1${REDACTED}`)
  if (query === -1) return path
  return path + url.slice(query).replace(/([?&])([^=&#]*)=[^&#]*/g, (pair, separator: string, name: string) =>
    SECRET_PARAMETERS.has(parameterName(name)) ? `${separator}${name}=${REDACTED}` : pair)
}

function parameterName(raw: string): string {
  try {
    return decodeURIComponent(raw).toLowerCase()
  } catch {
    return raw.toLowerCase()
  }
}

/**
 * The last line of defence, over every line written: whatever a future log call or library puts in it, the shapes of
 * Lanyard's own secrets do not leave. API keys and admin tokens are `lny_…`; claim tokens, the values derived from them,
 * access tokens and nonces are 32 random bytes in base64url (43 characters, a length no id or hash of ours has).
 */
const SECRET_SHAPES = /lny_[A-Za-z0-9_-]+|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g

export function scrubSecrets(line: string): string {
  return line.replace(SECRET_SHAPES, REDACTED)
}

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>): NonNullable<FastifyServerOptions['logger']> {
  return {
    level: config.LOG_LEVEL,
    redact: {
      // PostgreSQL errors quote row values (a recipient's email, say) in detail and where: a 500 is logged without them.
      paths: [
        'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'err.detail', 'err.where', 'err.parameters',
        // PGlite's errors carry the statement's parameters as `params`.
        'err.params',
        // Node's parser errors carry the raw bytes of the request they could not parse, headers and all.
        'err.rawPacket'
      ],
      censor: REDACTED
    },
    hooks: { streamWrite: scrubSecrets },
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactedUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort
      })
    }
  }
}
