// Jobs through HTTP: JSON and CSV issue jobs end to end, checks before queueing, replay, revoke, cancel, tenants.
import { parse } from 'csv-parse/sync'
import t from 'tap'
import { admin, assertProblem, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement, resolverFor } from './helpers/credentials.js'
import { verifyDataIntegrity } from './helpers/independent-verifier.js'
import { allResults, learners, submitJob, waitForJob } from './helpers/jobs.js'

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database, { env: { STATUS_LIST_SIZE: '1024' }, jobs: { chunkSize: 20, worker: { pollMs: 20 } } })
  const resolve = resolverFor(app)
  const issuer = await createIssuer(app)
  const badge = await createAchievement(app, issuer.id)
  const key = await createApiKey(app, issuer.id)
  const jobCount = async () => Number((await db.selectFrom('jobs').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n)
  const csv = (body: string | Buffer, query = `type=issue&achievementId=${badge.id}`, headers: Record<string, string> = admin) =>
    app.inject({ method: 'POST', url: `/v1/jobs?${query}`, headers: { ...headers, 'content-type': 'text/csv' }, payload: body })

  await t.test('a JSON issue job of 50 runs in chunks to completed; each row has one verifying credential with its externalId', async (t) => {
    const res = await app.inject({ method: 'POST', url: '/v1/jobs', headers: bearer(key.key), payload: { type: 'issue', achievementId: badge.id, items: learners(50) } })
    t.equal(res.statusCode, 202, res.body)
    const queued = res.json()
    t.match(queued, { type: 'issue', status: 'queued', total: 50, url: `https://badges.example.edu/v1/jobs/${queued.id}` })
    t.equal(res.headers.location, `/v1/jobs/${queued.id}`)
    const job = await waitForJob(app, queued.id, bearer(key.key))
    t.match(job, { status: 'completed', total: 50, succeeded: 50, failed: 0, error: null })
    t.ok(job.startedAt !== null && job.finishedAt !== null && job.rowsPerSecond > 0)
    t.comment(`50 rows: ${job.rowsPerSecond} rows/s, created ${job.createdAt} started ${job.startedAt} finished ${job.finishedAt}`)
    const results = await allResults(app, job.id, '', bearer(key.key))
    t.same(results.map((r) => r.row), Array.from({ length: 50 }, (_, i) => i))
    t.same(results.map((r) => r.externalId), learners(50).map((l) => l.recipient.externalId))
    t.equal(new Set(results.map((r) => r.credentialId)).size, 50)
    const credential = (await app.inject({ method: 'GET', url: results[7]!.url!.replace('https://badges.example.edu', '') })).json()
    t.equal(credential.credentialSubject.identifier[0].identityHash.length > 0, true)
    t.ok((await verifyDataIntegrity(credential, resolve)).verified)
    const issued = await db.selectFrom('credentials').select((eb) => eb.fn.countAll<string>().as('n')).where('achievement_id', '=', badge.id).executeTakeFirstOrThrow()
    t.equal(Number(issued.n), 50)
  })

  await t.test('a CSV issue job: BOM, CRLF, quoted commas and line breaks, accents and CJK, header counted as row 1', async (t) => {
    const file = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(
      'Email,name,externalId,narrative\r\n' +
      'zoe@example.com,Zoë Ångström,lms-1,"Welded, inspected, and passed"\r\n' +
      'wei@example.com,王伟,lms-2,"Line one\r\nline two"\r\n' +
      '\r\n' +
      'jose@example.com,"José ""Pepe"" Núñez","lms-3,b",\r\n', 'utf8')])
    const res = await csv(file)
    t.equal(res.statusCode, 202, res.body)
    const job = await waitForJob(app, res.json().id)
    t.match(job, { status: 'completed', total: 3, succeeded: 3 })
    const results = await allResults(app, job.id)
    t.same(results.map((r) => [r.row, r.externalId]), [[2, 'lms-1'], [3, 'lms-2'], [4, 'lms-3,b']])
    const subjects = []
    for (const r of results) subjects.push((await app.inject({ method: 'GET', url: `/credentials/${r.credentialId}` })).json().credentialSubject)
    t.same(subjects.map((s) => s.name), ['Zoë Ångström', '王伟', 'José "Pepe" Núñez'])
    t.equal(subjects[0].achievement.name, badge.name)
    t.equal(subjects[1].narrative, 'Line one\r\nline two')

    const download = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/results`, headers: { ...admin, accept: 'text/csv' } })
    t.equal(download.statusCode, 200)
    t.match(download.headers['content-type'], /^text\/csv/)
    const lines = download.body.trimEnd().split('\r\n')
    t.equal(lines[0], 'row,externalId,credentialId,url,error')
    t.equal(lines[1], `2,lms-1,${results[0]!.credentialId},${results[0]!.url},`)
    t.equal(lines.length, 4)
    t.match(lines[3], /^4,"lms-3,b",/)

    const jwt = await csv('email\nj@example.com', `type=issue&achievementId=${badge.id}&format=vc-jwt&jwtAlg=EdDSA`)
    t.equal(jwt.statusCode, 202, jwt.body)
    t.match(await waitForJob(app, jwt.json().id), { status: 'completed', succeeded: 1 })
  })

  await t.test('results as CSV defuse what a spreadsheet would run as a formula (OWASP CSV injection), and keep numbers as they are', async (t) => {
    const externalIds = ['=HYPERLINK("https://evil.example")', '@SUM(A1)', '+1 (555) call', '-42', '+7.5', 'plain']
    const job = await waitForJob(app, (await submitJob(app, {
      type: 'issue', achievementId: badge.id, items: externalIds.map((externalId, i) => ({ recipient: { email: `formula-${i}@example.com`, externalId } }))
    })).id)
    t.match(job, { status: 'completed', succeeded: externalIds.length })
    const download = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/results`, headers: { ...admin, accept: 'text/csv' } })
    const cells = (parse(download.body, { columns: true }) as { externalId: string }[]).map((row) => row.externalId)
    t.same(cells, ['\'=HYPERLINK("https://evil.example")', "'@SUM(A1)", "'+1 (555) call", '-42', '+7.5', 'plain'])
    t.same((await allResults(app, job.id)).map((r) => r.externalId), externalIds, 'JSON results keep the text as given')
  })

  await t.test('results as CSV stream page by page, past a thousand rows', async (t) => {
    const ids = Array.from({ length: 1001 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)
    const job = await waitForJob(app, (await submitJob(app, { type: 'revoke', ids })).id)
    t.match(job, { status: 'completed', succeeded: 0, failed: 1001 })
    const download = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/results?outcome=failed`, headers: { ...admin, accept: 'text/csv' } })
    const lines = download.body.trimEnd().split('\r\n')
    t.equal(lines.length, 1002)
    t.match(lines[1001], /^1000,,00000000-0000-4000-8000-000000001000,https:\/\/badges.example.edu\/credentials\/00000000-0000-4000-8000-000000001000,no credential/)
  })

  await t.test('bad rows: one 422 naming every bad row (items and CSV rows), and nothing is queued', async (t) => {
    const before = await jobCount()
    const items: object[] = learners(60)
    items[41] = { recipient: { email: 'not an email' } }
    items[7] = { recipient: { email: 'a@example.com', did: 'did:example:x' } }
    items[9] = { recipient: { email: 'b@example.com' }, validFrom: 'yesterday', extra: 1 }
    items[11] = { recipient: { email: 'c\u0000@example.com' } }
    const res = await app.inject({ method: 'POST', url: '/v1/jobs', headers: admin, payload: { type: 'issue', achievementId: badge.id, items } })
    const problem = assertProblem(t, res, 422, 'rows-invalid')
    t.same(problem.errors.map((e: { pointer: string }) => e.pointer), ['/items/7/recipient', '/items/9/validFrom', '/items/9/extra', '/items/11/recipient/email', '/items/41/recipient/email'])
    t.equal(problem.errorCount, 5)

    const rows = ['email,name,validUntil', 'ok@example.com,Ok,', 'bad,Bad,', 'x@example.com,X,not-a-date', 'y@example.com', ',Nobody,']
    const bad = assertProblem(t, await csv(rows.join('\n')), 422, 'rows-invalid')
    t.same(bad.errors.map((e: { pointer: string }) => e.pointer), ['/rows/3/email', '/rows/4/validUntil', '/rows/5', '/rows/6'])

    const many = assertProblem(t, await csv(['email', ...Array.from({ length: 150 }, (_, i) => `bad${i}`)].join('\n')), 422, 'rows-invalid')
    t.equal(many.errors.length, 100)
    t.equal(many.errorCount, 150)
    t.match(many.detail, /150 problems .*first 100/)
    t.equal(await jobCount(), before, 'no job was queued')
  })

  await t.test('a CSV header that cannot be used, an empty file, unreadable CSV, a missing query: 4xx problems', async (t) => {
    const header = assertProblem(t, await csv('Email,shoe size,email\na@example.com,9,b@example.com'), 422, 'rows-invalid')
    t.same(header.errors.map((e: { pointer: string }) => e.pointer), ['/rows/1/shoe size', '/rows/1/email'])
    assertProblem(t, await csv('name\nAda'), 422, 'rows-invalid')
    assertProblem(t, await csv('email\n'), 422, 'rows-invalid')
    assertProblem(t, await csv('email,name\na@example.com,"unclosed'), 400, 'invalid-csv')
    const query = assertProblem(t, await csv('email\na@example.com', 'format=vc-jwt&jwtAlg=ES256'), 400, 'validation-failed')
    t.same(query.errors.map((e: { pointer: string }) => e.pointer), ['/type', '/achievementId'])
    assertProblem(t, await csv('email\na@example.com', `type=issue&achievementId=${badge.id}&jwtAlg=ES256`), 400, 'validation-failed')
    assertProblem(t, await csv('email\na@example.com', 'type=revoke'), 400, 'validation-failed')
    const json = assertProblem(t, await app.inject({ method: 'POST', url: '/v1/jobs', headers: admin, payload: { type: 'issue', achievementId: 'x', items: [], more: 1 } }), 400, 'validation-failed')
    t.same(json.errors.map((e: { pointer: string }) => e.pointer), ['/achievementId', '/items', '/more'])
    assertProblem(t, await app.inject({ method: 'POST', url: '/v1/jobs', headers: admin, payload: { type: 'award' } }), 400, 'validation-failed')
    const root = assertProblem(t, await app.inject({ method: 'POST', url: '/v1/jobs', headers: admin, payload: [] }), 400, 'validation-failed')
    t.match(root.detail, /\(root\)/)
    const one = assertProblem(t, await app.inject({ method: 'POST', url: '/v1/jobs', headers: admin, payload: { type: 'issue', achievementId: badge.id, items: [{ recipient: {} }] } }), 422, 'rows-invalid')
    t.match(one.detail, /^1 problem in the rows/)
    assertProblem(t, await app.inject({ method: 'POST', url: '/v1/jobs', headers: admin, payload: { type: 'issue', achievementId: '00000000-0000-4000-8000-000000000000', items: learners(1) } }), 404, 'not-found')
  })

  await t.test('over the body limit or over 100,000 rows: 413, nothing queued', async (t) => {
    const before = await jobCount()
    const { app: small } = await buildTestApp(t, database, { env: { LANYARD_JOB_BODY_LIMIT: '2000' }, jobs: { autoStart: false } })
    const big = `email\n${Array.from({ length: 200 }, (_, i) => `l${i}@example.com`).join('\n')}`
    const csvTooBig = await small.inject({ method: 'POST', url: `/v1/jobs?type=issue&achievementId=${badge.id}`, headers: { ...admin, 'content-type': 'text/csv' }, payload: big })
    assertProblem(t, csvTooBig, 413, 'body-too-large')
    const jsonTooBig = await small.inject({ method: 'POST', url: '/v1/jobs', headers: admin, payload: { type: 'issue', achievementId: badge.id, items: learners(40) } })
    assertProblem(t, jsonTooBig, 413, 'body-too-large')
    // Without a Content-Length the limit is counted as the bytes arrive.
    const { Readable } = await import('node:stream')
    const streamed = await small.inject({ method: 'POST', url: `/v1/jobs?type=issue&achievementId=${badge.id}`, headers: { ...admin, 'content-type': 'text/csv' }, payload: Readable.from([Buffer.from(big)]) })
    assertProblem(t, streamed, 413, 'body-too-large')

    const rows = `email\n${'a@example.com\n'.repeat(100_001)}`
    assertProblem(t, await csv(rows), 413, 'too-many-rows')
    const ids = Array.from({ length: 100_001 }, () => '00000000-0000-4000-8000-000000000000')
    assertProblem(t, await app.inject({ method: 'POST', url: '/v1/jobs', headers: admin, payload: { type: 'revoke', ids } }), 413, 'too-many-rows')
    t.equal(await jobCount(), before)
  })

  await t.test('an Idempotency-Key replays the same job; the same key with another body is a 409', async (t) => {
    const payload = { type: 'issue', achievementId: badge.id, items: learners(3, 'idem') }
    const headers = { ...admin, 'idempotency-key': 'cohort-2026-spring' }
    const [first, second] = await Promise.all([
      app.inject({ method: 'POST', url: '/v1/jobs', headers, payload }),
      app.inject({ method: 'POST', url: '/v1/jobs', headers, payload })
    ])
    t.equal(first.statusCode, 202)
    t.equal(second.statusCode, 202)
    t.equal(first.json().id, second.json().id, 'two submissions at once make one job')
    const again = await app.inject({ method: 'POST', url: '/v1/jobs', headers, payload })
    t.equal(again.json().id, first.json().id)
    t.equal(again.headers['idempotent-replayed'], 'true')
    assertProblem(t, await app.inject({ method: 'POST', url: '/v1/jobs', headers, payload: { ...payload, items: learners(4, 'idem') } }), 409, 'idempotency-key-reused')
    await waitForJob(app, first.json().id)
  })

  await t.test('a revoke job revokes what it can; unknown ids and duplicates are named', async (t) => {
    const issued = await waitForJob(app, (await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(25, 'rev') })).id)
    const ids = (await allResults(app, issued.id)).map((r) => r.credentialId)
    const dup = assertProblem(t, await app.inject({ method: 'POST', url: '/v1/jobs', headers: admin, payload: { type: 'revoke', ids: [ids[0], 'nope', ids[0]] } }), 422, 'rows-invalid')
    t.same(dup.errors.map((e: { pointer: string }) => e.pointer), ['/ids/1', '/ids/2'])

    const unknown = '00000000-0000-4000-8000-000000000000'
    const job = await waitForJob(app, (await submitJob(app, { type: 'revoke', ids: [...ids.slice(0, 24), unknown], reason: 'cohort withdrawn' }, bearer(key.key))).id, bearer(key.key))
    t.match(job, { type: 'revoke', status: 'completed', total: 25, succeeded: 24, failed: 1 })
    const failed = await allResults(app, job.id, '&outcome=failed', bearer(key.key))
    t.match(failed, [{ row: 24, credentialId: unknown, error: /no credential/ }])
    t.equal((await allResults(app, job.id, '&outcome=succeeded', bearer(key.key))).length, 24)
    const states = await db.selectFrom('credentials').select(['id', 'status', 'revocation_reason']).where('id', 'in', ids as string[]).execute()
    t.equal(states.filter((s) => s.status === 'revoked' && s.revocation_reason === 'cohort withdrawn').length, 24)
    t.equal(states.find((s) => s.id === ids[24])!.status, 'active')
  })

  await t.test('another issuer\'s API key gets 404 for the job and never sees it in lists', async (t) => {
    const other = await createApiKey(app, (await createIssuer(app, { name: 'Other College' })).id)
    const job = await submitJob(app, { type: 'issue', achievementId: badge.id, items: learners(2, 'tenant') }, bearer(key.key))
    for (const url of [`/v1/jobs/${job.id}`, `/v1/jobs/${job.id}/results`]) {
      assertProblem(t, await app.inject({ method: 'GET', url, headers: bearer(other.key) }), 404, 'not-found')
    }
    assertProblem(t, await app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, headers: bearer(other.key) }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/results`, headers: { ...bearer(other.key), accept: 'text/csv' } }), 404, 'not-found')
    assertProblem(t, await app.inject({ method: 'POST', url: '/v1/jobs', headers: bearer(other.key), payload: { type: 'issue', achievementId: badge.id, items: learners(1) } }), 404, 'not-found')
    t.same((await app.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(other.key) })).json(), { items: [], nextCursor: null })
    // An admin's revoke job has no issuer: only the admin sees it.
    const adminRevoke = await submitJob(app, { type: 'revoke', ids: ['00000000-0000-4000-8000-000000000000'] })
    assertProblem(t, await app.inject({ method: 'GET', url: `/v1/jobs/${adminRevoke.id}`, headers: bearer(key.key) }), 404, 'not-found')

    const mine = (await app.inject({ method: 'GET', url: '/v1/jobs?limit=200', headers: bearer(key.key) })).json().items.map((j: { id: string }) => j.id)
    t.ok(mine.includes(job.id))
    t.notOk(mine.includes(adminRevoke.id))
    const all = (await app.inject({ method: 'GET', url: '/v1/jobs?limit=2', headers: admin })).json()
    t.equal(all.items.length, 2)
    const next = (await app.inject({ method: 'GET', url: `/v1/jobs?limit=200&cursor=${all.nextCursor}`, headers: admin })).json()
    t.ok(next.items.some((j: { id: string }) => j.id === adminRevoke.id))
    await waitForJob(app, job.id)
    await waitForJob(app, adminRevoke.id)
    const completed = (await app.inject({ method: 'GET', url: '/v1/jobs?status=completed&limit=200', headers: admin })).json().items
    t.ok(completed.every((j: { status: string }) => j.status === 'completed'))
  })
})
