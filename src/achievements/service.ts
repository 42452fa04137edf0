// Achievement rules: badge definitions of one issuer, their images, and the OB 3.0 Achievement document they publish.
import { v7 as uuidv7 } from 'uuid'
import { recordAuditEvent } from '../audit/store.js'
import type { Caller, ServiceContext } from '../context.js'
import type { ResultDescription, ReviewPolicy } from '../db/schema.js'
import { actorOf, assertIssuerAccess, issuerScope } from '../http/auth.js'
import { AppError, notFound } from '../http/errors.js'
import { visibleIssuer } from '../issuers/service.js'
import { documentContexts, endorsementMembers, type JsonLdContext } from '../ob3/documents.js'
import { pageFrom, type Page } from '../pagination.js'
import { decodeImageDataUri, type DecodedImage, type ImageMediaType } from './images.js'
import { normaliseRubrics, rubricErrors, type RubricInput } from './rubric.js'
import {
  findAchievement, findAchievementImage, findAchievementWithCreator, insertAchievement, listAchievements as listAchievementRows,
  updateAchievement as updateAchievementRow, type AchievementChanges, type AchievementRecord
} from './store.js'

export interface Criteria {
  id?: string
  narrative?: string
}

export interface ImageInput {
  /** An https URL, or a data: URI of a PNG or SVG that Lanyard stores and serves. */
  id: string
  caption?: string
}

export interface Alignment {
  targetName: string
  targetUrl: string
  targetDescription?: string
  targetCode?: string
  targetFramework?: string
  targetType?: string
}

export interface AchievementInput {
  name: string
  description: string
  criteria: Criteria
  image?: ImageInput
  achievementType?: string
  tags?: string[]
  alignments?: Alignment[]
  resultDescription?: RubricInput[]
  review?: ReviewInput | null
}

/** Whether the achievement is earned through review; `{ required: false }` is the same as none. */
export type ReviewInput = ReviewPolicy | { required: false }

export type AchievementPatch = Partial<Pick<AchievementInput, 'name' | 'description' | 'criteria' | 'tags' | 'alignments' | 'review'>> & {
  image?: ImageInput | null
  achievementType?: string | null
  resultDescription?: RubricInput[] | null
}

export interface AchievementImage {
  id: string
  caption?: string
}

export interface AchievementView {
  id: string
  issuerId: string
  name: string
  description: string
  criteria: Criteria
  image: AchievementImage | null
  achievementType: string | null
  tags: string[]
  alignments: Alignment[]
  /** The rubrics as stored and published, with their ids and their levels' ids. */
  resultDescription: ResultDescription[]
  review: ReviewInput
  /** The public OB 3.0 Achievement document. */
  achievementUrl: string
  createdAt: string
  updatedAt: string
}

/** The OB 3.0 Achievement as a credential embeds it (no '@context'; the public route adds one). */
export type Ob3Achievement = {
  id: string
  type: ['Achievement']
  name: string
  description: string
  criteria: Criteria
  image?: AchievementImage & { type: 'Image' }
  achievementType?: string
  tag?: string[]
  alignment?: (Alignment & { type: ['Alignment'] })[]
  resultDescription?: ResultDescription[]
  creator: { id: string; type: ['Profile']; name: string }
  /** Signed EndorsementCredentials of this achievement (endorsements/ keeps them on the row). */
  endorsement?: Record<string, unknown>[]
  /** The same as VC-JWTs: a document carrying these needs ENDORSEMENT_JWT_CONTEXT. */
  endorsementJwt?: string[]
}

const ACHIEVEMENT = 'achievement'

const achievementUrl = (publicUrl: string, id: string) => `${publicUrl}/achievements/${id}`

/** The image's public id: our own URL when we store the bytes, else the caller's https URL. */
function imageOf(publicUrl: string, row: AchievementRecord): AchievementImage | null {
  const id = row.image_media_type !== null ? `${achievementUrl(publicUrl, row.id)}/image` : row.image_url
  if (id === null) return null
  return { id, ...(row.image_caption !== null ? { caption: row.image_caption } : {}) }
}

