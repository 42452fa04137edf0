// Environment → typed, validated Config. Every default lives here; nothing else reads process.env.
import { availableParallelism } from 'node:os'
import ipaddr from 'ipaddr.js'
import { z } from 'zod'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const TRUE_WORDS = new Set(['true', '1', 'yes'])
const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((value) => TRUE_WORDS.has(value))

const base64Key32 = z.string().refine((value) => Buffer.from(value, 'base64').length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(value), {
  message: 'expected base64 of exactly 32 bytes (openssl rand -base64 32)'
})

const positiveInt = z.coerce.number().int().positive()

/** A comma-separated list of waits in ms, e.g. 5000,30000. */
const delayList = z.string()
  .regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, 'expected comma-separated whole numbers of milliseconds, e.g. 5000,30000')
  .transform((value) => value.split(',').map(Number))
  .pipe(z.array(z.number().int().positive('expected waits of at least 1 ms').max(604_800_000, 'expected waits of at most a week')).max(20, 'expected at most 20 retries'))

/** An address (IPv4 or IPv6) or a CIDR range of them. */
function isAddressOrRange(value: string): boolean {
  if (ipaddr.isValid(value)) return true
  try {
    ipaddr.parseCIDR(value)
    return true
  } catch {
    return false
  }
}

/**
 * Fastify's `trustProxy`: `true` (trust every hop), `false`, a number of hops to trust, or a comma-separated list of the
 * proxies' addresses or CIDR ranges. A hop count is a function trusting the nearest n hops (Express's meaning; Fastify 5
 * refuses a bare number, since a client reaching Lanyard directly could then name its own address): set it only when
 * every request passes through exactly those proxies.
 */
const trustProxy = z.string().trim().transform((value, context): boolean | string[] | ((address: string, hop: number) => boolean) => {
  if (value === 'true' || value === 'false') return value === 'true'
  if (/^\d+$/.test(value)) {
    const hops = Number(value)
    return (_address, hop) => hop < hops
  }
  const addresses = value.split(',').map((part) => part.trim())
  const bad = addresses.filter((address) => !isAddressOrRange(address))
  if (bad.length === 0) return addresses
  context.addIssue({ code: 'custom', message: `expected true, false, a number of hops, or proxy addresses / CIDR ranges; not an address: ${bad.join(', ')}` })
  return z.NEVER
})

/** The Bitstring Status List spec's minimum list length: fewer entries would let a list read reveal which credential is checked. */
export const MIN_STATUS_LIST_SIZE = 131_072

