/** How a bench run is sized: BENCH_QUICK=1 shrinks every count and duration so the scripts only prove they run. */

/** True under BENCH_QUICK=1 (the smoke test). */
export const quick = process.env["BENCH_QUICK"] === "1"

/** `full` normally, `small` under BENCH_QUICK=1. */
export const pick = <A>(full: A, small: A): A => (quick ? small : full)
