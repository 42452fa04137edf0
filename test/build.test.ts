// The compiled build as the Dockerfile runs it: `tsc -p tsconfig.build.json`, then plain `node …/src/main.js`, no
// TypeScript loader anywhere. Issuing over real HTTP proves the signing threads start from the compiled files too.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { freePort } from './helpers/net.js'
import { ROOT } from './helpers/process.js'

// tsc takes 30–60 s on two cores, the start and the requests a few more.
t.setTimeout(240_000)

/** Runs a command to its end; resolves with its exit code and everything it printed. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.on('close', (code) => resolve({ code, output }))
  })
}

/** Resolves with what the server printed once it says it is ready; rejects if it exits first or takes over 60 s. */
function ready(child: ChildProcess, output: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within 60 s:\n${output()}`)), 60_000)
    const check = () => { if (/Ready in \d+ ms/.test(output())) { clearTimeout(timer); resolve() } }
    child.stdout!.on('data', check)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code} before ready:\n${output()}`)) })
  })
}

t.test('the compiled build starts and signs on its worker threads', async (t) => {
  // Inside the repository (so node_modules and package.json's "type": "module" resolve), under the gitignored .tap/.
  const outDir = path.join(ROOT, '.tap', `build-test-${randomBytes(6).toString('hex')}`)
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lanyard-build-'))
  t.teardown(() => {
    rmSync(outDir, { recursive: true, force: true })
    rmSync(dataDir, { recursive: true, force: true })
  })
  // No loader or coverage hooks from this test process (tap's NODE_OPTIONS): the build must run on plain Node, and
  // no DATABASE_URL, so it uses the embedded database in DATA_DIR.
  const { NODE_OPTIONS: _options, NODE_V8_COVERAGE: _coverage, DATABASE_URL: _url, ...inherited } = process.env

  const started = performance.now()
  const tsc = await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir], inherited)
  t.equal(tsc.code, 0, `tsc -p tsconfig.build.json compiles cleanly${tsc.output === '' ? '' : `:\n${tsc.output}`}`)
  t.comment(`tsc: ${Math.round(performance.now() - started)} ms`)

  const port = await freePort()
  const baseUrl = `http://127.0.0.1:${port}`
  const token = randomBytes(32).toString('base64url')
  const child = spawn(process.execPath, [path.join(outDir, 'src', 'main.js')], {
    cwd: ROOT,
    env: {
      ...inherited, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LANYARD_ADMIN_TOKEN: token,
      LANYARD_SIGNING_THREADS: '1', LOG_LEVEL: 'warn', PUBLIC_URL: baseUrl, NODE_ENV: 'test'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  await ready(child, () => output)

  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const post = async (url: string, body: unknown) => {
    const res = await fetch(`${baseUrl}${url}`, { method: 'POST', headers: auth, body: JSON.stringify(body) })
    return { status: res.status, body: await res.json() as any }
  }
  /** The body and the server's log join the message only when the status is not the expected one. */
  const expectStatus = (res: { status: number; body: unknown }, status: number, what: string) =>
    t.equal(res.status, status, res.status === status ? what : `${what}: ${JSON.stringify(res.body)}\n${output}`)
  const issuer = await post('/v1/issuers', { name: 'Compiled College', url: 'https://compiled.example.edu' })
  expectStatus(issuer, 201, 'creates an issuer')
  const achievement = await post(`/v1/issuers/${issuer.body.id}/achievements`, {
    name: 'Shipping Builds', description: 'Runs what was compiled.', criteria: { narrative: 'Issue a badge from dist/.' }
  })
  expectStatus(achievement, 201, 'creates an achievement')
  const issued = await post('/v1/credentials', { achievementId: achievement.body.id, recipient: { email: 'learner@example.com' } })
  expectStatus(issued, 201, 'issues a credential (signed on a worker thread)')
  t.match(issued.body, { credential: { proof: { type: 'DataIntegrityProof', proofValue: String } } }, 'signed with a Data Integrity proof')

  const verified = await post('/verify', { credential: issued.body.credential })
  expectStatus(verified, 200, 'verifies')
  t.equal(verified.body.verified, true, 'the build verifies what it issued')
  if (verified.body.verified !== true) t.comment(JSON.stringify(verified.body.checks ?? verified.body))

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM shuts the build down cleanly')
  t.comment(`build, start, issue and verify: ${Math.round(performance.now() - started)} ms`)
})
