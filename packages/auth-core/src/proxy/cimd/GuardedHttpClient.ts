/**
 * An `HttpClient` for URLs an attacker may choose (Client ID Metadata Documents, `jwks_uri` in client metadata):
 * https only, no credentials in the URL, the host resolved once with every address checked against
 * {@link AddressPolicy}, and the connection pinned to those checked addresses, so a DNS answer that changes between
 * the check and the connect (DNS rebinding) cannot send the request anywhere else. Redirects are never followed: a
 * 3xx is handed back as it is.
 *
 * Built on `node:http`/`node:https` rather than fetch because pinning needs the socket's `lookup` hook; the result
 * is an ordinary `HttpClient`, so timeouts, size caps and status checks compose on top of it.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as dns from "node:dns"
import * as http from "node:http"
import * as https from "node:https"
import { isIP, type LookupFunction } from "node:net"
import { Readable } from "node:stream"
import * as AddressPolicy from "./AddressPolicy.js"

/** One address a host name resolves to. */
export interface ResolvedAddress {
  readonly address: string
  readonly family: 4 | 6
}

/** Resolves a host name to every address it has; tests pass a stub. */
export type Resolver = (hostname: string) => Promise<ReadonlyArray<ResolvedAddress>>

/** The operating system's resolver (`getaddrinfo` through `dns.lookup`, `/etc/hosts` included), all addresses. */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await dns.promises.lookup(hostname, { all: true, order: "verbatim" })
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }))
}

/** Why a URL was refused before any connection. */
export type RefusalReason = "scheme" | "userinfo" | "host" | "unresolvable" | "address"

/** A URL refused by the guard; nothing was sent. Carries no URL, only the host and the rule that refused it. */
export class SsrfRefused extends Data.TaggedError("SsrfRefused")<{
  readonly reason: RefusalReason
  readonly host: string
  /** For `address`: the special use of the first refused address. */
  readonly use?: AddressPolicy.SpecialUse | undefined
}> {
  /** Human-readable summary. */
  override get message(): string {
    switch (this.reason) {
      case "scheme":
        return "only https URLs may be fetched"
      case "userinfo":
        return "the URL must not contain a user name or password"
      case "host":
        return `the host ${JSON.stringify(this.host)} may not be fetched`
      case "unresolvable":
        return `the host ${JSON.stringify(this.host)} does not resolve`
      case "address":
        return `the host ${JSON.stringify(this.host)} resolves to a ${this.use ?? "special-use"} address`
    }
  }
}

/** Options of the guarded client. */
export interface GuardOptions {
  /**
   * TEST ONLY. Allows loopback, private (RFC 1918), shared (CGNAT) and unique-local addresses, and plain http to
   * them, so tests can serve documents from 127.0.0.1. Link-local (cloud metadata), multicast, broadcast and reserved
   * addresses stay refused. Never set this in production: any client could make the server call itself.
   */
  readonly allowPrivateNetworks?: boolean | undefined
  /** How host names are resolved (default {@link systemResolver}). */
  readonly resolver?: Resolver | undefined
  /** TEST ONLY. Trust anchors replacing the default CA roots, for a test server's self-signed certificate. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined
}

/** Where a vetted request goes: the name (for `Host` and TLS) and the only addresses it may connect to. */
export interface Destination {
  readonly protocol: "https:" | "http:"
  /** The host name or address literal, without IPv6 brackets. */
  readonly hostname: string
  readonly port: number
  readonly addresses: ReadonlyArray<ResolvedAddress>
}

const bare = (hostname: string) => (hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname)

const isLocalhostName = (hostname: string) => {
  const name = hostname.toLowerCase().replace(/\.$/, "")
  return name === "localhost" || name.endsWith(".localhost")
}

/**
 * Checks a URL and resolves its host, refusing before any connection: a scheme other than https (http too under
 * `allowPrivateNetworks`), credentials, `localhost` names, a host that does not resolve, and a host of which ANY
 * address is not public. The URL is expected from the WHATWG parser, which has already turned numeric host forms
 * (`2130706433`, `0x7f.1`, `017700000001`, `127.1`) into dotted quads.
 */
export const vet = (url: URL, options: GuardOptions = {}): Effect.Effect<Destination, SsrfRefused> =>
  Effect.gen(function* () {
    const allowPrivateNetworks = options.allowPrivateNetworks === true
    const hostname = bare(url.hostname)
    const refuse = (reason: RefusalReason, use?: AddressPolicy.SpecialUse) =>
      Effect.fail(new SsrfRefused({ reason, host: hostname, use }))
    const protocol = url.protocol
    if (protocol !== "https:" && !(protocol === "http:" && allowPrivateNetworks)) return yield* refuse("scheme")
    if (url.username !== "" || url.password !== "") return yield* refuse("userinfo")
    if (hostname === "") return yield* refuse("host")
    const port = url.port === "" ? (protocol === "https:" ? 443 : 80) : Number(url.port)

    const family = isIP(hostname)
    if (family !== 0) {
      const use = AddressPolicy.classify(hostname)
      if (!AddressPolicy.isAllowed(hostname, { allowPrivateNetworks })) return yield* refuse("address", use)
      return { protocol, hostname, port, addresses: [{ address: hostname, family: family === 6 ? 6 : 4 }] }
    }
    if (isLocalhostName(hostname) && !allowPrivateNetworks) return yield* refuse("host")

    const resolver = options.resolver ?? systemResolver
    const answers = yield* Effect.tryPromise({ try: () => resolver(hostname), catch: () => "unresolvable" as const }).pipe(
      Effect.catchAll(() => refuse("unresolvable"))
    )
    if (answers.length === 0) return yield* refuse("unresolvable")
    // every address is checked: a resolver that mixes a public and a private answer must not get a chance
    for (const answer of answers) {
      if (!AddressPolicy.isAllowed(answer.address, { allowPrivateNetworks })) {
        return yield* refuse("address", AddressPolicy.classify(answer.address))
      }
    }
    const unique = new Map(answers.map((answer) => [answer.address, answer]))
    return { protocol, hostname, port, addresses: [...unique.values()] }
  })

/**
 * A socket `lookup` that never asks DNS again: it answers with the vetted addresses only, whatever name it is asked
 * about. Node calls it with `all: true` when it races address families (autoSelectFamily, on by default in Node 20).
 */
const pinnedLookup = (addresses: ReadonlyArray<ResolvedAddress>): LookupFunction => (_hostname, options, callback) => {
  const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses
  if (wanted.length === 0) {
    const error: NodeJS.ErrnoException = new Error("no vetted address of the requested family")
    error.code = "ENOTFOUND"
    return callback(error, "", 0)
  }
  if (options.all === true) return callback(null, wanted.map((a) => ({ address: a.address, family: a.family })))
  const first = wanted[0]!
  return callback(null, first.address, first.family)
}

const transportError = (request: HttpClientRequest.HttpClientRequest, cause: unknown, description?: string) =>
  new HttpClientError.RequestError({ request, reason: "Transport", cause, ...(description === undefined ? {} : { description }) })

const toWebHeaders = (incoming: http.IncomingHttpHeaders): Headers => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item)
  }
  return headers
}

