/**
 * A minimal DER encoder for one self-signed X.509 v3 certificate (RSA, sha256WithRSAEncryption),
 * enough to put an attacker's key into an `x5c` header.
 */
import * as crypto from "node:crypto"

const length = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n])
  const bytes: Array<number> = []
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

const tlv = (tag: number, ...content: Array<Buffer>): Buffer => {
  const body = Buffer.concat(content)
  return Buffer.concat([Buffer.from([tag]), length(body.length), body])
}

const sequence = (...content: Array<Buffer>) => tlv(0x30, ...content)

const oid = (dotted: string): Buffer => {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number)
  const bytes = [first * 40 + second]
  for (const arc of rest) {
    const chunk = [arc & 0x7f]
    for (let v = arc >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80)
    bytes.push(...chunk)
  }
  return tlv(0x06, Buffer.from(bytes))
}

const utcTime = (date: Date): Buffer => {
  const text = date.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z"
  return tlv(0x17, Buffer.from(text, "ascii"))
}

const name = (commonName: string): Buffer =>
  sequence(tlv(0x31, sequence(oid("2.5.4.3"), tlv(0x0c, Buffer.from(commonName, "utf8")))))

/** A self-signed certificate for an RSA key pair, DER-encoded. */
export const selfSignedCertificate = (
  privateKey: crypto.KeyObject,
  publicKey: crypto.KeyObject,
  commonName: string
): Buffer => {
  const algorithm = sequence(oid("1.2.840.113549.1.1.11"), Buffer.from([0x05, 0x00]))
  const serial = crypto.randomBytes(8)
  serial[0] = (serial[0] ?? 0) & 0x7f
  const now = Date.now()
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([0x02]))),
    tlv(0x02, serial),
    algorithm,
    name(commonName),
    sequence(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 365 * 24 * 3600_000))),
    name(commonName),
    publicKey.export({ type: "spki", format: "der" })
  )
  const signature = crypto.sign("sha256", tbs, privateKey)
  return sequence(tbs, algorithm, tlv(0x03, Buffer.from([0x00]), signature))
}
