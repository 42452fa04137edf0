// Runs Lanyard as a real process (`npm start`'s command) for tests that need processes, ports and restarts.
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'

export const ROOT = path.resolve(import.meta.dirname, '..', '..')

export interface Running {
  child: ChildProcess
  baseUrl: string
  output: () => string
  startupMs: number
}

/** Starts `npm start`'s command and resolves once it prints where it listens. */
export function startLanyard(env: Record<string, string>): Promise<Running> {
  const started = performance.now()
  // The same TypeScript loader (and coverage tracking) as this test process: tsx would report false-green coverage.
  const child = spawn(process.execPath, [...process.execArgv, 'src/main.ts'], {
    cwd: ROOT, env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no start within 60 s:\n${output}`)) }, 60_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /Lanyard listening on (http:\/\/\S+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        // Let the rest of the banner arrive before the caller reads it.
        setTimeout(() => resolve({ child, baseUrl: match[1]!, output: () => output, startupMs: performance.now() - started }), 100)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code} before listening:\n${output}`)) })
  })
}

export function stop(running: Running): Promise<number | null> {
  return new Promise((resolve) => {
    running.child.removeAllListeners('exit')
    running.child.on('exit', (code) => resolve(code))
    running.child.kill('SIGTERM')
  })
}