const bodyOf = (request: HttpClientRequest.HttpClientRequest): Uint8Array | string | undefined | "unsupported" => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return undefined
    case "Uint8Array":
      return body.body
    case "Raw":
      return typeof body.body === "string" || body.body instanceof Uint8Array ? body.body : "unsupported"
    default:
      return "unsupported"
  }
}

/** Sends one request over a connection that can only reach `destination.addresses`. */
const send = (
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  destination: Destination,
  signal: AbortSignal,
  options: GuardOptions
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
  Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
    const body = bodyOf(request)
    if (body === "unsupported") {
      resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Encode", description: "unsupported body" })))
      return
    }
    let settled = false
    const settle = (effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>) => {
      if (settled) return
      settled = true
      resume(effect)
    }
    const common: http.RequestOptions = {
      method: request.method,
      hostname: destination.hostname,
      port: destination.port,
      path: `${url.pathname}${url.search}`,
      headers: { ...request.headers },
      // a fresh connection per request: no pooled socket outlives the vetting it was made under
      agent: false,
      lookup: pinnedLookup(destination.addresses),
      signal
    }
    const isName = isIP(destination.hostname) === 0
    const onResponse = (incoming: http.IncomingMessage) => {
      const status = incoming.statusCode ?? 0
      const noBody = request.method === "HEAD" || status === 204 || status === 205 || status === 304
      if (noBody) incoming.resume()
      try {
        const stream = noBody ? null : (Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array>)
        settle(Effect.succeed(HttpClientResponse.fromWeb(request, new Response(stream, { status, headers: toWebHeaders(incoming.headers) }))))
      } catch (cause) {
        // a status outside 200-599 or a header the Fetch API refuses
        incoming.destroy()
        settle(Effect.fail(transportError(request, cause, "malformed response")))
      }
    }
    const outgoing =
      destination.protocol === "https:"
        ? https.request(
            {
              ...common,
              // the certificate is checked against the name, while the socket goes to the pinned address
              ...(isName ? { servername: destination.hostname } : {}),
              ...(options.ca === undefined ? {} : { ca: options.ca as string | Buffer | Array<string | Buffer> })
            },
            onResponse
          )
        : http.request(common, onResponse)
    outgoing.on("error", (cause) => settle(Effect.fail(transportError(request, cause))))
    outgoing.end(body)
    return Effect.sync(() => outgoing.destroy())
  })

/** Whether an `HttpClient` failure is the guard's refusal, and which. */
export const refusalOf = (error: HttpClientError.HttpClientError): SsrfRefused | undefined =>
  error._tag === "RequestError" && error.cause instanceof SsrfRefused ? error.cause : undefined

/**
 * The guarded client. A refused URL fails with a `RequestError` (reason `InvalidUrl`) whose `cause` is
 * {@link SsrfRefused} (see {@link refusalOf}); nothing is sent for it.
 */
export const make = (options: GuardOptions = {}): HttpClient.HttpClient =>
  HttpClient.make((request, url, signal) =>
    vet(url, options).pipe(
      Effect.mapError((refusal) => new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: refusal })),
      Effect.flatMap((destination) => send(request, url, destination, signal, options))
    )
  )

/** A layer providing the guarded client as the `HttpClient`, for fetches of URLs that clients choose. */
export const layer = (options: GuardOptions = {}): Layer.Layer<HttpClient.HttpClient> =>
  Layer.succeed(HttpClient.HttpClient, make(options))
