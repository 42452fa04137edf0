// Kysely table types: the database as the application sees it (snake_case stays in here and in the stores).
import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction } from 'kysely'

type CreatedAt = ColumnType<Date, Date | string | undefined, never>
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>
type Json<T> = ColumnType<T, string, string>

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
}

export interface IssuerKeysTable {
  id: string
  issuer_id: string
  algorithm: 'Ed25519'
  verification_method: string
  public_key_multibase: string
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

export interface Database {
  settings: SettingsTable
  issuers: IssuersTable
  issuer_keys: IssuerKeysTable
  api_keys: ApiKeysTable
  audit_events: AuditEventsTable
}

/** A database handle or an open transaction: stores accept either, so services compose transactions. */
export type Db = Kysely<Database> | Transaction<Database>

export type IssuerRow = Selectable<IssuersTable>
export type IssuerKeyRow = Selectable<IssuerKeysTable>
export type NewIssuerKeyRow = Insertable<IssuerKeysTable>
export type ApiKeyRow = Selectable<ApiKeysTable>
export type AuditEventRow = Selectable<AuditEventsTable>
