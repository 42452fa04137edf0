// Pathway rules: defining a stack (its tree checked whole: ids known, no cycle, atLeast possible), reading and changing
// it within the issuer's tenancy, a learner's progress, the evaluation job, and the public document.
import { v7 as uuidv7 } from 'uuid'
import { achievementDocument, type Ob3Achievement } from '../achievements/service.js'
import { recordAuditEvent } from '../audit/store.js'
import type { Caller, ServiceContext } from '../context.js'
import type { Db, PathwayRow } from '../db/schema.js'
import { actorOf, assertIssuerAccess } from '../http/auth.js'
import { AppError, notFound, type FieldError } from '../http/errors.js'
import { visibleIssuer } from '../issuers/service.js'
import { findIssuer } from '../issuers/store.js'
import { submitQueriedJob, type JobView } from '../jobs/service.js'
import { pageFrom, type Page } from '../pagination.js'
import { evaluateAll, requirementOf } from './award.js'
import { EVALUATE_JOB } from './evaluate-job.js'
import { leavesOf, shapeErrors, type EvaluatedNode, type RequirementNode } from './requirement.js'
import {
  achievementIssuers, achievementsWithCreators, awardsOf, candidateLearners, deletePathway as deletePathwayRow, dependentsOf,
  findPathway, findPathways, insertPathway, listPathways as listPathwayRows, lockPathwayGraph, pathwaysReaching, recipientLearner,
  updatePathway as updatePathwayRow, type Learner, type PathwayChanges
} from './store.js'

const PATHWAY = 'pathway'

export interface PathwayInput {
  name: string
  description?: string
  awardAchievementId: string
  requirement: RequirementNode
}

export interface PathwayPatch {
  name?: string
  description?: string | null
  awardAchievementId?: string
  requirement?: RequirementNode
}

export interface PathwayView {
  id: string
  issuerId: string
  name: string
  description: string | null
  awardAchievementId: string
  requirement: RequirementNode
  /** The public stack (JSON, or a page for people). */
  url: string
  createdAt: string
  updatedAt: string
}

const pathwayUrl = (publicUrl: string, id: string) => `${publicUrl}/pathways/${id}`

function pathwayView(ctx: ServiceContext, row: PathwayRow): PathwayView {
  return {
    id: row.id,
    issuerId: row.issuer_id,
    name: row.name,
    description: row.description,
    awardAchievementId: row.award_achievement_id,
    requirement: requirementOf(row),
    url: pathwayUrl(ctx.publicUrl, row.id),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  }
}

/**
 * Everything wrong with a definition, each error at its JSON Pointer: the award must be the issuer's own achievement and
 * not one of its components; the tree's shape; every id known (achievements and pathways of any issuer here); and no
 * nested pathway that leads back to this one. Runs under the graph lock, so the cycle check holds until commit.
 */
async function definitionErrors(
  db: Db, definition: { id: string; issuerId: string; awardAchievementId: string; requirement: RequirementNode }
): Promise<FieldError[]> {
  const { achievements, pathways } = leavesOf(definition.requirement, '/requirement')
  const errors = shapeErrors(definition.requirement, '/requirement')
  const owners = await achievementIssuers(db, [definition.awardAchievementId, ...achievements.map((leaf) => leaf.id)])
  const awardOwner = owners.get(definition.awardAchievementId)
  if (awardOwner === undefined) errors.push({ pointer: '/awardAchievementId', message: `no achievement ${definition.awardAchievementId}` })
  else if (awardOwner !== definition.issuerId) {
    errors.push({ pointer: '/awardAchievementId', message: 'the award must be an achievement of the pathway\'s own issuer, who issues it' })
  }
  for (const leaf of achievements) {
    if (!owners.has(leaf.id)) errors.push({ pointer: leaf.pointer, message: `no achievement ${leaf.id}` })
    else if (leaf.id === definition.awardAchievementId) errors.push({ pointer: leaf.pointer, message: 'the award cannot also be one of its own requirements' })
  }
  const known = new Set((await findPathways(db, [...new Set(pathways.map((leaf) => leaf.id))])).map((row) => row.id))
  const cyclic = await pathwaysReaching(db, [...known], definition.id)
  for (const leaf of pathways) {
    if (!known.has(leaf.id)) errors.push({ pointer: leaf.pointer, message: `no pathway ${leaf.id}` })
    else if (cyclic.has(leaf.id)) {
      errors.push({ pointer: leaf.pointer, message: 'this nests the pathway in itself (directly, or through the pathways it nests): a cycle' })
    }
  }
  return errors
}

