/**
 * Issue 5 acceptance 4, as a property: random interleavings of register / authorize / consent / upstream callback /
 * token / refresh / revoke / tool-call requests, valid and corrupted, sent to a real proxy in front of a real upstream.
 * A model predicts each outcome; the server must agree with it. In particular a token is issued exactly when a client
 * redeems, once, a code obtained through a consent approved in the browser that completed the upstream sign-in, with
 * the right PKCE verifier — and no request ever gets a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BrowserDriver, createPkce, findPostForm, type Pkce } from "@mcp-oauth/testing"
import { FastCheck as fc } from "effect"
import {
  authorizeUrl,
  CLIENT_REDIRECT,
  type ProxyStack,
  startProxyStack,
  tokenRequest,
  whoami
} from "./support/proxyStack.js"

type Corrupt<T extends string> = "none" | T

/**
 * Steps name flows: flow k has its own client, and its latest pending consent, upstream state, code and refresh token.
 * Cross-flow steps (flow k's code redeemed by flow j's client) are the injection attempts.
 */
type Action =
  | { readonly kind: "register"; readonly flow: number; readonly confidential: boolean }
  | { readonly kind: "authorize"; readonly flow: number; readonly browser: number; readonly corrupt: Corrupt<"plain" | "noChallenge" | "wrongRedirect" | "otherResource"> }
  | { readonly kind: "consent"; readonly flow: number; readonly browser: number; readonly corrupt: Corrupt<"wrongCsrf" | "crossSite" | "deny"> }
  | { readonly kind: "upstream"; readonly flow: number; readonly browser: number; readonly corrupt: Corrupt<"badIss" | "noIss" | "badState"> }
  | { readonly kind: "token"; readonly flow: number; readonly client: number; readonly corrupt: Corrupt<"wrongVerifier" | "noVerifier" | "wrongRedirect" | "badAuth"> }
  | { readonly kind: "refresh"; readonly flow: number; readonly client: number; readonly oldest: boolean }
  | { readonly kind: "revoke"; readonly flow: number; readonly client: number; readonly access: boolean }
  | { readonly kind: "use"; readonly flow: number }
  | { readonly kind: "junk"; readonly path: string; readonly method: string; readonly query: string; readonly body: string }

const flows = 3
const flow = fc.nat({ max: flows - 1 })
const browser = fc.nat({ max: 1 })
const corrupt = <T extends string>(...values: Array<T>) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant("none" as const) }, { weight: 1, arbitrary: fc.constantFrom(...values) })

const stepFor = (k: number, b: number) => ({
  authorize: fc.record({ kind: fc.constant("authorize" as const), flow: fc.constant(k), browser: fc.constant(b), corrupt: corrupt("plain", "noChallenge", "wrongRedirect", "otherResource") }),
  consent: fc.record({
    kind: fc.constant("consent" as const),
    flow: fc.constant(k),
    browser: fc.oneof({ weight: 5, arbitrary: fc.constant(b) }, { weight: 1, arbitrary: fc.constant(1 - b) }),
    corrupt: corrupt("wrongCsrf", "crossSite", "deny")
  }),
  upstream: fc.record({
    kind: fc.constant("upstream" as const),
    flow: fc.constant(k),
    browser: fc.oneof({ weight: 5, arbitrary: fc.constant(b) }, { weight: 1, arbitrary: fc.constant(1 - b) }),
    corrupt: corrupt("badIss", "noIss", "badState")
  }),
  token: fc.record({
    kind: fc.constant("token" as const),
    flow: fc.constant(k),
    client: fc.oneof({ weight: 5, arbitrary: fc.constant(k) }, { weight: 1, arbitrary: flow }),
    corrupt: corrupt("wrongVerifier", "noVerifier", "wrongRedirect", "badAuth")
  })
})

/** The steps of one flow in order: registration, the authorization, then what the client does with its tokens. */
const flowScript = (k: number): fc.Arbitrary<Array<Action>> =>
  browser.chain((b) => {
    const s = stepFor(k, b)
    return fc.tuple(
      fc.record({ kind: fc.constant("register" as const), flow: fc.constant(k), confidential: fc.boolean() }),
      s.authorize,
      s.consent,
      s.upstream,
      s.token,
      fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant("refresh" as const), flow: fc.constant(k), client: fc.oneof({ weight: 4, arbitrary: fc.constant(k) }, { weight: 1, arbitrary: flow }), oldest: fc.boolean() }),
          fc.record({ kind: fc.constant("use" as const), flow: fc.constant(k) }),
          fc.record({ kind: fc.constant("revoke" as const), flow: fc.constant(k), client: fc.oneof({ weight: 2, arbitrary: fc.constant(k) }, { weight: 1, arbitrary: flow }), access: fc.boolean() })
        ),
        { maxLength: 4 }
      )
    ).map(([register, ...rest]) => [register, ...rest.slice(0, 4), ...(rest[4] as Array<Action>)] as Array<Action>)
  })

