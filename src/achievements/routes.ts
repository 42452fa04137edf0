// HTTP for achievements: the admin API under /v1, and the public OB 3.0 Achievement document and its image.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServiceContext } from '../context.js'
import { callerOf } from '../http/auth.js'
import { BEARER, binaryBody, contextList, endorsementFields, httpUrl, idParams, issuerParams, pageOf, pageQuery, problemResponses } from '../http/schemas.js'
import { IMAGE_DATA_URI, MAX_IMAGE_BYTES } from './images.js'
import { achievementImage, createAchievement, getAchievement, listAchievements, publicAchievement, updateAchievement } from './service.js'

const TAGS = ['Achievements']

/** OB 3.0 AchievementType values; `ext:` names extend it. */
const ACHIEVEMENT_TYPES = [
  'Achievement', 'ApprenticeshipCertificate', 'Assessment', 'Assignment', 'AssociateDegree', 'Award', 'Badge', 'BachelorDegree',
  'Certificate', 'CertificateOfCompletion', 'Certification', 'CommunityService', 'Competency', 'Course', 'CoCurricular', 'Degree',
  'Diploma', 'DoctoralDegree', 'Fieldwork', 'GeneralEducationDevelopment', 'JourneymanCertificate', 'LearningProgram', 'License',
  'Membership', 'ProfessionalDoctorate', 'QualityAssuranceCredential', 'MasterCertificate', 'MasterDegree', 'MicroCredential',
  'ResearchDoctorate', 'SecondarySchoolDiploma'
] as const

/** OB 3.0 AlignmentTargetType values; `ext:` names extend it. */
const ALIGNMENT_TARGET_TYPES = [
  'ceasn:Competency', 'ceterms:Credential', 'CFItem', 'CFRubric', 'CFRubricCriterion', 'CFRubricCriterionLevel', 'CTDL'
] as const

/** One of the spec's values, or `ext:` and a name, as the OB 3.0 schema's extensible enumerations allow. */
function extensibleEnum(values: readonly [string, ...string[]], what: string) {
  const message = `expected an OB 3.0 ${what} (${values.join(', ')}) or ext: followed by letters, digits, '.', '-' or '_', not starting with '-'`
  // The official schema's `(ext:)[a-z|A-Z|0-9|.|-|_]+` reads `|-|` as a range (just '|'): '-' may not come right after
  // `ext:`. Anything looser stores an achievement whose every credential then fails the schema check.
  return z.union([z.enum(values), z.string().max(100).regex(/^ext:[A-Za-z0-9._][A-Za-z0-9.\-_]*$/)], { error: message })
}

/** Text sent as a data: URI: 256 KiB of URL-encoded SVG can take three characters a byte. */
const MAX_DATA_URI_LENGTH = 1_048_576

const imageId = z.union([
  z.url({ protocol: /^https$/, hostname: z.regexes.domain }).max(2048),
  z.string().max(MAX_DATA_URI_LENGTH).regex(IMAGE_DATA_URI)
], { error: 'expected an https URL or a data: URI of a PNG or SVG image (data:image/png;base64,… or data:image/svg+xml,…)' })
  .describe(`an https URL, or a data: URI of a PNG (base64) or SVG (base64, URL-encoded or utf8) image of at most ${MAX_IMAGE_BYTES / 1024} KiB, ` +
    'which Lanyard stores and serves. SVGs with scripts, event handlers or external references are refused (422).')

const name = z.string().trim().min(1).max(200)
const description = z.string().trim().min(1).max(10_000)

const criteria = z.strictObject({
  narrative: z.string().trim().min(1).max(20_000).optional().describe('how to earn it (Markdown)'),
  id: httpUrl.optional().describe('a page describing the criteria')
}).refine((value) => value.narrative !== undefined || value.id !== undefined, {
  message: 'give a narrative, an id (URL), or both',
  when: (payload) => payload.issues.length === 0
})

const image = z.strictObject({
  id: imageId,
  caption: z.string().trim().min(1).max(1000).optional()
})

const achievementType = extensibleEnum(ACHIEVEMENT_TYPES, 'achievement type')
const tags = z.array(z.string().trim().min(1).max(100)).max(50)

const alignment = z.strictObject({
  targetName: z.string().trim().min(1).max(500),
  targetUrl: httpUrl,
  targetDescription: z.string().max(5000).optional(),
  targetCode: z.string().max(200).optional(),
  targetFramework: z.string().max(500).optional(),
  targetType: extensibleEnum(ALIGNMENT_TARGET_TYPES, 'alignment target type').optional()
})
const alignments = z.array(alignment).max(50)

