/**
 * Which IP addresses a server may fetch an attacker-named URL from: only globally routable unicast. Every
 * special-purpose range of the IANA registries (RFC 6890 and later additions) is refused, IPv4 embedded in IPv6
 * (mapped, compatible, NAT64, 6to4) included, since connecting to `::ffff:127.0.0.1` reaches 127.0.0.1.
 *
 * Pure functions on address strings; name resolution and connection pinning are in `GuardedHttpClient`.
 *
 * @since 0.1.0
 */
import { isIP } from "node:net"

/** Why an address is not a public one. */
export type SpecialUse =
  | "unspecified"
  | "loopback"
  | "private"
  | "shared"
  | "link_local"
  | "unique_local"
  | "multicast"
  | "broadcast"
  | "documentation"
  | "benchmarking"
  | "protocol_assignments"
  | "ipv4_embedded"
  | "reserved"
  | "invalid"

/**
 * The uses a test setup may open with `allowPrivateNetworks`: the machine itself and private networks. Link-local
 * (cloud metadata at 169.254.169.254), multicast, broadcast and reserved ranges stay refused even then.
 */
export const privateNetworkUses: ReadonlySet<SpecialUse> = new Set<SpecialUse>([
  "loopback",
  "private",
  "shared",
  "unique_local"
])

interface Range {
  readonly prefix: ReadonlyArray<number>
  readonly bits: number
  readonly use: SpecialUse
}

// most specific first: the first matching range decides
const ipv4Ranges: ReadonlyArray<Range> = [
  { prefix: [255, 255, 255, 255], bits: 32, use: "broadcast" },
  { prefix: [0, 0, 0, 0], bits: 8, use: "unspecified" },
  { prefix: [10, 0, 0, 0], bits: 8, use: "private" },
  { prefix: [100, 64, 0, 0], bits: 10, use: "shared" },
  { prefix: [127, 0, 0, 0], bits: 8, use: "loopback" },
  { prefix: [169, 254, 0, 0], bits: 16, use: "link_local" },
  { prefix: [172, 16, 0, 0], bits: 12, use: "private" },
  { prefix: [192, 0, 0, 0], bits: 24, use: "protocol_assignments" },
  { prefix: [192, 0, 2, 0], bits: 24, use: "documentation" },
  { prefix: [192, 31, 196, 0], bits: 24, use: "protocol_assignments" },
  { prefix: [192, 52, 193, 0], bits: 24, use: "protocol_assignments" },
  { prefix: [192, 88, 99, 0], bits: 24, use: "reserved" },
  { prefix: [192, 168, 0, 0], bits: 16, use: "private" },
  { prefix: [192, 175, 48, 0], bits: 24, use: "protocol_assignments" },
  { prefix: [198, 18, 0, 0], bits: 15, use: "benchmarking" },
  { prefix: [198, 51, 100, 0], bits: 24, use: "documentation" },
  { prefix: [203, 0, 113, 0], bits: 24, use: "documentation" },
  { prefix: [224, 0, 0, 0], bits: 4, use: "multicast" },
  { prefix: [240, 0, 0, 0], bits: 4, use: "reserved" }
]

// IPv6 as 16 bytes; the ranges that embed an IPv4 address are handled before this table
const ipv6Ranges: ReadonlyArray<Range> = [
  { prefix: [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], bits: 48, use: "ipv4_embedded" }, // local-use NAT64 (RFC 8215)
  { prefix: [0x01, 0x00, 0, 0, 0, 0, 0, 0], bits: 64, use: "reserved" }, // discard-only
  { prefix: [0x20, 0x01, 0x0d, 0xb8], bits: 32, use: "documentation" },
  { prefix: [0x20, 0x01, 0x00, 0x00], bits: 32, use: "ipv4_embedded" }, // Teredo
  { prefix: [0x20, 0x01, 0x00, 0x00], bits: 23, use: "protocol_assignments" },
  { prefix: [0x20, 0x02], bits: 16, use: "ipv4_embedded" }, // 6to4
  { prefix: [0x26, 0x20, 0x00, 0x4f, 0x80, 0x00], bits: 48, use: "protocol_assignments" }, // AS112-v6
  { prefix: [0x3f, 0xff], bits: 20, use: "documentation" },
  { prefix: [0xfc], bits: 7, use: "unique_local" },
  { prefix: [0xfe, 0x80], bits: 10, use: "link_local" },
  { prefix: [0xfe, 0xc0], bits: 10, use: "reserved" }, // deprecated site-local
  { prefix: [0xff], bits: 8, use: "multicast" }
]

