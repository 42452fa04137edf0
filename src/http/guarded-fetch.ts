// Outbound GET for foreign documents (credentials, DID documents, status lists) and POST for webhooks, guarded against SSRF.
import { lookup as dnsLookup } from 'node:dns'
import { lookup as dnsLookupPromise } from 'node:dns/promises'
import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction, type TcpNetConnectOpts } from 'node:net'
import { addAbortSignal } from 'node:stream'
import ipaddr from 'ipaddr.js'

export type FetchRefusalReason =
  | 'scheme'
  | 'private-address'
  | 'timeout'
  | 'too-large'
  | 'too-many-redirects'
  | 'http-status'
  | 'network'
  | 'invalid-url'

/** Why a fetch did not yield a document; the message is written for the person reading a verification report. */
export class FetchRefusedError extends Error {
  constructor(
    readonly reason: FetchRefusalReason,
    readonly url: string,
    message: string,
    options?: ErrorOptions
  ) {
    super(message, options)
    this.name = 'FetchRefusedError'
  }
}

export interface FetchPolicy {
  /** Allow loopback/private/link-local addresses and plain http (LANYARD_ALLOW_PRIVATE_FETCH). */
  allowPrivate: boolean
  /** Budget for the whole exchange: every hop's lookup, connect, headers and body. */
  timeoutMs: number
  maxBytes: number
  maxRedirects: number
  /** Overrides the address rule; for tests that need one loopback server while the guard is on. Defaults to isPublicAddress when allowPrivate is false. */
  isAllowedAddress?: (address: string) => boolean
  /** Overrides http refusal separately from addresses (tests). */
  allowHttp?: boolean
}

export const DEFAULT_FETCH_POLICY: FetchPolicy = Object.freeze({
  allowPrivate: false,
  timeoutMs: 5000,
  maxBytes: 1_048_576,
  maxRedirects: 3
})

export function fetchPolicyFromConfig(allowPrivate: boolean): FetchPolicy {
  return { ...DEFAULT_FETCH_POLICY, allowPrivate }
}

export interface FetchedDocument {
  /** The URL the body came from, after redirects. */
  url: string
  status: number
  contentType: string
  body: Buffer
}

// Global unicast is the only IPv6 space that reaches the public internet; everything else is local, special or unallocated.
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3')
// NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits; on IPv6-only hosts with DNS64 every IPv4 site looks like this.
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96')

/** True for an address on the public internet: not loopback, private, link-local, CGNAT, multicast, reserved or a wrapper around one. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false
  const ip = ipaddr.process(address) // unwraps ::ffff:a.b.c.d so the IPv4 rules apply to it
  if (ip instanceof ipaddr.IPv4) return ip.range() === 'unicast'
  if (ip.match(NAT64_WELL_KNOWN)) return isPublicAddress(ipaddr.fromByteArray(ip.toByteArray().slice(12)).toString())
  return ip.range() === 'unicast' && ip.match(GLOBAL_UNICAST)
}

const ADDRESS_KINDS: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  uniqueLocal: 'private (unique local)',
  carrierGradeNat: 'private (carrier-grade NAT)',
  linkLocal: 'link-local',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved'
}

function privateAddress(url: string, address: string, verb: 'resolves to' | 'points at'): FetchRefusedError {
  const kind = ADDRESS_KINDS[ipaddr.process(address).range()] ?? 'non-public'
  return new FetchRefusedError(
    'private-address',
    url,
    `${url} ${verb} ${address}, a ${kind} address; Lanyard does not fetch private or internal addresses`
  )
}

const dnsLookupAll = (host: string) => dnsLookupPromise(host, { all: true })

function tooLarge(url: string, maxBytes: number): FetchRefusedError {
  return new FetchRefusedError('too-large', url, `${url} sent more than ${maxBytes} bytes; Lanyard reads at most ${maxBytes}`)
}

function parseUrl(text: string, base?: string): URL {
  if (URL.canParse(text, base)) return new URL(text, base)
  const message = base === undefined ? `"${text}" is not a valid URL` : `${base} redirected to "${text}", which is not a valid URL`
  throw new FetchRefusedError('invalid-url', text, message)
}

/** One call's settings, resolved once. */
interface Exchange {
  accept: string
  policy: FetchPolicy
  allowHttp: boolean
  isAllowedAddress: (address: string) => boolean
  deadline: AbortSignal
  callerSignal: AbortSignal | undefined
  signal: AbortSignal
}