/** Any single step, for repeats and stray requests between the flows. */
const stray: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant("authorize" as const), flow, browser, corrupt: corrupt("plain", "noChallenge", "wrongRedirect", "otherResource") }),
  fc.record({ kind: fc.constant("consent" as const), flow, browser, corrupt: corrupt("wrongCsrf", "crossSite", "deny") }),
  fc.record({ kind: fc.constant("upstream" as const), flow, browser, corrupt: corrupt("badIss", "noIss", "badState") }),
  fc.record({ kind: fc.constant("token" as const), flow, client: flow, corrupt: corrupt("wrongVerifier", "noVerifier", "wrongRedirect", "badAuth") }),
  fc.record({ kind: fc.constant("refresh" as const), flow, client: flow, oldest: fc.boolean() }),
  fc.record({
    kind: fc.constant("junk" as const),
    path: fc.constantFrom("/authorize", "/consent", "/oauth/callback", "/token", "/register", "/revoke", "/.well-known/oauth-authorization-server"),
    method: fc.constantFrom("GET", "POST", "PUT", "OPTIONS", "DELETE"),
    query: fc.string({ maxLength: 60 }),
    body: fc.string({ maxLength: 200 })
  })
)

/** Flow scripts and strays, interleaved: each flow keeps its own order, the scheduler picks who moves next. */
const script: fc.Arbitrary<Array<Action>> = fc
  .tuple(
    fc.tuple(...Array.from({ length: flows }, (_, k) => flowScript(k))),
    fc.array(stray, { maxLength: 8 }),
    fc.array(fc.nat(), { minLength: 60, maxLength: 60 })
  )
  .map(([scripts, strays, choices]) => {
    const queues = [...scripts.map((q) => [...q]), strays.map((s) => s)]
    const out: Array<Action> = []
    let i = 0
    for (;;) {
      const open = queues.filter((q) => q.length > 0)
      if (open.length === 0) return out
      out.push(open[(choices[i++ % choices.length] ?? 0) % open.length]!.shift()!)
    }
  })

interface Client { readonly id: string; readonly secret: string | undefined }
interface Pending { readonly browser: number; readonly pkce: Pkce; readonly action: string; readonly fields: Map<string, string>; used: boolean }
interface State { readonly browser: number; readonly pkce: Pkce; readonly url: string; used: boolean }
interface Code { readonly client: Client; readonly pkce: Pkce; readonly value: string; readonly grant: Grant; presented: boolean }
interface Grant { alive: boolean }
interface Refresh { readonly client: Client; readonly value: string; readonly access: string; readonly grant: Grant; active: boolean }

