import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { ConfigError, loadConfig } from '../src/config.js'
import { appendEvent } from '../src/events/store.js'
import { EXCERPT_BYTES } from '../src/webhooks/deliver.js'
import { recordOutcome } from '../src/webhooks/store.js'
import { admin, assertProblem, bearer, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { buildWebhookApp, startReceiver, subscribe, type Receiver } from './helpers/webhooks.js'

type Json = Record<string, any>

/** GET a delivery's attempts (one page, as the admin unless `headers` say otherwise). */
const attemptsOf = (app: FastifyInstance, webhookId: string, deliveryId: string, headers: Json = admin, query = '') =>
  app.inject({ method: 'GET', url: `/v1/webhooks/${webhookId}/deliveries/${deliveryId}/attempts${query}`, headers })

const ids = (received: { payload?: { data: Json } }[]) => received.map((r) => r.payload!.data.credentialId as string).sort()

await onEachDatabase(t, async (t, database) => {
  const { db } = database
  const { app, logs } = await buildWebhookApp(t, database)
  const college = await createIssuer(app, { name: 'Northwind College' })
  const badge = await createAchievement(app, college.id)
  const issue = async (recipient: Json, headers: Json = admin) => {
    const res = await app.inject({ method: 'POST', url: '/v1/credentials', headers, payload: { achievementId: badge.id, recipient, format: 'vc-jwt', jwtAlg: 'EdDSA' } })
    if (res.statusCode !== 201) throw new Error(res.body)
    return res.json()
  }
  const deliveries = async (webhookId: string, headers: Json = admin): Promise<Json[]> => {
    const res = await app.inject({ method: 'GET', url: `/v1/webhooks/${webhookId}/deliveries`, headers })
    if (res.statusCode !== 200) throw new Error(res.body)
    return res.json().items
  }
  /** Polls the delivery log until `done` holds. */
  const settled = async (webhookId: string, done: (items: Json[]) => boolean): Promise<Json[]> => {
    for (let i = 0; i < 500; i++) {
      const items = await deliveries(webhookId)
      if (done(items)) return items
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    throw new Error(`deliveries never settled: ${JSON.stringify(await deliveries(webhookId))}`)
  }
  /** Stops a receiver hearing about later tests' events. */
  const unsubscribe = (id: string) => app.inject({ method: 'DELETE', url: `/v1/webhooks/${id}`, headers: admin })

  await t.test('a new webhook shows its whsec_ secret once; reads never show it, and it is sealed at rest', async (t) => {
    const receiver = await startReceiver(t)
    const made = await subscribe(app, receiver, { description: 'LMS grade sync' })
    t.match(made, { id: String, url: receiver.url, events: ['credential.issued', 'credential.revoked'], issuerId: null, description: 'LMS grade sync' })
    t.match(made.secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/)
    const key = Buffer.from(made.secret.slice('whsec_'.length), 'base64')
    t.ok(key.length >= 24 && key.length <= 32, 'a 24–32 byte key')
    const read = await app.inject({ method: 'GET', url: `/v1/webhooks/${made.id}`, headers: admin })
    t.equal(read.statusCode, 200)
    t.notOk('secret' in read.json())
    const list = await app.inject({ method: 'GET', url: '/v1/webhooks', headers: admin })
    t.ok(list.json().items.some((w: Json) => w.id === made.id))
    t.notOk(list.body.includes(made.secret.slice(6)))
    const row = await db.selectFrom('webhooks').selectAll().where('id', '=', made.id).executeTakeFirstOrThrow()
    t.notOk(row.sealed_secret.includes(made.secret.slice(6)), 'not stored in the clear')
    await unsubscribe(made.id)
  })

  await t.test('issuing one and a batch delivers exactly one signed credential.issued per credential', async (t) => {
    const receiver = await startReceiver(t)
    const webhook = await subscribe(app, receiver)
    const single = await issue({ email: 'Ada@Example.edu', externalId: 'lms-17' })
    const batch = await app.inject({
      method: 'POST', url: '/v1/credentials/batch', headers: admin,
      payload: { achievementId: badge.id, format: 'vc-jwt', jwtAlg: 'EdDSA', items: [1, 2, 3].map((i) => ({ recipient: { did: `did:example:batch-${i}` } })) }
    })
    t.equal(batch.statusCode, 201)
    const issued = [single.id, ...batch.json().credentials.map((item: Json) => item.id)].sort()
    const received = await receiver.waitFor(4)
    t.same(ids(received), issued, 'one per credential')
    const ada = received.find((r) => r.payload!.data.credentialId === single.id)!
    t.match(ada.payload, {
      type: 'credential.issued',
      timestamp: String,
      data: {
        credentialId: single.id, url: `https://badges.example.edu/credentials/${single.id}`, issuerId: college.id, achievementId: badge.id,
        recipient: { identityType: 'email', identity: 'ada@example.edu' }, externalId: 'lms-17'
      }
    })
    t.equal(ada.headers['webhook-id'], (await db.selectFrom('events').select('id').where(({ ref }) => ref('data', '->>').key('credentialId'), '=', single.id).executeTakeFirstOrThrow()).id)
    t.match(ada.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+={0,2}$/)
    t.match(ada.headers['webhook-timestamp'], /^\d+$/)
    t.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(ada.body, ada.headers as Record<string, string>), 'another key does not verify')
    const log = await settled(webhook.id, (items) => items.length === 4 && items.every((d) => d.status === 'delivered'))
    t.match(log[0], { id: String, eventId: String, type: 'credential.issued', status: 'delivered', attempts: 1, lastStatusCode: 200 })
    t.notOk('nextAttemptAt' in log[0]!)
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.equal(receiver.received.length, 4, 'nothing delivered twice')
    await unsubscribe(webhook.id)
  })

  await t.test('revoking delivers credential.revoked with the reason', async (t) => {
    const credential = await issue({ did: 'did:example:to-revoke' })
    const receiver = await startReceiver(t)
    const webhook = await subscribe(app, receiver, { events: ['credential.revoked'] })
    const res = await app.inject({ method: 'POST', url: `/v1/credentials/${credential.id}/revoke`, headers: admin, payload: { reason: 'issued in error' } })
    t.equal(res.statusCode, 200)
    const [received] = await receiver.waitFor(1)
    t.match(received!.payload, { type: 'credential.revoked', data: { credentialId: credential.id, issuerId: college.id, achievementId: badge.id, reason: 'issued in error' } })
    await unsubscribe(webhook.id)
  })

  await t.test('a receiver failing twice then answering 2xx: three attempts, each recorded, then delivered', async (t) => {
    const receiver = await startReceiver(t)
    // The third answer takes a moment, so the log can be read while it is on its way.
    const answers = [{ status: 500 }, { status: 503, body: `busy ${'x'.repeat(5000)}` }, { status: 204, afterMs: 500 }]
    receiver.answer = (_request, index) => answers[index]!
    const webhook = await subscribe(app, receiver)
    await issue({ did: 'did:example:flaky' })
    // attempts counts an attempt from when it is sent; the last outcome stays until its own is recorded.
    const middle = await settled(webhook.id, (items) => items[0]?.attempts === 3 && items[0]?.lastStatusCode === 503)
    t.match(middle[0], { status: 'pending', lastStatusCode: 503, lastError: /^HTTP 503: busy x+$/, nextAttemptAt: String })
    t.ok(middle[0]!.lastError.length < 300, 'only an excerpt of the reply body')
    const [done] = await settled(webhook.id, (items) => items[0]?.status === 'delivered')
    t.match(done, { status: 'delivered', attempts: 3, lastStatusCode: 204 })
    t.notOk('lastError' in done!)
    t.equal(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size, 1, 'every retry carries the same webhook-id')
    t.equal(receiver.received.filter((r) => r.payload !== undefined).length, 3, 'each retry is signed afresh')

    const res = await attemptsOf(app, webhook.id, done!.id)
    t.equal(res.statusCode, 200, res.body)
    const { items, nextCursor } = res.json()
    t.equal(nextCursor, null)
    t.match(items, [
      { attempt: 1, statusCode: 500, error: 'HTTP 500', startedAt: String, durationMs: Number },
      { attempt: 2, statusCode: 503, error: /^HTTP 503: busy x+$/, responseExcerpt: /^busy x+$/ },
      { attempt: 3, statusCode: 204 }
    ], 'every attempt, first to last, with its own answer')
    t.equal(items[1].responseExcerpt.length, EXCERPT_BYTES, 'only the start of a 5 KB reply body')
    t.notOk('responseExcerpt' in items[0], 'an empty body has no excerpt')
    t.notOk('error' in items[2], 'the delivered attempt has no error')
    t.ok(items[2].durationMs >= 450, `the slow answer's duration is measured (${items[2].durationMs} ms)`)
    const started = items.map((item: Json) => Date.parse(item.startedAt))
    t.ok(started[0] < started[1] && started[1] < started[2], 'in the order they were sent')
    t.notOk(res.body.includes(receiver.secret.slice('whsec_'.length)), 'the signing secret is in no attempt')

    const first = (await attemptsOf(app, webhook.id, done!.id, admin, '?limit=2')).json()
    t.same(first.items.map((item: Json) => item.attempt), [1, 2])
    t.equal(first.nextCursor, '2')
    const rest = (await attemptsOf(app, webhook.id, done!.id, admin, `?limit=2&cursor=${first.nextCursor}`)).json()
    t.same(rest, { items: [items[2]], nextCursor: null }, 'the next page goes on from the cursor')
    await unsubscribe(webhook.id)
  })

  await t.test('a reply body with a NUL byte is recorded all the same, the NUL replaced', async (t) => {
    const receiver = await startReceiver(t)
    const answers = [{ status: 500, body: 'bad\u0000byte' }, { status: 200, body: '{"ok":true}' }]
    receiver.answer = (_request, index) => answers[index]!
    const webhook = await subscribe(app, receiver)
    await issue({ did: 'did:example:nul' })
    const [done] = await settled(webhook.id, (items) => items[0]?.status === 'delivered')
    t.match((await attemptsOf(app, webhook.id, done!.id)).json().items, [
      { attempt: 1, statusCode: 500, error: 'HTTP 500: bad\uFFFDbyte', responseExcerpt: 'bad\uFFFDbyte' },
      { attempt: 2, statusCode: 200, responseExcerpt: '{"ok":true}' }
    ])
    await unsubscribe(webhook.id)
  })

  await t.test('a redirect is not followed: the attempt fails saying so', async (t) => {
    const receiver = await startReceiver(t)
    receiver.answer = () => ({ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } })
    const webhook = await subscribe(app, receiver)
    await issue({ did: 'did:example:redirected' })
    const [pending] = await settled(webhook.id, (items) => items[0]?.attempts >= 1 && items[0]?.lastStatusCode === 302)
    t.match(pending!.lastError, /redirects are not followed/)
    const [redirect] = (await attemptsOf(app, webhook.id, pending!.id)).json().items
    t.match(redirect, { attempt: 1, statusCode: 302, error: /redirects are not followed/ })
    await unsubscribe(webhook.id)
  })

  await t.test('an API key\'s webhooks receive only its issuer\'s events; the admin\'s receive all', async (t) => {
    const other = await createIssuer(app, { name: 'Southport Institute' })
    const otherBadge = await createAchievement(app, other.id)
    const mine = bearer((await createApiKey(app, college.id)).key)
    const theirs = bearer((await createApiKey(app, other.id)).key)
    const [a, b, all] = [await startReceiver(t), await startReceiver(t), await startReceiver(t)]
    const hookA = await subscribe(app, a, {}, mine)
    const hookB = await subscribe(app, b, {}, theirs)
    const hookAll = await subscribe(app, all, {})
    const onlyB = await startReceiver(t)
    const hookOnlyB = await subscribe(app, onlyB, { issuerId: other.id })
    t.equal(hookA.issuerId, college.id)
    t.equal(hookOnlyB.issuerId, other.id)

    // At once: the two commits' nudges come together and make one dispatcher pass.
    const [fromA, fromB] = await Promise.all([
      issue({ did: 'did:example:tenant-a' }, mine),
      app.inject({ method: 'POST', url: '/v1/credentials', headers: theirs, payload: { achievementId: otherBadge.id, recipient: { did: 'did:example:tenant-b' }, format: 'vc-jwt', jwtAlg: 'EdDSA' } })
        .then((res) => res.json())
    ])
    t.same(ids(await all.waitFor(2)), [fromA.id, fromB.id].sort())
    t.same(ids(await a.waitFor(1)), [fromA.id])
    t.same(ids(await b.waitFor(1)), [fromB.id])
    t.same(ids(await onlyB.waitFor(1)), [fromB.id])
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.equal(a.received.length, 1, 'A never hears of B')
    t.equal(b.received.length, 1, 'B never hears of A')

    const listed = (await app.inject({ method: 'GET', url: '/v1/webhooks', headers: mine })).json().items
    t.same(listed.map((w: Json) => w.id), [hookA.id], 'an API key lists its own webhooks only')
    for (const [method, url] of [['GET', `/v1/webhooks/${hookB.id}`], ['PATCH', `/v1/webhooks/${hookB.id}`], ['DELETE', `/v1/webhooks/${hookB.id}`],
      ['GET', `/v1/webhooks/${hookB.id}/deliveries`], ['GET', `/v1/webhooks/${hookAll.id}`]] as const) {
      assertProblem(t, await app.inject({ method, url, headers: mine, ...(method === 'PATCH' && { payload: { description: 'mine now' } }) }), 404, 'not-found')
    }
    const [delivery] = await deliveries(hookB.id)
    assertProblem(t, await app.inject({ method: 'POST', url: `/v1/webhooks/${hookA.id}/deliveries/${delivery!.id}/retry`, headers: mine }), 404, 'not-found')
    t.equal((await attemptsOf(app, hookB.id, delivery!.id, theirs)).statusCode, 200, 'an API key reads its own webhook\'s attempts')
    assertProblem(t, await attemptsOf(app, hookB.id, delivery!.id, mine), 404, 'not-found')
    assertProblem(t, await attemptsOf(app, hookA.id, delivery!.id, mine), 404, 'not-found')
    const foreign = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: mine, payload: { url: a.url, events: ['credential.issued'], issuerId: other.id } })
    t.match(assertProblem(t, foreign, 403, 'admin-only').errors, [{ pointer: '/issuerId' }])
    const own = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: mine, payload: { url: a.url, events: ['credential.issued'], issuerId: college.id } })
    t.equal(own.statusCode, 201, 'naming its own issuer is allowed')
    const unknown = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: admin, payload: { url: a.url, events: ['job.completed'], issuerId: '00000000-0000-4000-8000-000000000000' } })
    t.match(assertProblem(t, unknown, 422, 'unknown-issuer').errors, [{ pointer: '/issuerId' }])
    for (const hook of [hookA, hookB, hookAll, hookOnlyB, own.json()]) await unsubscribe(hook.id)
  })

  await t.test('a failed issue writes no event: the outbox is the issuing statement\'s', async (t) => {
    const count = async () => Number((await db.selectFrom('events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n)
    const before = await count()
    await db.updateTable('achievements').set({ achievement_type: 'NotAType' }).where('id', '=', badge.id).execute()
    const failed = await app.inject({
      method: 'POST', url: '/v1/credentials/batch', headers: admin,
      payload: { achievementId: badge.id, format: 'vc-jwt', jwtAlg: 'EdDSA', items: [{ recipient: { did: 'did:example:x1' } }, { recipient: { did: 'did:example:x2' } }] }
    })
    await db.updateTable('achievements').set({ achievement_type: 'Certificate' }).where('id', '=', badge.id).execute()
    t.equal(failed.statusCode, 422)
    t.equal(await count(), before)
    const credentials = Number((await db.selectFrom('credentials').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n)
    const issuedEvents = Number((await db.selectFrom('events').select((eb) => eb.fn.countAll<string>().as('n')).where('type', '=', 'credential.issued').executeTakeFirstOrThrow()).n)
    t.equal(issuedEvents, credentials, 'one credential.issued per credential, so far')
  })

  await t.test('events left undelivered by a stopped instance are delivered by the next one', async (t) => {
    const receiver = await startReceiver(t)
    const webhook = await subscribe(app, receiver, { events: ['job.completed'] })
    // What a crash leaves: an event committed but never fanned out, and a delivery claimed but never recorded.
    await appendEvent(db, { type: 'job.completed', issuerId: null, data: { jobId: 'left-behind' } })
    await receiver.waitFor(1)
    receiver.received.length = 0
    await app.close()
    await appendEvent(db, { type: 'job.completed', issuerId: null, data: { jobId: 'after-close' } })
    await db.updateTable('webhook_deliveries').set({ status: 'pending', next_attempt_at: new Date(), locked_until: new Date(Date.now() - 1000) })
      .where('webhook_id', '=', webhook.id).execute()
    const next = await buildWebhookApp(t, database)
    const received = await receiver.waitFor(2)
    t.same(received.map((r) => r.payload!.data.jobId).sort(), ['after-close', 'left-behind'])
    await next.app.inject({ method: 'DELETE', url: `/v1/webhooks/${webhook.id}`, headers: admin })
    t.equal(logs.filter((line) => line.includes(receiver.secret.slice(6))).length, 0, 'the secret is in no log line')
    t.equal(next.logs.filter((line) => line.includes(receiver.secret.slice(6))).length, 0, 'the secret is in no log line')
    t.ok(logs.some((line) => line.includes('webhook delivery attempt')), 'attempts are logged')
  })
})

await onEachDatabase(t, async (t, database) => {
  await t.test('two instances on one database deliver each event once', async (t) => {
    const one = await buildWebhookApp(t, database)
    await buildWebhookApp(t, database)
    const receiver = await startReceiver(t)
    await subscribe(one.app, receiver, { events: ['job.failed'] })
    for (let i = 0; i < 12; i++) await appendEvent(database.db, { type: 'job.failed', issuerId: null, data: { n: i } })
    const received = await receiver.waitFor(12)
    await new Promise((resolve) => setTimeout(resolve, 150))
    t.equal(receiver.received.length, 12)
    t.same(received.map((r) => r.payload!.data.n).sort((x, y) => x - y), [...Array(12).keys()])
  })

  await t.test('a receiver that never answers: each attempt times out, is retried, and after the last the delivery fails', async (t) => {
    const { app } = await buildWebhookApp(t, database, { webhooks: { timeoutMs: 300 } })
    const issuer = await createIssuer(app, { name: 'Patient College' })
    const badge = await createAchievement(app, issuer.id)
    const receiver = await startReceiver(t)
    receiver.answer = () => 'hang'
    const webhook = await subscribe(app, receiver)
    const log = async () => (await app.inject({ method: 'GET', url: `/v1/webhooks/${webhook.id}/deliveries`, headers: admin })).json().items as Json[]
    const started = Date.now()
    const issued = await app.inject({ method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: badge.id, recipient: { did: 'did:example:hang' }, format: 'vc-jwt', jwtAlg: 'EdDSA' } })
    t.equal(issued.statusCode, 201)
    t.ok(Date.now() - started < 1000, 'issuing does not wait for the receiver')
    const until = async (status: string) => {
      for (let i = 0; i < 500; i++) {
        const [item] = await log()
        if (item?.status === status) return item
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      throw new Error(`never ${status}: ${JSON.stringify(await log())}`)
    }
    const failed = await until('failed')
    t.match(failed, { status: 'failed', attempts: 4, lastError: /did not send a complete answer within 300 ms/ })
    t.notOk('lastStatusCode' in failed)
    t.notOk('nextAttemptAt' in failed)
    const timedOut = (await app.inject({ method: 'GET', url: `/v1/webhooks/${webhook.id}/deliveries/${failed.id}/attempts`, headers: admin })).json().items as Json[]
    t.same(timedOut.map((item) => item.attempt), [1, 2, 3, 4])
    for (const item of timedOut) {
      t.match(item, { error: /did not send a complete answer within 300 ms/ })
      t.notOk('statusCode' in item || 'responseExcerpt' in item, 'no answer, so no status code and no excerpt')
      t.ok(item.durationMs >= 250, `it waited for the timeout (${item.durationMs} ms)`)
    }

    receiver.answer = () => ({ status: 200 })
    const retry = await app.inject({ method: 'POST', url: `/v1/webhooks/${webhook.id}/deliveries/${failed.id}/retry`, headers: admin })
    t.equal(retry.statusCode, 202)
    const delivered = await until('delivered')
    t.match(delivered, { attempts: 5, lastStatusCode: 200 })
    const after = (await app.inject({ method: 'GET', url: `/v1/webhooks/${webhook.id}/deliveries/${failed.id}/attempts`, headers: admin })).json().items as Json[]
    t.match(after.at(-1), { attempt: 5, statusCode: 200 }, 'the manual retry is one more attempt')
  })

  await t.test('webhook URLs obey the private-address rule unless private fetches are allowed', async (t) => {
    const { app } = await buildWebhookApp(t, database, { env: { LANYARD_ALLOW_PRIVATE_FETCH: 'false' } })
    const create = (url: string) => app.inject({ method: 'POST', url: '/v1/webhooks', headers: admin, payload: { url, events: ['credential.issued'] } })
    for (const [url, message] of [['https://127.0.0.1/hooks', /points at 127\.0\.0\.1, a loopback address/], ['https://localhost/hooks', /resolves to/],
      ['http://lms.example.edu/hooks', /not an https URL/]] as const) {
      const body = assertProblem(t, await create(url), 422, 'webhook-url-refused')
      t.match(body.errors, [{ pointer: '/url', message }], url)
    }
    const later = await create('https://lms-not-yet.invalid/hooks')
    t.equal(later.statusCode, 201, 'a name that does not resolve yet is accepted (each delivery checks again)')
    const patched = await app.inject({ method: 'PATCH', url: `/v1/webhooks/${later.json().id}`, headers: admin, payload: { url: 'https://10.0.0.8/hooks' } })
    t.match(assertProblem(t, patched, 422, 'webhook-url-refused').errors, [{ pointer: '/url' }])
  })

  await t.test('PATCH changes events, URL and description; DELETE removes the webhook', async (t) => {
    const { app } = await buildWebhookApp(t, database)
    const receiver = await startReceiver(t)
    const made = await subscribe(app, receiver)
    const patched = await app.inject({
      method: 'PATCH', url: `/v1/webhooks/${made.id}`, headers: admin,
      payload: { events: ['claim.accepted', 'claim.accepted', 'submission.created'], url: `${receiver.url}/v2`, description: 'wallet claims' }
    })
    t.equal(patched.statusCode, 200, patched.body)
    t.match(patched.json(), { events: ['claim.accepted', 'submission.created'], url: `${receiver.url}/v2`, description: 'wallet claims' })
    const cleared = await app.inject({ method: 'PATCH', url: `/v1/webhooks/${made.id}`, headers: admin, payload: { description: null } })
    t.equal(cleared.json().description, null)
    const bad = await app.inject({ method: 'PATCH', url: `/v1/webhooks/${made.id}`, headers: admin, payload: { events: ['credential.minted'] } })
    t.equal(bad.statusCode, 400)
    t.match(bad.json().errors, [{ pointer: '/events/0' }])
    const empty = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: admin, payload: { url: receiver.url, events: [] } })
    t.match(empty.json().errors, [{ pointer: '/events' }])
    const unknownDelivery = await app.inject({ method: 'POST', url: `/v1/webhooks/${made.id}/deliveries/00000000-0000-4000-8000-000000000000/retry`, headers: admin })
    assertProblem(t, unknownDelivery, 404, 'not-found')
    assertProblem(t, await attemptsOf(app, made.id, '00000000-0000-4000-8000-000000000000'), 404, 'not-found')
    const badCursor = await attemptsOf(app, made.id, '00000000-0000-4000-8000-000000000000', admin, '?cursor=first')
    t.match(assertProblem(t, badCursor, 400, 'validation-failed').errors, [{ pointer: '/cursor' }])
    const second = await subscribe(app, receiver, { events: ['job.completed'] })
    const first = await app.inject({ method: 'GET', url: '/v1/webhooks?limit=1', headers: admin })
    t.equal(first.json().items.length, 1)
    const rest = await app.inject({ method: 'GET', url: `/v1/webhooks?limit=1&cursor=${first.json().nextCursor}`, headers: admin })
    t.not(rest.json().items[0].id, first.json().items[0].id, 'the next page goes on from the cursor')
    for (const n of [1, 2]) await appendEvent(database.db, { type: 'job.completed', issuerId: null, data: { n } })
    await receiver.waitFor(2)
    const page = (await app.inject({ method: 'GET', url: `/v1/webhooks/${second.id}/deliveries?limit=1`, headers: admin })).json()
    const next = (await app.inject({ method: 'GET', url: `/v1/webhooks/${second.id}/deliveries?limit=1&cursor=${page.nextCursor}`, headers: admin })).json()
    t.ok(next.items[0].id < page.items[0].id, 'deliveries page newest first')
    t.equal(next.nextCursor, null)
    t.equal((await app.inject({ method: 'DELETE', url: `/v1/webhooks/${made.id}`, headers: admin })).statusCode, 204)
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/webhooks/${made.id}`, headers: admin }), 404, 'not-found')
  })

  await t.test('an attempt recorded again (a repeat after a lost reply) is stored once; one of a deleted delivery, not at all', async (t) => {
    const { app } = await buildWebhookApp(t, database)
    const receiver = await startReceiver(t)
    const made = await subscribe(app, receiver, { events: ['job.completed'] })
    await appendEvent(database.db, { type: 'job.completed', issuerId: null, data: { n: 'once' } })
    await receiver.waitFor(1)
    const delivery = () => database.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', made.id).executeTakeFirstOrThrow()
    for (let i = 0; i < 300 && (await delivery()).status !== 'delivered'; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    const { id } = await delivery()
    const repeat = { status: 'delivered', nextAttemptAt: null, statusCode: 200, error: null, responseExcerpt: 'again', startedAt: new Date(), durationMs: 1 } as const
    await recordOutcome(database.db, { id, attempts: 1 }, repeat)
    const attempts = await database.db.selectFrom('webhook_delivery_attempts').selectAll().where('delivery_id', '=', id).execute()
    t.match(attempts, [{ attempt: 1, status_code: 200, response_excerpt: null }], 'the first record stands')
    t.equal(attempts.length, 1)
    await app.inject({ method: 'DELETE', url: `/v1/webhooks/${made.id}`, headers: admin })
    await recordOutcome(database.db, { id, attempts: 2 }, repeat)
    t.equal((await database.db.selectFrom('webhook_delivery_attempts').select('attempt').where('delivery_id', '=', id).execute()).length, 0,
      'deleting the webhook deleted its attempts, and a late one records nothing')
  })

  await t.test('a delivery whose secret cannot be opened is logged and left to its lease, not sent unsigned', async (t) => {
    const { app, logs } = await buildWebhookApp(t, database)
    const receiver = await startReceiver(t)
    const made = await subscribe(app, receiver, { events: ['pathway.completed'] })
    await database.db.updateTable('webhooks').set({ sealed_secret: 'v1.broken' }).where('id', '=', made.id).execute()
    await appendEvent(database.db, { type: 'pathway.completed', issuerId: null, data: {} })
    for (let i = 0; i < 300 && !logs.some((line) => line.includes('webhook delivery attempt failed in Lanyard')); i++) await new Promise((resolve) => setTimeout(resolve, 10))
    t.ok(logs.some((line) => line.includes('webhook delivery attempt failed in Lanyard')))
    t.equal(receiver.received.length, 0)
  })
})

t.test('LANYARD_WEBHOOK_RETRY_DELAYS_MS is a list of waits in ms', async (t) => {
  t.same(loadConfig({}).LANYARD_WEBHOOK_RETRY_DELAYS_MS, [5000, 30000, 120000, 600000, 3600000, 21600000, 86400000])
  t.same(loadConfig({ LANYARD_WEBHOOK_RETRY_DELAYS_MS: '10, 20,30' }).LANYARD_WEBHOOK_RETRY_DELAYS_MS, [10, 20, 30])
  for (const value of ['soon', '0', '1,,2', String(Array(21).fill(1))]) {
    t.throws(() => loadConfig({ LANYARD_WEBHOOK_RETRY_DELAYS_MS: value }), ConfigError, value)
  }
})
