// HTTP for people: the reviewers' pages under /review (sign-in by emailed link, the queue, one submission and its decision),
// and the evidence files' public URLs (open when public, to a signed-in reviewer, or through the learner's claim link).
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { findAchievement } from '../achievements/store.js'
import type { ServiceContext } from '../context.js'
import type { ReviewDecision, ReviewerRow, SubmissionRow } from '../db/schema.js'
import { AppError } from '../http/errors.js'
import { findIssuer } from '../issuers/store.js'
import type { Mailer } from '../mail/mailer.js'
import {
  reviewQueuePage, reviewSignInPage, submissionReviewPage, type FieldMessage, type SubmissionReviewPageModel
} from '../pages/review-pages.js'
import { fileSize, submissionFiles } from './file-store.js'
import { readableFile, sendFile } from './files.js'
import { evidenceFile } from './routes.js'
import { decidableSubmission, decide, isOwnSubmission } from './review.js'
import { csrfMatches, csrfTokenOf, requestSignInLink, sessionReviewer, signIn, signInState, signOut } from './reviewers.js'
import { approvalsRequired, fileUrl } from './service.js'
import { approvalCounts, pendingForReviewer, reviewsOf, versionsOf } from './store.js'

const SESSION_COOKIE = 'lanyard_review'
const TAGS = ['Review pages']
const QUEUE_LENGTH = 200

const NOTICES: Record<string, string> = {
  approve: 'Your approval was recorded.',
  approved: 'Approved: the badge was issued to the learner.',
  revise: 'A revision was asked for: the learner can send a new version.',
  reject: 'The submission was rejected.'
}

const html = z.string().describe('an HTML page')
const tokenParams = z.object({ token: z.string().min(1).max(100) })
const submissionParams = z.object({ id: z.uuid({ message: 'expected a UUID' }) })
const fileParams = z.object({ id: z.uuid({ message: 'expected a UUID' }), fileId: z.uuid({ message: 'expected a UUID' }) })
const claimFileParams = z.object({ token: z.string().min(1).max(100), fileId: z.uuid({ message: 'expected a UUID' }) })
const form = z.record(z.string(), z.union([z.string().max(20_000), z.array(z.string().max(20_000))]))

function sendPage(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body)
}

/** The reviewer's session secret and who it belongs to, if the cookie names a live session. */
async function sessionOf(ctx: ServiceContext, request: FastifyRequest): Promise<{ session: string; reviewer: ReviewerRow } | undefined> {
  const session = request.cookies[SESSION_COOKIE]
  const reviewer = await sessionReviewer(ctx, session)
  return reviewer === undefined ? undefined : { session: session!, reviewer }
}

/** A form of a signed-in reviewer: the session, and a CSRF token that is the session's (403 otherwise). */
async function formSession(ctx: ServiceContext, request: FastifyRequest, body: Record<string, unknown>): Promise<{ session: string; reviewer: ReviewerRow } | undefined> {
  const signedIn = await sessionOf(ctx, request)
  if (signedIn !== undefined && !csrfMatches(signedIn.session, body.csrf)) {
    throw new AppError('csrf-failed', 403, 'this form is out of date or was not sent from the review page: reload the page and try again')
  }
  return signedIn
}

const DECISIONS: readonly ReviewDecision[] = ['approve', 'revise', 'reject']

const one = (value: string | string[] | undefined): string | undefined => Array.isArray(value) ? value[0] : value

