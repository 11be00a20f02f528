/**
 * A provider as the `MCPServer` facade takes it: a named Layer that contributes the verifier and the metadata.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Layer from "effect/Layer"
import type { ConfigProblem } from "./ConfigProblem.js"
import type { Provider } from "./Provider.js"
import type { ResourceServer } from "./ResourceServer.js"
import type { Store } from "./Store.js"
import type { TokenVerifier } from "./TokenVerifier.js"

/** An identity provider ready to plug into a server: its name and its Layer (the OAuth proxy also needs the Store). */
export interface OAuthProvider {
  readonly name: string
  readonly layer: Layer.Layer<Provider | TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient | Store>
}