/** Results link to rubrics and levels by id, an absolute URI: an https URL, or a URN such as the urn:uuid: ids Lanyard mints. */
const URN = /^urn:[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]:[A-Za-z0-9()+,\-.:=@;$_!*'%/?#~&]+$/
const rubricId = z.union([httpUrl, z.string().max(2048).regex(URN)], { error: 'expected a URI: an http(s) URL or a URN (urn:uuid:…)' })
  .describe('a URI (an http(s) URL or a URN); Lanyard mints urn:uuid: ids for those sent without one, and keeps them: send them back when you change the rubric')

const MAX_POINTS = 1_000_000
/** Plain decimals only: a number JavaScript writes with an exponent (1e-7) would be stored as no numeric string. */
const DECIMAL = /^\d{1,7}(\.\d{1,6})?$/
const isPoints = (text: string) => DECIMAL.test(text) && Number(text) <= MAX_POINTS
const POINTS_MESSAGE = `expected points: a number from 0 to ${MAX_POINTS} with at most 6 decimals, or such a number as a string ("4", "2.5")`
const points = z.union([
  z.number().refine((value) => isPoints(String(value)), POINTS_MESSAGE),
  z.string().trim().refine(isPoints, POINTS_MESSAGE)
], { error: POINTS_MESSAGE })
  .describe('a number ≥ 0, or a numeric string; stored and published as a string, as OB 3.0 states points')

/** What GET returns can be sent back as it is: its `type` is taken, and is always the one OB 3.0 type. */
const typeOf = (type: string) => z.tuple([z.literal(type)]).optional().describe(`["${type}"], optional`)

const rubricLevel = z.strictObject({
  id: rubricId.optional(),
  type: typeOf('RubricCriterionLevel'),
  name,
  description: z.string().trim().min(1).max(2000).optional(),
  points: points.optional()
})

const MAX_RUBRICS = 20
const MAX_LEVELS = 20
const rubric = z.strictObject({
  id: rubricId.optional(),
  type: typeOf('ResultDescription'),
  name,
  resultType: z.literal('RubricCriterionLevel').describe('the only result type Lanyard takes: a level of a rubric'),
  rubricCriterionLevel: z.array(rubricLevel).min(1).max(MAX_LEVELS).describe(
    `${MAX_LEVELS} levels at most, best first, as rubrics are written (“Exemplary”, “Proficient”, “Developing”). That order ranks them, unless ` +
    'every level has points: then more points rank higher, and equal points rank equal. Level names are unique within the rubric.'),
  requiredLevel: z.string().trim().min(1).max(2048).optional().describe(
    'the lowest level that passes, named by its id or by its name (an id is matched first); stored as the level\'s id. ' +
    'A reviewer\'s approval must then give a result at this level or above.')
}).meta({ id: 'NewResultDescription', description: 'An OB 3.0 ResultDescription: a rubric criterion and its levels' })
const rubrics = z.array(rubric).max(MAX_RUBRICS)

const review = z.discriminatedUnion('required', [
  z.strictObject({
    required: z.literal(true),
    approvals: z.number().int().min(1).max(5).default(1).describe('approvals by distinct reviewers that issue the credential (1–5, default 1)')
  }),
  z.strictObject({ required: z.literal(false) })
]).describe('whether the achievement is earned through review of submitted evidence; `{ required: false }` or null: issued directly')

const achievementInput = z.strictObject({
  name,
  description,
  criteria,
  image: image.optional(),
  achievementType: achievementType.optional(),
  tags: tags.optional(),
  alignments: alignments.optional(),
  resultDescription: rubrics.optional().describe(`rubrics (at most ${MAX_RUBRICS}) that reviewers assess and credentials state results of`),
  review: review.nullable().optional()
}).meta({ id: 'NewAchievement' })

const achievementPatch = z.strictObject({
  name: name.optional(),
  description: description.optional(),
  criteria: criteria.optional().describe('replaces the criteria'),
  image: image.nullable().optional().describe('replaces the image; null removes it'),
  achievementType: achievementType.nullable().optional(),
  tags: tags.optional().describe('replaces the tags'),
  alignments: alignments.optional().describe('replaces the alignments'),
  resultDescription: rubrics.nullable().optional().describe('replaces the rubrics; null or [] removes them. Credentials already issued keep theirs.'),
  review: review.nullable().optional().describe('replaces the review policy; null turns review off')
}).refine((patch) => Object.keys(patch).length > 0, {
  message: 'send at least one field to change',
  when: (payload) => payload.issues.length === 0
}).meta({ id: 'AchievementChanges', description: 'Fields to change; null clears an optional field' })

const storedRubric = z.object({
  id: z.string(),
  type: z.array(z.string()),
  name: z.string(),
  resultType: z.literal('RubricCriterionLevel'),
  rubricCriterionLevel: z.array(z.object({
    id: z.string(),
    type: z.array(z.string()),
    name: z.string(),
    description: z.string().optional(),
    points: z.string().optional()
  })),
  requiredLevel: z.string().optional().describe('the id of the lowest level that passes')
}).meta({ id: 'ResultDescription', description: 'An OB 3.0 ResultDescription as the achievement publishes it' })

const achievement = z.object({
  id: z.uuid(),
  issuerId: z.uuid(),
  name: z.string(),
  description: z.string(),
  criteria: z.object({ narrative: z.string().optional(), id: z.string().optional() }),
  image: z.object({
    id: z.string().describe('the caller\'s https URL, or Lanyard\'s /achievements/{id}/image for an image sent as a data: URI'),
    caption: z.string().optional()
  }).nullable(),
  achievementType: z.string().nullable(),
  tags: z.array(z.string()),
  alignments: z.array(z.object({
    targetName: z.string(),
    targetUrl: z.string(),
    targetDescription: z.string().optional(),
    targetCode: z.string().optional(),
    targetFramework: z.string().optional(),
    targetType: z.string().optional()
  })),
  resultDescription: z.array(storedRubric).describe('the rubrics, with their ids ([] when none)'),
  review: z.object({
    required: z.boolean(),
    approvals: z.number().int().optional().describe('with required: the approvals that issue the credential')
  }),
  achievementUrl: z.string().describe('the public OB 3.0 Achievement'),
  createdAt: z.string(),
  updatedAt: z.string()
}).meta({ id: 'Achievement' })

const RUBRIC_REFUSALS = 'Rubrics (`resultDescription`) that cannot be used answer 422 `rubric-invalid`, its `errors` naming each field: an id ' +
  'used twice in the achievement, two levels of one rubric with one name, a `requiredLevel` naming none of its rubric\'s levels.'

export function adminAchievementRoutes(ctx: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    const common = { tags: TAGS, security: BEARER }
    app.post('/issuers/:issuerId/achievements', {
      schema: {
        ...common,
        summary: 'Define an achievement (a badge) of an issuer',
        description: RUBRIC_REFUSALS,
        params: issuerParams,
        body: achievementInput,
        response: { 201: achievement, ...problemResponses }
      }
    }, async (request, reply) => reply.code(201).send(await createAchievement(ctx, callerOf(request), request.params.issuerId, request.body)))

    app.get('/issuers/:issuerId/achievements', {
      schema: {
        ...common,
        summary: 'List an issuer\'s achievements',
        params: issuerParams,
        querystring: pageQuery,
        response: { 200: pageOf(achievement), ...problemResponses }
      }
    }, async (request) => listAchievements(ctx, callerOf(request), request.params.issuerId, request.query))

    app.get('/achievements/:id', {
      schema: { ...common, summary: 'Get an achievement', params: idParams, response: { 200: achievement, ...problemResponses } }
    }, async (request) => getAchievement(ctx, callerOf(request), request.params.id))

    app.patch('/achievements/:id', {
      schema: {
        ...common,
        summary: 'Change an achievement (credentials already issued keep what they were signed with)',
        description: RUBRIC_REFUSALS,
        params: idParams,
        body: achievementPatch,
        response: { 200: achievement, ...problemResponses }
      }
    }, async (request) => updateAchievement(ctx, callerOf(request), request.params.id, request.body))
  }
}

