/** How the reliability suite's child processes end: the parent closes their standard input, they clean up and exit. */

/** Runs `stop` (then exits with 0) once standard input ends or closes; keeps the process alive until then. */
export const untilStdinCloses = (stop: () => Promise<void>): void => {
  let stopping = false
  const end = () => {
    if (stopping) return
    stopping = true
    void stop().finally(() => process.exit(0))
  }
  process.stdin.on("end", end)
  process.stdin.on("close", end)
  process.stdin.resume()
}
