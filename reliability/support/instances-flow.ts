/**
 * One OAuth proxy flow across two instances, as an MCP client and its user's browser run it, with every cross-instance
 * guarantee checked on the way: register on one instance; authorize, consent, callback and token on instances picked
 * at random; the upstream sign-in at the test IdP; a tool call; a refresh on the other instance than the token
 * exchange. Replays go to the other instance and must fail: the callback's `state`, the rotated refresh token (whose
 * reuse ends the grant everywhere, so the new access token stops working), and the authorization code.
 */
import { BrowserDriver, createPkce, findPostForm } from "@mcp-oauth/testing"
import { whoamiCall, whoamiHeaders, whoamiText } from "./load-tools.js"
import { type Cluster, type FlowRequests, NoAnswer, type Reply } from "./instances-cluster.js"

/** Where the flow's authorization responses go; never served. */
const redirectUri = "http://127.0.0.1:65535/callback"

/** A check of the flow that did not hold. */
export class FlowFailure extends Error {
  constructor(
    readonly step: string,
    detail: string
  ) {
    super(`${step}: ${detail}`)
  }
}

/** A flow's state and tallies. */
export interface Flow extends FlowRequests {
  readonly id: number
  readonly user: string
  readonly browser: BrowserDriver
  /** 503 answers (with Retry-After) that were retried. */
  retried: number
  /** Replays that really reached the other instance (not rerouted to the same one while it was down). */
  crossReplays: number
}

/** A new flow for user `flow-user-<id>`. */
export const newFlow = (id: number): Flow => ({ id, user: `flow-user-${id}`, browser: new BrowserDriver(), pending: [0, 0], retried: 0, crossReplays: 0 })

/** Tokens a flow holds. */
export interface FlowTokens {
  readonly clientId: string
  readonly access: string
  readonly refresh: string
  /** The code and verifier, for the final replay. */
  readonly code: string
  readonly verifier: string
  /** The instance that exchanged the code. */
  readonly tokenInstance: number
}

const pick = () => (Math.random() < 0.5 ? 0 : 1)

/** Options of a flow's requests. */
export interface FlowOptions {
  /** Retry a 503 with Retry-After (at most 3 times): what a client does when the server says "try again". */
  readonly retryUnavailable: boolean
  /**
   * Mean pause before each step, in milliseconds (uniform between 0 and twice this): a person reads the consent page,
   * a client does other work. Without it every running flow always has a request queued, and a crash finds them all.
   */
  readonly thinkMs: number
}

const think = (options: FlowOptions) =>
  options.thinkMs > 0 ? new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * options.thinkMs)) : Promise.resolve()

/** Milliseconds each step took, by step name (the upstream sign-in included), for the report. */
export const stepTimes: Record<string, Array<number>> = {}

const timed = async <A>(step: string, run: () => Promise<A>): Promise<A> => {
  const start = performance.now()
  try {
    return await run()
  } finally {
    ;(stepTimes[step] ??= []).push(performance.now() - start)
  }
}

/** Sends and checks an answer; a 5xx other than 503 with Retry-After fails the flow whatever the step expected. */
const request = async (cluster: Cluster, flow: Flow, options: FlowOptions, step: string, instance: number, url: string | URL, init?: RequestInit): Promise<Reply> => {
  await think(options)
  for (let attempt = 0; ; attempt++) {
    const reply = await timed(step, () => cluster.send(flow, flow.browser, instance, url, init))
    if (reply.status === 503 && reply.headers.get("retry-after") !== null && options.retryUnavailable && attempt < 3) {
      flow.retried++
      await new Promise((resolve) => setTimeout(resolve, 250 * (attempt + 1)))
      continue
    }
    if (reply.status >= 500 && !(reply.status === 503 && reply.headers.get("retry-after") !== null)) {
      throw new FlowFailure(step, `server error ${reply.status} from instance ${reply.instance}: ${reply.text.slice(0, 200)}`)
    }
    return reply
  }
}

const expectStatus = (step: string, reply: Reply, status: number) => {
  if (reply.status !== status) throw new FlowFailure(step, `status ${reply.status} from instance ${reply.instance}, expected ${status}: ${reply.text.slice(0, 200)}`)
}

const oauthError = (reply: Reply): string | undefined => {
  try {
    return (JSON.parse(reply.text) as { error?: string }).error
  } catch {
    return undefined
  }
}

