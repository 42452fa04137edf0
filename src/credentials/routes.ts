// HTTP for credentials: issuing (one, batch) and reading them under /v1, and the public credential URL.
import accepts from 'accepts'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import { jsonArrayStream } from '../event-loop.js'
import type { CredentialRow } from '../db/schema.js'
import { callerOf } from '../http/auth.js'
import { AppError } from '../http/errors.js'
import { BEARER, binaryBody, idParams, pageOf, pageQuery, problemResponses } from '../http/schemas.js'
import { credentialPage } from '../pages/credential-page.js'
import type { Verifier } from '../verify/pipeline.js'
import { decodeVcJwt } from '../verify/vc-jwt.js'
import { badgeImage, hasPngBadge } from './badge-image.js'
import { negotiateCredential } from './publish.js'
import { getCredential, issueCredentials, listCredentials, publishedCredential } from './service.js'
import { revokeCredentials } from './revoke.js'
import type { IdempotencyRequest } from './idempotency.js'
import { issueW3cCredential } from './vc-api.js'
import {
  awardFields, awardOf, batchItem, idempotencyHeaders, jwtAlgFits, jwtAlgRule, proofFields, proofOf, reason, recipient, storable, validityIsOrdered, validityRule
} from './award-input.js'
import { deliverClaims, type ClaimSettings } from '../wallets/claims.js'
import { claimOptionsSchema, claimView } from '../wallets/routes.js'

const TAGS = ['Credentials']

const deliver = z.union([z.boolean(), claimOptionsSchema]).optional()
  .describe('true (or { txCode: true }): also create a wallet claim for each credential, returned as its `claim`')

const issueBody = z.strictObject({ achievementId: z.uuid(), recipient, ...proofFields, ...awardFields, deliver })
  .refine(validityIsOrdered, validityRule)
  .refine(jwtAlgFits, jwtAlgRule)
  .meta({ id: 'IssueCredential' })

const batchBody = z.strictObject({
  achievementId: z.uuid(),
  ...proofFields,
  deliver,
  items: z.array(batchItem).min(1).max(1000).describe('up to 1000 awards, issued all or nothing')
}).refine(jwtAlgFits, jwtAlgRule).meta({ id: 'IssueCredentialBatch' })

const credentialView = z.object({
  id: z.uuid(),
  url: z.string().describe('public URL of the signed credential (also its id)'),
  format: z.enum(['eddsa-rdfc-2022', 'Ed25519Signature2020', 'vc-jwt']),
  jwtAlg: z.enum(['RS256', 'ES256', 'EdDSA']).nullable(),
  status: z.enum(['active', 'revoked', 'expired']),
  issuerId: z.uuid(),
  achievementId: z.uuid().nullable(),
  recipientId: z.uuid().nullable(),
  validFrom: z.string().nullable(),
  validUntil: z.string().nullable(),
  revokedAt: z.string().nullable(),
  revocationReason: z.string().nullable(),
  createdAt: z.string(),
  credential: z.record(z.string(), z.unknown()).describe('the signed credential; for vc-jwt, the credential the JWT carries'),
  jwt: z.string().optional().describe('vc-jwt only: the compact JWS')
}).meta({ id: 'IssuedCredential' })

const deliveredCredential = credentialView.extend({ claim: claimView.optional().describe('with deliver: the wallet claim for this credential') })
  .meta({ id: 'IssuedCredentialWithClaim' })

const listQuery = pageQuery.extend({
  issuerId: z.uuid().optional(),
  achievementId: z.uuid().optional(),
  email: z.email().optional().describe('credentials of the recipient with this email address'),
  status: z.enum(['active', 'revoked', 'expired']).optional()
})

const revokeBody = z.strictObject({ reason }).meta({ id: 'RevokeCredential' })
const bulkRevokeBody = z.strictObject({
  ids: z.array(z.uuid()).min(1).max(1000).refine((ids) => new Set(ids).size === ids.length, { message: 'each id once' }),
  reason
}).meta({ id: 'RevokeCredentials' })

/** The Idempotency-Key of an issuing request, with what it must match on a retry. */
function idempotencyOf(request: { headers: { 'idempotency-key'?: string }; body: unknown }, operation: string): IdempotencyRequest | undefined {
  const key = request.headers['idempotency-key']
  return key === undefined ? undefined : { key, operation, body: request.body }
}

