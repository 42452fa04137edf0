// Reviewers: invited by email per achievement, signed in with a single-use link, kept signed in by a session cookie.
// Only hashes of the link and session secrets are stored; the secrets exist in the email and the browser.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'
import { visibleAchievement } from '../achievements/service.js'
import { recordAuditEvent } from '../audit/store.js'
import type { Caller, ServiceContext } from '../context.js'
import type { ReviewerRow } from '../db/schema.js'
import { actorOf } from '../http/auth.js'
import { findIssuer } from '../issuers/store.js'
import { notFound } from '../http/errors.js'
import type { Mailer } from '../mail/mailer.js'
import { reviewerInvitation, reviewerSignInLink } from '../mail/templates.js'
import {
  assignReviewer, findReviewerByEmail, findSessionReviewer, findSignIn, hasAssignments, insertSession, insertSignIn,
  reviewersOf, unassignReviewer, upsertReviewer, useSignIn, deleteSession
} from './reviewer-store.js'

/** An invitation's link stays open a week (it may wait in an inbox); a link asked for on the sign-in page, an hour. */
export const INVITATION_TTL_MS = 7 * 24 * 3_600_000
export const REQUESTED_LINK_TTL_MS = 3_600_000
/** A review session lasts a working day. */
export const SESSION_TTL_MS = 12 * 3_600_000

export interface ReviewerView {
  id: string
  email: string
  name: string | null
  achievementId: string
  invitedAt: string
}

export interface InvitationView extends ReviewerView {
  /** False when mail is off (LANYARD_SMTP_URL unset): the reviewer is added, and signs in once mail is on. */
  invitationSent: boolean
  warning?: string
}

const newSecret = () => randomBytes(32).toString('base64url')
export const secretHash = (secret: string) => createHash('sha256').update(secret).digest('hex')
export const signInUrl = (publicUrl: string, token: string) => `${publicUrl}/review/sign-in/${token}`

const MAIL_OFF = 'mail is off (LANYARD_SMTP_URL is not set): the reviewer was added, but no invitation was sent'

/** POST /v1/achievements/:id/reviewers: adds the reviewer to the achievement and emails them a sign-in link. Inviting again sends a new link. */
export async function inviteReviewer(
  ctx: ServiceContext, mailer: Mailer | undefined, caller: Caller, achievementId: string, input: { email: string; name?: string }
): Promise<InvitationView> {
  const achievement = await visibleAchievement(ctx, caller, achievementId)
  const email = input.email.trim().toLowerCase()
  const token = newSecret()
  const expiresAt = new Date(Date.now() + INVITATION_TTL_MS)
  const { reviewer, invitedAt, issuerName } = await ctx.db.transaction().execute(async (trx) => {
    const reviewer = await upsertReviewer(trx, { id: uuidv7(), email, name: input.name ?? null })
    const invitedAt = await assignReviewer(trx, { reviewerId: reviewer.id, achievementId, issuerId: achievement.issuer_id })
    if (mailer !== undefined) await insertSignIn(trx, { tokenHash: secretHash(token), reviewerId: reviewer.id, expiresAt })
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'reviewer.invited', issuerId: achievement.issuer_id, targetType: 'achievement', targetId: achievementId,
      details: { reviewerId: reviewer.id, invitationSent: mailer !== undefined }, requestId: caller.requestId
    })
    return { reviewer, invitedAt, issuerName: (await findIssuer(trx, achievement.issuer_id))!.name }
  })
  const view = { id: reviewer.id, email: reviewer.email, name: reviewer.name, achievementId, invitedAt: invitedAt.toISOString() }
  if (mailer === undefined) return { ...view, invitationSent: false, warning: MAIL_OFF }
  await mailer.send({
    to: reviewer.email,
    ...reviewerInvitation({
      ...(reviewer.name !== null && { reviewerName: reviewer.name }), issuerName, achievementName: achievement.name,
      signInUrl: signInUrl(ctx.publicUrl, token), expiresAt
    })
  })
  return { ...view, invitationSent: true }
}

export async function listReviewers(ctx: ServiceContext, caller: Caller, achievementId: string): Promise<ReviewerView[]> {
  await visibleAchievement(ctx, caller, achievementId)
  return (await reviewersOf(ctx.db, achievementId)).map((row) => ({
    id: row.id, email: row.email, name: row.name, achievementId, invitedAt: row.invited_at.toISOString()
  }))
}