/**
 * GET a foreign document. Every hop is checked for scheme and address (after DNS, on the socket's own lookup, so the
 * address checked is the address connected to); redirects, time and size are bounded. Refusals are FetchRefusedError;
 * an abort through `signal` rejects with the signal's reason.
 */
export async function guardedFetch(
  url: string,
  options: { accept: string; policy: FetchPolicy; signal?: AbortSignal }
): Promise<FetchedDocument> {
  const { accept, policy, signal } = options
  const exchange = exchangeOf(accept, policy, signal)
  let target = parseUrl(url)
  for (let redirects = 0; ; redirects++) {
    const current = target
    const outcome = await fetchOnce(current, exchange).catch((error: unknown) => {
      throw explain(error, current.href, exchange)
    })
    if (!(outcome instanceof URL)) return outcome
    if (redirects === policy.maxRedirects) {
      throw new FetchRefusedError(
        'too-many-redirects',
        url,
        `${url} redirected more than ${policy.maxRedirects} times; Lanyard follows at most ${policy.maxRedirects} redirects`
      )
    }
    target = outcome
  }
}

function exchangeOf(accept: string, policy: FetchPolicy, signal: AbortSignal | undefined): Exchange {
  const deadline = AbortSignal.timeout(policy.timeoutMs)
  return {
    accept,
    policy,
    allowHttp: policy.allowHttp ?? policy.allowPrivate,
    isAllowedAddress: policy.isAllowedAddress ?? (policy.allowPrivate ? () => true : isPublicAddress),
    deadline,
    callerSignal: signal,
    signal: signal === undefined ? deadline : AbortSignal.any([signal, deadline])
  }
}

export interface PostReply {
  status: number
  /** The start of the reply body (at most the bytes asked for), as text: what an operator needs to see why it failed. */
  excerpt: string
}

/**
 * POST `body` under guardedFetch's rules (scheme, every resolved address, one deadline for the whole exchange). A
 * redirect is an answer like any other, never followed; of the reply body only the first `excerptBytes` are read.
 * Refusals (including the deadline) are FetchRefusedError.
 */
export async function guardedPost(
  url: string, options: { body: string; headers: Record<string, string>; policy: FetchPolicy; excerptBytes: number }
): Promise<PostReply> {
  const exchange = exchangeOf('*/*', options.policy, undefined)
  const target = parseUrl(url)
  try {
    checkTarget(target, exchange)
    const response = await send(target, exchange, { headers: options.headers, body: options.body })
    return { status: response.statusCode as number, excerpt: await readExcerpt(response, options.excerptBytes, exchange) }
  } catch (error) {
    throw explain(error, target.href, exchange)
  }
}

/**
 * Refuses, as guardedFetch and guardedPost would, a URL they could not reach now: its scheme, and its host's addresses
 * (literal or resolved). For checking a URL when it is given (a webhook subscription), so the refusal is an answer
 * rather than a failed delivery later. A name that does not resolve passes: each request checks again.
 */
export async function assertReachable(url: string, policy: FetchPolicy): Promise<void> {
  const exchange = exchangeOf('*/*', policy, undefined)
  const target = parseUrl(url)
  checkTarget(target, exchange)
  const host = hostOf(target)
  if (isIP(host) !== 0) return
  const addresses = await dnsLookupAll(host).catch(() => [])
  const refused = addresses.find(({ address }) => !exchange.isAllowedAddress(address))
  if (refused !== undefined) throw privateAddress(target.href, refused.address, 'resolves to')
}

