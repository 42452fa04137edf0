// OpenAPI 3.1 generated from the route schemas (@fastify/swagger + the zod type provider), Swagger UI at /docs.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'

export const API_VERSION = '0.1.0'

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Lanyard',
        version: API_VERSION,
        description: 'Open Badges 3.0 issuing and verification service. Admin routes under /v1 take `Authorization: Bearer <admin token or API key>`.'
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } }
    },
    hideUntagged: true,
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
