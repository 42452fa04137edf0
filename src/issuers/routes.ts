// HTTP for issuers: the admin API under /v1 and the public profile and DID document.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import { callerOf } from '../http/auth.js'
import { BEARER, contextList, endorsementFields, httpUrl, idParams, pageOf, pageQuery, problemResponses } from '../http/schemas.js'
import {
  createIssuer, getIssuer, getIssuerKeys, listIssuers, publicDidDocument, publicProfile, rotateIssuerKey, updateIssuer
} from './service.js'

const TAGS = ['Issuers']

const issuerKey = z.object({
  id: z.uuid(),
  algorithm: z.enum(['Ed25519', 'RSA', 'P-256']).describe('Ed25519 signs Data Integrity proofs and EdDSA JWTs; RSA and P-256 (made on first use) sign RS256 and ES256 JWTs'),
  type: z.enum(['Multikey', 'JsonWebKey']),
  verificationMethod: z.string(),
  publicKeyMultibase: z.string().nullable().describe('Ed25519 keys only'),
  publicKeyJwk: z.record(z.string(), z.string()),
  status: z.enum(['active', 'retired']),
  createdAt: z.string(),
  retiredAt: z.string().nullable()
}).meta({ id: 'IssuerKey', description: 'The public part of an issuer key; private keys never leave Lanyard' })

const issuer = z.object({
  id: z.uuid(),
  did: z.string(),
  didMethod: z.enum(['web', 'key']),
  name: z.string(),
  url: z.string(),
  email: z.string().nullable(),
  description: z.string().nullable(),
  image: z.string().nullable(),
  profileUrl: z.string().describe('public OB 3.0 Profile'),
  didDocumentUrl: z.string(),
  keys: z.array(issuerKey),
  createdAt: z.string(),
  updatedAt: z.string()
}).meta({ id: 'Issuer' })

const name = z.string().trim().min(1).max(200)
const email = z.email().max(320)
const description = z.string().max(5000)

const issuerInput = z.strictObject({
  name,
  url: httpUrl.describe('the issuer\'s home page'),
  email: email.optional(),
  description: description.optional(),
  image: httpUrl.optional().describe('logo URL'),
  did: z.enum(['web', 'key']).default('web').describe('did:web under PUBLIC_URL (keys can rotate) or did:key')
}).meta({ id: 'NewIssuer' })

const issuerPatch = z.strictObject({
  name: name.optional(),
  url: httpUrl.optional(),
  email: email.nullable().optional(),
  description: description.nullable().optional(),
  image: httpUrl.nullable().optional()
}).refine((patch) => Object.keys(patch).length > 0, {
  message: 'send at least one field to change',
  // Only judge an otherwise valid patch: an unknown field is its own error, not also "nothing to change".
  when: (payload) => payload.issues.length === 0
})
  .meta({ id: 'IssuerChanges', description: 'Fields to change; null clears an optional field' })

const keysReply = z.object({ keys: z.array(issuerKey) }).meta({ id: 'IssuerKeys' })

export function adminIssuerRoutes(ctx: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    const common = { tags: TAGS, security: BEARER }
    app.post('/issuers', {
      schema: { ...common, summary: 'Create an issuer with a new Ed25519 key', body: issuerInput, response: { 201: issuer, ...problemResponses } }
    }, async (request, reply) => reply.code(201).send(await createIssuer(ctx, callerOf(request), request.body)))

    app.get('/issuers', {
      schema: { ...common, summary: 'List issuers (an API key sees only its own)', querystring: pageQuery, response: { 200: pageOf(issuer), ...problemResponses } }
    }, async (request) => listIssuers(ctx, callerOf(request), request.query))

    app.get('/issuers/:id', {
      schema: { ...common, summary: 'Get an issuer', params: idParams, response: { 200: issuer, ...problemResponses } }
    }, async (request) => getIssuer(ctx, callerOf(request), request.params.id))

    app.patch('/issuers/:id', {
      schema: { ...common, summary: 'Change an issuer\'s profile', params: idParams, body: issuerPatch, response: { 200: issuer, ...problemResponses } }
    }, async (request) => updateIssuer(ctx, callerOf(request), request.params.id, request.body))

    app.get('/issuers/:id/keys', {
      schema: { ...common, summary: 'List an issuer\'s keys (public parts)', params: idParams, response: { 200: keysReply, ...problemResponses } }
    }, async (request) => ({ keys: await getIssuerKeys(ctx, callerOf(request), request.params.id) }))

    app.post('/issuers/:id/keys/rotate', {
      schema: {
        ...common,
        summary: 'Rotate the signing keys: new keys sign from now on; old keys stay in the DID document',
        params: idParams,
        response: { 200: keysReply, ...problemResponses }
      }
    }, async (request) => ({ keys: await rotateIssuerKey(ctx, callerOf(request), request.params.id) }))
  }
}

const profile = z.looseObject({
  '@context': contextList,
  id: z.string(),
  type: z.array(z.string()),
  name: z.string(),
  url: z.string(),
  ...endorsementFields
}).meta({ id: 'Profile', description: 'Open Badges 3.0 Profile of an issuer, with the endorsements of it that are current' })

const didDoc = z.looseObject({
  '@context': z.array(z.string()),
  id: z.string(),
  verificationMethod: z.array(z.looseObject({ id: z.string(), type: z.string(), controller: z.string() })),
  assertionMethod: z.array(z.string())
}).meta({ id: 'DidDocument' })

export function publicIssuerRoutes(ctx: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    const tags = ['Public']
    app.get('/issuers/:id', {
      schema: { tags, summary: 'The issuer\'s Open Badges 3.0 Profile', params: idParams, response: { 200: profile, ...problemResponses } }
    }, async (request) => publicProfile(ctx, request.params.id))

    app.get('/issuers/:id/did.json', {
      schema: { tags, summary: 'The issuer\'s DID document (did:web resolves here)', params: idParams, response: { 200: didDoc, ...problemResponses } }
    }, async (request) => publicDidDocument(ctx, request.params.id))
  }
}