const matches = (bytes: ReadonlyArray<number>, range: Range): boolean => {
  for (let bit = 0; bit < range.bits; bit += 8) {
    const index = bit / 8
    const take = Math.min(8, range.bits - bit)
    const mask = (0xff << (8 - take)) & 0xff
    if (((bytes[index] ?? 0) & mask) !== ((range.prefix[index] ?? 0) & mask)) return false
  }
  return true
}

/** The four bytes of a dotted-quad IPv4 address, or undefined when it is not one. */
export const parseIpv4 = (address: string): ReadonlyArray<number> | undefined => {
  if (isIP(address) !== 4) return undefined
  const bytes = address.split(".").map(Number)
  return bytes.length === 4 && bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255) ? bytes : undefined
}

/** The sixteen bytes of an IPv6 address (a zone index such as `%eth0` is dropped), or undefined. */
export const parseIpv6 = (input: string): ReadonlyArray<number> | undefined => {
  const address = input.startsWith("[") && input.endsWith("]") ? input.slice(1, -1) : input
  const unzoned = address.split("%")[0] ?? ""
  if (isIP(unzoned) !== 6) return undefined
  let text = unzoned
  // a trailing dotted quad (`::ffff:127.0.0.1`) is the last 32 bits: rewrite it as two hex groups
  const lastColon = text.lastIndexOf(":")
  const last = text.slice(lastColon + 1)
  if (last.includes(".")) {
    const v4 = parseIpv4(last)
    if (v4 === undefined) return undefined
    const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16)
    text = `${text.slice(0, lastColon + 1)}${hex(v4[0]!, v4[1]!)}:${hex(v4[2]!, v4[3]!)}`
  }
  const halves = text.split("::")
  if (halves.length > 2) return undefined
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16)))
  const left = parse(halves[0] ?? "")
  const right = halves.length === 2 ? parse(halves[1] ?? "") : []
  const fill = halves.length === 2 ? 8 - left.length - right.length : 0
  if (fill < 0) return undefined
  const groups = [...left, ...Array<number>(fill).fill(0), ...right]
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined
  return groups.flatMap((g) => [g >> 8, g & 0xff])
}

const classifyIpv4 = (bytes: ReadonlyArray<number>): SpecialUse | undefined =>
  ipv4Ranges.find((range) => matches(bytes, range))?.use

// an IPv4 address carried inside IPv6: its own use when special, else the embedding itself is the problem
const embedded = (v4: ReadonlyArray<number>): SpecialUse => classifyIpv4(v4) ?? "ipv4_embedded"

const classifyIpv6 = (bytes: ReadonlyArray<number>): SpecialUse | undefined => {
  const zeroUpTo = (n: number) => bytes.slice(0, n).every((b) => b === 0)
  if (zeroUpTo(16)) return "unspecified"
  if (zeroUpTo(15) && bytes[15] === 1) return "loopback"
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (deprecated compatible form)
  if (zeroUpTo(10) && bytes[10] === 0xff && bytes[11] === 0xff) return embedded(bytes.slice(12))
  if (zeroUpTo(12)) return embedded(bytes.slice(12))
  // 64:ff9b::a.b.c.d, the well-known NAT64 prefix (RFC 6052)
  if (matches(bytes, { prefix: [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], bits: 96, use: "ipv4_embedded" })) {
    return embedded(bytes.slice(12))
  }
  // 2002:AABB:CCDD::/48 carries a.b.c.d in bits 16-47 (6to4, RFC 3056)
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return embedded(bytes.slice(2, 6))
  const special = ipv6Ranges.find((range) => matches(bytes, range))?.use
  if (special !== undefined) return special
  // only 2000::/3 is allocated as global unicast; everything else is reserved
  return (bytes[0]! & 0xe0) === 0x20 ? undefined : "reserved"
}

/**
 * The special use of an IP address, or `undefined` for a globally routable unicast address. Anything that is not a
 * literal IPv4 (dotted quad) or IPv6 address is `"invalid"`: callers normalize hosts with the WHATWG URL parser first,
 * which turns `2130706433`, `0x7f.1` and `017700000001` into `127.0.0.1`.
 */
export const classify = (address: string): SpecialUse | undefined => {
  const v4 = parseIpv4(address)
  if (v4 !== undefined) return classifyIpv4(v4)
  const v6 = parseIpv6(address)
  if (v6 !== undefined) return classifyIpv6(v6)
  return "invalid"
}

/** Whether an address may be contacted: public always; private networks only when a test setup opts in. */
export const isAllowed = (address: string, options: { readonly allowPrivateNetworks?: boolean | undefined } = {}): boolean => {
  const use = classify(address)
  return use === undefined || (options.allowPrivateNetworks === true && privateNetworkUses.has(use))
}
