// HTTP for endorsements: endorsing, listing and revoking under /v1, an achievement's endorsements (attach one signed
// elsewhere, detach), and the public signed EndorsementCredential.
import accepts from 'accepts'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import { jwtAlgFits, jwtAlgRule, proofFields, reason } from '../credentials/award-input.js'
import { callerOf } from '../http/auth.js'
import { AppError } from '../http/errors.js'
import { BEARER, httpUrl, idParams, pageOf, pageQuery, problemResponses } from '../http/schemas.js'
import { fromJson, InputError, type DecodedInput } from '../verify/input.js'
import type { Verifier } from '../verify/pipeline.js'
import { attachEndorsement, detachEndorsement, listAchievementEndorsements } from './attach.js'
import { revokeEndorsement } from './revoke.js'
import { negotiatedEndorsement } from './publish.js'
import { getEndorsement, issueEndorsement, listEndorsementsBy } from './service.js'

const TAGS = ['Endorsements']

const endorserParams = z.object({ endorserId: z.uuid({ message: 'expected a UUID' }) })
const detachParams = z.object({ id: z.uuid({ message: 'expected a UUID' }), endorsementId: z.uuid({ message: 'expected a UUID' }) })

const endorseBody = z.strictObject({
  subjectId: httpUrl.describe('the URL of what is endorsed: an achievement or an issuer profile, of this Lanyard ' +
    '(PUBLIC_URL/achievements/{id}, PUBLIC_URL/issuers/{id}: it then embeds the endorsement) or elsewhere'),
  endorsementComment: z.string().trim().min(1).max(10_000).describe('what the endorser says about it (Markdown)'),
  ...proofFields,
  jwtAlg: proofFields.jwtAlg.describe('vc-jwt only; default RS256 (EdDSA for a did:key endorser, whose only key is Ed25519)')
}).refine(jwtAlgFits, jwtAlgRule).meta({ id: 'NewEndorsement' })

const attachBody = z.strictObject({
  credential: z.record(z.string(), z.unknown()).optional().describe('the signed EndorsementCredential (or an EnvelopedVerifiableCredential of a VC-JWT)'),
  jwt: z.string().max(1_000_000).optional().describe('the EndorsementCredential as a compact VC-JWT')
}).refine((body) => (body.credential === undefined) !== (body.jwt === undefined), { message: 'give exactly one of credential or jwt' })
  .meta({ id: 'AttachEndorsement' })

const endorsement = z.object({
  id: z.uuid(),
  url: z.string().describe('where Lanyard publishes the signed endorsement (for one signed here, also its id)'),
  origin: z.enum(['issued', 'attached']).describe('issued: signed here by the endorser; attached: signed elsewhere and attached by the achievement\'s issuer'),
  format: z.enum(['eddsa-rdfc-2022', 'eddsa-2022', 'Ed25519Signature2020', 'vc-jwt']),
  jwtAlg: z.enum(['RS256', 'ES256', 'EdDSA']).nullable(),
  status: z.enum(['active', 'revoked']),
  endorserId: z.uuid().nullable().describe('the endorsing issuer here; null when attached'),
  endorser: z.object({ id: z.string().describe('the credential\'s issuer (a DID or URL)'), name: z.string().nullable() }),
  subjectId: z.string(),
  achievementId: z.uuid().nullable().describe('the endorsed achievement, when it is one of this Lanyard\'s'),
  subjectIssuerId: z.uuid().nullable().describe('the endorsed issuer, when it is one of this Lanyard\'s'),
  endorsementComment: z.string().nullable(),
  embedded: z.boolean().describe('in the endorsed achievement\'s or profile\'s public document, and in credentials issued from now on'),
  revokedAt: z.string().nullable(),
  revocationReason: z.string().nullable(),
  detachedAt: z.string().nullable().describe('when the achievement\'s issuer took it off the achievement'),
  createdAt: z.string(),
  credential: z.record(z.string(), z.unknown()).describe('the signed EndorsementCredential; for vc-jwt, the credential the JWT carries'),
  jwt: z.string().optional().describe('vc-jwt only: the compact JWS')
}).meta({ id: 'Endorsement' })

/** The attach body as a credential the verifier reads; `pointer` says where it was. Not a credential at all: 400. */
function decodedAttachment(body: z.infer<typeof attachBody>): { decoded: DecodedInput; pointer: string } {
  const pointer = body.credential === undefined ? '/jwt' : '/credential'
  try {
    return { decoded: fromJson(body.credential ?? body.jwt, 'json'), pointer }
  } catch (error) {
    /* c8 ignore next: fromJson throws InputError only; anything else is our fault, and stays a 500 */
    if (!(error instanceof InputError)) throw error
    throw new AppError('not-a-credential', 400, error.message, [{ pointer, message: error.message, in: 'body' }])
  }
}

