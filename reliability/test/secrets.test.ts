/**
 * Issue 7, item 5: no answer (status line, header or body), log line (Effect logger at every level, console, stdout
 * and stderr) or error ever contains the proxy's upstream client secret or a raw upstream token (access, refresh or
 * ID token, as the TestIdp issued them), nor an MCP client's secret outside the registration answer that hands it
 * over, nor the proxy's own keys (signing JWK, sealing key, cookie secret). Property: a random secret, adapter and
 * client authentication method, then a random sequence of flows and failures (replayed codes, wrong verifiers,
 * refreshes that refresh upstream too, revocations, upstream tokens presented as bearer tokens, and an upstream that
 * fails, hangs or echoes everything it received).
 */
import { FastCheck as fc } from "effect"
import { describe, expect, it } from "vitest"
import { adapterNames } from "../support/adapters.js"
import { captureConsole, recordingFetch } from "../support/capture.js"
import {
  authorize,
  callWhoami,
  jsonOf,
  postForm,
  type ProxyClient,
  redeem,
  refresh,
  registerClient
} from "../support/clients.js"
import type { Fault } from "../support/faultyUpstream.js"
import { runs } from "../support/runs.js"
import { startProxyStack, UPSTREAM_CLIENT_ID } from "../support/stacks.js"

const actions = ["flow", "flow", "refresh", "replayCode", "wrongVerifier", "revoke", "presentUpstreamToken", "garbageBearer", "upstreamFails"] as const
type Action = (typeof actions)[number]

const upstreamFaults: ReadonlyArray<Fault> = [
  { kind: "echo", status: 400 },
  { kind: "echo", status: 401 },
  { kind: "echo", status: 500 },
  { kind: "echo", status: 200 },
  { kind: "status", status: 503 },
  { kind: "garbage" },
  { kind: "hang" }
]

