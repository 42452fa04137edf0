import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import t, { type Test } from 'tap'
import {
  DEFAULT_FETCH_POLICY,
  FetchRefusedError,
  fetchPolicyFromConfig,
  guardedFetch,
  isPublicAddress,
  type FetchPolicy
} from '../src/http/guarded-fetch.js'

const ACCEPT = 'application/ld+json, application/json;q=0.9'
const MB = 1_048_576

/** The production guard (https only, public addresses only), with a shorter timeout for tests. */
const GUARD: FetchPolicy = { ...DEFAULT_FETCH_POLICY, timeoutMs: 2000 }
/** The guard with plain http allowed, so the address rule is what refuses a local http server. */
const GUARD_HTTP: FetchPolicy = { ...GUARD, allowHttp: true }
/** The guard, except that the one loopback address the test servers listen on is allowed. */
const LOCAL_SERVER_ONLY: FetchPolicy = { ...GUARD_HTTP, isAllowedAddress: (address) => address === '127.0.0.1' }

interface TestServer {
  /** Base URL without a trailing slash. */
  url: string
  port: number
  /** Every socket the server accepted: its length is the connection count. */
  sockets: Socket[]
}

/** A real HTTP server on a loopback address and a free port, closed when the test ends. */
async function serve(t: Test, handler: http.RequestListener, host = '127.0.0.1'): Promise<TestServer> {
  const server = http.createServer(handler)
  const sockets: Socket[] = []
  server.on('connection', (socket) => sockets.push(socket))
  server.listen(0, host)
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const { port } = server.address() as AddressInfo
  return { url: `http://${host}:${port}`, port, sockets }
}

/** The refusal a fetch ends with (fails the test when it succeeds or throws something else). */
async function refusal(url: string, policy: FetchPolicy, signal?: AbortSignal): Promise<FetchRefusedError> {
  const error = await guardedFetch(url, { accept: ACCEPT, policy, signal }).then(
    () => new Error(`${url} was fetched`),
    (error: unknown) => error
  )
  if (error instanceof FetchRefusedError) return error
  throw error
}

/** Resolves when the server's side of a connection is closed, however it ended (a reset is a close too). */
const socketClosed = (socket: Socket) => new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())))

t.test('a public server answering 200 gives the body, status, content type and final URL; the accept header is passed on', async (t) => {
  let seen: http.IncomingHttpHeaders = {}
  const server = await serve(t, (req, res) => {
    seen = req.headers
    res.writeHead(200, { 'content-type': 'application/ld+json' }).end('{"id":"urn:x"}')
  })
  const doc = await guardedFetch(`${server.url}/credential`, { accept: ACCEPT, policy: LOCAL_SERVER_ONLY })
  t.same(doc, { url: `${server.url}/credential`, status: 200, contentType: 'application/ld+json', body: Buffer.from('{"id":"urn:x"}') })
  t.equal(seen.accept, ACCEPT)
  t.equal(seen['accept-encoding'], 'identity', 'no compression asked for, so none to undo')
  await socketClosed(server.sockets[0]!)
  t.pass('the connection is not kept open afterwards')
})

t.test('a response without a content type gives an empty content type', async (t) => {
  const server = await serve(t, (_req, res) => res.end('x'))
  const doc = await guardedFetch(server.url, { accept: ACCEPT, policy: LOCAL_SERVER_ONLY })
  t.equal(doc.contentType, '')
})

t.test('plain http is refused with reason scheme when http is not allowed, before connecting', async (t) => {
  const server = await serve(t, (_req, res) => res.end())
  const error = await refusal(`${server.url}/`, GUARD)
  t.equal(error.reason, 'scheme')
  t.equal(error.url, `${server.url}/`)
  t.match(error.message, /is not an https URL; Lanyard fetches only https/)
  t.equal(server.sockets.length, 0, 'no connection attempted')
})

t.test('schemes other than http(s) are refused even when http is allowed', async (t) => {
  for (const url of ['file:///etc/passwd', 'ftp://files.example/badge.json', 'data:application/json,{}']) {
    t.equal((await refusal(url, GUARD_HTTP)).reason, 'scheme', url)
  }
})

