import * as crypto from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as KeyVerdict from "../src/KeyVerdict.js"

const publicJwk = (type: "ec" | "ed25519", options: { readonly namedCurve?: string } = {}) =>
  (type === "ec"
    ? crypto.generateKeyPairSync("ec", { namedCurve: options.namedCurve ?? "P-256" })
    : crypto.generateKeyPairSync("ed25519")
  ).publicKey.export({ format: "jwk" })

describe("KeyVerdict", () => {
  it.effect("finds the algorithms the library verifies with a key that declares none", () =>
    Effect.gen(function* () {
      const ec = yield* KeyVerdict.judge(publicJwk("ec"), 0)
      assert.deepStrictEqual(ec.verdict, { _tag: "Usable", algorithms: ["ES256"] })
      const ed = yield* KeyVerdict.judge({ ...publicJwk("ed25519"), kid: "ed" }, 1)
      assert.deepStrictEqual(ed, { label: "kid=ed OKP Ed25519", verdict: { _tag: "Usable", algorithms: ["EdDSA", "Ed25519"] } })
    }))

  it.effect("refuses what the library refuses: a curve it does not verify, an alg its key type cannot serve", () =>
    Effect.gen(function* () {
      const secp256k1 = yield* KeyVerdict.judge(publicJwk("ec", { namedCurve: "secp256k1" }), 0)
      assert.strictEqual(secp256k1.verdict._tag, "Unsupported")
      const mismatched = yield* KeyVerdict.judge({ ...publicJwk("ec"), alg: "RS256" }, 0)
      assert.strictEqual(mismatched.verdict._tag, "Unsupported")
      const none = yield* KeyVerdict.judge({ ...publicJwk("ec"), alg: "none" }, 0)
      assert.deepStrictEqual(none.verdict, { _tag: "Algorithm", alg: "none" })
    }))

  it.effect("ignores encryption keys and names leaked private members", () =>
    Effect.gen(function* () {
      const enc = yield* KeyVerdict.judge({ ...publicJwk("ec"), use: "enc" }, 0)
      assert.strictEqual(enc.verdict._tag, "NotForSignatures")
      const leaked = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" })
      const secret = yield* KeyVerdict.judge(leaked, 3)
      assert.deepStrictEqual(secret, { label: "key #4 EC P-256", verdict: { _tag: "Secret", members: ["d"] } })
      const junk = yield* KeyVerdict.judge("not a key", 0)
      assert.deepStrictEqual(junk, { label: "key #1", verdict: { _tag: "Unsupported" } })
    }))
})
