// What the request log may contain: no secrets (authorization, cookies) and no learner email addresses (the ?email= filter, database error details).
import type { FastifyRequest, FastifyServerOptions } from 'fastify'
import type { Config } from '../config.js'

/** Replaces the value of every `email` query parameter, however its name is cased or percent-encoded (Fastify decodes names too). */
export function redactedUrl(url: string): string {
  return url.replace(/([?&])([^=&#]*)=[^&#]*/g, (pair, separator: string, name: string) =>
    parameterName(name) === 'email' ? `${separator}${name}=[redacted]` : pair)
}

function parameterName(raw: string): string {
  try {
    return decodeURIComponent(raw).toLowerCase()
  } catch {
    return raw.toLowerCase()
  }
}

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>): NonNullable<FastifyServerOptions['logger']> {
  return {
    level: config.LOG_LEVEL,
    redact: {
      // PostgreSQL errors quote row values (a recipient's email, say) in detail and where: a 500 is logged without them.
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'err.detail', 'err.where', 'err.parameters'],
      censor: '[redacted]'
    },
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