/** Alignments are stored as they were validated on the way in. */
const alignmentsOf = (row: AchievementRecord) => row.alignments as unknown as Alignment[]

function achievementView(publicUrl: string, row: AchievementRecord): AchievementView {
  return {
    id: row.id,
    issuerId: row.issuer_id,
    name: row.name,
    description: row.description,
    criteria: row.criteria,
    image: imageOf(publicUrl, row),
    achievementType: row.achievement_type,
    tags: row.tags,
    alignments: alignmentsOf(row),
    resultDescription: row.result_descriptions,
    review: row.review_policy ?? { required: false },
    achievementUrl: achievementUrl(publicUrl, row.id),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  }
}

/** The OB 3.0 Achievement for an achievement row, as credentials embed it; `creator.id` is the issuer's DID. */
export function achievementDocument(publicUrl: string, row: AchievementRecord, creator: { id: string; name: string }): Ob3Achievement {
  const image = imageOf(publicUrl, row)
  const alignments = alignmentsOf(row)
  return {
    id: achievementUrl(publicUrl, row.id),
    type: ['Achievement'],
    name: row.name,
    description: row.description,
    criteria: row.criteria,
    ...(image !== null ? { image: { ...image, type: 'Image' as const } } : {}),
    ...(row.achievement_type !== null ? { achievementType: row.achievement_type } : {}),
    ...(row.tags.length > 0 ? { tag: row.tags } : {}),
    ...(alignments.length > 0 ? { alignment: alignments.map((alignment) => ({ type: ['Alignment'] as ['Alignment'], ...alignment })) } : {}),
    ...(row.result_descriptions.length > 0 ? { resultDescription: row.result_descriptions } : {}),
    creator: { id: creator.id, type: ['Profile'], name: creator.name },
    ...endorsementMembers(row.embedded_endorsements)
  }
}

/** The image columns for an image given by the caller (null: no image); a data: URI is decoded and checked here. */
function imageColumns(image: ImageInput | null): Required<Pick<AchievementChanges, 'image_url' | 'image_caption' | 'image_media_type' | 'image_data'>> {
  if (image === null) return { image_url: null, image_caption: null, image_media_type: null, image_data: null }
  const caption = image.caption ?? null
  if (!image.id.startsWith('data:')) return { image_url: image.id, image_caption: caption, image_media_type: null, image_data: null }
  const decoded = decodeImageDataUri(image.id)
  return { image_url: null, image_caption: caption, image_media_type: decoded.mediaType, image_data: decoded.bytes }
}

/** The stored rubrics (JSON) for rubrics given by the caller (null: none); 422 naming each field of ones that cannot be used. */
function rubricsColumn(rubrics: RubricInput[] | null): string {
  const given = rubrics ?? []
  const errors = rubricErrors(given)
  if (errors.length > 0) {
    throw new AppError('rubric-invalid', 422, `the rubrics cannot be used: ${errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`,
      errors.map((error) => ({ ...error, in: 'body' as const })))
  }
  return JSON.stringify(normaliseRubrics(given))
}

/** The stored review policy (JSON): null for none, whether given as null or as `{ required: false }`. */
function reviewColumn(review: ReviewInput | null): string | null {
  return review?.required === true ? JSON.stringify({ required: true, approvals: review.approvals }) : null
}

export async function createAchievement(
  ctx: ServiceContext, caller: Caller, issuerId: string, input: AchievementInput
): Promise<AchievementView> {
  await visibleIssuer(ctx, caller, issuerId)
  const image = imageColumns(input.image ?? null)
  const resultDescriptions = rubricsColumn(input.resultDescription ?? null)
  const id = uuidv7()
  return ctx.db.transaction().execute(async (trx) => {
    const row = await insertAchievement(trx, {
      id,
      issuer_id: issuerId,
      name: input.name,
      description: input.description,
      criteria: JSON.stringify(input.criteria),
      ...image,
      achievement_type: input.achievementType ?? null,
      tags: JSON.stringify(input.tags ?? []),
      alignments: JSON.stringify(input.alignments ?? []),
      result_descriptions: resultDescriptions,
      review_policy: reviewColumn(input.review ?? null)
    })
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'achievement.created', issuerId, targetType: ACHIEVEMENT, targetId: id,
      details: { fields: Object.keys(input), imageStored: image.image_data !== null }, requestId: caller.requestId
    })
    return achievementView(ctx.publicUrl, row)
  })
}