/** The decision form as the service's input (results by rubric index), keeping what was sent for a page that shows it again. */
function decisionOf(body: Record<string, string | string[]>, rubrics: { id: string }[]) {
  const decision = one(body.decision)
  const comment = one(body.comment)?.trim()
  const levels: Record<number, string> = {}
  rubrics.forEach((_, index) => {
    const level = one(body[`level-${index}`])
    if (level !== undefined && level !== '') levels[index] = level
  })
  const rubricOfResult = Object.keys(levels).map(Number)
  const results = rubricOfResult.map((index) => ({ resultDescription: rubrics[index]!.id, achievedLevel: levels[index]! }))
  const chosen = DECISIONS.find((known) => known === decision)
  return {
    input: chosen === undefined ? undefined : { decision: chosen, ...(comment ? { comment } : {}), results },
    values: { ...(chosen !== undefined && { decision: chosen }), ...(comment ? { comment } : {}), levels },
    /** The form field a service error points at: `/results/<i>` is the radio group of the rubric that result was for. */
    fieldOf(pointer: string): FieldMessage['field'] {
      if (pointer === '/comment') return 'comment'
      const match = /^\/results\/(\d+)/.exec(pointer)
      const rubric = match === null ? undefined : rubricOfResult[Number(match[1])]
      return rubric === undefined ? 'decision' : `level-${rubric}`
    }
  }
}

export interface ReviewPageOptions {
  /** Sends sign-in links; undefined when mail is off, and the sign-in page says so. */
  mailer: Mailer | undefined
}

