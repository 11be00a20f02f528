/** Small statistics for side-by-side measurements. */

/** The q-quantile (0..1) of the values, linearly interpolated. */
export const quantile = (values: ReadonlyArray<number>, q: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  const high = Math.ceil(at)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low)
}

/** The median. */
export const median = (values: ReadonlyArray<number>): number => quantile(values, 0.5)

/** A number rounded to `digits` significant decimals for tables and JSON. */
export const round = (value: number, digits = 2): number => {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** Elapsed milliseconds since `start` (from `performance.now()`). */
export const since = (start: number): number => performance.now() - start

/** Rotates an array by `by` places, so that variants take turns going first in successive rounds. */
export const rotate = <A>(items: ReadonlyArray<A>, by: number): Array<A> => {
  const n = items.length
  if (n === 0) return []
  const k = ((by % n) + n) % n
  return [...items.slice(k), ...items.slice(0, k)]
}
