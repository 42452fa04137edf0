// Kysely table types: the database as the application sees it (snake_case stays in here and in the stores).
import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction } from 'kysely'
import type { JwtAlg } from '../crypto/vc-jwt.js'

type CreatedAt = ColumnType<Date, Date | string | undefined, never>
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>
type Json<T> = ColumnType<T, string, string>
/**
 * The endorsements an achievement or profile embeds, in OB 3.0's two forms: a signed EndorsementCredential (object) or
 * a VC-JWT (string). Written by endorsements/ only; the column default is none.
 */
export type EmbeddedEndorsement = Record<string, unknown> | string
type EmbeddedEndorsements = ColumnType<EmbeddedEndorsement[], string | undefined, string>

export interface SettingsTable {
  name: string
  value: string
  created_at: CreatedAt
}

export interface IssuersTable {
  id: string
  did: string
  did_method: 'web' | 'key'
  name: string
  url: string
  email: string | null
  description: string | null
  image_url: string | null
  created_at: CreatedAt
  updated_at: Timestamp
  /** What the public Profile document embeds (the issuer's own rows leave it out: see IssuerRow). */
  embedded_endorsements: EmbeddedEndorsements
}

/** Ed25519 signs Data Integrity proofs and EdDSA JWTs; RSA and P-256 sign RS256 and ES256 JWTs. */
export type KeyAlgorithm = 'Ed25519' | 'RSA' | 'P-256'

export interface IssuerKeysTable {
  id: string
  issuer_id: string
  algorithm: KeyAlgorithm
  verification_method: string
  public_key_multibase: string | null
  public_jwk: Json<Record<string, string>>
  sealed_private_key: string
  master_key_id: string
  status: 'active' | 'retired'
  created_at: CreatedAt
  retired_at: Timestamp | null
}

export interface ApiKeysTable {
  id: string
  issuer_id: string
  name: string | null
  prefix: string
  key_hash: string
  created_at: CreatedAt
  revoked_at: Timestamp | null
}

export interface AuditEventsTable {
  id: Generated<string>
  occurred_at: CreatedAt
  actor: string
  action: string
  issuer_id: string | null
  target_type: string
  target_id: string
  details: Json<Record<string, unknown>>
  request_id: string | null
}

export interface AchievementsTable {
  id: string
  issuer_id: string
  name: string
  description: string
  criteria: Json<{ id?: string; narrative?: string }>
  /** An https URL given by the caller; null when the image is stored here (image_data) or absent. */
  image_url: string | null
  image_caption: string | null
  image_media_type: string | null
  image_data: Buffer | null
  achievement_type: string | null
  tags: Json<string[]>
  alignments: Json<Record<string, unknown>[]>
  created_at: CreatedAt
  updated_at: Timestamp
  /** Embedded in the public Achievement document and every credential issued from now on. */
  embedded_endorsements: EmbeddedEndorsements
  /** OB 3.0 ResultDescriptions (rubrics), each with its id and its levels' ids, as the achievement publishes them. */
  result_descriptions: ColumnType<ResultDescription[], string | undefined, string>
  /** Null: issued directly. Otherwise earned through review of submitted evidence. */
  review_policy: ColumnType<ReviewPolicy | null, string | null | undefined, string | null>
}

export interface RubricCriterionLevel {
  id: string
  type: ['RubricCriterionLevel']
  name: string
  description?: string
  /** OB 3.0 states points as a string. */
  points?: string
}

export interface ResultDescription {
  id: string
  type: ['ResultDescription']
  name: string
  resultType: 'RubricCriterionLevel'
  rubricCriterionLevel: RubricCriterionLevel[]
  /** The id of the lowest level that passes. */
  requiredLevel?: string
}

export interface ReviewPolicy {
  required: true
  /** Approvals by distinct reviewers that issue the credential. */
  approvals: number
}

export type SubmissionStatus = 'pending' | 'approved' | 'rejected' | 'revision_requested'
export type ReviewDecision = 'approve' | 'reject' | 'revise'

/** An evidence item as the learner gave it. */
export interface EvidenceItem {
  name: string
  narrative?: string
  url?: string
  genre?: string
}

/** A rubric result of a review: the level achieved on one result description. */
export interface ReviewResult {
  resultDescription: string
  achievedLevel: string
}

