// Where verification gets foreign documents (DID documents, key documents, status lists, credentials by URL): our own
// documents straight from the service, everything else through the guarded fetch, behind a small TTL cache.
import { guardedFetch, type FetchPolicy } from '../http/guarded-fetch.js'

/** A fetched document: its final URL, media type and bytes. */
export interface FetchedDocument {
  url: string
  contentType: string
  body: Buffer
}

export interface FetchRequest {
  /** The Accept header to send. */
  accept: string
  /** How long a cached copy may be reused; 0 to always fetch. */
  maxAgeMs: number
}

/** Fetches one document or throws an Error whose message says why, for a person (it lands in a report). */
export type DocumentFetcher = (url: string, request: FetchRequest) => Promise<FetchedDocument>

/** Fetches a document the service publishes itself, by path; throws, saying so, when the path is not one it publishes. */
export type LocalDocuments = (path: string, accept: string) => Promise<FetchedDocument>

/**
 * URLs on our own host, under PUBLIC_URL's path, are answered from the service itself, never over HTTP: a status list we
 * publish is read locally, so a verifier inside the firewall sees the same answer as one outside. Every path under
 * PUBLIC_URL is the service's, so one it does not publish is not asked of the network either. did:web always means https,
 * while PUBLIC_URL may be http in development, so the scheme is not compared.
 */
export function localFirst(publicUrl: string, local: LocalDocuments, remote: DocumentFetcher): DocumentFetcher {
  const base = new URL(publicUrl)
  const basePath = base.pathname.replace(/\/+$/, '')
  return async (url, request) => {
    const target = new URL(url)
    if (target.host === base.host && (target.pathname === basePath || target.pathname.startsWith(`${basePath}/`))) {
      return local(target.pathname.slice(basePath.length) + target.search, request.accept)
    }
    return remote(url, request)
  }
}

interface CacheEntry {
  fetchedAt: number
  document: Promise<FetchedDocument>
}

/**
 * Reuses a fetch for as long as each request's maxAgeMs allows (failures are not kept, so a flaky host is retried).
 * Concurrent requests for one URL share one fetch. Bounded: the oldest entries go first.
 */
export function cachedFetcher(fetcher: DocumentFetcher, options: { maxEntries: number; now?: () => number }): DocumentFetcher {
  const now = options.now ?? Date.now
  const entries = new Map<string, CacheEntry>()
  return async (url, request) => {
    const key = `${request.accept}\u0000${url}`
    const cached = entries.get(key)
    if (cached !== undefined && now() - cached.fetchedAt < request.maxAgeMs) return cached.document
    const document = fetcher(url, request)
    if (request.maxAgeMs > 0) {
      // Deleted first so the fresh entry counts as the newest.
      entries.delete(key)
      entries.set(key, { fetchedAt: now(), document })
      // A failure that lands after a newer fetch replaced it must not evict the newer one.
      document.catch(() => {
        if (entries.get(key)?.document === document) entries.delete(key)
      })
      if (entries.size > options.maxEntries) entries.delete(entries.keys().next().value!)
    }
    return document
  }
}

/** Parses a fetched document as JSON, or throws a readable Error. */
export function jsonOf(document: FetchedDocument): unknown {
  try {
    return JSON.parse(document.body.toString('utf8'))
  } catch {
    throw new Error(`${document.url} did not return JSON`)
  }
}

/** The network, through the SSRF guard (https only, public addresses only, size and time limits) unless configured otherwise. */
export function networkFetcher(policy: FetchPolicy): DocumentFetcher {
  return async (url, request) => {
    const { url: finalUrl, contentType, body } = await guardedFetch(url, { accept: request.accept, policy })
    return { url: finalUrl, contentType, body }
  }
}