/** The variables Lanyard reads, with their defaults. Keys are the environment variable names. */
export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  LANYARD_MASTER_KEY: base64Key32.optional(),
  LANYARD_ADMIN_TOKEN: z.string().min(24, 'expected at least 24 characters').optional(),
  LANYARD_ALLOW_PRIVATE_FETCH: booleanString.default(false),
  /** How long verification waits for one foreign document (DID document, key, status list, credential by URL), in ms. */
  LANYARD_FETCH_TIMEOUT_MS: positiveInt.max(60_000).default(5_000),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  NODE_ENV: z.string().optional(),
  /** Largest accepted request body, in bytes. */
  BODY_LIMIT: positiveInt.default(1_048_576),
  /** Largest body of POST /v1/jobs (JSON or CSV), in bytes: 64 MiB holds 100,000 rows. */
  LANYARD_JOB_BODY_LIMIT: positiveInt.default(67_108_864),
  /** Rows a job does per step (one issuing call, one transaction of results): at most a batch's 1,000. */
  LANYARD_JOB_CHUNK_SIZE: positiveInt.max(1000).default(250),
  /** Chunks one process works on at once (see src/jobs/worker.ts). */
  LANYARD_JOB_CONCURRENCY: positiveInt.max(16).default(2),
  /**
   * How long a chunk a worker has claimed stays its own without a sign of life (the worker renews it while it works): after a
   * crash, another instance or the restarted one takes the chunk up after at most this long.
   */
  LANYARD_JOB_LEASE_MS: positiveInt.min(1000).max(3_600_000).default(30_000),
  /** Behind a load balancer or reverse proxy: which hops to trust for the client's address (X-Forwarded-For). */
  LANYARD_TRUST_PROXY: trustProxy.default(false),
  /** Requests per minute per client address on the public (unauthenticated) routes. */
  PUBLIC_RATE_LIMIT: positiveInt.default(600),
  /** Threads that sign Data Integrity proofs (one per core by default); 0 signs on the event loop. */
  LANYARD_SIGNING_THREADS: z.coerce.number().int().min(0).max(64).default(availableParallelism()),
  /** How long a wallet claim (POST /v1/credentials/:id/claims, or deliver: true on issue) stays open, in hours. */
  LANYARD_CLAIM_TTL_HOURS: positiveInt.max(8760).default(168),
  /** How long an Idempotency-Key is remembered, in hours: a retry within it replays, the key sent again after it is a new request. */
  LANYARD_IDEMPOTENCY_TTL_HOURS: positiveInt.max(8760).default(24),
  /** The SMTP server that sends Lanyard's emails (reviewers' invitations and sign-in links): `smtp://user:pass@host:587` or `smtps://…`; unset, mail is off. */
  LANYARD_SMTP_URL: z.url({ protocol: /^smtps?$/, hostname: /./, message: 'expected an smtp:// or smtps:// URL, e.g. smtp://user:pass@host:587' }).optional(),
  /** The sender of those emails; unset, `Lanyard <no-reply@…>` at PUBLIC_URL's host (see src/mail/mailer.ts). */
  LANYARD_MAIL_FROM: z.string()
    .regex(/^[^<>@\s]+@[^<>@\s]+$|<[^<>@\s]+@[^<>@\s]+>$/, 'expected an address, e.g. Lanyard <no-reply@badges.example.edu>')
    .optional(),
  /** The waits before each retry of a webhook delivery that failed, in ms; after the last retry fails, the delivery is failed. */
  LANYARD_WEBHOOK_RETRY_DELAYS_MS: delayList.default([5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000, 86_400_000]),
  /**
   * The issuing statements run as named prepared statements (planned once per connection). A pooler that hands one
   * session's statements to another connection (PgBouncer in transaction mode before 1.21) needs this off.
   */
  LANYARD_DB_PREPARED_STATEMENTS: booleanString.default(true),
  /** GET /metrics without the admin token: for a Prometheus that scrapes over a private network only. */
  LANYARD_METRICS_PUBLIC: booleanString.default(false),
  /** Entries per status list: 131,072 is the Bitstring Status List minimum for herd privacy; smaller (a multiple of 8) only outside production, for tests. */
  STATUS_LIST_SIZE: positiveInt.multipleOf(8, 'expected a multiple of 8').default(MIN_STATUS_LIST_SIZE)
})

type ParsedEnv = z.output<typeof configSchema>

export type Config = Readonly<
  Omit<ParsedEnv, 'PUBLIC_URL'> & {
    /** Base of every id Lanyard mints, without a trailing slash. */
    PUBLIC_URL: string
  }
>

/** The environment variable names the config knows (docker-compose and docs are checked against this). */
export const CONFIG_VARIABLES = Object.keys(configSchema.shape) as (keyof ParsedEnv)[]

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Parse an environment (process.env by default). Empty strings count as unset, as in most .env tooling. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const relevant: Record<string, string> = {}
  for (const name of CONFIG_VARIABLES) {
    const value = env[name]
    if (value !== undefined && value !== '') relevant[name] = value
  }
  const parsed = configSchema.safeParse(relevant)
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`))
  }
  const config = parsed.data
  if (config.NODE_ENV === 'production' && config.LANYARD_MASTER_KEY === undefined) {
    throw new ConfigError(['LANYARD_MASTER_KEY: required when NODE_ENV=production (openssl rand -base64 32)'])
  }
  if (config.NODE_ENV === 'production' && config.STATUS_LIST_SIZE < MIN_STATUS_LIST_SIZE) {
    throw new ConfigError([`STATUS_LIST_SIZE: at least ${MIN_STATUS_LIST_SIZE} when NODE_ENV=production (smaller lists weaken verifiers' privacy)`])
  }
  const publicUrl = (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, '')
  return Object.freeze({ ...config, PUBLIC_URL: publicUrl })
}
