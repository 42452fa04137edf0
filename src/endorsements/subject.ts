// What an endorsement's subjectId names: an achievement or an issuer profile of this Lanyard (which then embed the
// endorsement), or something elsewhere, taken on the endorser's word.
import type { ServiceContext } from '../context.js'
import { findAchievement } from '../achievements/store.js'
import { AppError } from '../http/errors.js'
import { findIssuer } from '../issuers/store.js'

export interface EndorsedSubject {
  /** The subject's URL as the endorsement names it: for one of ours, in the form Lanyard publishes it. */
  url: string
  /** The achievement or issuer here that is the subject (and embeds the endorsement), if it is one of ours. */
  achievementId: string | null
  subjectIssuerId: string | null
  /** The issuer that is, or defines, the subject here: it may not endorse itself. */
  ownerId?: string
  name?: string
}

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'
const LOCAL = new RegExp(`^/(achievements|issuers)/(${UUID})$`)

const invalid = (code: string, detail: string) => new AppError(code, 422, detail, [{ pointer: '/subjectId', message: detail, in: 'body' }])

/**
 * A URL under PUBLIC_URL must be an achievement's or an issuer's public document (`/achievements/:id`, `/issuers/:id`)
 * that exists; any other http(s) URL is a subject elsewhere. The scheme is not compared, as for our own documents in
 * verification: did:web always means https while PUBLIC_URL may be http in development.
 */
export async function resolveSubject(ctx: ServiceContext, subjectId: string): Promise<EndorsedSubject> {
  const base = new URL(ctx.publicUrl)
  const target = new URL(subjectId)
  const basePath = base.pathname.replace(/\/+$/, '')
  if (target.host !== base.host || !(target.pathname === basePath || target.pathname.startsWith(`${basePath}/`))) {
    return { url: subjectId, achievementId: null, subjectIssuerId: null }
  }
  const match = target.search === '' && target.hash === '' ? LOCAL.exec(target.pathname.slice(basePath.length)) : null
  if (match === null) {
    throw invalid('subject-not-endorsable', `${subjectId} is on this Lanyard but is not an achievement or issuer profile (${ctx.publicUrl}/achievements/{id} or ${ctx.publicUrl}/issuers/{id})`)
  }
  const id = match[2]!.toLowerCase()
  if (match[1] === 'achievements') {
    const achievement = await findAchievement(ctx.db, id)
    if (achievement === undefined) throw invalid('subject-not-found', `no achievement ${id} on this Lanyard`)
    return { url: `${ctx.publicUrl}/achievements/${id}`, achievementId: id, subjectIssuerId: null, ownerId: achievement.issuer_id, name: achievement.name }
  }
  const issuer = await findIssuer(ctx.db, id)
  if (issuer === undefined) throw invalid('subject-not-found', `no issuer ${id} on this Lanyard`)
  return { url: `${ctx.publicUrl}/issuers/${id}`, achievementId: null, subjectIssuerId: id, ownerId: id, name: issuer.name }
}
