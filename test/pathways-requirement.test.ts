// Requirement trees on their own: depth before the schema, the shape rules, the leaves, and evaluation, with property
// tests over random trees against a plain reading of what each node means.
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import t from 'tap'
import {
  evaluate, leavesOf, MAX_DEPTH, MAX_NODES, requirementSchema, shapeErrors, tooDeep, type EvaluatedNode, type Holdings, type RequirementNode
} from '../src/pathways/requirement.js'

const ACHIEVEMENTS = ['a', 'b', 'c', 'd', 'e'].map((letter) => `00000000-0000-4000-8000-00000000000${letter}`)
const PATHWAYS = ['1', '2'].map((digit) => `10000000-0000-4000-8000-00000000000${digit}`)

/** Random well-formed trees: every group non-empty, every atLeast possible. */
const tree: fc.Arbitrary<RequirementNode> = fc.letrec<{ node: RequirementNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...ACHIEVEMENTS).map((achievementId) => ({ achievementId })),
    fc.constantFrom(...PATHWAYS).map((pathwayId) => ({ pathwayId })),
    fc.array(tie('node'), { minLength: 1, maxLength: 4 }).map((all) => ({ all })),
    fc.array(tie('node'), { minLength: 1, maxLength: 4 }).map((any) => ({ any })),
    fc.array(tie('node'), { minLength: 1, maxLength: 4 }).chain((of) => fc.integer({ min: 1, max: of.length }).map((atLeast) => ({ atLeast, of })))
  )
})).node

/** What a learner holds: some achievements (one or two credentials each), and the awards of some pathways. */
const holdings: fc.Arbitrary<Holdings> = fc.record({
  held: fc.subarray(ACHIEVEMENTS),
  doubled: fc.subarray(ACHIEVEMENTS),
  awards: fc.subarray(PATHWAYS)
}).map(({ held, doubled, awards }) => {
  const credentials = new Map<string, string[]>()
  for (const id of held) credentials.set(id, doubled.includes(id) ? [`cred-${id}-1`, `cred-${id}-2`] : [`cred-${id}`])
  // Pathway 1's award is achievement e; pathway 2's is an achievement nobody holds unless awarded.
  const awardOf = new Map([[PATHWAYS[0]!, ACHIEVEMENTS[4]!], [PATHWAYS[1]!, 'award-2']])
  if (awards.includes(PATHWAYS[1]!)) credentials.set('award-2', ['cred-award-2'])
  return { credentials, awardOf }
})

/** The plain reading of a node. */
function meets(node: RequirementNode, held: Holdings): boolean {
  if (node.achievementId !== undefined) return (held.credentials.get(node.achievementId) ?? []).length > 0
  if (node.pathwayId !== undefined) return (held.credentials.get(held.awardOf.get(node.pathwayId)!) ?? []).length > 0
  if (node.all !== undefined) return node.all.every((child) => meets(child, held))
  if (node.any !== undefined) return node.any.some((child) => meets(child, held))
  return node.of!.filter((child) => meets(child, held)).length >= node.atLeast!
}

const everyNode = (node: EvaluatedNode): EvaluatedNode[] => [node, ...[...node.all ?? [], ...node.any ?? [], ...node.of ?? []].flatMap(everyNode)]

/** The tree an evaluated node was made from. */
function original({ satisfied: _satisfied, credentialIds: _ids, all, any, of, ...leaf }: EvaluatedNode): RequirementNode {
  return { ...leaf, ...(all && { all: all.map(original) }), ...(any && { any: any.map(original) }), ...(of && { of: of.map(original) }) }
}

t.test('evaluation agrees with the plain reading of every node, on random trees', async (t) => {
  fc.assert(fc.property(tree, holdings, (root, held) => {
    const evaluated = evaluate(root, held)
    // The tree comes back as it was, a verdict beside each node.
    if (!isDeepStrictEqual(original(evaluated), root)) return false
    return everyNode(evaluated).every((node) => node.satisfied === meets(original(node), held) && node.satisfied === (node.credentialIds.length > 0))
  }), { numRuns: 2000 })
  t.pass('2000 random trees and holdings')
})

t.test('a satisfied tree\'s credentials are exactly those of its satisfied leaves, each once', async (t) => {
  fc.assert(fc.property(tree, holdings, (root, held) => {
    const evaluated = evaluate(root, held)
    if (!evaluated.satisfied) return evaluated.credentialIds.length === 0
    const ids = evaluated.credentialIds
    const allHeld = new Set([...held.credentials.values()].flat())
    return new Set(ids).size === ids.length && ids.every((id) => allHeld.has(id))
  }), { numRuns: 1000 })
  t.pass()
})

