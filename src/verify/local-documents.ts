// The documents Lanyard publishes, served to its own verifier without a network round trip: status lists, issuers'
// DID documents and profiles, and credentials by URL.
import accepts from 'accepts'
import type { ServiceContext } from '../context.js'
import { negotiateCredential } from '../credentials/publish.js'
import { publishedCredential } from '../credentials/service.js'
import { AppError } from '../http/errors.js'
import { publicDidDocument, publicProfile } from '../issuers/service.js'
import { publishedStatusList } from '../status/publish.js'
import type { FetchedDocument, LocalDocuments } from './documents.js'

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'

/** Reads the document with this id, as its public route would answer `accept`. */
export type LocalDocument = (ctx: ServiceContext, id: string, accept: string) => Promise<{ contentType: string; body: string }>

const ROUTES: [RegExp, LocalDocument][] = [
  [new RegExp(`^/status/(${UUID})$`), async (ctx, id) => ({ contentType: 'application/vc+ld+json', body: (await publishedStatusList(ctx, id)).body })],
  [new RegExp(`^/issuers/(${UUID})/did\\.json$`), async (ctx, id) => ({ contentType: 'application/did+ld+json', body: JSON.stringify(await publicDidDocument(ctx, id)) })],
  [new RegExp(`^/issuers/(${UUID})$`), async (ctx, id) => ({ contentType: 'application/ld+json', body: JSON.stringify(await publicProfile(ctx, id)) })],
  [new RegExp(`^/credentials/(${UUID})$`), async (ctx, id, accept) => {
    const answer = negotiateCredential(await publishedCredential(ctx, id), accepts({ headers: { accept } } as never))
    if (answer === undefined || answer.kind === 'html') throw new AppError('not-acceptable', 406, 'the credential is not available in a form a verifier reads')
    return { contentType: answer.mediaType, body: answer.body }
  }]
]

/**
 * `more` adds documents of capabilities above this one, by collection: `{ endorsements: read }` answers
 * /endorsements/:id (verification must not import the capabilities that use it).
 */
export function localDocuments(ctx: ServiceContext, more: Record<string, LocalDocument> = {}): LocalDocuments {
  const routes: [RegExp, LocalDocument][] = [...ROUTES, ...Object.entries(more).map(([collection, read]) => [new RegExp(`^/${collection}/(${UUID})$`), read] as [RegExp, LocalDocument])]
  return async (path, accept): Promise<FetchedDocument> => {
    const url = `${ctx.publicUrl}${path}`
    for (const [pattern, read] of routes) {
      const match = pattern.exec(path)
      if (match === null) continue
      try {
        const { contentType, body } = await read(ctx, match[1]!, accept)
        return { url, contentType, body: Buffer.from(body) }
      } catch (error) {
        // The message lands in a public report: an AppError's detail is written for it, anything else (the database
        // failing) may quote internals, so it is kept as the cause only.
        throw new Error(`${url}: ${error instanceof AppError ? error.detail : 'Lanyard could not read it just now'}`, { cause: error })
      }
    }
    throw new Error(`${url} is not a document Lanyard publishes`)
  }
}
