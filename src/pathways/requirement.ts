// A pathway's requirement tree: its shape (zod), the rules a tree must meet beyond its shape, its leaves, and its
// evaluation against the credentials one learner holds.
import { z } from 'zod'
import type { FieldError } from '../http/errors.js'

/**
 * One node, as the API takes it: exactly one of `achievementId`, `pathwayId`, `all`, `any`, or `atLeast` with `of`.
 * (One object with optional members rather than a union, so that a wrong member is reported where it is.)
 */
export interface RequirementNode {
  achievementId?: string
  pathwayId?: string
  all?: RequirementNode[]
  any?: RequirementNode[]
  atLeast?: number
  of?: RequirementNode[]
}

/** Nodes from the root to the deepest leaf, at most: a programme's stack is a few levels, and evaluation stays cheap. */
export const MAX_DEPTH = 8
/** Nodes in one tree, at most. */
export const MAX_NODES = 200

const KINDS = ['achievementId', 'pathwayId', 'all', 'any', 'atLeast'] as const

export const requirementSchema: z.ZodType<RequirementNode> = z.strictObject({
  achievementId: z.uuid({ message: 'expected an achievement id (a UUID)' }).optional(),
  pathwayId: z.uuid({ message: 'expected a pathway id (a UUID)' }).optional(),
  get all() { return z.array(requirementSchema).optional().describe('every one of these') },
  get any() { return z.array(requirementSchema).optional().describe('one of these, at least') },
  atLeast: z.number().int().optional().describe('with `of`: at least this many of them (1 to their number)'),
  get of() { return z.array(requirementSchema).optional() }
}).superRefine((node, ctx) => {
  const given = KINDS.filter((kind) => node[kind] !== undefined)
  if (given.length !== 1) {
    ctx.addIssue({ code: 'custom', message: 'give exactly one of achievementId, pathwayId, all, any, or atLeast with of' })
  } else if ((node.atLeast === undefined) !== (node.of === undefined)) {
    ctx.addIssue({ code: 'custom', path: [node.of === undefined ? 'of' : 'atLeast'], message: 'atLeast and of go together' })
  }
}).meta({
  id: 'Requirement',
  description: 'A requirement tree: `{ achievementId }` (a credential of that achievement, from any issuer on this Lanyard), ' +
    '`{ pathwayId }` (that pathway\'s award), `{ all: [ … ] }`, `{ any: [ … ] }` or `{ atLeast: n, of: [ … ] }`. ' +
    `At most ${MAX_DEPTH} levels and ${MAX_NODES} nodes.`
})

type Children = 'all' | 'any' | 'of'

/** A node's children and the member that holds them; none for a leaf. */
function childrenOf(node: RequirementNode): { key: Children; nodes: RequirementNode[] } | undefined {
  if (node.all !== undefined) return { key: 'all', nodes: node.all }
  if (node.any !== undefined) return { key: 'any', nodes: node.any }
  if (node.of !== undefined) return { key: 'of', nodes: node.of }
  return undefined
}

/**
 * Run before the schema, on the raw body: a tree nested deeper than MAX_DEPTH is refused at the first node too deep,
 * iteratively, so no later recursive step (the schema's, this module's) ever meets a body that nests as deep as it likes.
 */
export function tooDeep(value: unknown, base: string): FieldError | undefined {
  const pending: [unknown, string, number][] = [[value, base, 1]]
  while (pending.length > 0) {
    const [node, pointer, depth] = pending.pop()!
    if (typeof node !== 'object' || node === null || Array.isArray(node)) continue
    if (depth > MAX_DEPTH) return { pointer, message: `the requirement nests deeper than ${MAX_DEPTH} levels` }
    for (const key of ['all', 'any', 'of'] as const) {
      const children = (node as Record<string, unknown>)[key]
      if (Array.isArray(children)) children.forEach((child, index) => pending.push([child, `${pointer}/${key}/${index}`, depth + 1]))
    }
  }
  return undefined
}

export interface Leaf {
  id: string
  /** JSON Pointer of the leaf's id in the request. */
  pointer: string
}

/** The achievement and pathway leaves, in tree order. */
export function leavesOf(root: RequirementNode, base = ''): { achievements: Leaf[]; pathways: Leaf[] } {
  const achievements: Leaf[] = []
  const pathways: Leaf[] = []
  const visit = (node: RequirementNode, pointer: string): void => {
    if (node.achievementId !== undefined) achievements.push({ id: node.achievementId, pointer: `${pointer}/achievementId` })
    if (node.pathwayId !== undefined) pathways.push({ id: node.pathwayId, pointer: `${pointer}/pathwayId` })
    const children = childrenOf(node)
    children?.nodes.forEach((child, index) => visit(child, `${pointer}/${children.key}/${index}`))
  }
  visit(root, base)
  return { achievements, pathways }
}

/**
 * What the schema cannot say about a tree: no empty all, any or of, atLeast between 1 and its number of nodes, at most
 * MAX_NODES nodes (depth was checked before the schema).
 */
export function shapeErrors(root: RequirementNode, base: string): FieldError[] {
  const errors: FieldError[] = []
  let nodes = 0
  const visit = (node: RequirementNode, pointer: string): void => {
    nodes++
    const children = childrenOf(node)
    if (children === undefined) return
    if (children.nodes.length === 0) errors.push({ pointer: `${pointer}/${children.key}`, message: `${children.key} needs at least one requirement` })
    else if (node.atLeast !== undefined && (node.atLeast < 1 || node.atLeast > children.nodes.length)) {
      errors.push({ pointer: `${pointer}/atLeast`, message: `atLeast must be between 1 and the number of requirements in of (${children.nodes.length})` })
    }
    children.nodes.forEach((child, index) => visit(child, `${pointer}/${children.key}/${index}`))
  }
  visit(root, base)
  if (nodes > MAX_NODES) errors.unshift({ pointer: base, message: `the requirement has ${nodes} nodes; at most ${MAX_NODES} are allowed` })
  return errors
}

/** A node as progress shows it: satisfied or not, and by which credentials; a satisfied node lists those of its satisfied children. */
export type EvaluatedNode = Omit<RequirementNode, Children> & {
  all?: EvaluatedNode[]
  any?: EvaluatedNode[]
  of?: EvaluatedNode[]
  satisfied: boolean
  credentialIds: string[]
}

export interface Holdings {
  /** The learner's credentials that count (active, valid now), by achievement id. */
  credentials: ReadonlyMap<string, readonly string[]>
  /** The award achievement of each nested pathway: holding a credential of it completes that pathway. */
  awardOf: ReadonlyMap<string, string>
}

export function evaluate(node: RequirementNode, held: Holdings): EvaluatedNode {
  const { all: _all, any: _any, of: _of, ...own } = node
  const children = childrenOf(node)
  if (children === undefined) {
    // A pathway leaf counts the credentials of that pathway's award.
    const achievementId = node.achievementId ?? held.awardOf.get(node.pathwayId!)!
    const credentialIds = [...held.credentials.get(achievementId) ?? []]
    return { ...own, satisfied: credentialIds.length > 0, credentialIds }
  }
  const evaluated = children.nodes.map((child) => evaluate(child, held))
  const met = evaluated.filter((child) => child.satisfied)
  const needed = children.key === 'all' ? evaluated.length : children.key === 'any' ? 1 : node.atLeast!
  const satisfied = met.length >= needed
  return {
    ...own,
    [children.key]: evaluated,
    satisfied,
    credentialIds: satisfied ? [...new Set(met.flatMap((child) => child.credentialIds))] : []
  }
}