async function readExcerpt(response: IncomingMessage, maxBytes: number, exchange: Exchange): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  // Leaving the loop destroys the reply: the rest of a large body is never read.
  for await (const chunk of addAbortSignal(exchange.signal, response) as AsyncIterable<Buffer>) {
    chunks.push(chunk)
    size += chunk.length
    if (size >= maxBytes) break
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8')
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

/** One hop: the document, or the URL it redirects to. */
async function fetchOnce(target: URL, exchange: Exchange): Promise<FetchedDocument | URL> {
  checkTarget(target, exchange)
  const response = await send(target, exchange)
  const status = response.statusCode as number // always set on a client response
  const location = response.headers.location
  if (REDIRECT_STATUSES.has(status) && location !== undefined) {
    response.destroy()
    return parseUrl(location, target.href)
  }
  if (Math.floor(status / 100) !== 2) {
    response.destroy()
    throw new FetchRefusedError('http-status', target.href, `${target.href} answered with HTTP status ${status}; expected a 2xx success`)
  }
  // Refuse an announced oversize body before reading any of it; readBody still counts, since the header may lie.
  if (Number(response.headers['content-length']) > exchange.policy.maxBytes) {
    response.destroy()
    throw tooLarge(target.href, exchange.policy.maxBytes)
  }
  const body = await readBody(response, target.href, exchange)
  return { url: target.href, status, contentType: response.headers['content-type'] ?? '', body }
}

/** The URL's host as an address or name: an IPv6 literal without its brackets. */
function hostOf(target: URL): string {
  return target.hostname.replace(/^\[(.*)\]$/, '$1')
}

/** Scheme and literal-IP checks: a literal address never goes through lookup, so it is checked here, before connecting. */
function checkTarget(target: URL, exchange: Exchange): void {
  if (target.protocol !== 'https:' && !(exchange.allowHttp && target.protocol === 'http:')) {
    throw new FetchRefusedError(
      'scheme',
      target.href,
      `${target.href} is not an https URL; Lanyard fetches only https (plain http only when LANYARD_ALLOW_PRIVATE_FETCH=true)`
    )
  }
  const host = hostOf(target)
  if (isIP(host) !== 0 && !exchange.isAllowedAddress(host)) throw privateAddress(target.href, host, 'points at')
}

/** A POST's headers and body; a GET sends none. */
interface Outgoing {
  headers: Record<string, string>
  body: string
}

function send(target: URL, exchange: Exchange, outgoing?: Outgoing): Promise<IncomingMessage> {
  const request = target.protocol === 'https:' ? https.request : http.request
  // autoSelectFamily is passed on to the socket, though RequestOptions does not list it.
  const options: https.RequestOptions & Pick<TcpNetConnectOpts, 'autoSelectFamily'> = {
    method: outgoing === undefined ? 'GET' : 'POST',
    headers: { accept: exchange.accept, 'accept-encoding': 'identity', ...outgoing?.headers },
    // A fresh socket per request: a pooled one would skip the lookup, and so the address check.
    agent: false,
    // Makes the socket ask lookup for all addresses, so every one of them is checked.
    autoSelectFamily: true,
    lookup: guardedLookup(target.href, exchange.isAllowedAddress),
    signal: exchange.signal
  }
  return new Promise((resolve, reject) => {
    request(target, options).once('response', resolve).once('error', reject).end(outgoing?.body)
  })
}

/** The socket's DNS lookup, refusing when any resolved address is not allowed (no rebinding between check and connect). */
function guardedLookup(url: string, isAllowedAddress: (address: string) => boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, [])
      const refused = addresses.find(({ address }) => !isAllowedAddress(address))
      if (refused) return callback(privateAddress(url, refused.address, 'resolves to'), [])
      callback(null, addresses)
    })
  }
}

async function readBody(response: IncomingMessage, url: string, exchange: Exchange): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  // The abort signal destroys the stream (and its socket) mid-body, so a trickling server cannot outlast the deadline.
  for await (const chunk of addAbortSignal(exchange.signal, response) as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > exchange.policy.maxBytes) throw tooLarge(url, exchange.policy.maxBytes)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, size)
}

/** Turn whatever a hop threw into a refusal a person can read, or the caller's own abort reason. */
function explain(error: unknown, url: string, exchange: Exchange): unknown {
  if (error instanceof FetchRefusedError) return error
  if (exchange.deadline.aborted) {
    return new FetchRefusedError(
      'timeout',
      url,
      `${url} did not send a complete answer within ${exchange.policy.timeoutMs} ms; Lanyard gave up`,
      { cause: error }
    )
  }
  if (exchange.callerSignal?.aborted) return exchange.callerSignal.reason
  return new FetchRefusedError('network', url, `could not fetch ${url}: ${(error as Error).message}`, { cause: error })
}
