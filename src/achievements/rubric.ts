// Achievements' rubrics (OB 3.0 ResultDescriptions of RubricCriterionLevels): their stored form, and reviewers' results checked against them.
import { v7 as uuidv7 } from 'uuid'
import type { ResultDescription, ReviewResult, RubricCriterionLevel } from '../db/schema.js'
import type { FieldError } from '../http/errors.js'

/** A rubric level as the API takes it. */
export interface LevelInput {
  id?: string
  name: string
  description?: string
  points?: number | string
}

/** A rubric as the API takes it: its levels best first; `requiredLevel` names one of them by id or by name. */
export interface RubricInput {
  id?: string
  name: string
  resultType: 'RubricCriterionLevel'
  rubricCriterionLevel: LevelInput[]
  requiredLevel?: string
}

/** An OB 3.0 Result, as a credential's subject states it. */
export type Ob3Result = { type: ['Result']; resultDescription: string; achievedLevel: string }

const mintUrn = () => `urn:uuid:${uuidv7()}`

/** The level `requiredLevel` names: by id first (what GET returns), else by name (for levels sent without an id). */
function requiredIndex(rubric: RubricInput): number {
  const byId = rubric.rubricCriterionLevel.findIndex((level) => level.id === rubric.requiredLevel)
  return byId >= 0 ? byId : rubric.rubricCriterionLevel.findIndex((level) => level.name === rubric.requiredLevel)
}

/**
 * What makes rubrics unusable beyond their shape, each at its field (`pointer` is where the list is): an id used twice
 * anywhere in the achievement (results link to rubrics and levels by id alone), two levels of one rubric with one name,
 * and a `requiredLevel` that names none of its rubric's levels.
 */
export function rubricErrors(rubrics: RubricInput[], pointer = '/resultDescription'): FieldError[] {
  const errors: FieldError[] = []
  const idsSeen = new Map<string, string>()
  const checkId = (id: string | undefined, at: string) => {
    if (id === undefined) return
    const first = idsSeen.get(id)
    if (first !== undefined) errors.push({ pointer: at, message: `the id ${id} is already used at ${first}; ids must be unique within the achievement` })
    else idsSeen.set(id, at)
  }
  rubrics.forEach((rubric, r) => {
    const at = `${pointer}/${r}`
    checkId(rubric.id, `${at}/id`)
    const namesSeen = new Set<string>()
    rubric.rubricCriterionLevel.forEach((level, l) => {
      checkId(level.id, `${at}/rubricCriterionLevel/${l}/id`)
      if (namesSeen.has(level.name)) errors.push({ pointer: `${at}/rubricCriterionLevel/${l}/name`, message: `another level of this rubric is already named “${level.name}”` })
      namesSeen.add(level.name)
    })
    if (rubric.requiredLevel !== undefined && requiredIndex(rubric) < 0) {
      errors.push({ pointer: `${at}/requiredLevel`, message: `names none of the levels of “${rubric.name}” (give a level's id, or its name)` })
    }
  })
  return errors
}

function normaliseLevel(level: LevelInput, mint: () => string): RubricCriterionLevel {
  return {
    id: level.id ?? mint(),
    type: ['RubricCriterionLevel'],
    name: level.name,
    ...(level.description !== undefined ? { description: level.description } : {}),
    ...(level.points !== undefined ? { points: String(level.points) } : {})
  }
}

/**
 * The rubrics as the achievement stores and publishes them (checked by rubricErrors first): ids minted where none was
 * given, points as strings (OB 3.0 types them so), and `requiredLevel` as the level's id.
 */
export function normaliseRubrics(rubrics: RubricInput[], mint: () => string = mintUrn): ResultDescription[] {
  return rubrics.map((rubric) => {
    const levels = rubric.rubricCriterionLevel.map((level) => normaliseLevel(level, mint))
    return {
      id: rubric.id ?? mint(),
      type: ['ResultDescription'],
      name: rubric.name,
      resultType: rubric.resultType,
      rubricCriterionLevel: levels,
      ...(rubric.requiredLevel !== undefined ? { requiredLevel: levels[requiredIndex(rubric)]!.id } : {})
    }
  })
}

/**
 * A level's rank in its rubric, higher being better: by points when every level has them, else by position, the first
 * listed being the best (rubrics are written best first: “Exemplary”, “Proficient”, “Developing”).
 */
function levelRank(rubric: ResultDescription, index: number): number {
  const levels = rubric.rubricCriterionLevel
  if (levels.every((level) => level.points !== undefined)) return Number(levels[index]!.points)
  return levels.length - index
}

/**
 * What is wrong with a reviewer's results against the achievement's rubrics, each at its field under `pointer`: a
 * rubric that is not the achievement's, or given twice; a level that is not of that rubric; a level below the rubric's
 * required one; and a rubric with a required level but no result.
 */
export function resultErrors(rubrics: ResultDescription[], results: ReviewResult[], pointer = '/results'): FieldError[] {
  const errors: FieldError[] = []
  const assessed = new Set<string>()
  results.forEach((result, i) => {
    const at = `${pointer}/${i}`
    const rubric = rubrics.find((candidate) => candidate.id === result.resultDescription)
    if (rubric === undefined) {
      errors.push({ pointer: `${at}/resultDescription`, message: `${result.resultDescription} is not the id of one of this achievement's rubrics` })
      return
    }
    if (assessed.has(rubric.id)) {
      errors.push({ pointer: `${at}/resultDescription`, message: `a second result for “${rubric.name}”: give one result per rubric` })
      return
    }
    assessed.add(rubric.id)
    const achieved = rubric.rubricCriterionLevel.findIndex((level) => level.id === result.achievedLevel)
    if (achieved < 0) {
      errors.push({ pointer: `${at}/achievedLevel`, message: `${result.achievedLevel} is not the id of a level of “${rubric.name}”` })
      return
    }
    const required = rubric.rubricCriterionLevel.findIndex((level) => level.id === rubric.requiredLevel)
    if (required >= 0 && levelRank(rubric, achieved) < levelRank(rubric, required)) {
      errors.push({
        pointer: `${at}/achievedLevel`,
        message: `“${rubric.rubricCriterionLevel[achieved]!.name}” is below the required “${rubric.rubricCriterionLevel[required]!.name}” of “${rubric.name}”`
      })
    }
  })
  for (const rubric of rubrics) {
    if (rubric.requiredLevel === undefined || assessed.has(rubric.id)) continue
    const required = rubric.rubricCriterionLevel.find((level) => level.id === rubric.requiredLevel)!
    errors.push({ pointer, message: `no result for “${rubric.name}”, which requires at least “${required.name}”` })
  }
  return errors
}

/** The OB 3.0 Results a credential states for checked results, in the order of the achievement's rubrics. */
export function resultEntries(rubrics: ResultDescription[], results: ReviewResult[]): Ob3Result[] {
  return rubrics.flatMap((rubric): Ob3Result[] => {
    const result = results.find((candidate) => candidate.resultDescription === rubric.id)
    return result === undefined ? [] : [{ type: ['Result'], resultDescription: rubric.id, achievedLevel: result.achievedLevel }]
  })
}