/** The achievement, when the caller may see it; 404 for a missing one and for another issuer's alike. */
export async function visibleAchievement(ctx: ServiceContext, caller: Caller, id: string): Promise<AchievementRecord> {
  const row = await findAchievement(ctx.db, id)
  if (row === undefined) throw notFound(ACHIEVEMENT)
  assertIssuerAccess(caller.principal, row.issuer_id, ACHIEVEMENT)
  return row
}

export async function getAchievement(ctx: ServiceContext, caller: Caller, id: string): Promise<AchievementView> {
  return achievementView(ctx.publicUrl, await visibleAchievement(ctx, caller, id))
}

export async function listAchievements(
  ctx: ServiceContext, caller: Caller, issuerId: string, page: { limit: number; cursor?: string }
): Promise<Page<AchievementView>> {
  await visibleIssuer(ctx, caller, issuerId)
  const rows = await listAchievementRows(ctx.db, { issuerId, after: page.cursor, limit: page.limit + 1 })
  return pageFrom(rows, page.limit, (row) => achievementView(ctx.publicUrl, row), (item) => item.id)
}

export async function updateAchievement(ctx: ServiceContext, caller: Caller, id: string, patch: AchievementPatch): Promise<AchievementView> {
  const { criteria, tags, alignments, image, achievementType, resultDescription, review, ...sameNames } = patch
  const changes: AchievementChanges = {
    ...sameNames,
    ...(criteria !== undefined ? { criteria: JSON.stringify(criteria) } : {}),
    ...(tags !== undefined ? { tags: JSON.stringify(tags) } : {}),
    ...(alignments !== undefined ? { alignments: JSON.stringify(alignments) } : {}),
    ...(achievementType !== undefined ? { achievement_type: achievementType } : {}),
    ...(image !== undefined ? imageColumns(image) : {}),
    ...(resultDescription !== undefined ? { result_descriptions: rubricsColumn(resultDescription) } : {}),
    ...(review !== undefined ? { review_policy: reviewColumn(review) } : {})
  }
  return ctx.db.transaction().execute(async (trx) => {
    // The issuer condition in the UPDATE is the tenancy check: another issuer's achievement is not found.
    const row = await updateAchievementRow(trx, id, changes, issuerScope(caller.principal))
    if (row === undefined) throw notFound(ACHIEVEMENT)
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'achievement.updated', issuerId: row.issuer_id, targetType: ACHIEVEMENT, targetId: id,
      details: { changed: Object.keys(patch) }, requestId: caller.requestId
    })
    return achievementView(ctx.publicUrl, row)
  })
}

/** The public OB 3.0 Achievement document, with its JSON-LD context. */
export async function publicAchievement(ctx: ServiceContext, id: string): Promise<Ob3Achievement & { '@context': JsonLdContext[] }> {
  const row = await findAchievementWithCreator(ctx.db, id)
  if (row === undefined) throw notFound(ACHIEVEMENT)
  const document = achievementDocument(ctx.publicUrl, row, { id: row.creator_did, name: row.creator_name })
  return { '@context': documentContexts(document), ...document }
}

/** The achievement's image: the bytes Lanyard stores, or where the caller's https image lives. */
export async function achievementImage(ctx: ServiceContext, id: string): Promise<DecodedImage | { redirect: string }> {
  const row = await findAchievementImage(ctx.db, id)
  if (row === undefined) throw notFound(ACHIEVEMENT)
  // PGlite reads bytea as a Uint8Array, pg as a Buffer.
  if (row.image_data !== null) return { mediaType: row.image_media_type as ImageMediaType, bytes: Buffer.from(row.image_data) }
  if (row.image_url !== null) return { redirect: row.image_url }
  throw notFound('achievement image')
}
