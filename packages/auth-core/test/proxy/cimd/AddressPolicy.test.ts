import { assert, describe, it } from "@effect/vitest"
import * as AddressPolicy from "../../../src/proxy/cimd/AddressPolicy.js"

describe("AddressPolicy", () => {
  it("accepts globally routable unicast addresses", () => {
    for (const address of ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "2a00:1450:4001:82b::200e"]) {
      assert.isUndefined(AddressPolicy.classify(address), address)
      assert.isTrue(AddressPolicy.isAllowed(address), address)
    }
  })

  it("refuses every special-purpose IPv4 range", () => {
    const cases: ReadonlyArray<readonly [string, AddressPolicy.SpecialUse]> = [
      ["0.0.0.0", "unspecified"],
      ["0.1.2.3", "unspecified"],
      ["10.0.0.1", "private"],
      ["10.255.255.255", "private"],
      ["100.64.0.1", "shared"],
      ["100.127.255.254", "shared"],
      ["127.0.0.1", "loopback"],
      ["127.255.0.9", "loopback"],
      ["169.254.169.254", "link_local"],
      ["172.16.0.1", "private"],
      ["172.31.255.255", "private"],
      ["192.168.1.1", "private"],
      ["192.0.0.9", "protocol_assignments"],
      ["192.0.2.1", "documentation"],
      ["198.18.0.1", "benchmarking"],
      ["198.51.100.7", "documentation"],
      ["203.0.113.7", "documentation"],
      ["224.0.0.1", "multicast"],
      ["239.255.255.250", "multicast"],
      ["240.0.0.1", "reserved"],
      ["255.255.255.255", "broadcast"]
    ]
    for (const [address, use] of cases) {
      assert.strictEqual(AddressPolicy.classify(address), use, address)
      assert.isFalse(AddressPolicy.isAllowed(address), address)
    }
    // the neighbours of private ranges are public
    for (const address of ["172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1", "11.0.0.1", "192.169.0.1"]) {
      assert.isUndefined(AddressPolicy.classify(address), address)
    }
  })

  it("refuses special IPv6 ranges and IPv4 carried inside IPv6", () => {
    const cases: ReadonlyArray<readonly [string, AddressPolicy.SpecialUse]> = [
      ["::", "unspecified"],
      ["::1", "loopback"],
      ["::ffff:127.0.0.1", "loopback"],
      ["::ffff:7f00:1", "loopback"],
      ["::ffff:10.0.0.1", "private"],
      ["::ffff:169.254.169.254", "link_local"],
      ["::ffff:8.8.8.8", "ipv4_embedded"],
      ["::127.0.0.1", "loopback"],
      ["64:ff9b::7f00:1", "loopback"],
      ["64:ff9b::a9fe:a9fe", "link_local"],
      ["64:ff9b::808:808", "ipv4_embedded"],
      ["64:ff9b:1::1", "ipv4_embedded"],
      ["2002:7f00:1::1", "loopback"],
      ["2002:0808:0808::1", "ipv4_embedded"],
      ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "ipv4_embedded"],
      ["2001:db8::1", "documentation"],
      ["3fff::1", "documentation"],
      ["100::1", "reserved"],
      ["fc00::1", "unique_local"],
      ["fd12:3456::1", "unique_local"],
      ["fe80::1", "link_local"],
      ["fe80::1%eth0", "link_local"],
      ["febf::1", "link_local"],
      ["fec0::1", "reserved"],
      ["ff02::1", "multicast"],
      ["4000::1", "reserved"]
    ]
    for (const [address, use] of cases) {
      assert.strictEqual(AddressPolicy.classify(address), use, address)
      assert.isFalse(AddressPolicy.isAllowed(address), address)
    }
  })

  it("classifies the host the WHATWG parser makes of decimal, octal, hex and short IPv4 forms", () => {
    for (const url of [
      "https://2130706433/",
      "https://0x7f.1/",
      "https://0x7f000001/",
      "https://017700000001/",
      "https://0177.0.0.1/",
      "https://127.1/",
      "https://127.0.1/"
    ]) {
      const host = new URL(url).hostname
      assert.strictEqual(host, "127.0.0.1", url)
      assert.strictEqual(AddressPolicy.classify(host), "loopback", url)
    }
    assert.strictEqual(AddressPolicy.classify(new URL("https://[::ffff:127.0.0.1]/").hostname), "loopback")
    assert.strictEqual(AddressPolicy.classify(new URL("https://0xa9.0xfe.0xa9.0xfe/").hostname), "link_local")
  })

  it("treats anything that is not an address literal as invalid", () => {
    for (const input of ["example.com", "", "1.2.3", "1.2.3.4.5", "::g", "1:2:3:4:5:6:7:8:9", "[::1"]) {
      assert.strictEqual(AddressPolicy.classify(input), "invalid", input)
      assert.isFalse(AddressPolicy.isAllowed(input), input)
    }
  })

  it("opens only private networks to the test opt-in", () => {
    const options = { allowPrivateNetworks: true }
    for (const address of ["127.0.0.1", "::1", "10.0.0.1", "192.168.0.1", "100.64.0.1", "fd00::1", "::ffff:127.0.0.1"]) {
      assert.isTrue(AddressPolicy.isAllowed(address, options), address)
    }
    for (const address of ["169.254.169.254", "fe80::1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::"]) {
      assert.isFalse(AddressPolicy.isAllowed(address, options), address)
    }
  })
})