const tokenRequest = (cluster: Cluster, flow: Flow, options: FlowOptions, step: string, instance: number, params: Record<string, string>) =>
  request(cluster, flow, options, step, instance, `${cluster.settings.origin}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params).toString()
  })

/** Calls `whoami` with an access token. */
export const callTool = (cluster: Cluster, flow: Flow, options: FlowOptions, step: string, instance: number, access: string) =>
  request(cluster, flow, options, step, instance, `${cluster.settings.origin}/mcp`, { method: "POST", headers: whoamiHeaders(access), body: whoamiCall })

const expectSubject = (step: string, reply: Reply, user: string) => {
  expectStatus(step, reply, 200)
  if (!reply.text.includes(whoamiText(user))) throw new FlowFailure(step, `the tool answered for someone else: ${reply.text.slice(0, 200)}`)
}

/** Register, authorize, consent, upstream sign-in, callback (and its replay), token exchange and a tool call. */
export const obtainTokens = async (cluster: Cluster, flow: Flow, options: FlowOptions): Promise<FlowTokens> => {
  const { origin } = cluster.settings
  const registered = await request(cluster, flow, options, "register", flow.id % 2, `${origin}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ redirect_uris: [redirectUri], grant_types: ["authorization_code", "refresh_token"], token_endpoint_auth_method: "none", client_name: `flow ${flow.id}` })
  })
  expectStatus("register", registered, 201)
  const clientId = (JSON.parse(registered.text) as { client_id: string }).client_id

  const pkce = createPkce()
  const state = `state-${flow.id}`
  const authorize = new URL(`${origin}/authorize`)
  const params = { response_type: "code", client_id: clientId, redirect_uri: redirectUri, code_challenge: pkce.challenge, code_challenge_method: "S256", state, resource: `${origin}/mcp`, login_hint: flow.user }
  for (const [name, value] of Object.entries(params)) authorize.searchParams.set(name, value)
  const page = await request(cluster, flow, options, "authorize", pick(), authorize)
  expectStatus("authorize", page, 200)
  const form = findPostForm(page.text, authorize, "approve")
  if (form === undefined) throw new FlowFailure("authorize", "no consent form on the page")

  const approved = await request(cluster, flow, options, "consent", pick(), form.action, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin },
    body: new URLSearchParams(form.fields.map(([n, v]) => [n, v])).toString()
  })
  expectStatus("consent", approved, 302)

  // the user signs in at the upstream, which sends the browser back to the proxy's callback
  await think(options)
  const callback = await timed("upstream sign-in", () => flow.browser.navigate(approved.headers.get("location")!, `${origin}/oauth/callback`)).catch((error: unknown) => {
    throw new FlowFailure("upstream sign-in", error instanceof Error ? error.message.split("\n")[0]! : String(error))
  })
  const back = await request(cluster, flow, options, "callback", pick(), callback)
  expectStatus("callback", back, 302)
  const answer = new URL(back.headers.get("location")!)
  const code = answer.searchParams.get("code")
  if (code === null || answer.searchParams.get("state") !== state) throw new FlowFailure("callback", `no code or the wrong state in ${answer.search}`)
  const replayed = await request(cluster, flow, options, "callback replay", 1 - back.instance, callback)
  if (replayed.instance !== back.instance) flow.crossReplays++
  expectStatus("callback replay", replayed, 400)

  const exchange = { grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: pkce.verifier, client_id: clientId }
  const tokens = await tokenRequest(cluster, flow, options, "token", pick(), exchange)
  expectStatus("token", tokens, 200)
  const body = JSON.parse(tokens.text) as { access_token: string; refresh_token?: string }
  if (body.refresh_token === undefined) throw new FlowFailure("token", "no refresh token")
  expectSubject("tool call", await callTool(cluster, flow, options, "tool call", pick(), body.access_token), flow.user)
  return { clientId, access: body.access_token, refresh: body.refresh_token, code, verifier: pkce.verifier, tokenInstance: tokens.instance }
}

/**
 * Refresh on the other instance, a tool call with the new token, then the replays: the old refresh token (which ends
 * the grant, so the new access token must stop working on the instance that just accepted it) and the code.
 */
export const refreshAndReplay = async (cluster: Cluster, flow: Flow, options: FlowOptions, tokens: FlowTokens): Promise<void> => {
  const refreshed = await tokenRequest(cluster, flow, options, "refresh", 1 - tokens.tokenInstance, { grant_type: "refresh_token", refresh_token: tokens.refresh, client_id: tokens.clientId })
  expectStatus("refresh", refreshed, 200)
  const access = (JSON.parse(refreshed.text) as { access_token: string }).access_token
  const served = await callTool(cluster, flow, options, "tool call after refresh", refreshed.instance, access)
  expectSubject("tool call after refresh", served, flow.user)

  const reuse = await tokenRequest(cluster, flow, options, "refresh replay", 1 - refreshed.instance, { grant_type: "refresh_token", refresh_token: tokens.refresh, client_id: tokens.clientId })
  if (reuse.instance !== refreshed.instance) flow.crossReplays++
  expectStatus("refresh replay", reuse, 400)
  if (oauthError(reuse) !== "invalid_grant") throw new FlowFailure("refresh replay", `error ${oauthError(reuse)}, expected invalid_grant`)
  const ended = await callTool(cluster, flow, options, "tool call after reuse", served.instance, access)
  expectStatus("tool call after reuse (the grant must be ended everywhere)", ended, 401)

  const codeReplay = await tokenRequest(cluster, flow, options, "code replay", 1 - tokens.tokenInstance, { grant_type: "authorization_code", code: tokens.code, redirect_uri: redirectUri, code_verifier: tokens.verifier, client_id: tokens.clientId })
  if (codeReplay.instance !== tokens.tokenInstance) flow.crossReplays++
  expectStatus("code replay", codeReplay, 400)
  if (oauthError(codeReplay) !== "invalid_grant") throw new FlowFailure("code replay", `error ${oauthError(codeReplay)}, expected invalid_grant`)
}

/** How a flow ended. */
export interface FlowResult {
  readonly ok: boolean
  readonly failure?: string | undefined
  /** The failure was a request without an answer. */
  readonly noAnswer?: boolean | undefined
}

/** Runs `body`, turning failures into a result. */
export const settle = async (body: () => Promise<void>): Promise<FlowResult> => {
  try {
    await body()
    return { ok: true }
  } catch (error) {
    return { ok: false, failure: error instanceof Error ? error.message : String(error), noAnswer: error instanceof NoAnswer }
  }
}
