// Achievements' rubrics (OB 3.0 ResultDescriptions) and review policy through the API, and reviewers' results checked against rubrics.
import { readFileSync } from 'node:fs'
import { Ajv2019 } from 'ajv/dist/2019.js'
import addFormats from 'ajv-formats'
import type { InjectOptions } from 'fastify'
import t from 'tap'
import { normaliseRubrics, resultEntries, resultErrors, rubricErrors, type RubricInput } from '../src/achievements/rubric.js'
import { achievementDocument } from '../src/achievements/service.js'
import { buildOpenBadgeCredential } from '../src/credentials/build.js'
import type { ResultDescription } from '../src/db/schema.js'
import { expansionProblem } from '../src/verify/data-integrity.js'
import { admin, assertProblem, bearer, buildTestApp, createApiKey, createIssuer, onEachDatabase } from './helpers/app.js'
import { createAchievement } from './helpers/credentials.js'
import { officialSchemaValidator } from './helpers/ob3.js'

const validateCredential = officialSchemaValidator('achievementcredential')

/** The official schema's own Achievement definition, for the public Achievement document (no schema of its own). */
function officialAchievementValidator() {
  const schema = JSON.parse(readFileSync(new URL('../../shared/ob3/schemas/json-ld-published/ob_v3p0_achievementcredential_schema.json', import.meta.url), 'utf8'))
  const ajv = new Ajv2019({ allErrors: true, strict: false })
  addFormats.default(ajv)
  ajv.addSchema(schema)
  const validate = ajv.compile({ $ref: `${schema.$id}#/$defs/Achievement` })
  return (document: unknown): string[] =>
    validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`)
}
const validateAchievement = officialAchievementValidator()

const URN_UUID_V7 = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** A rubric written as people write them: best first, no ids, the required level by name. */
const WRITING: RubricInput = {
  name: 'Writing',
  resultType: 'RubricCriterionLevel',
  rubricCriterionLevel: [
    { name: 'Exemplary', description: 'Clear, precise and well sourced.', points: 3 },
    { name: 'Proficient', points: 2 },
    { name: 'Developing', points: '1' }
  ],
  requiredLevel: 'Proficient'
}

/** A rubric whose client chose the ids, the required level by id. */
const SAFETY: RubricInput = {
  id: 'https://northwind.example.edu/rubrics/safety',
  name: 'Safety',
  resultType: 'RubricCriterionLevel',
  rubricCriterionLevel: [
    { id: 'urn:example:safety:pass', name: 'Pass' },
    { id: 'urn:example:safety:fail', name: 'Not yet' }
  ],
  requiredLevel: 'urn:example:safety:pass'
}

await onEachDatabase(t, async (t, database) => {
  const { app, db } = await buildTestApp(t, database)
  const issuer = await createIssuer(app, { name: 'Northwind College' })

  const patch = (id: string, payload: Record<string, unknown>, headers: Record<string, string> = admin) =>
    app.inject({ method: 'PATCH', url: `/v1/achievements/${id}`, headers, payload })
  const get = async (id: string) => (await app.inject({ method: 'GET', url: `/v1/achievements/${id}`, headers: admin })).json()
  const storedColumns = (id: string) =>
    db.selectFrom('achievements').select(['result_descriptions', 'review_policy']).where('id', '=', id).executeTakeFirstOrThrow()

  await t.test('an achievement without rubrics has none, and no review, in its view and none in its document', async (t) => {
    const achievement = await createAchievement(app, issuer.id)
    t.same(achievement.resultDescription, [])
    t.same(achievement.review, { required: false })
    const document = (await app.inject({ method: 'GET', url: `/achievements/${achievement.id}` })).json()
    t.notOk('resultDescription' in document)
  })

  await t.test('PATCH with rubrics: ids are minted where none was given, points become strings, requiredLevel names the level by id', async (t) => {
    const achievement = await createAchievement(app, issuer.id)
    const res = await patch(achievement.id, { resultDescription: [WRITING, SAFETY] })
    t.equal(res.statusCode, 200, res.body)
    const [writing, safety] = res.json().resultDescription
    t.match(writing.id, URN_UUID_V7)
    t.same(writing, {
      id: writing.id,
      type: ['ResultDescription'],
      name: 'Writing',
      resultType: 'RubricCriterionLevel',
      rubricCriterionLevel: [
        { id: writing.rubricCriterionLevel[0].id, type: ['RubricCriterionLevel'], name: 'Exemplary', description: 'Clear, precise and well sourced.', points: '3' },
        { id: writing.rubricCriterionLevel[1].id, type: ['RubricCriterionLevel'], name: 'Proficient', points: '2' },
        { id: writing.rubricCriterionLevel[2].id, type: ['RubricCriterionLevel'], name: 'Developing', points: '1' }
      ],
      requiredLevel: writing.rubricCriterionLevel[1].id
    })
    for (const level of writing.rubricCriterionLevel) t.match(level.id, URN_UUID_V7)
    t.equal(new Set([writing.id, ...writing.rubricCriterionLevel.map((level: { id: string }) => level.id)]).size, 4, 'every id is new')
    t.same(safety, {
      id: SAFETY.id,
      type: ['ResultDescription'],
      name: 'Safety',
      resultType: 'RubricCriterionLevel',
      rubricCriterionLevel: [
        { id: 'urn:example:safety:pass', type: ['RubricCriterionLevel'], name: 'Pass' },
        { id: 'urn:example:safety:fail', type: ['RubricCriterionLevel'], name: 'Not yet' }
      ],
      requiredLevel: 'urn:example:safety:pass'
    }, 'the client\'s ids are kept')

    const fetched = await get(achievement.id)
    t.same(fetched, res.json(), 'GET returns the rubrics with their ids')
    t.same((await storedColumns(achievement.id)).result_descriptions, [writing, safety], 'stored in their published form')

    const again = await patch(achievement.id, { resultDescription: fetched.resultDescription })
    t.equal(again.statusCode, 200, 'what GET returned can be sent back as it is')
    t.same(again.json().resultDescription, fetched.resultDescription, 'and its ids are kept')
  })

  await t.test('the public Achievement and every credential issued from it carry the rubrics, valid per the official schema', async (t) => {
    const achievement = await createAchievement(app, issuer.id)
    const rubrics = (await patch(achievement.id, { resultDescription: [WRITING, SAFETY] })).json().resultDescription

    const document = (await app.inject({ method: 'GET', url: `/achievements/${achievement.id}` })).json()
    t.same(document.resultDescription, rubrics)
    t.same(validateAchievement(document), [], 'an OB 3.0 Achievement per the official schema')

    const issued = await app.inject({
      method: 'POST', url: '/v1/credentials', headers: admin, payload: { achievementId: achievement.id, recipient: { email: 'ann@example.com' } }
    })
    t.equal(issued.statusCode, 201, issued.body)
    const { credential } = issued.json()
    t.same(validateCredential(credential), [], 'valid against the official AchievementCredential schema')
    t.same(credential.credentialSubject.achievement.resultDescription, rubrics)
    t.notOk('result' in credential.credentialSubject, 'a credential issued directly states no results')
  })

  await t.test('null or [] removes the rubrics', async (t) => {
    for (const removal of [null, []]) {
      const achievement = await createAchievement(app, issuer.id, { resultDescription: [WRITING] })
      t.equal(achievement.resultDescription.length, 1, 'POST takes rubrics too')
      const res = await patch(achievement.id, { resultDescription: removal })
      t.equal(res.statusCode, 200)
      t.same(res.json().resultDescription, [])
      t.same((await storedColumns(achievement.id)).result_descriptions, [])
      const document = (await app.inject({ method: 'GET', url: `/achievements/${achievement.id}` })).json()
      t.notOk('resultDescription' in document, `${JSON.stringify(removal)}: the document has none`)
    }
  })

  await t.test('rubrics that cannot be used answer 422 naming each field, and change nothing', async (t) => {
    const achievement = await createAchievement(app, issuer.id, { resultDescription: [SAFETY] })
    const cases: [string, RubricInput[], string[]][] = [
      ['a rubric id used twice', [SAFETY, { ...WRITING, id: SAFETY.id }], ['/resultDescription/1/id']],
      ['a level id that is also a rubric id', [{ ...WRITING, rubricCriterionLevel: [{ id: SAFETY.id!, name: 'Exemplary' }], requiredLevel: 'Exemplary' }, SAFETY], ['/resultDescription/1/id']],
      ['a level id used twice', [{
        ...SAFETY, rubricCriterionLevel: [{ id: 'urn:example:x', name: 'A' }, { id: 'urn:example:x', name: 'B' }], requiredLevel: 'A'
      }], ['/resultDescription/0/rubricCriterionLevel/1/id']],
      ['two levels with one name', [{ ...WRITING, rubricCriterionLevel: [...WRITING.rubricCriterionLevel, { name: 'Proficient' }] }],
        ['/resultDescription/0/rubricCriterionLevel/3/name']],
      ['an unknown requiredLevel', [WRITING, { ...SAFETY, requiredLevel: 'Distinction' }], ['/resultDescription/1/requiredLevel']]
    ]
    for (const [label, resultDescription, pointers] of cases) {
      const body = assertProblem(t, await patch(achievement.id, { resultDescription }), 422, 'rubric-invalid')
      t.same(body.errors.map((e: { pointer: string }) => e.pointer), pointers, `${label}: pointers`)
      t.ok(body.errors.every((e: { in: string; message: string }) => e.in === 'body' && e.message.length > 0), `${label}: messages`)
    }
    const unknown = assertProblem(t, await patch(achievement.id, { resultDescription: [{ ...SAFETY, requiredLevel: 'Distinction' }] }), 422, 'rubric-invalid')
    t.match(unknown.errors[0].message, /names none of the levels of “Safety”/)
    t.match(unknown.detail, /\/resultDescription\/0\/requiredLevel/)
    t.same(await get(achievement.id), achievement, 'nothing was changed')

    const before = (await db.selectFrom('achievements').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n
    const created = await app.inject({
      method: 'POST', url: `/v1/issuers/${issuer.id}/achievements`, headers: admin,
      payload: { name: 'X', description: 'Y', criteria: { narrative: 'Z' }, resultDescription: [{ ...WRITING, requiredLevel: 'Mastery' }] }
    })
    assertProblem(t, created, 422, 'rubric-invalid')
    t.equal((await db.selectFrom('achievements').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n, before, 'POST stored nothing')
  })

  await t.test('rubrics and review policies of the wrong shape answer 400 naming each field', async (t) => {
    const achievement = await createAchievement(app, issuer.id)
    const level = (changes: Record<string, unknown>) => ({ ...WRITING, rubricCriterionLevel: [{ name: 'Pass', ...changes }] })
    const cases: [string, Record<string, unknown>, string[]][] = [
      ['another result type', { resultDescription: [{ ...WRITING, resultType: 'LetterGrade' }] }, ['/resultDescription/0/resultType']],
      ['no levels', { resultDescription: [{ ...WRITING, rubricCriterionLevel: [] }] }, ['/resultDescription/0/rubricCriterionLevel']],
      ['21 levels', { resultDescription: [{ ...WRITING, rubricCriterionLevel: Array.from({ length: 21 }, (_, i) => ({ name: `L${i}` })) }] },
        ['/resultDescription/0/rubricCriterionLevel']],
      ['21 rubrics', { resultDescription: Array.from({ length: 21 }, () => WRITING) }, ['/resultDescription']],
      ['a rubric without a name', { resultDescription: [{ ...WRITING, name: ' ' }] }, ['/resultDescription/0/name']],
      ['a rubric id that is no URI', { resultDescription: [{ ...WRITING, id: 'writing' }] }, ['/resultDescription/0/id']],
      ['a level id that is a javascript: URL', { resultDescription: [level({ id: 'javascript:alert(1)' })] }, ['/resultDescription/0/rubricCriterionLevel/0/id']],
      ['another type', { resultDescription: [{ ...WRITING, type: ['Achievement'] }] }, ['/resultDescription/0/type/0']],
      ['a level name of 201 characters', { resultDescription: [level({ name: 'x'.repeat(201) })] }, ['/resultDescription/0/rubricCriterionLevel/0/name']],
      ['a level description of 2001 characters', { resultDescription: [level({ description: 'x'.repeat(2001) })] },
        ['/resultDescription/0/rubricCriterionLevel/0/description']],
      ['negative points', { resultDescription: [level({ points: -1 })] }, ['/resultDescription/0/rubricCriterionLevel/0/points']],
      ['points written with an exponent', { resultDescription: [level({ points: 1e-7 })] }, ['/resultDescription/0/rubricCriterionLevel/0/points']],
      ['points that are no number', { resultDescription: [level({ points: 'four' })] }, ['/resultDescription/0/rubricCriterionLevel/0/points']],
      ['points past the maximum', { resultDescription: [level({ points: '1000000.5' })] }, ['/resultDescription/0/rubricCriterionLevel/0/points']],
      ['an unknown level field', { resultDescription: [level({ level: 'Mastered' })] }, ['/resultDescription/0/rubricCriterionLevel/0/level']],
      ['six approvals', { review: { required: true, approvals: 6 } }, ['/review/approvals']],
      ['half an approval', { review: { required: true, approvals: 1.5 } }, ['/review/approvals']],
      ['approvals without review', { review: { required: false, approvals: 1 } }, ['/review/approvals']],
      ['required that is no boolean', { review: { required: 'yes' } }, ['/review/required']]
    ]
    for (const [label, payload, pointers] of cases) {
      const res = await patch(achievement.id, payload)
      const body = assertProblem(t, res, 400, 'validation-failed')
      t.same(body.errors.map((e: { pointer: string }) => e.pointer), pointers, `${label}: pointers`)
    }
    t.same(await get(achievement.id), achievement, 'nothing was changed')
  })

  await t.test('the review policy: on with one approval by default, with more, and off by false or null', async (t) => {
    const achievement = await createAchievement(app, issuer.id)
    const steps: [unknown, unknown, unknown][] = [
      [{ required: true }, { required: true, approvals: 1 }, { required: true, approvals: 1 }],
      [{ required: true, approvals: 3 }, { required: true, approvals: 3 }, { required: true, approvals: 3 }],
      [{ required: false }, { required: false }, null],
      [{ required: true, approvals: 2 }, { required: true, approvals: 2 }, { required: true, approvals: 2 }],
      [null, { required: false }, null]
    ]
    for (const [review, view, stored] of steps) {
      const res = await patch(achievement.id, { review })
      t.equal(res.statusCode, 200, res.body)
      t.same(res.json().review, view, `${JSON.stringify(review)}: the view`)
      t.same((await storedColumns(achievement.id)).review_policy, stored, `${JSON.stringify(review)}: stored`)
    }
    const events = (await app.inject({ method: 'GET', url: `/v1/audit-events?issuerId=${issuer.id}&limit=1`, headers: admin })).json().items
    t.match(events, [{ action: 'achievement.updated', targetId: achievement.id, details: { changed: ['review'] } }])

    const created = await createAchievement(app, issuer.id, { review: { required: true, approvals: 2 }, resultDescription: [SAFETY] })
    t.same(created.review, { required: true, approvals: 2 }, 'POST takes a review policy too')
    t.same(created.resultDescription.map((rubric: { id: string }) => rubric.id), [SAFETY.id])
    t.same(created.review, (await get(created.id)).review)
  })

  await t.test('another issuer\'s API key gets 404 changing rubrics or review, and changes nothing', async (t) => {
    const other = await createIssuer(app, { name: 'Beta Bootcamp' })
    const ownKey = await createApiKey(app, issuer.id)
    const otherKey = await createApiKey(app, other.id)
    const achievement = await createAchievement(app, issuer.id)
    const changes: InjectOptions['payload'][] = [{ resultDescription: [WRITING] }, { review: { required: true } }]
    for (const payload of changes) {
      const res = await app.inject({ method: 'PATCH', url: `/v1/achievements/${achievement.id}`, headers: bearer(otherKey.key), payload })
      t.equal(assertProblem(t, res, 404, 'not-found').detail, 'achievement was not found')
    }
    t.same(await get(achievement.id), achievement, 'unchanged')
    const own = await app.inject({
      method: 'PATCH', url: `/v1/achievements/${achievement.id}`, headers: bearer(ownKey.key), payload: { resultDescription: [WRITING], review: { required: true } }
    })
    t.equal(own.statusCode, 200, 'the issuer\'s own key may')
    t.match(own.json(), { review: { required: true, approvals: 1 }, resultDescription: [{ name: 'Writing' }] })
  })
})

/** Rubrics as stored, with readable ids minted in order. */
function stored(rubrics: RubricInput[]): ResultDescription[] {
  let next = 0
  return normaliseRubrics(rubrics, () => `urn:example:${++next}`)
}

t.test('normaliseRubrics', async (t) => {
  t.same(stored([WRITING, { ...SAFETY, requiredLevel: 'Not yet' }, { name: 'Style', resultType: 'RubricCriterionLevel', rubricCriterionLevel: [{ name: 'Any' }] }]), [
    {
      id: 'urn:example:4', type: ['ResultDescription'], name: 'Writing', resultType: 'RubricCriterionLevel', requiredLevel: 'urn:example:2',
      rubricCriterionLevel: [
        { id: 'urn:example:1', type: ['RubricCriterionLevel'], name: 'Exemplary', description: 'Clear, precise and well sourced.', points: '3' },
        { id: 'urn:example:2', type: ['RubricCriterionLevel'], name: 'Proficient', points: '2' },
        { id: 'urn:example:3', type: ['RubricCriterionLevel'], name: 'Developing', points: '1' }
      ]
    },
    {
      id: SAFETY.id, type: ['ResultDescription'], name: 'Safety', resultType: 'RubricCriterionLevel', requiredLevel: 'urn:example:safety:fail',
      rubricCriterionLevel: [
        { id: 'urn:example:safety:pass', type: ['RubricCriterionLevel'], name: 'Pass' },
        { id: 'urn:example:safety:fail', type: ['RubricCriterionLevel'], name: 'Not yet' }
      ]
    },
    {
      id: 'urn:example:6', type: ['ResultDescription'], name: 'Style', resultType: 'RubricCriterionLevel',
      rubricCriterionLevel: [{ id: 'urn:example:5', type: ['RubricCriterionLevel'], name: 'Any' }]
    }
  ], 'a required level named by name becomes its id; a rubric may require none')

  const ambiguous = stored([{ ...SAFETY, rubricCriterionLevel: [{ id: 'urn:example:b', name: 'A' }, { name: 'urn:example:b' }], requiredLevel: 'urn:example:b' }])
  t.equal(ambiguous[0]!.requiredLevel, 'urn:example:b', 'an id is matched before a name')
  t.same(normaliseRubrics([WRITING]).flatMap((rubric) => [rubric.id, ...rubric.rubricCriterionLevel.map((level) => level.id)])
    .filter((id) => URN_UUID_V7.test(id)).length, 4, 'by default, ids are urn:uuid: UUIDv7s')
})

t.test('rubricErrors', async (t) => {
  t.same(rubricErrors([WRITING, SAFETY]), [])
  t.same(rubricErrors([]), [])
  t.same(rubricErrors([SAFETY, SAFETY], '/rubrics'), [
    { pointer: '/rubrics/1/id', message: `the id ${SAFETY.id} is already used at /rubrics/0/id; ids must be unique within the achievement` },
    { pointer: '/rubrics/1/rubricCriterionLevel/0/id', message: 'the id urn:example:safety:pass is already used at /rubrics/0/rubricCriterionLevel/0/id; ids must be unique within the achievement' },
    { pointer: '/rubrics/1/rubricCriterionLevel/1/id', message: 'the id urn:example:safety:fail is already used at /rubrics/0/rubricCriterionLevel/1/id; ids must be unique within the achievement' }
  ], 'each id after its first use, naming where that was')
  t.same(rubricErrors([{ ...WRITING, rubricCriterionLevel: [{ name: 'Pass' }, { name: 'Pass' }], requiredLevel: 'Merit' }]), [
    { pointer: '/resultDescription/0/rubricCriterionLevel/1/name', message: 'another level of this rubric is already named “Pass”' },
    { pointer: '/resultDescription/0/requiredLevel', message: 'names none of the levels of “Writing” (give a level\'s id, or its name)' }
  ])
  t.same(rubricErrors([WRITING, { ...WRITING, name: 'Reading' }]), [], 'two rubrics may share level names')
})

// Levels by id in the stored rubrics below: writing (by points, listed best first), safety (by position), ranked by points listed worst first.
const [writing, safety, scored, optional] = stored([
  WRITING,
  SAFETY,
  {
    name: 'Teamwork', resultType: 'RubricCriterionLevel', requiredLevel: 'Good',
    rubricCriterionLevel: [{ name: 'Weak', points: 0 }, { name: 'Good', points: '2.5' }, { name: 'Also good', points: 2.5 }, { name: 'Great', points: 10 }]
  },
  { name: 'Style', resultType: 'RubricCriterionLevel', rubricCriterionLevel: [{ name: 'Flair', points: 1 }, { name: 'Plain' }] }
]) as [ResultDescription, ResultDescription, ResultDescription, ResultDescription]
const rubrics = [writing, safety, scored, optional]
const levelOf = (rubric: ResultDescription, name: string) => rubric.rubricCriterionLevel.find((level) => level.name === name)!.id
const result = (rubric: ResultDescription, name: string) => ({ resultDescription: rubric.id, achievedLevel: levelOf(rubric, name) })
const passing = [result(writing, 'Proficient'), result(safety, 'Pass'), result(scored, 'Good')]

t.test('resultErrors: every rubric with a required level needs a result at that level or above', async (t) => {
  t.same(resultErrors(rubrics, passing), [], 'at the required levels')
  t.same(resultErrors(rubrics, [result(writing, 'Exemplary'), result(safety, 'Pass'), result(scored, 'Great'), result(optional, 'Plain')]), [],
    'above them, and any level of a rubric that requires none')

  t.same(resultErrors(rubrics, [result(writing, 'Developing'), result(safety, 'Not yet'), result(scored, 'Weak')]), [
    { pointer: '/results/0/achievedLevel', message: '“Developing” is below the required “Proficient” of “Writing”' },
    { pointer: '/results/1/achievedLevel', message: '“Not yet” is below the required “Pass” of “Safety”' },
    { pointer: '/results/2/achievedLevel', message: '“Weak” is below the required “Good” of “Teamwork”' }
  ], 'below them')

  t.same(resultErrors(rubrics, [result(writing, 'Proficient'), result(safety, 'Pass'), result(scored, 'Also good')]), [],
    'when every level has points, they rank it: equal points are equal, wherever the level is listed')
  t.same(resultErrors([scored], [result(scored, 'Great')]), [], 'more points rank higher, though listed last')

  t.same(resultErrors(rubrics, [result(safety, 'Pass')], '/body/results'), [
    { pointer: '/body/results', message: 'no result for “Writing”, which requires at least “Proficient”' },
    { pointer: '/body/results', message: 'no result for “Teamwork”, which requires at least “Good”' }
  ], 'a rubric that requires a level has no result')
  t.same(resultErrors([optional], []), [], 'a rubric that requires none may go without')
})

t.test('resultErrors: results link to the achievement\'s rubrics and their own levels by id, once each', async (t) => {
  t.same(resultErrors(rubrics, [...passing, { resultDescription: 'urn:example:other', achievedLevel: levelOf(writing, 'Proficient') }]), [
    { pointer: '/results/3/resultDescription', message: 'urn:example:other is not the id of one of this achievement\'s rubrics' }
  ])
  t.same(resultErrors(rubrics, [...passing, result(writing, 'Exemplary')]), [
    { pointer: '/results/3/resultDescription', message: 'a second result for “Writing”: give one result per rubric' }
  ])
  t.same(resultErrors(rubrics, [{ resultDescription: writing.id, achievedLevel: levelOf(safety, 'Pass') }, result(safety, 'Pass'), result(scored, 'Good')]), [
    { pointer: '/results/0/achievedLevel', message: `${levelOf(safety, 'Pass')} is not the id of a level of “Writing”` }
  ], 'a level of another rubric is not one of this rubric; its rubric counts as assessed')
  t.same(resultErrors(rubrics, [{ resultDescription: writing.id, achievedLevel: 'Proficient' }, result(safety, 'Pass'), result(scored, 'Good')]), [
    { pointer: '/results/0/achievedLevel', message: 'Proficient is not the id of a level of “Writing”' }
  ], 'levels are named by id, not by name')
})

t.test('resultEntries: the OB 3.0 Results, in the order of the achievement\'s rubrics', async (t) => {
  t.same(resultEntries(rubrics, [result(scored, 'Great'), result(writing, 'Exemplary')]), [
    { type: ['Result'], resultDescription: writing.id, achievedLevel: levelOf(writing, 'Exemplary') },
    { type: ['Result'], resultDescription: scored.id, achievedLevel: levelOf(scored, 'Great') }
  ], 'one per rubric assessed')
  t.same(resultEntries(rubrics, []), [])
  t.same(resultEntries([], passing), [])
})

t.test('a credential built with results states them as its subject\'s result: valid per the official schema and as JSON-LD', async (t) => {
  const row = {
    id: '0190a000-0000-7000-8000-000000000001', issuer_id: '0190a000-0000-7000-8000-000000000002', name: 'Report writing',
    description: 'Writes a clear report.', criteria: { narrative: 'Submit a report.' }, image_url: null, image_caption: null,
    image_media_type: null, achievement_type: null, tags: [], alignments: [], created_at: new Date(), updated_at: new Date(),
    embedded_endorsements: [], result_descriptions: rubrics, review_policy: { required: true as const, approvals: 1 }
  }
  const parts = {
    url: 'https://badges.example.edu/credentials/0190a000-0000-7000-8000-000000000003',
    issuer: { id: 'did:web:badges.example.edu:issuers:x', type: ['Profile'] as ['Profile'], name: 'Northwind College', url: 'https://northwind.example.edu' },
    achievement: achievementDocument('https://badges.example.edu', row, { id: 'did:web:badges.example.edu:issuers:x', name: 'Northwind College' }),
    recipient: { identityType: 'did' as const, identity: 'did:example:ann', name: 'Ann Lee', externalId: null }
  }
  const results = resultEntries(rubrics, passing)
  const credential = buildOpenBadgeCredential({ ...parts, award: { validFrom: new Date('2026-01-02T03:04:05Z'), results } })
  const subject = credential.credentialSubject as Record<string, unknown>
  t.same(subject.result, results)
  t.same((subject.achievement as Record<string, unknown>).resultDescription, rubrics)
  t.same(validateCredential(credential), [], 'the official AchievementCredential schema')
  t.equal(await expansionProblem(credential), undefined, 'JSON-LD safe mode defines every term, so it can be signed')

  for (const award of [{ validFrom: new Date() }, { validFrom: new Date(), results: [] }]) {
    t.notOk('result' in (buildOpenBadgeCredential({ ...parts, award }).credentialSubject as object), 'no results, no result member')
  }
})
