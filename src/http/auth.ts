// Bearer authentication for /v1: the admin token (everything) or an issuer-scoped API key.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { findActiveApiKeyByHash } from '../api-keys/store.js'
import { hashToken, sameHash } from '../api-keys/tokens.js'
import type { Caller } from '../context.js'
import type { Db } from '../db/schema.js'
import { AppError, notFound } from './errors.js'

export type Principal =
  | { kind: 'admin' }
  | { kind: 'api-key'; apiKeyId: string; issuerId: string }

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
}

/** How a principal appears in the audit log. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'admin' ? 'admin' : `api-key:${principal.apiKeyId}`
}

export function requireAdmin(principal: Principal): void {
  if (principal.kind !== 'admin') throw new AppError('admin-only', 403, 'only the admin token may do this; API keys act for one issuer')
}

/**
 * Throws 404 (never 403) when the principal may not see the issuer, so another tenant's ids reveal nothing.
 * `what` names the resource in the message.
 */
export function assertIssuerAccess(principal: Principal, issuerId: string, what: string): void {
  if (principal.kind === 'api-key' && principal.issuerId !== issuerId) throw notFound(what)
}

/** The issuer an API key is bound to; undefined for the admin (no restriction). */
export function issuerScope(principal: Principal): string | undefined {
  return principal.kind === 'api-key' ? principal.issuerId : undefined
}

const unauthorized = (detail: string) => new AppError('unauthorized', 401, detail)

export function bearerAuthentication(db: Db, adminTokenHash: string) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!match) {
      reply.header('www-authenticate', 'Bearer realm="lanyard"')
      throw unauthorized('send Authorization: Bearer <admin token or API key>')
    }
    const hash = hashToken(match[1]!)
    if (sameHash(hash, adminTokenHash)) {
      request.principal = { kind: 'admin' }
      return
    }
    const apiKey = await findActiveApiKeyByHash(db, hash)
    if (apiKey === undefined) {
      reply.header('www-authenticate', 'Bearer realm="lanyard", error="invalid_token"')
      throw unauthorized('the bearer token is not a valid admin token or API key (it may have been revoked)')
    }
    request.principal = { kind: 'api-key', apiKeyId: apiKey.id, issuerId: apiKey.issuer_id }
  }
}

/** The authenticated principal of a /v1 request (the hook guarantees one). */
export function principalOf(request: FastifyRequest): Principal {
  /* c8 ignore next: the /v1 onRequest hook sets a principal or answers 401 before any handler runs */
  if (request.principal === null) throw new AppError('unauthorized', 401, 'authentication is required')
  return request.principal
}

/** The caller of a /v1 request, for services. */
export function callerOf(request: FastifyRequest): Caller {
  return { principal: principalOf(request), requestId: String(request.id) }
}
