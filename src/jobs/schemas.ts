// The Job as the API shows it: for the job routes, and for routes of other capabilities that start a job (a pathway's evaluation).
import { z } from 'zod'

export const JOB_TYPES = ['issue', 'revoke', 'evaluate-pathway'] as const
export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const

export const jobView = z.object({
  id: z.uuid(),
  type: z.enum(JOB_TYPES).describe('evaluate-pathway: POST /v1/pathways/{id}/evaluate; its rows are the learners looked at, its results the awards'),
  status: z.enum(JOB_STATUSES),
  total: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  rowsPerSecond: z.number().nullable().describe('rows done per second since the job started; null before'),
  error: z.string().nullable().describe('why a failed job stopped'),
  url: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable()
}).meta({ id: 'Job' })
