// The rows of `npm run bench`: each figure's median over the repetitions, its ratio to the floor it is bounded by, the
// issue's target for that ratio, and the table they print as.

export interface Sample {
  value: number
  p50Ms?: number
  p99Ms?: number
  /** Non-2xx responses, errors and timeouts. */
  failed?: number
}

/** A target for `ratio`, e.g. { at: 'least', ratio: 1.3 }. */
export interface Target {
  at: 'least' | 'most'
  ratio: number
}

export interface Row {
  name: string
  value: number
  unit: string
  p50Ms?: number
  p99Ms?: number
  /** The row (or figure) this one is bounded by, its value, and value / floor. */
  floor?: string
  floorValue?: number
  ratio?: number
  target?: Target & { met: boolean }
  note?: string
  /** Each repetition's value, in the order measured. */
  samples?: number[]
  /** The floor, measured again right before each sample: `ratio` is then the median of samples[i] / pairedFloorSamples[i]. */
  pairedFloorSamples?: number[]
  failed?: number
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** The median of each figure over the repetitions; failures added up. */
export function medianSample(samples: Sample[]): Sample {
  const medianOf = (key: 'p50Ms' | 'p99Ms') => {
    const values = samples.flatMap((s) => s[key] ?? [])
    return values.length === 0 ? {} : { [key]: median(values) }
  }
  return {
    value: median(samples.map((s) => s.value)),
    ...medianOf('p50Ms'),
    ...medianOf('p99Ms'),
    failed: samples.reduce((sum, s) => sum + (s.failed ?? 0), 0)
  }
}

/**
 * Sets ratio (and whether the target is met) where a row names its floor: value / floor, or `pairedRatio` when the row
 * measured its floor again beside each of its samples (see `pairedFloorSamples`).
 */
export function withRatio(row: Row, floorValue: number | undefined, target?: Target, pairedRatio?: number): Row {
  if (row.floor === undefined || floorValue === undefined) return row
  const ratio = pairedRatio ?? row.value / floorValue
  return {
    ...row,
    floorValue,
    ratio,
    ...(target === undefined ? {} : { target: { ...target, met: target.at === 'least' ? ratio >= target.ratio : ratio <= target.ratio } })
  }
}

function figure(value: number | undefined): string {
  if (value === undefined) return ''
  if (value === 0) return '0'
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US')
  return value.toPrecision(3)
}

function targetText(target: Row['target']): string {
  if (target === undefined) return ''
  return `${target.at === 'least' ? '≥' : '≤'} ${target.ratio} ${target.met ? '✓' : '✗'}`
}

/** One aligned table: name, value, unit, p50, p99, floor, ratio, target, note. */
export function formatTable(rows: Row[]): string {
  const header = ['figure', 'value', 'unit', 'p50 ms', 'p99 ms', 'bounded by', 'ratio', 'target', 'note']
  const cells = rows.map((row) => [
    row.name, figure(row.value), row.unit, figure(row.p50Ms), figure(row.p99Ms), row.floor ?? '', figure(row.ratio),
    targetText(row.target), [row.note, row.failed ? `${row.failed} failed requests` : undefined].filter(Boolean).join('; ')
  ])
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((line) => line[i]!.length)))
  const numeric = new Set([1, 3, 4, 6])
  const line = (values: string[]) => values
    .map((value, i) => numeric.has(i) ? value.padStart(widths[i]!) : value.padEnd(widths[i]!))
    .join('  ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n')
}
