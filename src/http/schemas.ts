// Zod schemas shared by routes: problems, pagination, ids, URLs.
import { z } from 'zod'

export const problemSchema = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  errors: z.array(z.object({
    pointer: z.string(),
    message: z.string(),
    in: z.enum(['body', 'querystring', 'params', 'headers']).optional()
  })).optional(),
  requestId: z.string().optional()
}).meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' })

/** Error replies every route may give, for the OpenAPI document. */
export const problemResponses = {
  '4xx': problemSchema,
  '5xx': problemSchema
} as const

export const idParams = z.object({ id: z.uuid({ message: 'expected a UUID' }) })

/** Routes under /issuers/:issuerId/… */
export const issuerParams = z.object({ issuerId: z.uuid({ message: 'expected a UUID' }) })

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('page size (1–200, default 50)'),
  cursor: z.uuid().optional().describe('the nextCursor of the previous page')
})

export const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).max(2048)

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() })
}

export const BEARER = [{ bearerAuth: [] }]

// A handler that sends a Buffer has it written out as it is: no serializer runs, so this schema only documents the bytes.
export const binaryBody = { schema: z.string().meta({ format: 'binary' }) as unknown as z.ZodType<Buffer> }

/** A JSON-LD @context list as published documents carry it: URLs, and an embedded definition where one is needed. */
export const contextList = z.array(z.union([z.string(), z.looseObject({})]))

/** OB 3.0's endorsements of an Achievement or a Profile, as published documents embed them. */
export const endorsementFields = {
  endorsement: z.array(z.record(z.string(), z.unknown())).optional().describe('signed EndorsementCredentials of it (Data Integrity)'),
  endorsementJwt: z.array(z.string()).optional().describe('EndorsementCredentials of it signed as VC-JWTs')
}