export function adminEndorsementRoutes(ctx: ServiceContext, verifier: Verifier): FastifyPluginAsyncZod {
  return async (app) => {
    const common = { tags: TAGS, security: BEARER }
    app.post('/issuers/:endorserId/endorsements', {
      schema: {
        ...common,
        summary: 'Endorse an achievement or an issuer profile: an OB 3.0 EndorsementCredential signed by the endorser',
        description: 'Signed in `format` by the endorser\'s key, with a revocation entry on its status list, and published at its `url`. ' +
          'An achievement or profile of this Lanyard embeds it (`endorsement`, or `endorsementJwt` for vc-jwt) in its public document, and an ' +
          'achievement in every credential issued from now on. One live endorsement per endorser and subject (409); an issuer does not endorse ' +
          'itself or its own achievements (422). Emits endorsement.issued.',
        params: endorserParams,
        body: endorseBody,
        response: { 201: endorsement, ...problemResponses }
      }
    }, async (request, reply) => {
      const { subjectId, endorsementComment, format, jwtAlg } = request.body
      const created = await issueEndorsement(ctx, callerOf(request), request.params.endorserId, {
        subjectId, comment: endorsementComment, format, ...(jwtAlg !== undefined && { jwtAlg })
      })
      return reply.code(201).send(created)
    })

    app.get('/issuers/:endorserId/endorsements', {
      schema: {
        ...common,
        summary: 'List the endorsements an issuer has made',
        params: endorserParams,
        querystring: pageQuery,
        response: { 200: pageOf(endorsement), ...problemResponses }
      }
    }, async (request) => listEndorsementsBy(ctx, callerOf(request), request.params.endorserId, request.query))

    app.get('/endorsements/:id', {
      schema: {
        ...common,
        summary: 'Get an endorsement (its endorser\'s, or the endorsed issuer\'s)',
        params: idParams,
        response: { 200: endorsement, ...problemResponses }
      }
    }, async (request) => getEndorsement(ctx, callerOf(request), request.params.id))

    app.post('/endorsements/:id/revoke', {
      schema: {
        ...common,
        summary: 'Revoke an endorsement: its bit in the endorser\'s status list is set, and no document embeds it from now on',
        description: 'Only its endorser (or the admin) revokes it; repeating it changes nothing. Credentials issued before keep it, and ' +
          'verifying them reports it revoked, as a warning. An endorsement signed elsewhere cannot be revoked here (409): detach it.',
        params: idParams,
        body: z.strictObject({ reason }).meta({ id: 'RevokeEndorsement' }).nullish().describe('optional: { reason }'),
        response: { 200: endorsement, ...problemResponses }
      }
    }, async (request) => revokeEndorsement(ctx, callerOf(request), request.params.id, request.body?.reason ?? null))

    app.post('/achievements/:id/endorsements', {
      schema: {
        ...common,
        summary: 'Attach an endorsement of this achievement signed elsewhere',
        description: 'For the achievement\'s issuer: an EndorsementCredential (JSON or VC-JWT) whose credentialSubject.id is this ' +
          'achievement\'s URL is attached once it passes every check of Lanyard\'s verifier (schema, signature, the endorser\'s key, dates, ' +
          'status; did:key offline, did:web and status lists fetched). It is then embedded like an endorsement signed here. 422 names ' +
          'why one is refused; 409 when it is attached already.',
        params: idParams,
        body: attachBody,
        response: { 201: endorsement, ...problemResponses }
      }
    }, async (request, reply) => {
      const { decoded, pointer } = decodedAttachment(request.body)
      return reply.code(201).send(await attachEndorsement(ctx, callerOf(request), verifier, request.params.id, decoded, pointer))
    })

    app.get('/achievements/:id/endorsements', {
      schema: {
        ...common,
        summary: 'List the endorsements of an achievement: signed here or attached, live or not (`embedded` says which it carries)',
        params: idParams,
        querystring: pageQuery,
        response: { 200: pageOf(endorsement), ...problemResponses }
      }
    }, async (request) => listAchievementEndorsements(ctx, callerOf(request), request.params.id, request.query))

    app.delete('/achievements/:id/endorsements/:endorsementId', {
      schema: {
        ...common,
        summary: 'Detach an endorsement from the achievement: it stays valid, but is no longer embedded',
        description: 'For the achievement\'s issuer, whoever signed the endorsement. The achievement\'s public document and credentials ' +
          'issued from now on leave it out; credentials issued before keep it. Repeating it changes nothing.',
        params: detachParams,
        response: { 204: z.null().describe('detached'), ...problemResponses }
      }
    }, async (request, reply) => {
      await detachEndorsement(ctx, callerOf(request), request.params.id, request.params.endorsementId)
      return reply.code(204).send(null)
    })
  }
}

const signedJson = { schema: z.record(z.string(), z.unknown()) }
const text = { schema: z.string() }

export function publicEndorsementRoutes(ctx: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/endorsements/:id', {
      schema: {
        tags: ['Public'],
        summary: 'The signed EndorsementCredential, by content negotiation',
        description: 'JSON (application/json, application/ld+json, application/vc+ld+json), exactly as signed; the compact JWS for ' +
          'application/vc+jwt or application/jwt when signed as VC-JWT (as JSON, it is an EnvelopedVerifiableCredential).',
        params: idParams,
        response: {
          200: {
            description: 'the signed endorsement',
            content: {
              'application/json': signedJson, 'application/ld+json': signedJson, 'application/vc+ld+json': signedJson,
              'application/vc+jwt': text, 'application/jwt': text
            }
          },
          ...problemResponses
        }
      }
    }, async (request, reply) => {
      const answer = await negotiatedEndorsement(ctx, request.params.id, accepts(request.raw))
      // Revocation shows in the status list, never here: the signed document never changes.
      return reply.header('vary', 'Accept').header('cache-control', 'public, max-age=60').type(answer.mediaType).send(answer.body)
    })
  }
}
