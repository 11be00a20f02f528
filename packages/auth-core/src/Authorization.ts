/**
 * Per-operation authorization inside the MCP server: what each tool, resource and prompt requires, which
 * operations a JSON-RPC message invokes, and the check that refuses a call before it runs.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { AuthInfo } from "./AuthInfo.js"
import { AccessDenied, InsufficientScope } from "./Errors.js"
import * as ScopeHierarchy from "./ScopeHierarchy.js"

/**
 * What an operation requires. `scopes` and `permissions`: all of them; `roles`: at least one of them;
 * `check`: a rule over the caller that must return true. A throwing rule denies.
 */
export interface Requirement {
  readonly scopes?: ReadonlyArray<string> | undefined
  readonly roles?: ReadonlyArray<string> | undefined
  readonly permissions?: ReadonlyArray<string> | undefined
  readonly check?: ((auth: AuthInfo) => boolean | Promise<boolean>) | undefined
}

/** The kinds of MCP operation that can carry a requirement. */
export type OperationKind = "tool" | "resource" | "prompt"

/** One operation a JSON-RPC request invokes. */
export interface Operation {
  readonly kind: OperationKind
  /** Tool or prompt name, or resource URI. */
  readonly name: string
}

/** Requirements by operation, filled as tools, resources and prompts are registered. */
export class Policy {
  private readonly entries = new Map<string, Requirement>()
  private scoped = false
  /** Declares what an operation requires (replacing an earlier declaration). */
  set(kind: OperationKind, name: string, requirement: Requirement): this {
    this.entries.set(`${kind}\u0000${name}`, requirement)
    this.scoped = [...this.entries.values()].some((entry) => (entry.scopes?.length ?? 0) > 0)
    return this
  }
  /** Whether any operation requires scopes; when none does, the HTTP layer has no body to look into. */
  get requiresScopes(): boolean {
    return this.scoped
  }
  /** The requirement of an operation, if any. */
  get(kind: OperationKind, name: string): Requirement | undefined {
    return this.entries.get(`${kind}\u0000${name}`)
  }
}

const methods: Readonly<Record<string, { readonly kind: OperationKind; readonly param: "name" | "uri" }>> = {
  "tools/call": { kind: "tool", param: "name" },
  "prompts/get": { kind: "prompt", param: "name" },
  "resources/read": { kind: "resource", param: "uri" }
}

const operationOf = (message: unknown): Operation | undefined => {
  if (typeof message !== "object" || message === null) return undefined
  const { method, params } = message as { method?: unknown; params?: unknown }
  if (typeof method !== "string" || !Object.hasOwn(methods, method)) return undefined
  const { kind, param } = methods[method]!
  const name = typeof params === "object" && params !== null ? (params as Record<string, unknown>)[param] : undefined
  return typeof name === "string" ? { kind, name } : undefined
}

/** The operations a parsed JSON-RPC body (one message or a batch) invokes. */
export const operationsOf = (body: unknown): Array<Operation> =>
  (Array.isArray(body) ? body : [body]).flatMap((message) => {
    const operation = operationOf(message)
    return operation === undefined ? [] : [operation]
  })

/** Every scope the operations in a body need, for the HTTP layer's step-up challenge. */
export const scopesFor = (policy: Policy, body: unknown): Array<string> => {
  // runs on every request with a body: nothing to read when no operation needs a scope
  if (!policy.requiresScopes) return []
  const scopes = new Set<string>()
  for (const operation of operationsOf(body)) {
    for (const scope of policy.get(operation.kind, operation.name)?.scopes ?? []) scopes.add(scope)
  }
  return [...scopes]
}

/**
 * Checks a caller against a requirement. Missing scopes fail with {@link InsufficientScope} naming every scope
 * the operation needs (so the client can step up); roles, permissions and rules fail with {@link AccessDenied}.
 */
export const check = (
  requirement: Requirement | undefined,
  auth: AuthInfo,
  implications: ScopeHierarchy.ScopeImplications = {}
): Effect.Effect<void, InsufficientScope | AccessDenied> =>
  Effect.gen(function* () {
    if (requirement === undefined) return
    const scopes = requirement.scopes ?? []
    if (ScopeHierarchy.missing(auth.scopes, scopes, implications).length > 0) {
      return yield* new InsufficientScope({ required: [...scopes] })
    }
    const roles = requirement.roles ?? []
    if (roles.length > 0 && !roles.some((role) => auth.user.roles.includes(role))) {
      return yield* new AccessDenied({ description: `Requires one of the roles: ${roles.join(", ")}` })
    }
    const permissions = requirement.permissions ?? []
    const lacking = permissions.filter((p) => !auth.user.permissions.includes(p))
    if (lacking.length > 0) {
      return yield* new AccessDenied({ description: `Requires the permissions: ${lacking.join(", ")}` })
    }
    if (requirement.check !== undefined) {
      const rule = requirement.check
      const allowed = yield* Effect.tryPromise(async () => rule(auth)).pipe(
        Effect.catchAllCause(() => Effect.succeed(false))
      )
      if (allowed !== true) return yield* new AccessDenied({ description: "Not allowed by this server's rules" })
    }
  })
