// buildApp(deps): the Fastify app with every plugin and route; no listen, no process concerns (see main.ts).
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { serializerCompiler, type FastifyPluginAsyncZod, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import { adminAchievementRoutes, publicAchievementRoutes } from './achievements/routes.js'
import { apiKeyRoutes } from './api-keys/routes.js'
import { auditRoutes } from './audit/routes.js'
import type { Config } from './config.js'
import type { ServiceContext } from './context.js'
import type { Keyring } from './crypto/keyring.js'
import type { Database } from './db/schema.js'
import { adminCredentialRoutes, publicCredentialRoutes, vcApiIssueRoutes } from './credentials/routes.js'
import { healthRoutes } from './health/routes.js'
import { canonicalizationStats, type CanonicalizationStats } from './crypto/canonicalize/index.js'
import { createProofPool, inProcessSigner } from './crypto/proof-pool.js'
import { bearerAuthentication } from './http/auth.js'
import { AppError, clientErrorHandler, expectationFailed, frameworkErrors, MAX_PARAM_LENGTH, registerErrorHandling } from './http/errors.js'
import { loggerOptions } from './http/logging.js'
import { registerOpenApi } from './http/openapi.js'
import { requestValidatorCompiler } from './http/validation.js'
import { adminEndorsementRoutes, publicEndorsementRoutes } from './endorsements/routes.js'
import { endorsementDocument } from './endorsements/publish.js'
import { adminIssuerRoutes, publicIssuerRoutes } from './issuers/routes.js'
import { jobRoutes } from './jobs/routes.js'
import { createJobWorker, DEFAULT_WORKER_SETTINGS, type JobWorker, type WorkerSettings } from './jobs/worker.js'
import { EVALUATE_JOB, evaluatePathwayChunk } from './pathways/evaluate-job.js'
import { adminPathwayRoutes, publicPathwayRoutes } from './pathways/routes.js'
import { startPathwaySubscriber } from './pathways/subscriber.js'
import { adminRecipientRoutes } from './recipients/routes.js'
import { publicStatusRoutes } from './status/routes.js'
import { fetchPolicyFromConfig } from './http/guarded-fetch.js'
import { cachedFetcher, localFirst, networkFetcher, type DocumentFetcher } from './verify/documents.js'
import { localDocuments } from './verify/local-documents.js'
import { createVerifier } from './verify/pipeline.js'
import { verifyRoutes } from './verify/routes.js'
import { adminClaimRoutes, publicWalletRoutes } from './wallets/routes.js'
import { startDispatcher, type Dispatcher } from './webhooks/dispatcher.js'
import { webhookRoutes } from './webhooks/routes.js'
import type { Subscriber, SubscriberPace } from './events/subscriber.js'
import { mailerFor } from './mail/mailer.js'
import { createMetrics } from './ops/metrics.js'
import { metricsRoutes } from './ops/metrics-routes.js'
import { reviewPageRoutes } from './submissions/page-routes.js'
import { submissionRoutes } from './submissions/routes.js'
import { startSubmissionSubscriber } from './submissions/subscriber.js'
import { startSweeper, SWEEP_INTERVAL_MS, type Sweeper } from './ops/sweep.js'

export interface AppDeps {
  config: Config
  db: Kysely<Database>
  keyring: Keyring
  /** SHA-256 (hex) of the admin bearer token. */
  adminTokenHash: string
  /** Overrides the pino logger settings (tests pass false). */
  logger?: FastifyServerOptions['logger']
  /** Where verification fetches foreign documents; default: the network through the SSRF guard (tests pass fixtures). */
  fetchDocument?: DocumentFetcher
  /** Jobs: `autoStart: false` leaves the worker stopped (tests start it); smaller chunks and shorter leases for tests. */
  jobs?: { autoStart?: boolean; chunkSize?: number; worker?: Partial<WorkerSettings> }
  /** Overrides the webhook dispatcher's pace (tests): poll interval, attempt timeout (10 s), attempts in flight, fan-out batch. */
  webhooks?: Partial<WebhookPace>
  /** The pathway subscriber: `autoStart: false` leaves it stopped (tests drive it); its poll interval, batch and lease. */
  pathways?: Partial<SubscriberPace> & { autoStart?: boolean }
  /** The subscriber that issues approved submissions' credentials after a crash: `autoStart: false` leaves it stopped (tests drive it). */
  submissions?: Partial<SubscriberPace> & { autoStart?: boolean }
  /** The sweep of expired records (src/ops/sweep.ts): `autoStart: false` leaves it off; its interval (10 minutes) for tests. */
  sweep?: { autoStart?: boolean; intervalMs?: number }
}

interface WebhookPace {
  pollMs: number
  timeoutMs: number
  concurrency: number
  fanOutBatch: number
}

/** A 2xx within 10 s is a delivery (CONTRACT.md); a few attempts at once keep slow receivers from holding up the rest. */
const WEBHOOK_PACE: WebhookPace = { pollMs: 500, timeoutMs: 10_000, concurrency: 8, fanOutBatch: 1000 }

/** Nudged after each commit here, a subscriber polls only for other instances' events; a lease outlasts any one batch. */
const SUBSCRIBER_PACE: SubscriberPace = { pollMs: 1000, batch: 200, leaseMs: 30_000 }

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Routes under these prefixes are authenticated and never open to other origins. */
function isAuthenticatedPath(url: string): boolean {
  return url.startsWith('/v1/') || url === '/v1' || url.startsWith('/credentials/issue')
}

declare module 'fastify' {
  interface FastifyInstance {
    canonicalizationStats(): Promise<CanonicalizationStats>
    /** This process's job worker: it starts when the app is ready and stops when it closes. */
    jobWorker: JobWorker
  }
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps
  const app = Fastify({
    logger: deps.logger ?? loggerOptions(config),
    bodyLimit: config.BODY_LIMIT,
    // Accept a caller's request id when it is sane; otherwise mint one. Echoed in x-request-id and problem bodies.
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    frameworkErrors,
    clientErrorHandler,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Node's refusal of an HTTP/1.1 request without Host is a bare 400: the check is ours, in onRequest, as a problem.
    http: { requireHostHeader: false },
    // LANYARD_TRUST_PROXY: request.ip (rate limits, the log) is the client's, from X-Forwarded-For, only through trusted hops.
    trustProxy: config.LANYARD_TRUST_PROXY,
    connectionTimeout: 60_000,
    requestTimeout: 60_000,
    keepAliveTimeout: 10_000
  }).withTypeProvider<ZodTypeProvider>()

  app.setValidatorCompiler(requestValidatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerErrorHandling(app)
  app.decorateRequest('principal', null)
  app.server.on('checkExpectation', expectationFailed)
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
    // RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request that lacks Host.
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) throw new AppError('missing-host', 400, 'HTTP/1.1 requests must send a Host header')
  })

  // Public documents and badge images are meant to be fetched and embedded by other sites.
  await app.register(helmet, { global: true, crossOriginResourcePolicy: { policy: 'cross-origin' } })
  // Not strict: an OPTIONS without the CORS request headers is plain HTTP OPTIONS (204), not the plugin's text/plain 400.
  await app.register(cors, {
    delegator: (request, callback) => callback(null, {
      origin: isAuthenticatedPath(String(request.url)) ? false : '*', methods: ['GET', 'HEAD', 'POST'], strictPreflight: false
    })
  })
  await registerOpenApi(app)

  const pool = config.LANYARD_SIGNING_THREADS > 0 ? createProofPool(config.LANYARD_SIGNING_THREADS) : undefined
  if (pool !== undefined) app.addHook('onClose', () => pool.close())
  const metrics = createMetrics({ db: deps.db, pool, log: app.log.child({ module: 'metrics' }) })
  app.addHook('onResponse', metrics.observeResponse)
  await app.register(metricsRoutes(metrics, { db: deps.db, adminTokenHash: deps.adminTokenHash, public: config.LANYARD_METRICS_PUBLIC }))
  // For `npm run bench` and tests: how often the shape cache served canonicalization, wherever it runs.
  app.decorate('canonicalizationStats', pool?.canonicalizationStats ?? (async () => canonicalizationStats()))
  const ctx: ServiceContext = {
    db: deps.db, keyring: deps.keyring, publicUrl: config.PUBLIC_URL, statusListSize: config.STATUS_LIST_SIZE,
    signDataIntegrity: pool?.sign ?? inProcessSigner, idempotencyTtlMs: config.LANYARD_IDEMPOTENCY_TTL_HOURS * 3_600_000
  }

  await app.register(healthRoutes(ctx, { queueRunning: () => app.jobWorker.isRunning() }))
  const mailer = mailerFor(config)
  if (mailer !== undefined) app.addHook('onClose', async () => mailer.close())

  // Our own documents are read in-process; foreign ones through the guard, cached for the TTL each kind of document allows.
  const remote = deps.fetchDocument ?? networkFetcher({ ...fetchPolicyFromConfig(config.LANYARD_ALLOW_PRIVATE_FETCH), timeoutMs: config.LANYARD_FETCH_TIMEOUT_MS })
  const verifier = createVerifier({
    fetch: localFirst(config.PUBLIC_URL, localDocuments(ctx, { endorsements: endorsementDocument }), cachedFetcher(remote, { maxEntries: 1000 })),
    ...(pool !== undefined && { work: pool })
  })

  await app.register(async (publicApp) => {
    await publicApp.register(rateLimit, { max: config.PUBLIC_RATE_LIMIT, timeWindow: '1 minute' })
    await publicApp.register(publicIssuerRoutes(ctx))
    await publicApp.register(publicAchievementRoutes(ctx))
    await publicApp.register(publicCredentialRoutes(ctx, verifier))
    await publicApp.register(publicStatusRoutes(ctx))
    await publicApp.register(verifyRoutes(verifier, { bodyLimit: config.BODY_LIMIT }))
    await publicApp.register(publicWalletRoutes(ctx, verifier))
    await publicApp.register(publicEndorsementRoutes(ctx))
    await publicApp.register(publicPathwayRoutes(ctx))
    await publicApp.register(reviewPageRoutes(ctx, { mailer }))
  })

  // Authenticated APIs speak JSON only: anything else is a 415, not a string that fails validation.
  const authenticated = (...routes: FastifyPluginAsyncZod[]) => async (scope: FastifyInstance) => {
    scope.removeContentTypeParser('text/plain')
    scope.addHook('onRequest', bearerAuthentication(deps.db, deps.adminTokenHash))
    for (const route of routes) await scope.register(route)
  }
  const claims = { ttlMs: config.LANYARD_CLAIM_TTL_HOURS * 3_600_000 }
  const webhookPace = { ...WEBHOOK_PACE, ...deps.webhooks }
  const webhookPolicy = { ...fetchPolicyFromConfig(config.LANYARD_ALLOW_PRIVATE_FETCH), timeoutMs: webhookPace.timeoutMs }
  const jobWorker = createJobWorker(ctx, { ...DEFAULT_WORKER_SETTINGS, leaseMs: config.LANYARD_JOB_LEASE_MS, concurrency: config.LANYARD_JOB_CONCURRENCY, ...deps.jobs?.worker }, app.log, {
    [EVALUATE_JOB]: evaluatePathwayChunk
  })
  const chunkSize = deps.jobs?.chunkSize ?? config.LANYARD_JOB_CHUNK_SIZE
  app.decorate('jobWorker', jobWorker)
  if (deps.jobs?.autoStart !== false) app.addHook('onReady', async () => jobWorker.start())
  app.addHook('onClose', () => jobWorker.stop())
  await app.register(authenticated(
    adminIssuerRoutes(ctx), adminAchievementRoutes(ctx), adminCredentialRoutes(ctx, claims), adminClaimRoutes(ctx, claims), adminRecipientRoutes(ctx),
    apiKeyRoutes(ctx), auditRoutes(ctx), webhookRoutes(ctx, webhookPolicy), adminEndorsementRoutes(ctx, verifier),
    jobRoutes(ctx, { bodyLimit: config.LANYARD_JOB_BODY_LIMIT, chunkSize, onQueued: jobWorker.wake }),
    adminPathwayRoutes(ctx, { chunkSize, onQueued: jobWorker.wake }), submissionRoutes(ctx, { mailer })
  ), { prefix: '/v1' })
  await app.register(authenticated(vcApiIssueRoutes(ctx)))

  // Deliveries start when the app is ready and stop (attempts in flight finishing) when it closes.
  let dispatcher: Dispatcher | undefined
  app.addHook('onReady', async () => {
    dispatcher = startDispatcher({
      ...webhookPace, db: deps.db, keyring: deps.keyring, log: app.log.child({ module: 'webhooks' }),
      policy: webhookPolicy, retryDelaysMs: config.LANYARD_WEBHOOK_RETRY_DELAYS_MS
    })
  })
  app.addHook('onClose', async () => dispatcher?.stop())

  /** An outbox subscriber that starts when the app is ready (unless a test drives it: `autoStart: false`) and stops when it closes. */
  const subscribe = (options: (Partial<SubscriberPace> & { autoStart?: boolean }) | undefined, start: (pace: SubscriberPace) => Subscriber) => {
    const { autoStart, ...pace } = options ?? {}
    if (autoStart === false) return
    let subscriber: Subscriber | undefined
    app.addHook('onReady', async () => { subscriber = start({ ...SUBSCRIBER_PACE, ...pace }) })
    app.addHook('onClose', async () => subscriber?.stop())
  }
  // Pathways hear of every credential issued, here or by another instance, and award what it completes.
  subscribe(deps.pathways, (pace) => startPathwaySubscriber(ctx, app.log.child({ module: 'pathways' }), pace))
  // Approved submissions whose request did not live to issue the credential (a crash) are issued from their event.
  subscribe(deps.submissions, (pace) => startSubmissionSubscriber(ctx, app.log.child({ module: 'submissions' }), pace))

  // Expired Idempotency-Key records, closed links, tokens and sessions are deleted every so often, by every instance.
  if (deps.sweep?.autoStart !== false) {
    let sweeper: Sweeper | undefined
    app.addHook('onReady', async () => {
      sweeper = startSweeper({
        db: deps.db, log: app.log.child({ module: 'sweep' }), idempotencyTtlMs: ctx.idempotencyTtlMs, intervalMs: deps.sweep?.intervalMs ?? SWEEP_INTERVAL_MS
      })
    })
    app.addHook('onClose', async () => sweeper?.stop())
  }

  return app
}