export function adminCredentialRoutes(ctx: ServiceContext, claims: ClaimSettings): FastifyPluginAsyncZod {
  return async (app) => {
    const common = { tags: TAGS, security: BEARER }
    app.post('/credentials', {
      schema: {
        ...common,
        summary: 'Issue a signed Open Badge to one recipient',
        headers: idempotencyHeaders,
        body: issueBody,
        response: { 201: deliveredCredential, ...problemResponses }
      }
    }, async (request, reply) => {
      const result = await issueCredentials(ctx, callerOf(request), {
        achievementId: request.body.achievementId,
        proof: proofOf(request.body),
        awards: [awardOf(request.body)]
      }, () => '', idempotencyOf(request, 'issue'))
      if (result.replayed) reply.header('idempotent-replayed', 'true')
      return reply.code(201).send((await deliverClaims(ctx, claims, callerOf(request), result.credentials, request.body.deliver))[0]!)
    })

    app.post('/credentials/batch', {
      schema: {
        ...common,
        summary: 'Issue one achievement to up to 1000 recipients, all or nothing',
        headers: idempotencyHeaders,
        body: batchBody,
        response: { 201: z.object({ credentials: z.array(deliveredCredential) }).meta({ id: 'IssuedCredentialBatch' }), ...problemResponses }
      }
    }, async (request, reply) => {
      const result = await issueCredentials(ctx, callerOf(request), {
        achievementId: request.body.achievementId,
        proof: proofOf(request.body),
        awards: request.body.items.map(awardOf)
      }, (index) => `/items/${index}`, idempotencyOf(request, 'batch'))
      if (result.replayed) reply.header('idempotent-replayed', 'true')
      const delivered = await deliverClaims(ctx, claims, callerOf(request), result.credentials, request.body.deliver)
      // Streamed past the serializer (the type provider only knows objects): the shape is the schema's, built by credentialView.
      return reply.code(201).type('application/json; charset=utf-8').send(jsonArrayStream('credentials', delivered) as never)
    })

    app.post('/credentials/:id/revoke', {
      schema: {
        ...common,
        summary: 'Revoke a credential: its bit in the issuer\'s public status list is set (repeating it changes nothing)',
        params: idParams,
        body: revokeBody.nullish().describe('optional: { reason }'),
        response: { 200: credentialView, ...problemResponses }
      }
    }, async (request) => (await revokeCredentials(ctx, callerOf(request), [request.params.id], request.body?.reason ?? null, () => '/id'))[0]!)

    app.post('/credentials/revoke', {
      schema: {
        ...common,
        summary: 'Revoke up to 1000 credentials, all or nothing',
        body: bulkRevokeBody,
        response: { 200: z.object({ credentials: z.array(credentialView) }).meta({ id: 'RevokedCredentials' }), ...problemResponses }
      }
    }, async (request) => ({
      credentials: await revokeCredentials(ctx, callerOf(request), request.body.ids, request.body.reason ?? null, (index) => `/ids/${index}`)
    }))

    app.get('/credentials', {
      schema: { ...common, summary: 'List issued credentials (an API key sees only its issuer\'s)', querystring: listQuery, response: { 200: pageOf(credentialView), ...problemResponses } }
    }, async (request) => listCredentials(ctx, callerOf(request), request.query))

    app.get('/credentials/:id', {
      schema: { ...common, summary: 'Get an issued credential and its state', params: idParams, response: { 200: credentialView, ...problemResponses } }
    }, async (request) => getCredential(ctx, callerOf(request), request.params.id))
  }
}

const signedJson = { schema: z.record(z.string(), z.unknown()) }
const text = { schema: z.string() }
const publicCredentialContent = {
  description: 'the signed credential',
  content: {
    'application/json': signedJson, 'application/ld+json': signedJson, 'application/vc+ld+json': signedJson,
    'application/vc+jwt': text, 'application/jwt': text, 'text/html': text
  }
}


