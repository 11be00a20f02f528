/** What every endpoint of one proxy shares. */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type { UpstreamUnavailable } from "../../Errors.js"
import type * as Store from "../../Store.js"
import type { AccessTokens } from "../AccessTokens.js"
import type { Clients } from "../Clients.js"
import type { ConsentCookies } from "../ConsentCookie.js"
import type { Grants } from "../Grants.js"
import type { GrantRecord } from "./records.js"
import type { Limit } from "../RateLimit.js"
import type { RememberedApprovals } from "../RememberedApprovals.js"
import type { Sealer } from "../Sealing.js"
import type { Upstream, UpstreamTokens } from "../Upstream.js"

/** The proxy's public URLs, all from configuration (never from `Host` or `X-Forwarded-*`). */
export interface Endpoints {
  readonly authorization: string
  readonly consent: string
  readonly callback: string
  readonly token: string
  readonly registration: string
  readonly revocation: string
}

/** The shared state and settings of the endpoints. */
export interface ProxyContext {
  /** The proxy's issuer identifier (the public origin, or a configured URL). */
  readonly issuer: string
  /** This MCP server's canonical resource URL: the only `resource` and `aud`. */
  readonly resource: string
  /** The resource's name, shown on the consent page. */
  readonly resourceName: string | undefined
  readonly endpoints: Endpoints
  /** Scopes clients may request. */
  readonly scopesSupported: ReadonlyArray<string>
  /** Scopes granted when a request names none. */
  readonly defaultScopes: ReadonlyArray<string>
  readonly store: Store.Service
  readonly keyPrefix: string
  readonly clients: Clients
  readonly grants: Grants
  readonly upstream: Upstream
  readonly cookies: ConsentCookies
  readonly sealer: Sealer
  readonly accessTokens: AccessTokens
  readonly limits: {
    readonly registration: Limit
    readonly authorization: Limit
    readonly token: Limit
    readonly consent: Limit
    readonly callback: Limit
  }
  /** How many reverse proxies in front may be believed about the client address. */
  readonly trustedProxies: number
  readonly ttl: {
    /** Consent page to decision. */
    readonly consent: Duration.DurationInput
    /** Upstream round trip (the `state`). */
    readonly state: Duration.DurationInput
  }
  /** Refresh the upstream tokens when a client refreshes and the upstream access token has expired. */
  readonly refreshUpstream: boolean
  /** Remembered approvals, unless turned off. */
  readonly approvals: RememberedApprovals | undefined
  /** Records that the upstream has just confirmed a grant (the sign-in), for the guard's re-check interval. */
  readonly grantConfirmed: (grant: GrantRecord) => Effect.Effect<void, UpstreamUnavailable>
  /** Best-effort revocation of upstream tokens the proxy will not use; never fails, bounded in time. */
  readonly discardUpstream: (tokens: UpstreamTokens) => Effect.Effect<void>
}
