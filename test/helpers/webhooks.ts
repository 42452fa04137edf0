// Test helpers for webhooks: a receiver on loopback that verifies signatures as a real one would (standardwebhooks), and
// an app whose dispatcher runs at test pace and whose log lines are kept.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { Webhook } from 'standardwebhooks'
import type { Test } from 'tap'
import { hashToken } from '../../src/api-keys/tokens.js'
import { buildApp, type AppDeps } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createKeyring } from '../../src/crypto/keyring.js'
import { admin, ADMIN_TOKEN, TEST_MASTER_KEY, type TestDatabase } from './app.js'

export interface Received {
  headers: http.IncomingHttpHeaders
  body: string
  /** The verified payload, or undefined when the signature did not verify. */
  payload: { type: string; timestamp: string; data: Record<string, any> } | undefined
}

export interface Receiver {
  url: string
  received: Received[]
  /** Set once the webhook exists: requests are verified with it. */
  secret: string
  /** Decides each reply (default 200). Return 'hang' to never answer. */
  answer: (request: Received, index: number) => { status: number; body?: string; headers?: Record<string, string>; afterMs?: number } | 'hang'
  /** Resolves once `count` requests verified (or rejects after `ms`). */
  waitFor(count: number, ms?: number): Promise<Received[]>
}

export async function startReceiver(t: Test): Promise<Receiver> {
  const hanging = new Set<http.ServerResponse>()
  const receiver: Receiver = {
    url: '', received: [], secret: '', answer: () => ({ status: 200 }),
    async waitFor(count, ms = 10_000) {
      const until = Date.now() + ms
      while (receiver.received.filter((r) => r.payload !== undefined).length < count) {
        if (Date.now() > until) throw new Error(`waited ${ms} ms for ${count} deliveries, got ${receiver.received.length}`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      return receiver.received.filter((r) => r.payload !== undefined)
    }
  }
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    let payload: Received['payload']
    try {
      payload = new Webhook(receiver.secret).verify(body, req.headers as Record<string, string>) as Received['payload']
    } catch {
      payload = undefined
    }
    const request = { headers: req.headers, body, payload }
    receiver.received.push(request)
    const answer = receiver.answer(request, receiver.received.length - 1)
    if (answer === 'hang') {
      hanging.add(res)
      return
    }
    setTimeout(() => res.writeHead(answer.status, answer.headers).end(answer.body ?? ''), answer.afterMs ?? 0)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`
  t.teardown(() => new Promise<void>((resolve) => {
    for (const res of hanging) res.destroy()
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return receiver
}

export interface WebhookTestApp {
  app: FastifyInstance
  /** Every log line since the app was built, as written. */
  logs: string[]
}

/** Test pace: polls every 20 ms, gives up on an attempt after 3 s, two attempts at once, events fanned out two at a time. */
export const TEST_PACE = { pollMs: 20, timeoutMs: 3000, concurrency: 2, fanOutBatch: 2 }

export async function buildWebhookApp(
  t: Test, database: TestDatabase, options: { env?: Record<string, string>; webhooks?: AppDeps['webhooks'] } = {}
): Promise<WebhookTestApp> {
  const logs: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''))
      callback()
    }
  })
  const config = loadConfig({
    PUBLIC_URL: 'https://badges.example.edu', LOG_LEVEL: 'info', DATA_DIR: '/nonexistent', LANYARD_SIGNING_THREADS: '0',
    LANYARD_ALLOW_PRIVATE_FETCH: 'true', LANYARD_WEBHOOK_RETRY_DELAYS_MS: '20,20,20', ...options.env
  })
  const app = await buildApp({
    config, db: database.db, keyring: createKeyring(TEST_MASTER_KEY), adminTokenHash: hashToken(ADMIN_TOKEN),
    logger: { level: config.LOG_LEVEL, stream }, webhooks: { ...TEST_PACE, ...options.webhooks }
  })
  t.teardown(() => app.close())
  await app.ready()
  return { app, logs }
}

/** Subscribes `receiver` (with the admin token unless `headers` say otherwise) and gives it the secret. */
export async function subscribe(app: FastifyInstance, receiver: Receiver, body: Record<string, unknown> = {}, headers: Record<string, string> = admin) {
  const res = await app.inject({ method: 'POST', url: '/v1/webhooks', headers, payload: { url: receiver.url, events: ['credential.issued', 'credential.revoked'], ...body } })
  if (res.statusCode !== 201) throw new Error(`creating a webhook answered ${res.statusCode}: ${res.body}`)
  receiver.secret = res.json().secret
  return res.json()
}