/** A baked image carries its issuer's SVG: never let a browser run or load anything from it (data: for a wrapped PNG). */
const BADGE_HEADERS = {
  'cache-control': 'public, max-age=300',
  'x-content-type-options': 'nosniff',
  'content-security-policy': 'default-src \'none\'; style-src \'unsafe-inline\'; img-src data:; sandbox'
}

/** The credential's public page: the badge, its issuer, and a live verification through the shared pipeline. */
async function renderCredentialPage(ctx: ServiceContext, verifier: Verifier, row: CredentialRow): Promise<string> {
  const jwt = row.format === 'vc-jwt' ? decodeVcJwt(row.signed)! : undefined
  const report = await verifier.verify(jwt === undefined ? { credential: JSON.parse(row.signed) } : { credential: jwt.credential, jwt })
  const url = `${ctx.publicUrl}/credentials/${row.id}`
  return credentialPage({
    url, publicUrl: ctx.publicUrl, credential: report.credential, report,
    images: { png: await hasPngBadge(ctx, row) ? `${url}/badge.png` : null, svg: `${url}/badge.svg` }
  })
}

export function publicCredentialRoutes(ctx: ServiceContext, verifier: Verifier): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/credentials/:id', {
      schema: {
        tags: ['Public'],
        summary: 'The signed credential, by content negotiation',
        description: 'JSON (application/json, application/ld+json, application/vc+ld+json) for Data Integrity credentials, exactly as signed; ' +
          'the compact JWS for application/vc+jwt or application/jwt when issued as VC-JWT (as JSON, it is an EnvelopedVerifiableCredential); ' +
          'an HTML page for text/html.',
        params: idParams,
        response: { 200: publicCredentialContent, ...problemResponses }
      }
    }, async (request, reply) => {
      const row = await publishedCredential(ctx, request.params.id)
      const answer = negotiateCredential(row, accepts(request.raw))
      if (answer === undefined) {
        throw new AppError('not-acceptable', 406, 'this credential is available as application/json, application/ld+json, application/vc+ld+json, ' +
          `text/html${row.format === 'vc-jwt' ? ', application/vc+jwt and application/jwt' : ''}`)
      }
      reply.header('vary', 'Accept')
      // The page shows live status (a revocation must show at once); the signed document never changes.
      if (answer.kind === 'html') return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(await renderCredentialPage(ctx, verifier, row))
      return reply.header('cache-control', 'public, max-age=60').type(answer.mediaType).send(answer.body)
    })

    for (const kind of ['png', 'svg'] as const) {
      app.get(`/credentials/:id/badge.${kind}`, {
        schema: {
          tags: ['Public'],
          summary: `The badge as ${kind.toUpperCase()} with the credential baked in (Open Badges 3.0 baking)`,
          description: kind === 'png'
            ? 'The achievement\'s PNG image with an iTXt chunk `openbadgecredential` holding the credential (or its VC-JWT); 404 when the achievement has no stored PNG image.'
            : 'The achievement\'s SVG image (or its PNG inside an SVG, or a generated badge when it has none) with an `openbadges:credential` element holding the credential.',
          params: idParams,
          response: { 200: { description: 'the baked image', content: { [kind === 'png' ? 'image/png' : 'image/svg+xml']: binaryBody } }, ...problemResponses }
        }
      }, async (request, reply) => {
        const row = await publishedCredential(ctx, request.params.id)
        const image = await badgeImage(ctx, row, kind, request.log)
        return reply.headers(BADGE_HEADERS).header('content-disposition', `inline; filename="badge-${row.id}.${kind}"`).type(image.mediaType).send(image.body)
      })
    }
  }
}

const vcDate = storable(z.iso.datetime({ offset: true, local: true, error: 'expected an XML Schema date-time, e.g. 2026-01-31T12:00:00Z' })).optional()

/** A JSON-LD type: one term or IRI, or several. */
const types = z.union([z.string(), z.array(z.string())], {
  error: (issue) => issue.input === undefined ? 'required: the type of this entry' : 'expected a type name or an array of type names'
})
/** An object the VC data model describes: JSON-LD refuses an id or type that is not a string (or strings), so they are checked here. */
const node = z.looseObject({ id: z.string({ error: 'expected a URL (a string)' }).optional(), type: types.optional() })
/** credentialStatus, credentialSchema, evidence, termsOfUse and refreshService entries must each name their type. */
const typedNode = node.extend({ type: types })