export function pathwayInvalid(errors: FieldError[]): AppError {
  return new AppError('pathway-invalid', 422, `the pathway cannot be saved: ${errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`, errors)
}

function leavesToWrite(requirement: RequirementNode): { achievementIds: string[]; pathwayIds: string[] } {
  const { achievements, pathways } = leavesOf(requirement)
  return { achievementIds: achievements.map((leaf) => leaf.id), pathwayIds: pathways.map((leaf) => leaf.id) }
}

export async function createPathway(ctx: ServiceContext, caller: Caller, issuerId: string, input: PathwayInput): Promise<PathwayView> {
  await visibleIssuer(ctx, caller, issuerId)
  const id = uuidv7()
  return ctx.db.transaction().execute(async (trx) => {
    await lockPathwayGraph(trx)
    const errors = await definitionErrors(trx, { id, issuerId, awardAchievementId: input.awardAchievementId, requirement: input.requirement })
    if (errors.length > 0) throw pathwayInvalid(errors)
    const row = await insertPathway(trx, {
      id, issuer_id: issuerId, name: input.name, description: input.description ?? null, award_achievement_id: input.awardAchievementId,
      requirement: JSON.stringify(input.requirement)
    }, leavesToWrite(input.requirement))
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'pathway.created', issuerId, targetType: PATHWAY, targetId: id,
      details: { awardAchievementId: input.awardAchievementId }, requestId: caller.requestId
    })
    return pathwayView(ctx, row)
  })
}

/** The pathway, when the caller may see it; 404 for a missing one and for another issuer's alike. */
async function visiblePathway(db: Db, caller: Caller, id: string): Promise<PathwayRow> {
  const row = await findPathway(db, id)
  if (row === undefined) throw notFound(PATHWAY)
  assertIssuerAccess(caller.principal, row.issuer_id, PATHWAY)
  return row
}

export async function getPathway(ctx: ServiceContext, caller: Caller, id: string): Promise<PathwayView> {
  return pathwayView(ctx, await visiblePathway(ctx.db, caller, id))
}

export async function listPathways(
  ctx: ServiceContext, caller: Caller, issuerId: string, page: { limit: number; cursor?: string }
): Promise<Page<PathwayView>> {
  await visibleIssuer(ctx, caller, issuerId)
  const rows = await listPathwayRows(ctx.db, { issuerId, after: page.cursor, limit: page.limit + 1 })
  return pageFrom(rows, page.limit, (row) => pathwayView(ctx, row), (item) => item.id)
}

/** Awards already made stay: a changed tree applies to the evaluations after it (POST …/evaluate for everyone at once). */
export async function updatePathway(ctx: ServiceContext, caller: Caller, id: string, patch: PathwayPatch): Promise<PathwayView> {
  return ctx.db.transaction().execute(async (trx) => {
    await lockPathwayGraph(trx)
    const row = await visiblePathway(trx, caller, id)
    const awardAchievementId = patch.awardAchievementId ?? row.award_achievement_id
    const requirement = patch.requirement ?? requirementOf(row)
    const errors = await definitionErrors(trx, { id, issuerId: row.issuer_id, awardAchievementId, requirement })
    if (errors.length > 0) throw pathwayInvalid(errors)
    const changes: PathwayChanges = {
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.description !== undefined && { description: patch.description }),
      ...(patch.awardAchievementId !== undefined && { award_achievement_id: patch.awardAchievementId }),
      ...(patch.requirement !== undefined && { requirement: JSON.stringify(patch.requirement) })
    }
    const updated = await updatePathwayRow(trx, id, changes, patch.requirement === undefined ? undefined : leavesToWrite(patch.requirement))
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'pathway.updated', issuerId: row.issuer_id, targetType: PATHWAY, targetId: id,
      details: { changed: Object.keys(patch) }, requestId: caller.requestId
    })
    return pathwayView(ctx, updated)
  })
}

/** A pathway other pathways nest is kept (409) until they no longer do; the credentials it awarded stay valid. */
export async function deletePathway(ctx: ServiceContext, caller: Caller, id: string): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    await lockPathwayGraph(trx)
    const row = await visiblePathway(trx, caller, id)
    const dependents = await dependentsOf(trx, id)
    if (dependents.length > 0) {
      throw new AppError('pathway-in-use', 409, `other pathways nest this one (${dependents.join(', ')}): change them first`, undefined, { pathwayIds: dependents })
    }
    await deletePathwayRow(trx, id)
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'pathway.deleted', issuerId: row.issuer_id, targetType: PATHWAY, targetId: id,
      details: { name: row.name }, requestId: caller.requestId
    })
  })
}