export interface SubmissionsTable {
  id: string
  issuer_id: string
  achievement_id: string
  identity_type: RecipientIdentityType
  identity: string
  recipient_name: string | null
  external_id: string | null
  status: ColumnType<SubmissionStatus, SubmissionStatus | undefined, SubmissionStatus>
  version: ColumnType<number, number | undefined, number>
  credential_id: ColumnType<string | null, string | null | undefined, string | null>
  issue_error: ColumnType<string | null, string | null | undefined, string | null>
  created_at: CreatedAt
  updated_at: Timestamp
}

export interface SubmissionVersionsTable {
  submission_id: string
  version: number
  evidence: Json<EvidenceItem[]>
  submitted_at: CreatedAt
}

export interface SubmissionFilesTable {
  id: string
  submission_id: string
  version: number
  position: number
  name: string
  content_type: string
  /** bigint: pg reads it as a string. */
  size: ColumnType<string | number, number, never>
  sha256: string
  public: ColumnType<boolean, boolean | undefined, never>
  created_at: CreatedAt
}

export interface SubmissionFileChunksTable {
  file_id: string
  seq: number
  data: Buffer | Uint8Array
}

export interface ReviewersTable {
  id: string
  email: string
  name: string | null
  created_at: CreatedAt
}

export interface ReviewerAssignmentsTable {
  reviewer_id: string
  achievement_id: string
  issuer_id: string
  invited_at: CreatedAt
}

export interface ReviewerSignInsTable {
  token_hash: string
  reviewer_id: string
  expires_at: Timestamp
  used_at: ColumnType<Date | null, Date | null | undefined, Date>
  created_at: CreatedAt
}

export interface ReviewerSessionsTable {
  token_hash: string
  reviewer_id: string
  expires_at: Timestamp
  created_at: CreatedAt
}

export interface SubmissionReviewsTable {
  id: string
  submission_id: string
  version: number
  decision: ReviewDecision
  comment: string | null
  results: Json<ReviewResult[]>
  reviewer_id: string | null
  reviewer_key: string
  reviewer_email: string | null
  reviewer_name: string | null
  actor: string
  created_at: CreatedAt
}

export type RecipientIdentityType = 'email' | 'did' | 'url'

export interface RecipientsTable {
  id: string
  issuer_id: string
  identity_type: RecipientIdentityType
  /** A lower-cased email address, a DID or a URL. */
  identity: string
  name: string | null
  external_id: string | null
  created_at: CreatedAt
  updated_at: Timestamp
}

export type CredentialFormat = 'eddsa-rdfc-2022' | 'Ed25519Signature2020' | 'vc-jwt'
/** VC-JWT algorithms, as the signer defines them. */
export type { JwtAlg }

export interface CredentialsTable {
  id: string
  issuer_id: string
  achievement_id: string | null
  recipient_id: string | null
  issuer_key_id: string
  format: CredentialFormat
  jwt_alg: JwtAlg | null
  /** The exact signed bytes: JSON text, or a compact JWS for vc-jwt. */
  signed: string
  valid_from: Timestamp | null
  valid_until: Timestamp | null
  status: ColumnType<'active' | 'revoked', 'active' | 'revoked' | undefined, 'active' | 'revoked'>
  revoked_at: Timestamp | null
  revocation_reason: string | null
  created_at: CreatedAt
  /** Null for a credential without a public revocation entry (issued before status lists, or by VC-API without one). */
  status_list_id: ColumnType<string | null, string | null | undefined, string | null>
  status_list_index: ColumnType<number | null, number | null | undefined, number | null>
  /** A wallet copy (bound to the holder's DID) names the credential it was made from; null for every other credential. */
  original_credential_id: ColumnType<string | null, string | null | undefined, string | null>
}

export interface StatusListsTable {
  id: string
  issuer_id: string
  purpose: 'revocation'
  size: number
  allocated: ColumnType<number, number | undefined, number>
  /** Hex key of the keyed permutation that spreads positions over the list. */
  permutation_key: string
  /** The bitstring: index 0 is the most significant bit of the first byte. */
  bits: Buffer
  version: ColumnType<number, number | undefined, number>
  /** The signed BitstringStatusListCredential for signed_version, kept so an unchanged list is not signed again. */
  signed: string | null
  signed_version: number | null
  signed_at: Timestamp | null
  created_at: CreatedAt
  updated_at: Timestamp
}

export interface IdempotencyKeysTable {
  scope: string
  key: string
  request_hash: string
  credential_ids: Json<string[]>
  created_at: CreatedAt
}