t.test('random well-formed trees pass the schema and the shape rules, and keep their leaves', async (t) => {
  fc.assert(fc.property(tree, (root) => {
    const parsed = requirementSchema.safeParse(root)
    const leaves = leavesOf(root)
    const count = JSON.stringify(root).split(/"(achievementId|pathwayId)"/).length
    return parsed.success && shapeErrors(root, '/requirement').filter((e) => !e.message.includes('nodes')).length === 0 &&
      leaves.achievements.length + leaves.pathways.length === (count - 1) / 2
  }), { numRuns: 1000 })
  t.pass()
})

t.test('leaves are listed in tree order with their JSON Pointers', async (t) => {
  const root = { all: [{ achievementId: 'x' }, { atLeast: 1, of: [{ pathwayId: 'p' }, { any: [{ achievementId: 'y' }] }] }] }
  t.same(leavesOf(root, '/requirement'), {
    achievements: [{ id: 'x', pointer: '/requirement/all/0/achievementId' }, { id: 'y', pointer: '/requirement/all/1/of/1/any/0/achievementId' }],
    pathways: [{ id: 'p', pointer: '/requirement/all/1/of/0/pathwayId' }]
  })
})

t.test('the shape rules: no empty group, atLeast within 1..n, at most MAX_NODES nodes', async (t) => {
  t.same(shapeErrors({ all: [] }, ''), [{ pointer: '/all', message: 'all needs at least one requirement' }])
  t.same(shapeErrors({ any: [{ of: [], atLeast: 1 }] }, '/r'), [{ pointer: '/r/any/0/of', message: 'of needs at least one requirement' }])
  t.match(shapeErrors({ atLeast: 4, of: [{ achievementId: 'x' }] }, ''), [{ pointer: '/atLeast', message: /between 1 and .* \(1\)/ }])
  t.match(shapeErrors({ atLeast: 0, of: [{ achievementId: 'x' }] }, ''), [{ pointer: '/atLeast' }])
  const wide = { any: Array.from({ length: MAX_NODES }, () => ({ achievementId: 'x' })) }
  t.match(shapeErrors(wide, '/r'), [{ pointer: '/r', message: `the requirement has ${MAX_NODES + 1} nodes; at most ${MAX_NODES} are allowed` }])
  t.same(shapeErrors({ any: wide.any.slice(1) }, '/r'), [], 'exactly MAX_NODES is fine')
})

t.test('depth is measured before the schema, on any JSON, without recursion', async (t) => {
  let node: unknown = { achievementId: 'x' }
  for (let level = 1; level < MAX_DEPTH; level++) node = { all: [node] }
  t.equal(tooDeep(node, '/requirement'), undefined, `${MAX_DEPTH} levels are fine`)
  t.same(tooDeep({ of: [node], atLeast: 1 }, '/requirement'), { pointer: `/requirement/of/0${'/all/0'.repeat(MAX_DEPTH - 1)}`, message: `the requirement nests deeper than ${MAX_DEPTH} levels` })
  let abyss: unknown = {}
  for (let level = 0; level < 200_000; level++) abyss = { any: [abyss] }
  t.ok(tooDeep(abyss, ''), 'two hundred thousand levels, no stack overflow')
  for (const value of [undefined, null, 'text', 42, [[[]]], { all: 'not an array' }]) t.equal(tooDeep(value, ''), undefined, `${JSON.stringify(value)} is the schema's to judge`)
})

t.test('the schema names what is wrong with a node', async (t) => {
  const issues = (value: unknown) => requirementSchema.safeParse(value).error?.issues.map((issue) => ({ path: issue.path.join('/'), message: issue.message }))
  t.same(issues({}), [{ path: '', message: 'give exactly one of achievementId, pathwayId, all, any, or atLeast with of' }])
  t.same(issues({ achievementId: ACHIEVEMENTS[0], pathwayId: PATHWAYS[0] }), [{ path: '', message: 'give exactly one of achievementId, pathwayId, all, any, or atLeast with of' }])
  t.same(issues({ atLeast: 1 }), [{ path: 'of', message: 'atLeast and of go together' }])
  t.match(issues({ all: [{ achievementId: 'nope' }] }), [{ path: 'all/0/achievementId', message: 'expected an achievement id (a UUID)' }])
  t.match(issues({ any: [{ colour: 'red' }] }), [{ path: 'any/0' }])
})
