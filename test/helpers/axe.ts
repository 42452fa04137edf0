// axe-core in a real page: no serious or critical violations.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'
import type { Test } from 'tap'

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

interface AxeViolation { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }

/**
 * Runs axe-core on the page, evaluated through the browser's debugger (the page's CSP, which allows no script, stays as
 * it is): no serious or critical violation, and rules that did run.
 */
export async function assertAccessible(t: Test, page: Page, what: string): Promise<void> {
  await page.evaluate(AXE)
  const results = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown): Promise<{ violations: AxeViolation[]; passes: unknown[] }> } }).axe
    const { violations, passes } = await axe.run(document)
    return { violations, passes: passes.length }
  })
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  t.same(serious, [], `${what}: no serious or critical axe-core violations`)
  t.ok(results.passes > 10, `${what}: axe-core checked ${results.passes} rules that pass`)
}