export interface Progress {
  pathwayId: string
  complete: boolean
  /** The award, once made. */
  award: { credentialId: string; url: string } | null
  requirement: EvaluatedNode
}

/** The learner a progress query names: a recipient the caller may see (any identity), or an email address. */
async function learnerOf(ctx: ServiceContext, caller: Caller, query: { recipientId?: string; email?: string }): Promise<Learner> {
  if (query.email !== undefined) return { identityType: 'email', identity: query.email.trim().toLowerCase() }
  const found = await recipientLearner(ctx.db, query.recipientId!)
  if (found === undefined) throw notFound('recipient')
  assertIssuerAccess(caller.principal, found.issuerId, 'recipient')
  return { identityType: found.identityType, identity: found.identity }
}

export async function pathwayProgress(
  ctx: ServiceContext, caller: Caller, id: string, query: { recipientId?: string; email?: string }
): Promise<Progress> {
  const pathway = await visiblePathway(ctx.db, caller, id)
  const learner = await learnerOf(ctx, caller, query)
  const { trees: [tree] } = await evaluateAll(ctx, [{ pathway, learner }])
  const award = (await awardsOf(ctx.db, [{ pathwayId: id, learner }])).get(0)
  return {
    pathwayId: id,
    complete: tree!.satisfied,
    award: award === undefined ? null : { credentialId: award, url: `${ctx.publicUrl}/credentials/${award}` },
    requirement: tree!
  }
}

/** Queues the job that awards everyone already complete and not yet awarded (its rows: the learners who might be). */
export async function evaluatePathway(ctx: ServiceContext, caller: Caller, id: string, settings: { chunkSize: number }): Promise<JobView> {
  const pathway = await visiblePathway(ctx.db, caller, id)
  return submitQueriedJob(ctx, caller, settings, {
    type: EVALUATE_JOB, issuerId: pathway.issuer_id, params: { pathwayId: id }, rows: candidateLearners(id)
  })
}

/** A node of the public tree: leaves carry what a reader needs (the badge, or the nested stack). */
export type PublicNode = Omit<RequirementNode, 'all' | 'any' | 'of'> & {
  all?: PublicNode[]
  any?: PublicNode[]
  of?: PublicNode[]
  achievement?: Ob3Achievement
  pathway?: { id: string; name: string }
}

export interface PublicPathway {
  id: string
  name: string
  description?: string
  issuer: { id: string; name: string; url: string }
  award: Ob3Achievement
  requirement: PublicNode
}

/** The public stack: the award, and each component as the OB 3.0 Achievement its credentials carry. */
export async function publicPathway(ctx: ServiceContext, id: string): Promise<PublicPathway> {
  const row = await findPathway(ctx.db, id)
  if (row === undefined) throw notFound(PATHWAY)
  const requirement = requirementOf(row)
  const { achievements, pathways } = leavesOf(requirement)
  const documents = new Map((await achievementsWithCreators(ctx.db, [row.award_achievement_id, ...achievements.map((leaf) => leaf.id)]))
    .map((achievement) => [achievement.id, achievementDocument(ctx.publicUrl, achievement, { id: achievement.creator_did, name: achievement.creator_name })]))
  const nested = new Map((await findPathways(ctx.db, pathways.map((leaf) => leaf.id))).map((pathway) => [pathway.id, pathway.name]))
  const issuer = (await findIssuer(ctx.db, row.issuer_id))!
  const decorate = (node: RequirementNode): PublicNode => ({
    ...node,
    ...(node.all !== undefined && { all: node.all.map(decorate) }),
    ...(node.any !== undefined && { any: node.any.map(decorate) }),
    ...(node.of !== undefined && { of: node.of.map(decorate) }),
    ...(node.achievementId !== undefined && { achievement: documents.get(node.achievementId)! }),
    ...(node.pathwayId !== undefined && { pathway: { id: pathwayUrl(ctx.publicUrl, node.pathwayId), name: nested.get(node.pathwayId)! } })
  })
  return {
    id: pathwayUrl(ctx.publicUrl, row.id),
    name: row.name,
    ...(row.description !== null && { description: row.description }),
    issuer: { id: issuer.did, name: issuer.name, url: issuer.url },
    award: documents.get(row.award_achievement_id)!,
    requirement: decorate(requirement)
  }
}