const ob3Achievement = z.looseObject({
  '@context': contextList,
  id: z.string(),
  type: z.array(z.string()),
  name: z.string(),
  description: z.string(),
  criteria: z.object({ id: z.string().optional(), narrative: z.string().optional() }),
  creator: z.looseObject({ id: z.string(), type: z.array(z.string()), name: z.string() }),
  resultDescription: z.array(storedRubric).optional(),
  ...endorsementFields
}).meta({ id: 'Ob3Achievement', description: 'Open Badges 3.0 Achievement, with the endorsements of it that are current' })


/** Stored images come from callers: never let a browser treat one as a document that can run or load anything. */
const IMAGE_HEADERS = {
  'cache-control': 'public, max-age=86400',
  'x-content-type-options': 'nosniff',
  'content-security-policy': 'default-src \'none\'; style-src \'unsafe-inline\'; sandbox'
}

export function publicAchievementRoutes(ctx: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    const tags = ['Public']
    app.get('/achievements/:id', {
      schema: { tags, summary: 'The Open Badges 3.0 Achievement', params: idParams, response: { 200: ob3Achievement, ...problemResponses } }
    }, async (request) => publicAchievement(ctx, request.params.id))

    app.get('/achievements/:id/image', {
      schema: {
        tags,
        summary: 'The achievement\'s image',
        description: 'The PNG or SVG stored for the achievement; a 302 redirect when its image is an https URL; 404 when it has none.',
        params: idParams,
        response: {
          200: { description: 'the image', content: { 'image/png': binaryBody, 'image/svg+xml': binaryBody } },
          ...problemResponses
        }
      }
    }, async (request, reply) => {
      const found = await achievementImage(ctx, request.params.id)
      if ('redirect' in found) return reply.redirect(found.redirect, 302)
      return reply.headers(IMAGE_HEADERS).type(found.mediaType).send(found.bytes)
    })
  }
}