t.test('a string that is not a URL is refused with reason invalid-url', async (t) => {
  const error = await refusal('not a url', GUARD)
  t.equal(error.reason, 'invalid-url')
  t.equal(error.message, '"not a url" is not a valid URL')
})

t.test('literal private, loopback, link-local and special addresses are refused before connecting', async (t) => {
  const cases: [url: string, kind: string][] = [
    ['https://127.0.0.1/', 'loopback'],
    ['https://10.1.2.3/', 'private'],
    ['https://192.168.1.1/', 'private'],
    ['https://100.64.0.1/', 'private (carrier-grade NAT)'],
    ['https://169.254.169.254/latest/meta-data', 'link-local'],
    ['https://0.0.0.0/', 'unspecified'],
    ['https://224.0.0.1/', 'multicast'],
    ['https://255.255.255.255/', 'broadcast'],
    ['https://192.0.2.1/', 'reserved'],
    ['https://2130706433/', 'loopback'], // the URL parser reads this as 127.0.0.1
    ['https://[::1]/', 'loopback'],
    ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://[::ffff:169.254.169.254]/', 'link-local'],
    ['https://[fd00::1]/', 'private (unique local)'],
    ['https://[fe80::1]/', 'link-local'],
    ['https://[::]/', 'unspecified'],
    ['https://[2002:7f00:1::]/', 'non-public'] // 6to4 wrapping 127.0.0.1
  ]
  for (const [url, kind] of cases) {
    const error = await refusal(url, GUARD)
    t.equal(error.reason, 'private-address', url)
    t.match(error.message, `, a ${kind} address; Lanyard does not fetch private or internal addresses`, url)
  }
  t.equal(
    (await refusal('https://10.1.2.3/a', GUARD)).message,
    'https://10.1.2.3/a points at 10.1.2.3, a private address; Lanyard does not fetch private or internal addresses'
  )
})

t.test('a local http server is refused by the address rule with http allowed, and sees no connection', async (t) => {
  const server = await serve(t, (_req, res) => res.end())
  const error = await refusal(`${server.url}/`, GUARD_HTTP)
  t.equal(error.reason, 'private-address')
  t.equal(server.sockets.length, 0)
})

t.test('a hostname that resolves to a private address is refused after DNS, before connecting', async (t) => {
  const server = await serve(t, (_req, res) => res.end())
  const error = await refusal(`http://localhost:${server.port}/status`, GUARD_HTTP)
  t.equal(error.reason, 'private-address')
  t.match(error.message, new RegExp(`^http://localhost:${server.port}/status resolves to (127\\.0\\.0\\.1|::1), a loopback address;`))
  t.equal(server.sockets.length, 0)
})

t.test('a hostname whose addresses are all allowed is connected to', async (t) => {
  const server = await serve(t, (_req, res) => res.end('ok'))
  const policy = { ...GUARD_HTTP, isAllowedAddress: (address: string) => address === '127.0.0.1' || address === '::1' }
  const doc = await guardedFetch(`http://localhost:${server.port}/`, { accept: ACCEPT, policy })
  t.equal(doc.body.toString(), 'ok')
})

t.test('a hostname that does not resolve fails with reason network', async (t) => {
  const error = await refusal('https://nonexistent.invalid/', GUARD)
  t.equal(error.reason, 'network')
  t.match(error.message, /^could not fetch https:\/\/nonexistent\.invalid\/: .*ENOTFOUND/)
})

t.test('a refused connection fails with reason network', async (t) => {
  // A port that was free a moment ago: nothing listens on it now.
  const probe = http.createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as AddressInfo
  probe.close()
  await once(probe, 'close')
  const error = await refusal(`http://127.0.0.1:${port}/`, LOCAL_SERVER_ONLY)
  t.equal(error.reason, 'network')
  t.match(error.message, `could not fetch http://127.0.0.1:${port}/: connect ECONNREFUSED`)
})

t.test('LANYARD_ALLOW_PRIVATE_FETCH=true allows private addresses and plain http', async (t) => {
  t.same(fetchPolicyFromConfig(false), { allowPrivate: false, timeoutMs: 5000, maxBytes: MB, maxRedirects: 3 })
  const server = await serve(t, (_req, res) => res.end('local'))
  const doc = await guardedFetch(`${server.url}/`, { accept: ACCEPT, policy: fetchPolicyFromConfig(true) })
  t.equal(doc.body.toString(), 'local')
})

