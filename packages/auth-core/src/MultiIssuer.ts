/**
 * Several authorization servers at once: a token verifier that picks the issuer's verifier by the token's unverified
 * `iss` before any key is fetched, and the Layer-level composition of several provider layers into one provider.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { ConfigProblem } from "./ConfigProblem.js"
import { InvalidToken } from "./Errors.js"
import type { OAuthProvider } from "./OAuthProvider.js"
import { Provider } from "./Provider.js"
import * as Telemetry from "./Telemetry.js"
import { TokenVerifier, type Service } from "./TokenVerifier.js"
import { decodeCompact } from "./internal/compactJws.js"

/** The verifier of one authorization server's tokens. */
export interface IssuerVerifier {
  /** The issuer identifier (or several) whose tokens this verifier takes, compared exactly with the token's `iss`. */
  readonly issuer: string | ReadonlyArray<string>
  /** The verifier; it still checks the issuer, the signature and every claim itself. */
  readonly verifier: Service
}

/** Options of {@link make}. */
export interface MultiIssuerOptions {
  /** One entry per authorization server; an issuer may appear only once. */
  readonly issuers: ReadonlyArray<IssuerVerifier>
  /**
   * Verifies tokens that are not JWTs (opaque tokens), for example by introspection. Without it they are refused as
   * malformed. A JWT never reaches it, whatever its issuer.
   */
  readonly opaque?: Service | undefined
  /** Largest token accepted, in bytes, checked before anything else (default 16 KiB). */
  readonly maxTokenBytes?: number | undefined
}

/** The defaults of {@link MultiIssuerOptions}. */
export const defaults = { maxTokenBytes: 16 * 1024 } as const

// a refusal made here, before any issuer's verifier runs, is the verification's one span (with its reason)
type Refusal = "malformed" | "issuer" | "too_large"
const refusalErrors: Record<Refusal, InvalidToken> = {
  malformed: new InvalidToken({ reason: "malformed" }),
  issuer: new InvalidToken({ reason: "issuer" }),
  too_large: new InvalidToken({ reason: "too_large" })
}
const refuse = (reason: Refusal): Effect.Effect<never, InvalidToken> =>
  Effect.fail(refusalErrors[reason]).pipe(Telemetry.spanned(Telemetry.Span.verifyToken, { [Telemetry.Attribute.verifier]: "multi_issuer" }))
const refusals: Record<Refusal, Effect.Effect<never, InvalidToken>> = {
  malformed: refuse("malformed"),
  issuer: refuse("issuer"),
  too_large: refuse("too_large")
}

const base64urlSegment = /^[A-Za-z0-9_-]+$/

/**
 * Whether a token that failed strict decoding still presents itself as JOSE (its first segment is a JSON object): a
 * broken JWT or a JWE, which is refused rather than handed to the opaque-token verifier.
 */
const looksLikeJose = (token: string): boolean => {
  const dot = token.indexOf(".")
  if (dot <= 0) return false
  const first = token.slice(0, dot)
  if (!base64urlSegment.test(first)) return false
  try {
    const value: unknown = JSON.parse(Buffer.from(first, "base64url").toString("utf8"))
    return typeof value === "object" && value !== null
  } catch {
    return false
  }
}

/**
 * Builds the composite verifier. The token is size-checked, then its payload decoded without verification to read
 * `iss`; a token from an issuer not listed here, without `iss`, or not a JWT (unless `opaque` is given) is refused
 * before any verifier runs, so it never makes this server contact anyone.
 */
export const make = (options: MultiIssuerOptions): Effect.Effect<Service, ConfigProblem> =>
  Effect.gen(function* () {
    const routes = new Map<string, Service>()
    for (const entry of options.issuers) {
      const issuers = typeof entry.issuer === "string" ? [entry.issuer] : entry.issuer
      for (const issuer of issuers) {
        if (issuer === "") return yield* new ConfigProblem({ setting: "issuers", problem: "an issuer is empty" })
        if (routes.has(issuer)) {
          return yield* new ConfigProblem({ setting: "issuers", problem: `${JSON.stringify(issuer)} is listed twice` })
        }
        routes.set(issuer, entry.verifier)
      }
    }
    if (routes.size === 0) return yield* new ConfigProblem({ setting: "issuers", problem: "must list at least one issuer" })
    const opaque = options.opaque
    const maxTokenBytes = options.maxTokenBytes ?? defaults.maxTokenBytes

    // which verifier a token goes to, or why it goes to none
    const routeOf = (token: string): Service | Refusal => {
      // length in UTF-16 units bounds the byte length from below; tokens are ASCII when well-formed
      if (token.length > maxTokenBytes) return "too_large"
      const decoded = decodeCompact(token)
      if (decoded === undefined) return opaque === undefined || looksLikeJose(token) ? "malformed" : opaque
      const iss = decoded.payload["iss"]
      return (typeof iss === "string" ? routes.get(iss) : undefined) ?? "issuer"
    }

    const verify = (redacted: Redacted.Redacted<string>) => {
      const route = routeOf(Redacted.value(redacted))
      return typeof route === "string" ? refusals[route] : route.verify(redacted)
    }

    // the chosen verifier's immediate verdict, when it has one
    const immediate = (redacted: Redacted.Redacted<string>, now: number) => {
      const route = routeOf(Redacted.value(redacted))
      return typeof route === "string" ? Exit.fail(refusalErrors[route]) : route.immediate?.(redacted, now)
    }

    return TokenVerifier.of({ verify, immediate })
  })