export function reviewPageRoutes(ctx: ServiceContext, options: ReviewPageOptions): FastifyPluginAsyncZod {
  const secure = ctx.publicUrl.startsWith('https:')
  const publicUrl = ctx.publicUrl

  /** The submission page's model, for the reviewer. */
  async function submissionModel(reviewer: ReviewerRow, session: string, row: SubmissionRow): Promise<SubmissionReviewPageModel> {
    const achievement = (await findAchievement(ctx.db, row.achievement_id))!
    const [versions, files, reviews, issuer] = await Promise.all([
      versionsOf(ctx.db, row.id), submissionFiles(ctx.db, row.id), reviewsOf(ctx.db, row.id),
      findIssuer(ctx.db, row.issuer_id).then((issuer) => issuer!)
    ])
    const current = versions.find((v) => v.version === row.version)!
    const mine = reviews.find((review) => review.version === row.version && review.reviewer_id === reviewer.id)
    const readOnly = isOwnSubmission(row, reviewer.email) ? 'This is your own submission: another reviewer decides it.'
      : row.status !== 'pending' ? `This submission was ${row.status === 'revision_requested' ? 'sent back for a revision' : row.status}.`
        : mine !== undefined ? 'You already decided this version; the other reviewers’ approvals are awaited.' : undefined
    return {
      publicUrl,
      csrfToken: csrfTokenOf(session),
      action: `${publicUrl}/review/submissions/${row.id}`,
      submission: {
        achievementName: achievement.name,
        issuerName: issuer.name,
        ...(achievement.criteria.narrative !== undefined && { criteriaNarrative: achievement.criteria.narrative }),
        learner: { label: row.recipient_name ?? (row.identity_type === 'email' ? row.identity : 'A learner') },
        version: row.version,
        submittedAt: current.submitted_at,
        evidence: current.evidence,
        files: files.filter((file) => file.version === row.version).map((file) => ({
          name: file.name, url: fileUrl(publicUrl, row.id, file.id), contentType: file.content_type, size: fileSize(file)
        })),
        history: reviews.map((review) => ({
          version: review.version, decision: review.decision, comment: review.comment,
          reviewer: review.reviewer_name ?? review.reviewer_email ?? 'the issuer', decidedAt: review.created_at
        })),
        approvals: {
          count: reviews.filter((review) => review.version === row.version && review.decision === 'approve').length,
          required: approvalsRequired(achievement)
        }
      },
      rubrics: achievement.result_descriptions,
      ...(readOnly !== undefined && { readOnly: { reason: readOnly } })
    }
  }

  return async (app) => {
    await app.register(cookie)
    await app.register(formbody, { bodyLimit: 65_536 })
    const common = { tags: TAGS, hide: true }

    const setSession = (reply: FastifyReply, session: string, expires: Date) =>
      reply.setCookie(SESSION_COOKIE, session, { path: '/', httpOnly: true, sameSite: 'lax', secure, expires })

    app.get('/review', {
      schema: { ...common, summary: 'The reviewer\'s queue of pending submissions', querystring: z.object({ done: z.string().max(20).optional() }), response: { 200: html } }
    }, async (request, reply) => {
      const signedIn = await sessionOf(ctx, request)
      if (signedIn === undefined) return reply.redirect('/review/sign-in', 303)
      const pending = await pendingForReviewer(ctx.db, signedIn.reviewer.id, QUEUE_LENGTH)
      const counts = await approvalCounts(ctx.db, pending)
      const required = new Map<string, number>()
      for (const achievementId of new Set(pending.map((row) => row.achievement_id))) {
        required.set(achievementId, approvalsRequired((await findAchievement(ctx.db, achievementId))!))
      }
      const notice = request.query.done === undefined ? undefined : NOTICES[request.query.done]
      return sendPage(reply, reviewQueuePage({
        publicUrl,
        reviewer: { email: signedIn.reviewer.email, name: signedIn.reviewer.name },
        csrfToken: csrfTokenOf(signedIn.session),
        items: pending.map((row) => ({
          id: row.id, url: `${publicUrl}/review/submissions/${row.id}`, achievementName: row.achievement_name, issuerName: row.issuer_name,
          learnerName: row.recipient_name, version: row.version, submittedAt: row.updated_at,
          approvals: { count: counts.get(row.id) ?? 0, required: required.get(row.achievement_id)! }
        })),
        ...(notice !== undefined && { notice })
      }))
    })

    app.get('/review/sign-in', {
      schema: { ...common, summary: 'Ask for a sign-in link', response: { 200: html } }
    }, async (_request, reply) => sendPage(reply, reviewSignInPage({
      publicUrl, kind: 'request', ...(options.mailer === undefined && { error: 'Sign-in by email is off on this server: ask the issuer who invited you.' })
    })))

    app.post('/review/sign-in', {
      schema: { ...common, summary: 'Email a sign-in link to a reviewer', body: form, response: { 200: html } }
    }, async (request, reply) => {
      if (options.mailer === undefined) {
        return sendPage(reply, reviewSignInPage({ publicUrl, kind: 'request', error: 'Sign-in by email is off on this server: ask the issuer who invited you.' }), 503)
      }
      const email = z.email().max(320).safeParse(one(request.body.email)?.trim())
      if (!email.success) return sendPage(reply, reviewSignInPage({ publicUrl, kind: 'request', error: 'Enter your email address, like name@example.edu.' }), 400)
      try {
        await requestSignInLink(ctx, options.mailer, email.data)
      } catch (error) {
        // The page answers the same either way, so it tells no one who reviews; the operator sees why in the log.
        request.log.warn({ err: error }, 'a reviewer sign-in link could not be sent')
      }
      return sendPage(reply, reviewSignInPage({ publicUrl, kind: 'request', sent: true }))
    })

    app.get('/review/sign-in/:token', {
      schema: { ...common, summary: 'The sign-in link: a page that asks to confirm (the link is used only by the POST)', params: tokenParams, response: { 200: html, 410: html } }
    }, async (request, reply) => {
      const state = await signInState(ctx, request.params.token)
      if (state !== 'open') return sendPage(reply, reviewSignInPage({ publicUrl, kind: 'closed', reason: state }), state === 'unknown' ? 404 : 410)
      return sendPage(reply, reviewSignInPage({ publicUrl, kind: 'confirm', action: `${publicUrl}/review/sign-in/${request.params.token}` }))
    })

    app.post('/review/sign-in/:token', {
      schema: { ...common, summary: 'Use the sign-in link: opens a review session', params: tokenParams, response: { 303: z.null(), 410: html } }
    }, async (request, reply) => {
      const outcome = await signIn(ctx, request.params.token)
      if ('closed' in outcome) return sendPage(reply, reviewSignInPage({ publicUrl, kind: 'closed', reason: outcome.closed }), outcome.closed === 'unknown' ? 404 : 410)
      return setSession(reply, outcome.session, outcome.expiresAt).redirect('/review', 303)
    })

    app.post('/review/sign-out', {
      schema: { ...common, summary: 'End the review session', body: form, response: { 303: z.null() } }
    }, async (request, reply) => {
      const signedIn = await formSession(ctx, request, request.body)
      if (signedIn !== undefined) await signOut(ctx, signedIn.session)
      return reply.clearCookie(SESSION_COOKIE, { path: '/' }).redirect('/review/sign-in', 303)
    })

    app.get('/review/submissions/:id', {
      schema: { ...common, summary: 'One submission, with its evidence and the decision form', params: submissionParams, response: { 200: html } }
    }, async (request, reply) => {
      const signedIn = await sessionOf(ctx, request)
      if (signedIn === undefined) return reply.redirect('/review/sign-in', 303)
      const row = await decidableSubmission(ctx, { kind: 'reviewer', reviewer: signedIn.reviewer, requestId: String(request.id) }, request.params.id)
      return sendPage(reply, submissionReviewPage(await submissionModel(signedIn.reviewer, signedIn.session, row)))
    })

    app.post('/review/submissions/:id', {
      schema: { ...common, summary: 'Decide the submission (the page\'s form)', params: submissionParams, body: form, response: { 303: z.null(), 409: html, 422: html } }
    }, async (request, reply) => {
      const signedIn = await formSession(ctx, request, request.body)
      if (signedIn === undefined) return reply.redirect('/review/sign-in', 303)
      const reviewer = { kind: 'reviewer' as const, reviewer: signedIn.reviewer, requestId: String(request.id) }
      const row = await decidableSubmission(ctx, reviewer, request.params.id)
      // The form names levels by rubric index: the achievement's rubrics are all that reading it needs.
      const rubrics = (await findAchievement(ctx.db, row.achievement_id))!.result_descriptions
      const { input, values, fieldOf } = decisionOf(request.body, rubrics)
      const errors: FieldMessage[] = []
      let status = 422
      if (input === undefined) errors.push({ field: 'decision', message: 'Choose a decision: approve, ask for a revision, or reject.' })
      else {
        try {
          const outcome = await decide(ctx, reviewer, row.id, input)
          return reply.redirect(`/review?done=${outcome.submission.status === 'approved' ? 'approved' : input.decision}`, 303)
        } catch (error) {
          /* c8 ignore next: a database or signing fault, which the error handler answers as a 500 problem */
          if (!(error instanceof AppError) || error.status >= 500) throw error
          // Decided meanwhile (409) or not theirs to decide (403): the page shows why, with the status an API would give.
          status = error.status
          errors.push(...(error.errors ?? [{ pointer: '', message: error.detail }]).map((field) => ({ field: fieldOf(field.pointer), message: field.message })))
        }
      }
      return sendPage(reply, submissionReviewPage({ ...(await submissionModel(signedIn.reviewer, signedIn.session, row)), values, errors }), status)
    })

    app.get('/submissions/:id/files/:fileId', {
      schema: { ...common, hide: false, tags: ['Evidence and review'], summary: 'An evidence file: open when public, else to the issuer\'s reviewers signed in at /review', params: fileParams, response: { 200: evidenceFile } }
    }, async (request, reply) => {
      const signedIn = await sessionOf(ctx, request)
      const file = await readableFile(ctx, { kind: 'visitor', ...(signedIn !== undefined && { reviewer: signedIn.reviewer }) }, request.params.id, request.params.fileId)
      return sendFile(ctx, reply, file)
    })

    app.get('/claim/:token/files/:fileId', {
      schema: { ...common, hide: false, tags: ['Evidence and review'], summary: 'An evidence file of the learner\'s badge, through their claim link', params: claimFileParams, response: { 200: evidenceFile } }
    }, async (request, reply) => sendFile(ctx, reply, await readableFile(ctx, { kind: 'claim', token: request.params.token }, '', request.params.fileId)))
  }
}
