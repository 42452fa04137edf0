// The copies an endorsed achievement or issuer profile embeds, rewritten in the transaction that changes one of its
// endorsements. Every change locks the subject's row first and only then reads or writes endorsements: two changes to
// one subject queue, the second reads what the first committed, and neither overwrites the other's copy.
import { lockAchievement, setEmbeddedEndorsements as setAchievementEndorsements } from '../achievements/store.js'
import type { Db, EndorsementRow } from '../db/schema.js'
import { AppError } from '../http/errors.js'
import { lockIssuer, setEmbeddedEndorsements as setProfileEndorsements } from '../issuers/store.js'
import { MAX_ENDORSEMENTS } from '../verify/pipeline.js'
import { embeddableEndorsements } from './store.js'

/** An achievement or an issuer profile of this Lanyard: those embed their endorsements. */
export type EmbeddingSubject = { achievementId: string } | { issuerId: string }

/** The subject an endorsement row embeds in, if any. */
export function embeddingSubjectOf(row: Pick<EndorsementRow, 'achievement_id' | 'subject_issuer_id'>): EmbeddingSubject | undefined {
  if (row.achievement_id !== null) return { achievementId: row.achievement_id }
  if (row.subject_issuer_id !== null) return { issuerId: row.subject_issuer_id }
  return undefined
}

/** Locks the subject's row for the rest of the transaction (subjects are never deleted: the caller has just seen it). */
export async function lockSubject(trx: Db, subject: EmbeddingSubject): Promise<void> {
  if ('achievementId' in subject) await lockAchievement(trx, subject.achievementId)
  else await lockIssuer(trx, subject.issuerId)
}

/**
 * Rewrites what the subject embeds from its live endorsements, as the exact signed bytes (a JSON document, or a JWT
 * as a JSON string). At most as many as a verifier checks: more would be praise no verifier looks at.
 */
export async function refreshEmbedded(trx: Db, subject: EmbeddingSubject): Promise<void> {
  const rows = await embeddableEndorsements(trx, subject)
  if (rows.length > MAX_ENDORSEMENTS) {
    throw new AppError('too-many-endorsements', 409,
      `the endorsed ${'achievementId' in subject ? 'achievement' : 'profile'} already carries ${MAX_ENDORSEMENTS} endorsements, as many as a verifier ` +
      `checks${'achievementId' in subject ? ': its issuer can detach one to make room' : ''}`)
  }
  const json = `[${rows.map((row) => row.format === 'vc-jwt' ? JSON.stringify(row.signed) : row.signed).join(',')}]`
  if ('achievementId' in subject) await setAchievementEndorsements(trx, subject.achievementId, json)
  else await setProfileEndorsements(trx, subject.issuerId, json)
}
