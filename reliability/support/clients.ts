/**
 * What clients do against a stack: call the MCP endpoint, and walk the proxy's flow (register, authorize through a
 * consenting browser, redeem, refresh, revoke). Every call is bounded by a deadline so that a server that never
 * answers fails the test instead of hanging it; the fetch is injectable so that every answer can be recorded.
 */
import { BrowserDriver, createPkce, type Pkce } from "@mcp-oauth/testing"

/** Longest wait for any one answer; far beyond every timeout configured in the stacks. */
export const ANSWER_DEADLINE_MS = 10_000

/** The redirect URI test clients register at the proxy (never contacted: the browser stops before it). */
export const CLIENT_REDIRECT = "http://127.0.0.1:65535/callback"

/** An HTTP answer read whole. */
export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
}

const bounded = (init: RequestInit = {}): RequestInit => ({ ...init, signal: AbortSignal.timeout(ANSWER_DEADLINE_MS) })

/** One request, read whole, failing if no complete answer arrives before the deadline. */
export const send = async (url: string | URL, init: RequestInit = {}, fetcher: typeof fetch = fetch): Promise<Answer> => {
  const response = await fetcher(url, bounded({ redirect: "manual", ...init }))
  return { status: response.status, headers: response.headers, text: await response.text() }
}

/** Calls the contract's `whoami` tool with `authorization` (a whole header value, or none). */
export const callWhoami = (resource: string, authorization: string | undefined, fetcher: typeof fetch = fetch): Promise<Answer> =>
  send(
    resource,
    {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...(authorization === undefined ? {} : { authorization })
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: {} } })
    },
    fetcher
  )

/** The `whoami` tool's JSON result from a 200 answer (JSON or a single SSE event). */
export const toolResult = (answer: Answer): Record<string, unknown> => {
  const json = answer.text.trimStart().startsWith("{") ? answer.text : (answer.text.split("\n").find((l) => l.startsWith("data:")) ?? "").slice(5)
  const message = JSON.parse(json) as { result?: { content?: Array<{ text?: string }> } }
  return JSON.parse(message.result?.content?.[0]?.text ?? "null") as Record<string, unknown>
}

/** A client registered at the proxy. */
export interface ProxyClient {
  readonly client_id: string
  readonly client_secret?: string
  readonly token_endpoint_auth_method: string
}

/** Registers a client at the proxy: public, or confidential with `client_secret_post`. */
export const registerClient = async (origin: string, confidential: boolean, fetcher: typeof fetch = fetch): Promise<ProxyClient> => {
  const answer = await send(
    `${origin}/register`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        client_name: "reliability client",
        redirect_uris: [CLIENT_REDIRECT],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: confidential ? "client_secret_post" : "none"
      })
    },
    fetcher
  )
  if (answer.status !== 201) throw new Error(`registration answered ${answer.status}: ${answer.text}`)
  return JSON.parse(answer.text) as ProxyClient
}

/** The authorization request URL of the proxy for a client. */
export const authorizeUrl = (stack: { readonly origin: string; readonly resource: string }, client: ProxyClient, pkce: Pkce, loginHint = "alice"): URL => {
  const url = new URL(`${stack.origin}/authorize`)
  for (const [name, value] of Object.entries({
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: CLIENT_REDIRECT,
    scope: "mcp",
    state: "reliability-state",
    code_challenge: pkce.challenge,
    code_challenge_method: "S256",
    resource: stack.resource,
    login_hint: loginHint
  })) {
    url.searchParams.set(name, value)
  }
  return url
}

/** Where an authorization ended: at the client's redirect URI, with a code or an error. */
export interface Authorization {
  readonly callback: URL
  readonly pkce: Pkce
}

/** Walks authorize → the proxy's consent (approved) → upstream sign-in → the proxy's callback → the client's redirect. */
export const authorize = async (
  stack: { readonly origin: string; readonly resource: string },
  client: ProxyClient,
  fetcher: typeof fetch = fetch
): Promise<Authorization> => {
  const pkce = createPkce()
  const browser = new BrowserDriver({ approveConsent: true, fetch: (input, init) => fetcher(input, bounded(init)) })
  const callback = await browser.navigate(authorizeUrl(stack, client, pkce), CLIENT_REDIRECT)
  return { callback, pkce }
}

/** A form POST to the proxy's token or revocation endpoint, with the client's credentials. */
export const postForm = (origin: string, path: "/token" | "/revoke", client: ProxyClient, params: Record<string, string>, fetcher: typeof fetch = fetch): Promise<Answer> => {
  const form = new URLSearchParams({ client_id: client.client_id, ...params })
  if (client.client_secret !== undefined) form.set("client_secret", client.client_secret)
  return send(`${origin}${path}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form }, fetcher)
}

/** Redeems an authorization's code. */
export const redeem = (stack: { readonly origin: string; readonly resource: string }, client: ProxyClient, authorization: Authorization, fetcher: typeof fetch = fetch): Promise<Answer> =>
  postForm(
    stack.origin,
    "/token",
    client,
    {
      grant_type: "authorization_code",
      code: authorization.callback.searchParams.get("code") ?? "",
      redirect_uri: CLIENT_REDIRECT,
      code_verifier: authorization.pkce.verifier,
      resource: stack.resource
    },
    fetcher
  )

/** Refreshes with a refresh token. */
export const refresh = (origin: string, client: ProxyClient, refreshToken: string, fetcher: typeof fetch = fetch): Promise<Answer> =>
  postForm(origin, "/token", client, { grant_type: "refresh_token", refresh_token: refreshToken }, fetcher)

/** The JSON body of an answer, or an empty object. */
export const jsonOf = (answer: Answer): Record<string, unknown> => {
  try {
    return JSON.parse(answer.text) as Record<string, unknown>
  } catch {
    return {}
  }
}