/** How a claim was redeemed: by LCW, by an OID4VCI wallet, or locked after too many wrong transaction codes. */
export type ClaimUse = 'lcw' | 'oid4vci' | 'locked'

export interface ClaimsTable {
  id: string
  issuer_id: string
  credential_id: string
  /** SHA-256 (hex) of the claim token; of the exchange id and the pre-authorized code derived from it; of the tx_code. */
  token_hash: string
  exchange_hash: string
  code_hash: string
  tx_code_hash: string | null
  tx_code_attempts: ColumnType<number, number | undefined, number>
  expires_at: Timestamp
  used_at: Timestamp | null
  used_by: ClaimUse | null
  copy_credential_id: string | null
  created_at: CreatedAt
}

export interface Oid4vciAccessTokensTable {
  token_hash: string
  claim_id: string
  expires_at: Timestamp
  used_at: Timestamp | null
  created_at: CreatedAt
}

export interface Oid4vciNoncesTable {
  nonce: string
  expires_at: Timestamp
  used_at: Timestamp | null
  created_at: CreatedAt
}

export interface EventsTable {
  id: Generated<string>
  /** One of EVENT_TYPES (src/events/types.ts). */
  type: string
  issuer_id: string | null
  data: Json<Record<string, unknown>>
  occurred_at: CreatedAt
  dispatched_at: Timestamp | null
  /** The appending transaction's id (xid8, as text): subscribers read events in this order (see events/store.ts). */
  xid: ColumnType<string | null, never, never>
}

/** A subscriber's position in the outbox, and who holds it. */
export interface EventCursorsTable {
  consumer: string
  last_xid: ColumnType<string, string | undefined, string>
  last_id: ColumnType<string, string | undefined, string>
  lease_token: string | null
  leased_until: Timestamp | null
}