t.test('a redirect into a private address is refused, and the private server sees no connection', async (t) => {
  const inside = await serve(t, (_req, res) => res.end('secret'), '127.0.0.2')
  for (const target of [`${inside.url}/admin`, 'http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data']) {
    const server = await serve(t, (_req, res) => res.writeHead(302, { location: target }).end())
    const error = await refusal(`${server.url}/start`, LOCAL_SERVER_ONLY)
    t.equal(error.reason, 'private-address', target)
    t.equal(error.url, target)
  }
  t.equal(inside.sockets.length, 0)
})

/** Redirects from /hop/n to the relative URL "n-1" until /hop/0, which answers 200. */
async function chain(t: Test): Promise<TestServer> {
  const statuses = [301, 302, 303, 307, 308]
  return serve(t, (req, res) => {
    const n = Number(req.url!.split('/').pop())
    if (n === 0) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"end":true}')
    res.writeHead(statuses[n % statuses.length]!, { location: String(n - 1) }).end()
  })
}

t.test('a chain of 3 redirects is followed, relative Locations resolved against the current URL', async (t) => {
  const server = await chain(t)
  const doc = await guardedFetch(`${server.url}/hop/3`, { accept: ACCEPT, policy: LOCAL_SERVER_ONLY })
  t.equal(doc.url, `${server.url}/hop/0`)
  t.equal(doc.body.toString(), '{"end":true}')
})

t.test('a chain of more than 3 redirects is refused with reason too-many-redirects', async (t) => {
  const server = await chain(t)
  const error = await refusal(`${server.url}/hop/4`, LOCAL_SERVER_ONLY)
  t.equal(error.reason, 'too-many-redirects')
  t.equal(error.message, `${server.url}/hop/4 redirected more than 3 times; Lanyard follows at most 3 redirects`)
})

t.test('a redirect without a Location is an http-status failure', async (t) => {
  const server = await serve(t, (_req, res) => res.writeHead(302).end())
  const error = await refusal(server.url, LOCAL_SERVER_ONLY)
  t.equal(error.reason, 'http-status')
  t.match(error.message, 'HTTP status 302')
})

t.test('a redirect to something that is not a URL is refused with reason invalid-url', async (t) => {
  const server = await serve(t, (_req, res) => res.writeHead(301, { location: 'http://[bad' }).end())
  const error = await refusal(`${server.url}/a`, LOCAL_SERVER_ONLY)
  t.equal(error.reason, 'invalid-url')
  t.equal(error.message, `${server.url}/a redirected to "http://[bad", which is not a valid URL`)
})

t.test('a 404 is refused with reason http-status, naming the status', async (t) => {
  const server = await serve(t, (_req, res) => res.writeHead(404).end('not here'))
  const error = await refusal(`${server.url}/missing`, LOCAL_SERVER_ONLY)
  t.equal(error.reason, 'http-status')
  t.equal(error.message, `${server.url}/missing answered with HTTP status 404; expected a 2xx success`)
})

t.test('a server that accepts and never answers times out, and its socket is closed', async (t) => {
  const server = await serve(t, () => {})
  const started = Date.now()
  const error = await refusal(`${server.url}/slow`, { ...LOCAL_SERVER_ONLY, timeoutMs: 300 })
  const elapsed = Date.now() - started
  t.equal(error.reason, 'timeout')
  t.equal(error.message, `${server.url}/slow did not send a complete answer within 300 ms; Lanyard gave up`)
  t.ok(elapsed >= 290 && elapsed < 1500, `gave up after ${elapsed} ms`)
  await socketClosed(server.sockets[0]!)
  t.pass('the server saw the socket closed')
})

t.test('a server that trickles its body forever times out, and its socket is closed', async (t) => {
  const server = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    const timer = setInterval(() => res.write(' '), 20)
    res.on('close', () => clearInterval(timer))
  })
  const started = Date.now()
  const error = await refusal(server.url, { ...LOCAL_SERVER_ONLY, timeoutMs: 300 })
  t.equal(error.reason, 'timeout')
  t.ok(Date.now() - started < 1500)
  await socketClosed(server.sockets[0]!)
  t.pass('the server saw the socket closed')
})