/** Options of {@link layer}. */
export interface MultiIssuerLayerOptions<E = never, R = never> {
  /**
   * Who verifies tokens that are not JWTs: the issuer of one of the providers (its verifier, e.g. introspection,
   * takes them), or a verifier layer of its own. Without it such tokens are refused as malformed.
   */
  readonly opaque?: string | Layer.Layer<TokenVerifier, E, R> | undefined
  /** Largest token accepted, in bytes (default 16 KiB). */
  readonly maxTokenBytes?: number | undefined
  /** The combined provider's name in logs (default the providers' names joined with `+`). */
  readonly name?: string | undefined
}

/**
 * Combines provider contributions into one: every issuer listed in `authorization_servers` (in order, each once),
 * scopes and warnings merged, and the first provider's metadata mirrored at this server's well-known
 * authorization-server URLs (or, when one provider serves its own routes as the OAuth proxy does, that provider's
 * metadata and routes).
 */
export const mergeProviders = (
  providers: ReadonlyArray<typeof Provider.Service>,
  name?: string
): typeof Provider.Service => {
  const scopes = providers.some((p) => p.scopesSupported !== undefined)
    ? [...new Set(providers.flatMap((p) => p.scopesSupported ?? []))]
    : undefined
  // a provider serving its own routes (the OAuth proxy) is the authorization server on this origin: its metadata is
  // the one to mirror here, and its routes stay served
  const routed = withRoutes(providers)[0]
  const merged: typeof Provider.Service = {
    name: name ?? providers.map((p) => p.name).join("+"),
    authorizationServers: [...new Set(providers.flatMap((p) => p.authorizationServers))],
    scopesSupported: scopes,
    metadata: (routed ?? providers[0])?.metadata,
    warnings: providers.flatMap((p) => p.warnings)
  }
  return routed === undefined ? merged : Object.assign(merged, { routes: routed.routes })
}

const withRoutes = (providers: ReadonlyArray<typeof Provider.Service>) =>
  providers.filter((p): p is typeof p & { readonly routes: NonNullable<unknown> } => "routes" in p && p.routes !== undefined)

/**
 * One {@link Provider} and one {@link TokenVerifier} from several provider layers (for example
 * `MultiIssuer.layer([Custom.layer({ issuer: A }), Custom.layer({ issuer: B })])`): each layer is built on its own,
 * its issuers (its `authorizationServers`) route tokens to its verifier, and the providers are merged with
 * {@link mergeProviders}. An issuer listed by two layers, or an `opaque` issuer listed by none, is a
 * {@link ConfigProblem}.
 */
export const layer = <E, R, E2 = never, R2 = never>(
  providers: ReadonlyArray<Layer.Layer<Provider | TokenVerifier, E, R>>,
  options: MultiIssuerLayerOptions<E2, R2> = {}
): Layer.Layer<Provider | TokenVerifier, E | E2 | ConfigProblem, R | R2> =>
  Layer.scopedContext(
    Effect.gen(function* () {
      if (providers.length === 0) {
        return yield* new ConfigProblem({ setting: "providers", problem: "must list at least one provider" })
      }
      const parts: Array<{ readonly provider: typeof Provider.Service; readonly verifier: Service }> = []
      for (const providerLayer of providers) {
        const context = yield* Layer.build(providerLayer)
        parts.push({ provider: Context.get(context, Provider), verifier: Context.get(context, TokenVerifier) })
      }
      for (const { provider } of parts) {
        if (provider.authorizationServers.length === 0) {
          return yield* new ConfigProblem({
            setting: "providers",
            problem: `provider ${JSON.stringify(provider.name)} lists no authorization server to route tokens by`
          })
        }
      }
      if (withRoutes(parts.map((part) => part.provider)).length > 1) {
        return yield* new ConfigProblem({ setting: "providers", problem: "at most one provider may serve its own routes (the OAuth proxy)" })
      }
      let opaque: Service | undefined
      if (typeof options.opaque === "string") {
        const issuer = options.opaque
        opaque = parts.find((part) => part.provider.authorizationServers.includes(issuer))?.verifier
        if (opaque === undefined) {
          return yield* new ConfigProblem({ setting: "opaque", problem: `${JSON.stringify(issuer)} is not the issuer of any provider` })
        }
      } else if (options.opaque !== undefined) {
        opaque = Context.get(yield* Layer.build(options.opaque), TokenVerifier)
      }
      const verifier = yield* make({
        issuers: parts.map((part) => ({ issuer: part.provider.authorizationServers, verifier: part.verifier })),
        opaque,
        maxTokenBytes: options.maxTokenBytes
      })
      const provider = mergeProviders(
        parts.map((part) => part.provider),
        options.name
      )
      return Context.make(Provider, provider).pipe(Context.add(TokenVerifier, verifier))
    })
  )

/** Several providers for the `MCPServer` facade, combined as by {@link layer}. */
export const oauthMultiIssuerProvider = (
  providers: ReadonlyArray<OAuthProvider>,
  options: { readonly opaque?: string | undefined; readonly name?: string | undefined } = {}
): OAuthProvider => ({
  name: options.name ?? providers.map((p) => p.name).join("+"),
  layer: layer(
    providers.map((p) => p.layer),
    options
  )
})