/** Secrets made of characters that need escaping in forms, URLs, JSON and Basic credentials. */
const secretArbitrary = fc
  .array(fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/=!*%&:@ "), { minLength: 24, maxLength: 48 })
  .map((chars) => `S${chars.join("")}Z`)

/** Every way a secret could be written down by code that leaks it. */
const secretForms = (secret: string): Array<string> => [
  secret,
  encodeURIComponent(secret),
  new URLSearchParams({ s: secret }).toString().slice(2),
  JSON.stringify(secret).slice(1, -1),
  Buffer.from(`${UPSTREAM_CLIENT_ID}:${secret}`).toString("base64"),
  Buffer.from(`${encodeURIComponent(UPSTREAM_CLIENT_ID)}:${new URLSearchParams({ s: secret }).toString().slice(2)}`).toString("base64")
]

/** A raw token and, for a JWT, its signature alone (a log of a token's tail leaks it too). */
const tokenForms = (token: string): Array<string> => {
  const signature = token.split(".")[2]
  return signature !== undefined && signature.length >= 32 ? [token, signature] : [token]
}

describe("secrets and upstream tokens never leave the proxy", () => {
  it("holds over random flows, failures and hostile upstream answers on every adapter", async () => {
    await fc.assert(
      fc.asyncProperty(
        secretArbitrary,
        fc.constantFrom(...adapterNames),
        fc.constantFrom("client_secret_basic" as const, "client_secret_post" as const),
        fc.array(fc.constantFrom(...actions), { minLength: 4, maxLength: 9 }),
        fc.array(fc.constantFrom(...upstreamFaults), { minLength: 1, maxLength: 3 }),
        async (secret, adapter, method, plan, faults) => {
          const seen: Array<string> = []
          const consoleLines: Array<string> = []
          const errors: Array<string> = []
          const handedOver: Array<string> = []
          const clientSecrets: Array<string> = []
          const fetcher = recordingFetch(seen)
          const stack = await startProxyStack({ adapter, upstreamSecret: secret, tokenEndpointAuthMethod: method, upstreamTokenTtlSeconds: 20 })
          const restoreConsole = captureConsole(consoleLines)
          const refreshTokens: Array<{ client: ProxyClient; token: string }> = []
          const usedCodes: Array<{ client: ProxyClient; authorization: Awaited<ReturnType<typeof authorize>> }> = []
          const accessTokens: Array<{ client: ProxyClient; token: string }> = []
          let faultIndex = 0
          try {
            const register = async (confidential: boolean) => {
              const before = seen.length
              const client = await registerClient(stack.origin, confidential, fetcher)
              // the registration answer is the one place a client's own secret may appear
              handedOver.push(...seen.splice(before))
              if (client.client_secret !== undefined) clientSecrets.push(client.client_secret)
              return client
            }
            const flow = async () => {
              const client = await register(refreshTokens.length % 2 === 1)
              const authorization = await authorize(stack, client, fetcher)
              const answer = await redeem(stack, client, authorization, fetcher)
              usedCodes.push({ client, authorization })
              const body = jsonOf(answer)
              if (answer.status !== 200) return
              accessTokens.push({ client, token: String(body["access_token"]) })
              if (typeof body["refresh_token"] === "string") refreshTokens.push({ client, token: body["refresh_token"] })
              await callWhoami(stack.resource, `Bearer ${String(body["access_token"])}`, fetcher)
            }
            const step = async (action: Action) => {
              switch (action) {
                case "flow":
                  return flow()
                case "refresh": {
                  const last = refreshTokens.pop()
                  if (last === undefined) return flow()
                  const body = jsonOf(await refresh(stack.origin, last.client, last.token, fetcher))
                  if (typeof body["refresh_token"] === "string") refreshTokens.push({ client: last.client, token: body["refresh_token"] })
                  // the replaced token once more: refused as a replay, which ends the grant
                  await refresh(stack.origin, last.client, last.token, fetcher)
                  return
                }
                case "replayCode": {
                  const used = usedCodes.at(-1)
                  if (used === undefined) return flow()
                  return void (await redeem(stack, used.client, used.authorization, fetcher))
                }
                case "wrongVerifier": {
                  const client = await register(false)
                  const authorization = await authorize(stack, client, fetcher)
                  const wrong = { ...authorization, pkce: { ...authorization.pkce, verifier: `${authorization.pkce.verifier.slice(0, -4)}AAAA` } }
                  return void (await redeem(stack, client, wrong, fetcher))
                }
                case "revoke": {
                  const last = accessTokens.at(-1) ?? refreshTokens.at(-1)
                  if (last === undefined) return flow()
                  return void (await postForm(stack.origin, "/revoke", last.client, { token: last.token }, fetcher))
                }
                case "presentUpstreamToken": {
                  for (const exchange of stack.front.exchanges) {
                    const token = jsonOf({ status: exchange.status, headers: new Headers(), text: exchange.body })["access_token"]
                    if (typeof token === "string") await callWhoami(stack.resource, `Bearer ${token}`, fetcher)
                  }
                  return
                }
                case "garbageBearer":
                  return void (await callWhoami(stack.resource, `Bearer ${secret.replace(/[^\x21-\x7e]/g, "")}`, fetcher))
                case "upstreamFails": {
                  stack.front.faults.set("/token", faults[faultIndex++ % faults.length]!)
                  try {
                    await flow()
                    const last = refreshTokens.at(-1)
                    if (last !== undefined) await refresh(stack.origin, last.client, last.token, fetcher)
                  } finally {
                    stack.front.faults.delete("/token")
                  }
                  return
                }
              }
            }
            // one clean flow first, so that there are upstream tokens to look for whatever the plan
            for (const action of ["flow" as const, ...plan]) {
              try {
                await step(action)
              } catch (error) {
                errors.push(error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}\n${String(error.cause)}` : String(error))
              }
            }
          } finally {
            restoreConsole()
            await stack.close()
          }

          // the garbage bearer is the secret itself, sent on purpose: a presented token must not be echoed either
          const upstreamTokens = stack.front.exchanges.flatMap((exchange) => {
            const body = jsonOf({ status: exchange.status, headers: new Headers(), text: exchange.body })
            return ["access_token", "refresh_token", "id_token"].flatMap((field) => (typeof body[field] === "string" ? [body[field] as string] : []))
          })
          expect(upstreamTokens.length, "the run obtained upstream tokens to look for").toBeGreaterThan(0)
          // the capture works: the proxy's own tokens are in the answers it gave, and failures were logged
          const issued = accessTokens[0]?.token
          if (issued !== undefined) expect(seen.join("\n")).toContain(issued)
          if (plan.includes("upstreamFails")) expect(stack.logs.join("\n")).toMatch(/upstream/i)
          const everything = [...seen, ...stack.logs, ...consoleLines, ...errors].join("\n")
          for (const form of secretForms(secret)) expect(everything.includes(form), `the upstream client secret (as ${JSON.stringify(form)})`).toBe(false)
          for (const token of upstreamTokens) {
            for (const form of tokenForms(token)) expect(everything.includes(form), `a raw upstream token (${form.slice(0, 12)}...)`).toBe(false)
          }
          for (const proxySecret of stack.proxySecrets) expect(everything.includes(proxySecret), "one of the proxy's own keys").toBe(false)
          for (const clientSecret of clientSecrets) {
            expect([...seen, ...stack.logs, ...consoleLines, ...errors].join("\n").includes(clientSecret), "an MCP client's secret outside its registration").toBe(false)
            expect(handedOver.join("\n").includes(clientSecret)).toBe(true)
          }
        }
      ),
      { numRuns: runs(4), endOnFailure: true }
    )
  })
})
