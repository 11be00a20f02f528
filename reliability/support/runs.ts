/** How hard the property tests push: `RELIABILITY_RUNS` multiplies every default run count (`npm run reliability` raises it). */

const factor = (): number => {
  const raw = process.env["RELIABILITY_RUNS"]
  if (raw === undefined || raw === "") return 1
  const parsed = Number(raw)
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`RELIABILITY_RUNS must be a positive number, got ${JSON.stringify(raw)}`)
  return parsed
}

/** The number of runs for a property whose `npm test` default is `base`. */
export const runs = (base: number): number => Math.max(1, Math.round(base * factor()))
