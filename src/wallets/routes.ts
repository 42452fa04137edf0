// HTTP for wallet delivery: claims under /v1, the learner's claim page, LCW's VC-API exchange, and OID4VCI.
import accepts from 'accepts'
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import { callerOf } from '../http/auth.js'
import { AppError, registerOAuthErrorHandling } from '../http/errors.js'
import { BEARER, idParams, problemResponses } from '../http/schemas.js'
import { claimPage, claimUnavailablePage } from '../pages/claim-page.js'
import type { Verifier } from '../verify/pipeline.js'
import { claimPageModel, createClaim, offerForToken, type ClaimSettings } from './claims.js'
import { participate } from './lcw.js'
import { credentialRequest, nonceRequest, tokenRequest } from './oid4vci.js'
import { authorizationServerMetadata, credentialIssuerMetadata, oid4vciPaths } from './offer.js'

const TAGS = ['Wallets']
/** Claim tokens and exchange ids: 256 bits, base64url. */
const secret = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected a 43-character base64url secret')

export const claimOptionsSchema = z.strictObject({
  txCode: z.boolean().default(false).describe('OID4VCI wallets must also send a six-digit transaction code, returned once in this reply for you to send the learner separately')
}).meta({ id: 'ClaimOptions' })

export const claimView = z.object({
  id: z.uuid(),
  credentialId: z.uuid(),
  claimUrl: z.string().describe('the learner\'s page: the badge, wallet buttons and QR codes, downloads'),
  lcwDeepLink: z.string().describe('opens Learner Credential Wallet on this claim (https://lcw.app/request.html?…)'),
  credentialOffer: z.string().describe('OID4VCI credential offer by value: openid-credential-offer://?credential_offer=…'),
  credentialOfferUri: z.string().describe('the same offer by reference: openid-credential-offer://?credential_offer_uri=…'),
  expiresAt: z.string(),
  txCode: z.string().optional().describe('the transaction code (when asked for): shown this once')
}).meta({ id: 'Claim' })

export function adminClaimRoutes(ctx: ServiceContext, settings: ClaimSettings): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/credentials/:id/claims', {
      schema: {
        tags: TAGS, security: BEARER,
        summary: 'Create a single-use claim for the learner to add this credential to a wallet (LCW or OID4VCI)',
        params: idParams,
        body: claimOptionsSchema.nullish().describe('optional: { txCode }'),
        response: { 201: claimView, ...problemResponses }
      }
    }, async (request, reply) => reply.code(201).send(await createClaim(ctx, settings, callerOf(request), request.params.id, { txCode: request.body?.txCode ?? false })))
  }
}

const json = z.record(z.string(), z.unknown())
const oauthError = z.object({ error: z.string(), error_description: z.string() }).meta({ id: 'OAuthError', description: 'RFC 6749 error response' })
const tokenParams = z.object({ token: secret })

export function publicWalletRoutes(ctx: ServiceContext, verifier: Verifier): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/claim/:token', {
      schema: {
        tags: TAGS, summary: 'The learner\'s claim page (HTML)', params: tokenParams,
        response: { 200: { description: 'the page', content: { 'text/html': { schema: z.string() } } }, ...problemResponses }
      }
    }, async (request, reply) => {
      reply.header('cache-control', 'no-store')
      try {
        return reply.type('text/html; charset=utf-8').send(await claimPage(await claimPageModel(ctx, request.params.token)))
      } catch (error) {
        // A person following a used or expired link reads why in a page; a program gets the problem.
        if (!(error instanceof AppError) || accepts(request.raw).type(['application/json', 'application/problem+json', 'text/html']) !== 'text/html') throw error
        return reply.code(error.status).type('text/html; charset=utf-8').send(claimUnavailablePage(ctx.publicUrl, error.detail))
      }
    })

    app.get('/claim/:token/offer', {
      schema: { tags: TAGS, summary: 'The OID4VCI credential offer of a claim (credential_offer_uri)', params: tokenParams, response: { 200: json, ...problemResponses } }
    }, async (request, reply) => reply.header('cache-control', 'no-store').send(await offerForToken(ctx, request.params.token)))

    app.post('/exchanges/:exchangeId', {
      schema: {
        tags: TAGS,
        summary: 'VC-API exchange (LCW): {} → a DID Authentication request; the holder\'s signed presentation → the credential bound to the holder',
        description: 'Send `{}` for the VerifiablePresentationRequest (query DIDAuthentication, challenge, domain). Then send `{ verifiablePresentation }` ' +
          'signed by the holder\'s did:key (Ed25519Signature2020 or eddsa-rdfc-2022, proof purpose authentication, with the challenge and domain): ' +
          'the answer is `{ verifiablePresentation }` holding the credential with credentialSubject.id = the holder. A bare presentation (LCW\'s deep link) ' +
          'is answered with a bare presentation.',
        params: z.object({ exchangeId: secret }),
        body: json,
        response: { 200: json, ...problemResponses }
      }
    }, async (request, reply) => reply.header('cache-control', 'no-store')
      .send(await participate(ctx, verifier, request.params.exchangeId, request.body, String(request.id))))

    app.get('/.well-known/openid-credential-issuer', {
      schema: { tags: TAGS, summary: 'OID4VCI credential issuer metadata', response: { 200: json } }
    }, async () => credentialIssuerMetadata(ctx.publicUrl))

    app.get('/.well-known/oauth-authorization-server', {
      schema: { tags: TAGS, summary: 'OAuth authorization server metadata (RFC 8414) for the pre-authorized code flow', response: { 200: json } }
    }, async () => authorizationServerMetadata(ctx.publicUrl))

    app.post(oid4vciPaths.nonce, {
      schema: { tags: TAGS, summary: 'OID4VCI nonce endpoint: a fresh c_nonce for the key proof', response: { 200: z.object({ c_nonce: z.string() }) } }
    }, async (_request, reply) => reply.header('cache-control', 'no-store').send(await nonceRequest(ctx)))

    await app.register(async (scope) => {
      const oauth = scope.withTypeProvider<ZodTypeProvider>()
      registerOAuthErrorHandling(oauth, 'invalid_request')
      oauth.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(body as string)))
      })
      oauth.post(oid4vciPaths.token, {
        schema: {
          tags: TAGS,
          summary: 'OID4VCI token endpoint: pre-authorized code (and tx_code) → access token',
          body: z.record(z.string(), z.string()).describe('form-encoded: grant_type, pre-authorized_code, tx_code (draft 12: user_pin)'),
          response: { 200: json, '4xx': oauthError }
        }
      }, async (request, reply) => reply.header('cache-control', 'no-store').send(await tokenRequest(ctx, request.body)))
    })

    await app.register(async (scope) => {
      const oauth = scope.withTypeProvider<ZodTypeProvider>()
      registerOAuthErrorHandling(oauth, 'invalid_credential_request')
      oauth.post(oid4vciPaths.credential, {
        schema: {
          tags: TAGS,
          summary: 'OID4VCI credential endpoint: the holder\'s key proof → the credential bound to that key',
          description: '1.0: `{ credential_configuration_id, proofs: { jwt: [proof] } }` → `{ credentials: [{ credential }] }`. ' +
            'Draft 13: `{ format, proof: { proof_type: "jwt", jwt } }` → `{ credential }`.',
          body: json,
          response: { 200: json, '4xx': oauthError }
        }
      }, async (request, reply) => reply.header('cache-control', 'no-store')
        .send(await credentialRequest(ctx, verifier.fetch, request.headers.authorization, request.body, String(request.id))))
    })
  }
}