t.test('a body of exactly the limit is read', async (t) => {
  const server = await serve(t, (_req, res) => res.end(Buffer.alloc(MB, 'a')))
  const doc = await guardedFetch(server.url, { accept: ACCEPT, policy: LOCAL_SERVER_ONLY })
  t.equal(doc.body.length, MB)
})

t.test('a Content-Length above the limit is refused without waiting for the body', async (t) => {
  // The server announces one byte too many and then sends nothing: only the header can end this before the timeout.
  const server = await serve(t, (_req, res) => res.writeHead(200, { 'content-length': String(MB + 1) }).flushHeaders())
  const error = await refusal(`${server.url}/big`, { ...LOCAL_SERVER_ONLY, timeoutMs: 5000 })
  t.equal(error.reason, 'too-large')
  t.equal(error.message, `${server.url}/big sent more than ${MB} bytes; Lanyard reads at most ${MB}`)
  await socketClosed(server.sockets[0]!)
})

t.test('a chunked body growing past the limit is aborted while streaming', async (t) => {
  let sent = 0
  const server = await serve(t, (_req, res) => {
    const chunk = Buffer.alloc(64 * 1024, 'a')
    const timer = setInterval(() => {
      res.write(chunk)
      sent += chunk.length
    }, 1)
    res.on('close', () => clearInterval(timer))
  })
  const error = await refusal(server.url, { ...LOCAL_SERVER_ONLY, timeoutMs: 5000 })
  t.equal(error.reason, 'too-large')
  await socketClosed(server.sockets[0]!)
  t.ok(sent < 4 * MB, `the server stopped after ${sent} bytes`)
})

t.test('a server that drops the connection mid-body fails with reason network', async (t) => {
  const server = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-length': '100' }).write('partial')
    setTimeout(() => res.socket?.destroy(), 20)
  })
  const error = await refusal(server.url, LOCAL_SERVER_ONLY)
  t.equal(error.reason, 'network')
})

t.test('an abort through the caller signal rejects with the caller reason', async (t) => {
  const server = await serve(t, () => {})
  const controller = new AbortController()
  const reason = new Error('verification cancelled')
  setTimeout(() => controller.abort(reason), 50)
  await t.rejects(guardedFetch(server.url, { accept: ACCEPT, policy: LOCAL_SERVER_ONLY, signal: controller.signal }), reason)
  await socketClosed(server.sockets[0]!)
})

t.test('a caller signal that is not aborted changes nothing', async (t) => {
  const server = await serve(t, (_req, res) => res.end('ok'))
  const signal = new AbortController().signal
  const doc = await guardedFetch(server.url, { accept: ACCEPT, policy: LOCAL_SERVER_ONLY, signal })
  t.equal(doc.body.toString(), 'ok')
})

t.test('isPublicAddress: only addresses on the public internet', async (t) => {
  const publicAddresses = ['93.184.216.34', '8.8.8.8', '2606:4700::1', '2a00:1450:4001:82a::200e', '::ffff:93.184.216.34', '64:ff9b::5db8:d822']
  const nonPublic = [
    '127.0.0.1', '127.0.0.2', '10.0.0.5', '172.16.0.1', '172.31.255.255', '192.168.0.1', '100.64.0.1', '100.127.255.255',
    '169.254.169.254', '0.0.0.0', '224.0.0.1', '255.255.255.255', '192.0.2.1', '198.18.0.1', '240.0.0.1',
    '::1', '::', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456::1', 'ff02::1', 'fec0::1', '2001:db8::1',
    '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::7f00:1', // IPv4-compatible, deprecated
    '64:ff9b::7f00:1', '64:ff9b::a00:1', // NAT64 wrapping loopback and private
    '2002:7f00:1::', '2001::1', '100::1', // 6to4, Teredo, discard
    'not an address', ''
  ]
  for (const address of publicAddresses) t.equal(isPublicAddress(address), true, address)
  for (const address of nonPublic) t.equal(isPublicAddress(address), false, address)
})
