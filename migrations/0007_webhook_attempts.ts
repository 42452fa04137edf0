// Webhook delivery attempts: one row per attempt (when, how long, the answer or the failure), not only the last.
// Frozen: never edit once landed.
import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_delivery_attempts')
    .addColumn('delivery_id', 'uuid', (c) => c.notNull().references('webhook_deliveries.id').onDelete('cascade'))
    // The delivery's attempt counter as the dispatcher claimed it: a recorded attempt repeated (after a lost reply) adds nothing.
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    // Null when no answer came (refused address, timeout, network).
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    // The start of the reply body only (webhooks/deliver.ts EXCERPT_BYTES): never the whole of it.
    .addColumn('response_excerpt', 'text')
    .addPrimaryKeyConstraint('webhook_delivery_attempts_pk', ['delivery_id', 'attempt'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_delivery_attempts').execute()
}
