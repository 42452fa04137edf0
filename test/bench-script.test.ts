// `npm run bench -- --quick` still runs and reports every figure: CI keeps the benchmark from rotting (it checks no figure).
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { ROOT } from './helpers/process.js'

const FORMATS = ['eddsa-rdfc-2022', 'Ed25519Signature2020', 'vc-jwt RS256', 'vc-jwt ES256', 'vc-jwt EdDSA']
const ROWS = [
  'raw Ed25519 sign, 64 B (node:crypto)',
  'raw Ed25519 verify, 64 B (node:crypto)',
  'library eddsa-rdfc-2022 sign (1 thread)',
  'library eddsa-rdfc-2022 verify (1 thread)',
  'library RDFC-1.0 canonicalization (jsonld.js)',
  'Lanyard eddsa-rdfc-2022 sign (1 thread, shape cache)',
  'Lanyard eddsa-rdfc-2022 verify (1 thread, shape cache)',
  'Lanyard canonicalization, shape seen before',
  'Lanyard canonicalization, first sight of a shape',
  'HTTP Fastify echo (POST JSON)',
  ...FORMATS.map((format) => `HTTP issue ${format}`),
  'HTTP issue eddsa-rdfc-2022 at peak load',
  ...FORMATS.map((format) => `HTTP batch issue ${format}`),
  'HTTP GET /health p99 during a batch issue',
  ...FORMATS.map((format) => `HTTP verify ${format}`),
  'HTTP verify foreign eddsa-rdfc-2022 (did:key)',
  'HTTP revoke',
  'HTTP status list read (cached)',
  'HTTP job issue eddsa-rdfc-2022, 2,000 rows',
  'HTTP GET /health p99 during the job',
  'HTTP issue eddsa-rdfc-2022 during the job',
  'Lanyard RSS growth during the job',
  'webhook deliveries to a loopback receiver',
  'HTTP issue eddsa-rdfc-2022 at peak load, p99 latency',
  'Lanyard RSS before issuing',
  'Lanyard RSS after issuing'
]

interface Row { name: string; value: unknown; ratio?: unknown; floor?: string; target?: { met: unknown }; samples?: number[]; pairedFloorSamples?: number[] }

/**
 * The bench as a developer runs it, on PGlite. tap tracks child processes and would count the src/ lines the bench runs
 * under tsx as covered by the tests: _TAPJS_PROCESSINFO_COVERAGE_=0 keeps them out.
 */
function runQuickBench(t: Test, out: string): Promise<{ code: number | null; output: string }> {
  const { DATABASE_URL: _database, TEST_DATABASE_URL: _testDatabase, ...env } = process.env
  env._TAPJS_PROCESSINFO_COVERAGE_ = '0'
  // Its own process group (npx, tsx, the bench, its load generator), so a timed-out run can be ended whole.
  const child = spawn('npx', ['tsx', 'scripts/bench.ts', '--quick', '--out', out], {
    cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true
  })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL') })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })))
}

// About 40 s on 2 cores; under tap's 120 s per file, so a hung bench fails here, with its output, not as a killed file.
t.test('npm run bench -- --quick prints a table row for every figure and writes each as a number', { timeout: 110_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lanyard-bench-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'results.json')

  const { code, output } = await runQuickBench(t, out)
  t.equal(code, 0, 'exits 0', { output })
  const lines = output.split('\n')
  for (const name of ROWS) {
    t.ok(lines.some((line) => line.startsWith(`${name}  `)), `the table has a row "${name}"`)
  }

  const results = JSON.parse(readFileSync(out, 'utf8')) as { environment: Record<string, unknown>; rows: Row[]; issueWrites: Record<string, number> }
  t.match(results.environment, { mode: 'quick', database: 'PGlite (in memory)', node: process.version, cpus: Number })
  t.same(results.rows.map((row) => row.name), ROWS, 'the results file has the same rows')
  t.ok((results.issueWrites.writes ?? 0) > 0, 'it counts the issue writes and how they were grouped')
  t.ok(lines.some((line) => line.startsWith('Issue writes: ')))
  for (const row of results.rows) {
    t.ok(typeof row.value === 'number' && row.value > 0, `${row.name}: a positive number (${String(row.value)})`)
    if (row.ratio !== undefined) t.type(row.ratio, 'number', `${row.name}: its ratio is a number`)
    if (row.target !== undefined) t.type(row.target.met, 'boolean', `${row.name}: says whether its target is met`)
    if (row.target !== undefined && row.floor?.startsWith('library ')) {
      t.equal(row.pairedFloorSamples?.length, row.samples?.length, `${row.name}: its library floor was measured beside each sample`)
    }
  }
  t.ok(lines.some((line) => line.startsWith('Ratios with a target against a library floor are paired')), 'the table says how those ratios are made')
})
