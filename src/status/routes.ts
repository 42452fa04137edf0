// HTTP for status lists: the public, signed BitstringStatusListCredential that verifiers fetch, with ETag revalidation.
import accepts from 'accepts'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import { problemResponses } from '../http/schemas.js'
import { publishedStatusList } from './publish.js'

/** The first is the default: for no Accept, a wildcard, or one naming none of these (a verifier must always get the list). */
const MEDIA_TYPES = ['application/json', 'application/vc+ld+json', 'application/ld+json'] as const
// Short: a revocation must reach verifiers (and shared caches) within a minute.
const CACHE_CONTROL = 'public, max-age=60'

const listParams = z.object({ listId: z.uuid({ message: 'expected a UUID' }) })
// The handler sends the stored signed text, which Fastify writes out as it is: no serializer runs, so the schema only documents it.
const signedJson = { schema: z.record(z.string(), z.unknown()) as unknown as z.ZodType<string> }

/** If-None-Match's weak comparison (RFC 9110 §13.1.2): `*`, or any listed tag equal to ours once `W/` is dropped. */
function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  return header.split(',').some((tag) => {
    const trimmed = tag.trim()
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag
  })
}

export function publicStatusRoutes(ctx: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/status/:listId', {
      schema: {
        tags: ['Public'],
        summary: 'A signed Bitstring Status List (revocation), for verifiers',
        description: 'The BitstringStatusListCredential named by the statusListCredential of issued credentials, exactly as signed ' +
          '(eddsa-rdfc-2022, by the issuer\'s key). JSON by default; application/vc+ld+json or application/ld+json when Accept asks. ' +
          'Cached for a minute; send the ETag back in If-None-Match for a 304 while the list is unchanged.',
        params: listParams,
        response: {
          200: {
            description: 'the signed status list',
            content: { 'application/json': signedJson, 'application/vc+ld+json': signedJson, 'application/ld+json': signedJson }
          },
          304: z.undefined().describe('unchanged since the ETag given in If-None-Match; no body'),
          ...problemResponses
        }
      }
    }, async (request, reply) => {
      const list = await publishedStatusList(ctx, request.params.listId)
      reply.header('vary', 'Accept').header('cache-control', CACHE_CONTROL).header('etag', list.etag)
        .header('last-modified', list.signedAt.toUTCString())
      if (ifNoneMatchHits(request.headers['if-none-match'], list.etag)) return reply.code(304).send()
      const chosen = accepts(request.raw).type([...MEDIA_TYPES]) as string | false
      return reply.type(chosen === false ? MEDIA_TYPES[0] : chosen).send(list.body)
    })
  }
}
