// Behind a proxy (LANYARD_TRUST_PROXY): the client's address comes from X-Forwarded-For through trusted hops only, and
// the public rate limit counts each client, not the proxy.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { buildTestApp, openTestDatabase } from './helpers/app.js'

t.test('LANYARD_TRUST_PROXY is false by default, true, a hop count, or the proxies\' addresses and ranges', async (t) => {
  t.equal(loadConfig({}).LANYARD_TRUST_PROXY, false)
  t.equal(loadConfig({ LANYARD_TRUST_PROXY: 'true' }).LANYARD_TRUST_PROXY, true)
  t.equal(loadConfig({ LANYARD_TRUST_PROXY: 'false' }).LANYARD_TRUST_PROXY, false)
  t.same(loadConfig({ LANYARD_TRUST_PROXY: ' 10.0.0.0/8, 192.168.1.5,::1 ' }).LANYARD_TRUST_PROXY, ['10.0.0.0/8', '192.168.1.5', '::1'])
  const hops = loadConfig({ LANYARD_TRUST_PROXY: '2' }).LANYARD_TRUST_PROXY as (address: string, hop: number) => boolean
  t.same([hops('10.0.0.1', 0), hops('10.0.0.2', 1), hops('203.0.113.7', 2)], [true, true, false], 'the nearest two hops')
  t.throws(() => loadConfig({ LANYARD_TRUST_PROXY: '10.0.0.0/8,proxy.internal' }), ConfigError)
  t.throws(() => loadConfig({ LANYARD_TRUST_PROXY: '10.0.0.0/8,proxy.internal' }), /LANYARD_TRUST_PROXY: .*proxy\.internal/)
})

t.test('the public rate limit counts clients by their address through a trusted proxy, and the proxy itself otherwise', async (t) => {
  const database = await openTestDatabase(t, 'pglite')
  const get = (app: Awaited<ReturnType<typeof buildTestApp>>['app'], remoteAddress: string, client: string) =>
    app.inject({ method: 'GET', url: `/issuers/${randomUUID()}`, remoteAddress, headers: { 'x-forwarded-for': client } })

  const { app: proxied } = await buildTestApp(t, database, { env: { PUBLIC_RATE_LIMIT: '2', LANYARD_TRUST_PROXY: '10.0.0.0/8' } })
  const clients = await Promise.all(['203.0.113.1', '203.0.113.2', '203.0.113.3'].map((client) => get(proxied, '10.0.0.9', client)))
  t.same(clients.map((res) => res.statusCode), [404, 404, 404], 'three clients behind one proxy: each has its own limit')
  const one = [await get(proxied, '10.0.0.9', '203.0.113.1'), await get(proxied, '10.0.0.9', '203.0.113.1')]
  t.same(one.map((res) => res.statusCode), [404, 429], 'one client past its limit is refused')
  const spoofed = [await get(proxied, '198.51.100.4', '203.0.113.50'), await get(proxied, '198.51.100.4', '203.0.113.51'), await get(proxied, '198.51.100.4', '203.0.113.52')]
  t.same(spoofed.map((res) => res.statusCode), [404, 404, 429], 'a client reaching Lanyard directly cannot name itself anew in X-Forwarded-For')

  const { app: direct } = await buildTestApp(t, database, { env: { PUBLIC_RATE_LIMIT: '2' } })
  const behind = [await get(direct, '10.0.0.9', '203.0.113.1'), await get(direct, '10.0.0.9', '203.0.113.2'), await get(direct, '10.0.0.9', '203.0.113.3')]
  t.same(behind.map((res) => res.statusCode), [404, 404, 429], 'without LANYARD_TRUST_PROXY every request is the proxy\'s')
})