/** Takes the reviewer off the achievement: they no longer see or decide its submissions; their decisions stay. */
export async function removeReviewer(ctx: ServiceContext, caller: Caller, achievementId: string, reviewerId: string): Promise<void> {
  const achievement = await visibleAchievement(ctx, caller, achievementId)
  await ctx.db.transaction().execute(async (trx) => {
    if (!await unassignReviewer(trx, reviewerId, achievementId)) throw notFound('reviewer')
    await recordAuditEvent(trx, {
      actor: actorOf(caller.principal), action: 'reviewer.removed', issuerId: achievement.issuer_id, targetType: 'achievement', targetId: achievementId,
      details: { reviewerId }, requestId: caller.requestId
    })
  })
}

/**
 * The sign-in page's "email me a new link": a link goes to a reviewer of some achievement, and nobody else; the page says
 * the same either way, so it tells no one who reviews. A mail failure is the caller's to log, never the page's to show.
 */
export async function requestSignInLink(ctx: ServiceContext, mailer: Mailer, email: string): Promise<void> {
  const reviewer = await findReviewerByEmail(ctx.db, email.trim().toLowerCase())
  if (reviewer === undefined || !await hasAssignments(ctx.db, reviewer.id)) return
  const token = newSecret()
  const expiresAt = new Date(Date.now() + REQUESTED_LINK_TTL_MS)
  await insertSignIn(ctx.db, { tokenHash: secretHash(token), reviewerId: reviewer.id, expiresAt })
  await mailer.send({
    to: reviewer.email,
    ...reviewerSignInLink({ ...(reviewer.name !== null && { reviewerName: reviewer.name }), signInUrl: signInUrl(ctx.publicUrl, token), expiresAt })
  })
}

export type SignInState = 'open' | 'used' | 'expired' | 'unknown'

/** What a sign-in link can still do, for the page that asks to confirm it (a GET never uses it up: mail scanners follow links). */
export async function signInState(ctx: ServiceContext, token: string, now = new Date()): Promise<SignInState> {
  const signIn = await findSignIn(ctx.db, secretHash(token))
  if (signIn === undefined) return 'unknown'
  if (signIn.used_at !== null) return 'used'
  return signIn.expires_at <= now ? 'expired' : 'open'
}

/** Uses the link and opens a session: its secret for the cookie, or the reason the link no longer opens one. */
export async function signIn(ctx: ServiceContext, token: string): Promise<{ session: string; expiresAt: Date } | { closed: Exclude<SignInState, 'open'> }> {
  const now = new Date()
  const session = newSecret()
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS)
  const opened = await ctx.db.transaction().execute(async (trx) => {
    const reviewerId = await useSignIn(trx, secretHash(token), now)
    if (reviewerId === undefined) return false
    await insertSession(trx, { tokenHash: secretHash(session), reviewerId, expiresAt })
    await recordAuditEvent(trx, {
      actor: `reviewer:${reviewerId}`, action: 'reviewer.signed-in', issuerId: null, targetType: 'reviewer', targetId: reviewerId,
      details: { sessionExpiresAt: expiresAt.toISOString() }, requestId: `review:${reviewerId}`
    })
    return true
  })
  if (opened) return { session, expiresAt }
  return { closed: await signInState(ctx, token, now) as Exclude<SignInState, 'open'> }
}

/** The reviewer of a live session, from the cookie's secret. */
export async function sessionReviewer(ctx: ServiceContext, session: string | undefined): Promise<ReviewerRow | undefined> {
  if (session === undefined || session.length === 0 || session.length > 100) return undefined
  return findSessionReviewer(ctx.db, secretHash(session), new Date())
}

export async function signOut(ctx: ServiceContext, session: string): Promise<void> {
  await deleteSession(ctx.db, secretHash(session))
}

/** The session's CSRF token: derived from its secret, so a page of another site can neither read nor compute it. */
export function csrfTokenOf(session: string): string {
  return createHash('sha256').update('lanyard-review-csrf\u0000').update(session).digest('base64url')
}

export function csrfMatches(session: string, token: unknown): boolean {
  if (typeof token !== 'string') return false
  const expected = Buffer.from(csrfTokenOf(session))
  const given = Buffer.from(token)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