describe("OAuth proxy flow property", () => {
  let stack: ProxyStack
  beforeAll(async () => {
    stack = await startProxyStack({
      proxy: {
        rateLimits: {
          registration: { limit: 100_000, window: "1 minute" },
          authorization: { limit: 100_000, window: "1 minute" },
          token: { limit: 100_000, window: "1 minute" }
        }
      }
    })
  })
  afterAll(() => stack?.close())

  it("issues tokens only after consent in the signing-in browser and PKCE, exactly as the model predicts; never a 500", async () => {
    const statuses: Array<number> = []
    let tokensIssued = 0
    const check = (status: number, what: string) => {
      statuses.push(status)
      expect(status, what).toBeLessThan(500)
    }
    await fc.assert(
      fc.asyncProperty(script, async (actions) => {
        const clients: Array<Client | undefined> = Array.from({ length: flows }, () => undefined)
        const browsers = [new BrowserDriver(), new BrowserDriver()]
        const pendings: Array<Pending | undefined> = []
        const states: Array<State | undefined> = []
        const codes: Array<Code | undefined> = []
        const refreshes: Array<Array<Refresh>> = Array.from({ length: flows }, () => [])
        const auth = (client: Client, correct = true): Record<string, string> =>
          client.secret === undefined
            ? {}
            : { authorization: `Basic ${Buffer.from(`${client.id}:${correct ? client.secret : "wrong"}`).toString("base64")}` }
        const idOf = (client: Client) => (client.secret === undefined ? { client_id: client.id } : {})

        for (const step of actions) {
          switch (step.kind) {
            case "register": {
              if (clients[step.flow] !== undefined) break
              const response = await fetch(`${stack.origin}/register`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({
                  redirect_uris: [CLIENT_REDIRECT],
                  grant_types: ["authorization_code", "refresh_token"],
                  token_endpoint_auth_method: step.confidential ? "client_secret_basic" : "none"
                })
              })
              check(response.status, "register")
              expect(response.status).toBe(201)
              const body = (await response.json()) as { client_id: string; client_secret?: string }
              clients[step.flow] = { id: body.client_id, secret: body.client_secret }
              break
            }
            case "authorize": {
              const client = clients[step.flow]
              if (client === undefined) break
              const pkce = createPkce()
              const params: Record<string, string | undefined> = { login_hint: `user-${step.browser}` }
              if (step.corrupt === "plain") params["code_challenge_method"] = "plain"
              if (step.corrupt === "noChallenge") params["code_challenge"] = undefined
              if (step.corrupt === "wrongRedirect") params["redirect_uri"] = "https://evil.example/cb"
              if (step.corrupt === "otherResource") params["resource"] = "https://other.example/mcp"
              const url = authorizeUrl(stack, { client_id: client.id }, pkce, params)
              const response = await browsers[step.browser]!.request(url)
              check(response.status, "authorize")
              const html = await response.text()
              if (step.corrupt === "none") {
                expect(response.status).toBe(200)
                const form = findPostForm(html, url, "approve")!
                pendings[step.flow] = { browser: step.browser, pkce, action: form.action, fields: new Map(form.fields), used: false }
              } else {
                expect(response.status === 400 || response.status === 302).toBe(true)
                expect(response.headers.get("set-cookie")).toBeNull()
                if (response.status === 302) expect(response.headers.get("location")!.startsWith(CLIENT_REDIRECT)).toBe(true)
              }
              break
            }
            case "consent": {
              const pending = pendings[step.flow]
              if (pending === undefined) break
              const fields = new Map(pending.fields)
              if (step.corrupt === "wrongCsrf") fields.set("csrf_token", "A".repeat(43))
              if (step.corrupt === "deny") fields.set("decision", "deny")
              const response = await browsers[step.browser]!.request(pending.action, {
                method: "POST",
                headers: {
                  "content-type": "application/x-www-form-urlencoded",
                  origin: step.corrupt === "crossSite" ? "https://evil.example" : stack.origin
                },
                body: new URLSearchParams([...fields]).toString()
              })
              check(response.status, "consent")
              await response.body?.cancel()
              const valid = !pending.used && step.browser === pending.browser && (step.corrupt === "none" || step.corrupt === "deny")
              if (!valid) {
                expect([400, 403]).toContain(response.status)
                break
              }
              pending.used = true
              expect(response.status).toBe(302)
              const location = response.headers.get("location")!
              if (step.corrupt === "deny") {
                expect(new URL(location).searchParams.get("error")).toBe("access_denied")
                break
              }
              expect(location.startsWith(stack.idp.issuer)).toBe(true)
              states[step.flow] = { browser: pending.browser, pkce: pending.pkce, url: location, used: false }
              break
            }
            case "upstream": {
              const state = states[step.flow]
              const client = clients[step.flow]
              if (state === undefined || client === undefined) break
              const driver = browsers[step.browser]!
              const callback = await driver.navigate(state.url, `${stack.origin}/oauth/callback`)
              if (step.corrupt === "badIss") callback.searchParams.set("iss", "https://evil.example")
              if (step.corrupt === "noIss") callback.searchParams.delete("iss")
              if (step.corrupt === "badState") callback.searchParams.set("state", "B".repeat(43))
              const response = await driver.request(callback)
              check(response.status, "callback")
              await response.body?.cancel()
              const valid = !state.used && step.browser === state.browser && step.corrupt === "none"
              if (step.corrupt !== "badState") state.used = true
              if (!valid) {
                expect([400, 403]).toContain(response.status)
                expect(response.headers.get("location")).toBeNull()
                break
              }
              expect(response.status).toBe(302)
              const code = new URL(response.headers.get("location")!).searchParams.get("code")
              expect(code).not.toBeNull()
              codes[step.flow] = { client, pkce: state.pkce, value: code!, grant: { alive: true }, presented: false }
              break
            }
            case "token": {
              const code = codes[step.flow]
              const client = clients[step.client]
              if (code === undefined || client === undefined) break
              const response = await tokenRequest(
                stack.origin,
                {
                  grant_type: "authorization_code",
                  code: code.value,
                  redirect_uri: step.corrupt === "wrongRedirect" ? "http://127.0.0.1:65535/other" : CLIENT_REDIRECT,
                  code_verifier: step.corrupt === "noVerifier" ? undefined : step.corrupt === "wrongVerifier" ? createPkce().verifier : code.pkce.verifier,
                  ...idOf(client)
                },
                auth(client, step.corrupt !== "badAuth")
              )
              check(response.status, "token")
              if (step.corrupt === "badAuth" && client.secret !== undefined) {
                // client authentication comes first: the code is not touched
                expect(response.status).toBe(401)
                expect(response.body["error"]).toBe("invalid_client")
                break
              }
              const predicted = !code.presented && code.grant.alive && code.client === client && (step.corrupt === "none" || step.corrupt === "badAuth")
              code.presented = true
              if (predicted) {
                expect(response.status, JSON.stringify(response.body)).toBe(200)
                tokensIssued++
                refreshes[step.flow]!.push({ client, value: response.body["refresh_token"] as string, access: response.body["access_token"] as string, grant: code.grant, active: true })
              } else {
                expect(response.status, JSON.stringify(response.body)).toBe(400)
                expect(response.body["error"]).toBe("invalid_grant")
                code.grant.alive = false
              }
              break
            }
            case "refresh": {
              const family = refreshes[step.flow]!
              const token = step.oldest ? family[0] : family.at(-1)
              const client = clients[step.client]
              if (token === undefined || client === undefined) break
              const response = await tokenRequest(stack.origin, { grant_type: "refresh_token", refresh_token: token.value, ...idOf(client) }, auth(client))
              check(response.status, "refresh")
              const predicted = token.active && token.grant.alive && token.client === client
              if (predicted) {
                expect(response.status, JSON.stringify(response.body)).toBe(200)
                token.active = false
                family.push({ client, value: response.body["refresh_token"] as string, access: response.body["access_token"] as string, grant: token.grant, active: true })
              } else {
                expect(response.status, JSON.stringify(response.body)).toBe(400)
                expect(response.body["error"]).toBe("invalid_grant")
                // reuse of a rotated token, or another client's token, ends the family
                token.grant.alive = false
              }
              break
            }
            case "revoke": {
              const token = refreshes[step.flow]!.at(-1)
              const client = clients[step.client]
              if (token === undefined || client === undefined) break
              const response = await fetch(`${stack.origin}/revoke`, {
                method: "POST",
                headers: { "content-type": "application/x-www-form-urlencoded", ...auth(client) },
                body: new URLSearchParams({ token: step.access ? token.access : token.value, ...idOf(client) })
              })
              check(response.status, "revoke")
              await response.body?.cancel()
              if (token.client === client) {
                expect(response.status).toBe(200)
                token.grant.alive = false
              } else {
                // refused, and nothing changes (200 only once the grant is gone and the token forgotten)
                expect(response.status).toBe(token.grant.alive ? 400 : response.status)
              }
              break
            }
            case "use": {
              const token = refreshes[step.flow]!.at(-1)
              if (token === undefined) break
              const response = await whoami(stack.resource, token.access)
              check(response.status, "use")
              expect(response.status).toBe(token.grant.alive ? 200 : 401)
              break
            }
            case "junk": {
              const url = `${stack.origin}${step.path}?${encodeURIComponent(step.query)}`
              const response = await fetch(url, {
                method: step.method,
                redirect: "manual",
                headers: { "content-type": step.method === "POST" ? "application/x-www-form-urlencoded" : "text/plain" },
                ...(step.method === "POST" || step.method === "PUT" ? { body: step.body } : {})
              })
              check(response.status, `junk ${step.method} ${step.path}`)
              await response.body?.cancel()
              break
            }
          }
        }
      }),
      { numRuns: 50 }
    )
    expect(statuses.length).toBeGreaterThan(300)
    expect(tokensIssued).toBeGreaterThan(20)
  }, 240_000)
})