/**
 * One object or a non-empty array of them, each checked against `entry`. Not a z.union of `entry` and its array: when
 * an entry's field is wrong, a union reports only that neither option fits, pointing at the property, not at the field.
 */
function oneOrMany(entry: z.ZodType, rule: string) {
  return z.union([z.looseObject({}), z.array(z.looseObject({})).min(1)], { error: 'expected an object or a non-empty array of objects' })
    .describe(`an object or a non-empty array of objects, ${rule}`)
    .superRefine((value, ctx) => {
      const entries = Array.isArray(value) ? value.map((item, index) => [item, [index]] as const) : [[value, []] as const]
      for (const [item, path] of entries) {
        for (const issue of entry.safeParse(item).error?.issues ?? []) ctx.addIssue({ ...issue, path: [...path, ...issue.path] })
      }
    })
}
const subjects = oneOrMany(node, 'any id a string, any type a string or an array of strings')
const typedEntries = oneOrMany(typedNode, 'each with a type (a string or an array of strings), any id a string')

const w3cCredential = z.looseObject({
  '@context': z.array(z.union([z.string(), z.looseObject({})])).min(1)
    .refine((contexts) => contexts[0] === 'https://www.w3.org/ns/credentials/v2' || contexts[0] === 'https://www.w3.org/2018/credentials/v1', {
      message: 'the first @context must be https://www.w3.org/ns/credentials/v2 or https://www.w3.org/2018/credentials/v1'
    }),
  id: z.string().optional(),
  type: z.array(z.string()).refine((types) => types.includes('VerifiableCredential'), { message: 'type must include VerifiableCredential' }),
  issuer: z.union([z.string(), z.looseObject({ id: z.string() })], { error: 'expected the issuer DID, or an object whose id is the issuer DID' }),
  credentialSubject: subjects,
  credentialStatus: typedEntries.optional(),
  credentialSchema: typedEntries.optional(),
  evidence: typedEntries.optional(),
  termsOfUse: typedEntries.optional(),
  refreshService: typedEntries.optional(),
  validFrom: vcDate,
  validUntil: vcDate,
  issuanceDate: vcDate,
  expirationDate: vcDate
})

const vcApiIssueBody = z.looseObject({
  credential: w3cCredential,
  options: z.looseObject({
    format: proofFields.format.optional(),
    jwtAlg: proofFields.jwtAlg,
    credentialStatus: z.looseObject({ type: z.literal('BitstringStatusListEntry', { error: 'Lanyard adds BitstringStatusListEntry revocation entries only' }) })
      .optional().describe('add a revocation entry on one of the issuer\'s status lists')
  }).optional()
}).meta({ id: 'VcApiIssueRequest' })

/** W3C VC-API issue, for generic VC tooling; authenticated like /v1 (the app registers it behind the bearer hook). */
export function vcApiIssueRoutes(ctx: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/credentials/issue', {
      schema: {
        tags: ['VC-API'],
        security: BEARER,
        summary: 'Sign any W3C credential (VC 2.0 or 1.1) with your issuer\'s key',
        description: 'Keeps the credential as sent and adds a proof: eddsa-rdfc-2022 by default, or options.format. issuer (or issuer.id) must be ' +
          'your issuer\'s DID. Open Badges (OpenBadgeCredential, AchievementCredential) must also meet the OB 3.0 schema; one sent without an id ' +
          'is given a urn:uuid: id. A vc-jwt answer is an EnvelopedVerifiableCredential.',
        body: vcApiIssueBody,
        response: { 201: z.object({ verifiableCredential: z.record(z.string(), z.unknown()) }).meta({ id: 'VcApiIssueResponse' }), ...problemResponses }
      }
    }, async (request, reply) => {
      const options = request.body.options ?? {}
      const proof = proofOf({ format: options.format ?? 'eddsa-rdfc-2022', jwtAlg: options.jwtAlg })
      const withStatus = options.credentialStatus !== undefined
      return reply.code(201).send(await issueW3cCredential(ctx, callerOf(request), request.body.credential, proof, withStatus))
    })
  }
}