export interface WebhooksTable {
  id: string
  /** Null: the admin's, for every issuer's events. */
  issuer_id: string | null
  url: string
  events: Json<string[]>
  description: string | null
  sealed_secret: string
  master_key_id: string
  created_at: CreatedAt
  updated_at: Timestamp
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed'

export interface WebhookDeliveriesTable {
  id: string
  webhook_id: string
  event_id: string
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>
  attempts: ColumnType<number, number | undefined, number>
  next_attempt_at: Timestamp | null
  locked_until: Timestamp | null
  last_attempt_at: Timestamp | null
  last_status_code: number | null
  last_error: string | null
  created_at: CreatedAt
}

export interface WebhookDeliveryAttemptsTable {
  delivery_id: string
  attempt: number
  started_at: Date
  duration_ms: number
  status_code: number | null
  error: string | null
  /** The start of the reply body, at most webhooks/deliver.ts EXCERPT_BYTES. */
  response_excerpt: string | null
}

export type JobType = 'issue' | 'revoke' | 'evaluate-pathway'
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled'

export interface JobsTable {
  id: string
  type: JobType
  status: JobStatus
  /** Null for an admin's revoke job (it may span issuers). */
  issuer_id: string | null
  /** The submitter as the auth hook saw them (a Principal): the worker acts with exactly these rights. */
  principal: Json<Record<string, string>>
  actor: string
  request_id: string
  params: Json<Record<string, unknown>>
  total: number
  succeeded: ColumnType<number, number | undefined, number>
  failed: ColumnType<number, number | undefined, number>
  error: string | null
  idempotency_key: string | null
  request_hash: string | null
  created_at: CreatedAt
  started_at: Timestamp | null
  finished_at: Timestamp | null
}

export interface JobRowsTable {
  job_id: string
  row: number
  input: Json<Record<string, unknown>>
}

export interface JobChunksTable {
  job_id: string
  chunk: number
  first_row: number
  last_row: number
  done: ColumnType<boolean, boolean | undefined, boolean>
  attempts: ColumnType<number, number | undefined, number>
  lease_until: Timestamp | null
}

export interface JobResultsTable {
  job_id: string
  row: number
  external_id: string | null
  credential_id: string | null
  error: string | null
  created_at: CreatedAt
}

export interface PathwaysTable {
  id: string
  issuer_id: string
  name: string
  description: string | null
  award_achievement_id: string
  /** The requirement tree as the API takes it (pathways/requirement.ts). */
  requirement: Json<unknown>
  created_at: CreatedAt
  updated_at: Timestamp
}

export interface PathwayComponentsTable {
  pathway_id: string
  achievement_id: string
}

export interface PathwayDependenciesTable {
  pathway_id: string
  depends_on: string
}

export interface PathwayAwardsTable {
  pathway_id: string
  identity_type: RecipientIdentityType
  identity: string
  credential_id: string
  created_at: CreatedAt
}

/** How an endorsement is secured: Lanyard signs in the first three; a foreign one may also come in the legacy eddsa-2022. */
export type EndorsementFormat = CredentialFormat | 'eddsa-2022'

export interface EndorsementsTable {
  id: string
  /** The issuer here that signed it; null for one signed elsewhere and attached to an achievement. */
  endorser_id: string | null
  endorser_key_id: string | null
  /** The endorser as the credential names it: its issuer id (a DID or URL). */
  endorser: string
  endorser_name: string | null
  /** credentialSubject.id: the URL of what is endorsed. */
  subject_id: string
  /** The endorsed achievement or issuer when it is one of this Lanyard's. */
  achievement_id: string | null
  subject_issuer_id: string | null
  /** The credential's own id. */
  credential_id: string
  comment: string | null
  format: EndorsementFormat
  jwt_alg: JwtAlg | null
  /** The exact signed bytes: JSON text, or a compact JWS for vc-jwt. */
  signed: string
  status: ColumnType<'active' | 'revoked', 'active' | 'revoked' | undefined, 'active' | 'revoked'>
  revoked_at: Timestamp | null
  revocation_reason: string | null
  detached_at: Timestamp | null
  status_list_id: string | null
  status_list_index: number | null
  created_at: CreatedAt
}

export interface Database {
  settings: SettingsTable
  issuers: IssuersTable
  issuer_keys: IssuerKeysTable
  api_keys: ApiKeysTable
  audit_events: AuditEventsTable
  achievements: AchievementsTable
  recipients: RecipientsTable
  credentials: CredentialsTable
  idempotency_keys: IdempotencyKeysTable
  status_lists: StatusListsTable
  claims: ClaimsTable
  oid4vci_access_tokens: Oid4vciAccessTokensTable
  oid4vci_nonces: Oid4vciNoncesTable
  events: EventsTable
  webhooks: WebhooksTable
  webhook_deliveries: WebhookDeliveriesTable
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable
  jobs: JobsTable
  job_rows: JobRowsTable
  job_chunks: JobChunksTable
  job_results: JobResultsTable
  endorsements: EndorsementsTable
  event_cursors: EventCursorsTable
  pathways: PathwaysTable
  pathway_components: PathwayComponentsTable
  pathway_dependencies: PathwayDependenciesTable
  pathway_awards: PathwayAwardsTable
  submissions: SubmissionsTable
  submission_versions: SubmissionVersionsTable
  submission_files: SubmissionFilesTable
  submission_file_chunks: SubmissionFileChunksTable
  reviewers: ReviewersTable
  reviewer_assignments: ReviewerAssignmentsTable
  reviewer_sign_ins: ReviewerSignInsTable
  reviewer_sessions: ReviewerSessionsTable
  submission_reviews: SubmissionReviewsTable
}

/** A database handle or an open transaction: stores accept either, so services compose transactions. */
export type Db = Kysely<Database> | Transaction<Database>

// Without the endorsements the public Profile embeds: only that document reads them (issuers/store.ts findIssuerProfile).
export type IssuerRow = Omit<Selectable<IssuersTable>, 'embedded_endorsements'>
export type IssuerKeyRow = Selectable<IssuerKeysTable>
export type NewIssuerKeyRow = Insertable<IssuerKeysTable>
export type ApiKeyRow = Selectable<ApiKeysTable>
export type AuditEventRow = Selectable<AuditEventsTable>
export type AchievementRow = Selectable<AchievementsTable>
export type RecipientRow = Selectable<RecipientsTable>
export type CredentialRow = Selectable<CredentialsTable>
export type EndorsementRow = Selectable<EndorsementsTable>
export type StatusListRow = Selectable<StatusListsTable>
export type ClaimRow = Selectable<ClaimsTable>
export type WebhookRow = Selectable<WebhooksTable>
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>
export type WebhookDeliveryAttemptRow = Selectable<WebhookDeliveryAttemptsTable>
export type PathwayRow = Selectable<PathwaysTable>
export type SubmissionRow = Selectable<SubmissionsTable>
export type SubmissionFileRow = Selectable<SubmissionFilesTable>
export type SubmissionReviewRow = Selectable<SubmissionReviewsTable>
export type ReviewerRow = Selectable<ReviewersTable>
