/**
 * A configuration mistake found at start, naming the setting so the process can exit with one clear line.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/** Bad or missing configuration: `setting` is the option or environment variable to fix. */
export class ConfigProblem extends Data.TaggedError("ConfigProblem")<{
  readonly setting: string
  readonly problem: string
}> {
  /** One line: the setting, then what is wrong with it. */
  override get message(): string {
    return `${this.setting}: ${this.problem}`
  }
}
