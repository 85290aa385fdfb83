// NAT64 (RFC 8305 §7): RFC 6052 synthesis and extraction, RFC 7050
// discovery from ipv4only.arpa answers, the addresses never synthesised,
// and the recognition of DNS64-synthesised answers.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  AddrError,
  canSynthesizeNat64,
  DialError,
  discoverNat64Prefixes,
  extractNat64,
  type IPAddr,
  IPV4ONLY_ARPA,
  NAT64_WELL_KNOWN_PREFIX,
  nat64Embedded,
  parseNat64Prefix,
  synthesizeNat64,
} from "../mod.ts";
import { run, setup, timeline } from "./_ordering_env.ts";

/** RFC 6052 §2.4's table, 192.0.2.33 under each network-specific prefix. */
const RFC6052_EXAMPLES: [string, string][] = [
  ["2001:db8::/32", "2001:db8:c000:221::"],
  ["2001:db8:100::/40", "2001:db8:1c0:2:21::"],
  ["2001:db8:122::/48", "2001:db8:122:c000:2:2100::"],
  ["2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"],
  ["2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"],
  ["2001:db8:122:344::/96", "2001:db8:122:344::c000:221"],
];

test("synthesizeNat64() puts the IPv4 address where RFC 6052 §2.2 says for /32, /40, /48, /56, /64 and /96", () => {
  for (const [prefix, want] of RFC6052_EXAMPLES) {
    assert.deepEqual(
      synthesizeNat64("192.0.2.33", prefix),
      { address: want, family: 6 },
      prefix,
    );
  }
});

test("extractNat64() reads the IPv4 address back from each RFC 6052 format", () => {
  for (const [prefix, address] of RFC6052_EXAMPLES) {
    assert.equal(extractNat64(address, prefix), "192.0.2.33", prefix);
  }
  assert.equal(extractNat64("64:ff9b::c000:221", "64:ff9b::/96"), "192.0.2.33");
  assert.equal(extractNat64("2001:db9::1", "2001:db8::/32"), undefined);
  // The "u" octet (bits 64–71) set: not an RFC 6052 address.
  assert.equal(
    extractNat64("2001:db8:c000:221:100::", "2001:db8::/32"),
    undefined,
  );
  assert.equal(extractNat64("192.0.2.1", "2001:db8::/32"), undefined);
  assert.equal(extractNat64("nope", "2001:db8::/32"), undefined);
});

test("synthesizeNat64() with the Well-Known Prefix synthesises global IPv4 addresses only (RFC 6052 §3.1)", () => {
  assert.deepEqual(synthesizeNat64("8.8.8.8", "64:ff9b::/96"), {
    address: "64:ff9b::808:808",
    family: 6,
  });
  assert.deepEqual(synthesizeNat64("8.8.8.8", NAT64_WELL_KNOWN_PREFIX), {
    address: "64:ff9b::808:808",
    family: 6,
  });
  for (const v4 of ["10.1.2.3", "192.168.0.1", "172.16.0.1", "192.0.2.33"]) {
    assert.equal(synthesizeNat64(v4, "64:ff9b::/96"), undefined, v4);
    assert.ok(synthesizeNat64(v4, "2001:db8:64::/96"), v4);
  }
});

test("synthesizeNat64() never synthesises 0/8, 127/8, 169.254/16 or 255.255.255.255", () => {
  for (
    const v4 of [
      "0.0.0.0",
      "0.1.2.3",
      "127.0.0.1",
      "127.255.255.254",
      "169.254.169.254",
      "169.254.0.1",
      "255.255.255.255",
    ]
  ) {
    assert.equal(synthesizeNat64(v4, "2001:db8:64::/96"), undefined, v4);
    assert.equal(canSynthesizeNat64(v4, "2001:db8:64::/96"), false, v4);
  }
  // Their neighbours are fine.
  for (
    const v4 of ["1.0.0.0", "126.255.255.255", "169.253.0.1", "255.255.255.254"]
  ) {
    assert.ok(synthesizeNat64(v4, "2001:db8:64::/96"), v4);
  }
  assert.equal(synthesizeNat64("2001:db8::1", "2001:db8:64::/96"), undefined);
  assert.equal(canSynthesizeNat64("not an address"), false);
});

test("parseNat64Prefix() accepts the RFC 6052 lengths, clears the host bits and refuses the rest", () => {
  assert.deepEqual(parseNat64Prefix("64:ff9b::/96"), {
    address: "64:ff9b::",
    length: 96,
  });
  assert.deepEqual(parseNat64Prefix("2001:DB8:122:344::1/56"), {
    address: "2001:db8:122:300::",
    length: 56,
  });
  assert.deepEqual(parseNat64Prefix("2001:db8:ffff:ffff:ffff::/40"), {
    address: "2001:db8:ff00::",
    length: 40,
  });
  for (
    const bad of [
      "64:ff9b::/95",
      "64:ff9b::/128",
      "64:ff9b::/096",
      "64:ff9b::/",
    ]
  ) {
    assert.throws(() => parseNat64Prefix(bad), RangeError, bad);
  }
  assert.throws(() => parseNat64Prefix("2001:db8::100:0:0:0/96"), {
    name: "RangeError",
    message:
      'Cannot use NAT64 prefix "2001:db8::100:0:0:0/96": bits 64–71 must be zero (RFC 6052 §2.2)',
  });
  for (
    const bad of [
      "64:ff9b::",
      "192.0.2.0/24",
      "fe80::%eth0/64",
      "x/96",
      "::ffff:0:0/96",
    ]
  ) {
    assert.throws(() => parseNat64Prefix(bad), AddrError, bad);
  }
  assert.throws(() => synthesizeNat64("8.8.8.8", "64:ff9b::/33"), RangeError);
});

test("parseNat64Prefix() reads each prefix text once: the same frozen prefix comes back, and refusals are not kept", () => {
  const first = parseNat64Prefix("2001:db8:64::/96");
  assert.ok(Object.isFrozen(first));
  assert.equal(parseNat64Prefix("2001:db8:64::/96"), first);
  assert.deepEqual(parseNat64Prefix("2001:DB8:64::/96"), first);
  // A kept prefix synthesises and extracts as a fresh one does.
  assert.equal(
    synthesizeNat64("198.51.100.10", first)?.address,
    "2001:db8:64::c633:640a",
  );
  assert.equal(
    synthesizeNat64("198.51.100.10", "2001:db8:64::/96")?.address,
    "2001:db8:64::c633:640a",
  );
  assert.equal(extractNat64("2001:db8:64::c633:640a", first), "198.51.100.10");
  for (let i = 0; i < 2; i++) {
    assert.throws(() => parseNat64Prefix("2001:db8:64::/95"), RangeError);
    assert.throws(() => parseNat64Prefix("192.0.2.0/96"), AddrError);
  }
});

test("discoverNat64Prefixes() finds the Well-Known Prefix in ipv4only.arpa answers (RFC 7050 §3)", () => {
  assert.equal(IPV4ONLY_ARPA, "ipv4only.arpa");
  assert.deepEqual(
    discoverNat64Prefixes([
      { address: "64:ff9b::c000:aa", family: 6 },
      { address: "64:ff9b::c000:ab", family: 6 },
    ]),
    [{ address: "64:ff9b::", length: 96 }],
  );
});

test("discoverNat64Prefixes() finds a network-specific prefix of every RFC 6052 length", () => {
  for (const [prefix] of RFC6052_EXAMPLES) {
    const p = parseNat64Prefix(prefix);
    const answers: IPAddr[] = ["192.0.0.170", "192.0.0.171"].map((v4) =>
      synthesizeNat64(v4, p)!
    );
    assert.deepEqual(discoverNat64Prefixes(answers), [p], prefix);
    // One well-known address is enough.
    assert.deepEqual(discoverNat64Prefixes(answers.slice(1)), [p], prefix);
  }
});

test("discoverNat64Prefixes() uses 192.0.0.171 to tell which position holds the address when several could", () => {
  // 2001:db8:c000:aa:0:c0:0:aa00 holds 192.0.0.170 at the /32 position
  // (c000:00aa) and at the /64 one (c0.00.00.aa). The .171 answer of the
  // /64 prefix says which.
  const p64 = parseNat64Prefix("2001:db8:c000:aa::/64");
  const a170 = synthesizeNat64("192.0.0.170", p64)!;
  const a171 = synthesizeNat64("192.0.0.171", p64)!;
  assert.equal(a170.address, "2001:db8:c000:aa:c0:0:aa00:0");
  assert.equal(extractNat64(a170.address, "2001:db8::/32"), "192.0.0.170");
  assert.deepEqual(discoverNat64Prefixes([a170, a171]), [p64]);
  assert.deepEqual(discoverNat64Prefixes([a171, a170]), [p64]);
  // Without the confirming answer the longest candidate is taken.
  assert.deepEqual(discoverNat64Prefixes([a170]), [p64]);
});

test("discoverNat64Prefixes() ignores answers without the well-known addresses, and IPv4 answers", () => {
  assert.deepEqual(discoverNat64Prefixes([]), []);
  assert.deepEqual(
    discoverNat64Prefixes([
      { address: "2001:db8::1", family: 6 },
      { address: "192.0.0.170", family: 4 },
      { address: "64:ff9b::c000:ac", family: 6 },
      null as unknown as IPAddr,
    ]),
    [],
  );
  // Two prefixes (two NAT64s): both, in answer order, each once.
  assert.deepEqual(
    discoverNat64Prefixes([
      { address: "2001:db8:64::c000:aa", family: 6 },
      { address: "64:ff9b::c000:aa", family: 6 },
      { address: "64:ff9b::c000:ab", family: 6 },
      { address: "2001:db8:64::c000:ab", family: 6 },
    ]),
    [
      { address: "2001:db8:64::", length: 96 },
      { address: "64:ff9b::", length: 96 },
    ],
  );
});

test("nat64Embedded() recognises DNS64-synthesised answers: the Well-Known Prefix always, others when known", () => {
  assert.equal(nat64Embedded("64:ff9b::808:808"), "8.8.8.8");
  assert.equal(nat64Embedded("2001:db8:64::c633:640a"), undefined);
  assert.equal(
    nat64Embedded("2001:db8:64::c633:640a", [
      parseNat64Prefix("2001:db8:64::/96"),
    ]),
    "198.51.100.10",
  );
  assert.equal(
    nat64Embedded("2001:db8::1", [parseNat64Prefix("2001:db8:64::/96")]),
    undefined,
  );
  assert.equal(nat64Embedded("192.0.2.1"), undefined);
});

// ── dial() with NAT64 ────────────────────────────────────────────────────

/** ipv4only.arpa as a DNS64 behind the NAT64 prefix 2001:db8:64::/96 answers it. */
const DNS64 = {
  "ipv4only.arpa": {
    6: { at: 0, addrs: ["2001:db8:64::c000:aa", "2001:db8:64::c000:ab"] },
  },
};

test("dial() with nat64: true discovers the prefix from ipv4only.arpa and dials an A-only name through it", async () => {
  const env = setup({
    ...DNS64,
    "v4only.test": {
      6: { at: 0, addrs: [] },
      4: { at: 0, addrs: ["198.51.100.10"] },
    },
  }, {
    "[2001:db8:64::c633:640a]:80": { after: 5, connect: true },
    // An IPv6-only network: IPv4 has no route.
    "198.51.100.10:80": { after: 0, fail: "ENETUNREACH" },
  });
  const dnsDone: string[][] = [];
  const r = await run(env, "v4only.test:80", {
    nat64: true,
    history: false,
    trace: {
      dnsDone: (i) => void dnsDone.push(i.addrs.map((a) => a.address)),
    },
  });
  assert.equal(r.conn?.addr, "[2001:db8:64::c633:640a]:80");
  assert.equal(r.at, 5);
  assert.deepEqual(
    env.resolver.calls.map((c) => `${c.host} ${c.family}@${c.at}`),
    ["ipv4only.arpa 6@0", "v4only.test 6@0", "v4only.test 4@0"],
  );
  // dnsDone tells what DNS said; the synthesised address is not in it.
  assert.deepEqual(dnsDone, [["198.51.100.10"]]);
});

test("dial() with nat64: true shows the synthesised address and its IPv4 in connectStart", async () => {
  const env = setup(
    {
      ...DNS64,
      "v4only.test": {
        6: { at: 0, addrs: [] },
        4: { at: 0, addrs: ["198.51.100.10"] },
      },
    },
    {},
    { hang: true },
  );
  const r = await run(env, "v4only.test:80", {
    nat64: true,
    history: false,
    timeout: 600,
  });
  assert.deepEqual(timeline(r), [
    "[2001:db8:64::c633:640a]:80@0",
    "198.51.100.10:80@250",
  ]);
  assert.equal(r.starts[0]!.nat64, "198.51.100.10");
  // Sorted as IPv4, the synthesised address ties with the A record: the
  // preferred family (IPv6) leads.
  assert.equal(r.starts[0]!.sortedBy, "family");
  assert.equal(r.starts[1]!.nat64, undefined);
});

test("dial() with nat64 { prefix } dials an IPv4 literal through the synthesised address, then the literal", async () => {
  const env = setup({}, {}, { hang: true });
  const r = await run(env, "192.0.2.1:443", {
    nat64: { prefix: "2001:db8:64::/96" },
    timeout: 600,
  });
  assert.deepEqual(timeline(r), [
    "[2001:db8:64::c000:201]:443@0",
    "192.0.2.1:443@250",
  ]);
  assert.equal(r.starts[0]!.nat64, "192.0.2.1");
  assert.deepEqual(env.resolver.calls, [], "a given prefix needs no lookup");
  assert.equal((r.error as DOMException).name, "TimeoutError");
});

test("dial() with nat64: true discovers the prefix for an IPv4 literal; the literal waits the Resolution Delay", async () => {
  const env = setup({
    "ipv4only.arpa": {
      6: { at: 20, addrs: ["64:ff9b::c000:aa", "64:ff9b::c000:ab"] },
    },
  }, { "[64:ff9b::808:808]:53": { after: 2, connect: true } });
  const r = await run(env, "8.8.8.8:53", { nat64: true });
  assert.deepEqual(timeline(r), ["[64:ff9b::808:808]:53@20"]);
  assert.equal(r.at, 22);
});

test("dial() with nat64 never synthesises a loopback literal: it dials the literal alone", async () => {
  const env = setup({}, { "127.0.0.1:80": { after: 1, connect: true } });
  const r = await run(env, "127.0.0.1:80", {
    nat64: { prefix: "2001:db8:64::/96" },
  });
  assert.deepEqual(timeline(r), ["127.0.0.1:80@0"]);
  assert.equal(r.at, 1);
});

test("dial() with nat64 on tcp6 dials an IPv4 literal only through the synthesised address", async () => {
  const env = setup({}, {
    "[2001:db8:64::c000:201]:80": { after: 1, connect: true },
  });
  const r = await run(env, "192.0.2.1:80", {
    network: "tcp6",
    nat64: { prefix: "2001:db8:64::/96" },
  });
  assert.deepEqual(timeline(r), ["[2001:db8:64::c000:201]:80@0"]);
  // Nothing to synthesise: no suitable address, as without NAT64.
  const loop = await run(env, "127.0.0.1:80", {
    network: "tcp6",
    nat64: { prefix: "2001:db8:64::/96" },
  });
  assert.ok(loop.error instanceof DialError, String(loop.error));
  assert.equal(
    (loop.error as Error).message,
    "dial tcp6: address 127.0.0.1: no suitable address found",
  );
  assert.deepEqual(loop.starts, []);
});

test("dial() with nat64: true and no NAT64 (no AAAA for ipv4only.arpa) dials the A answer alone", async () => {
  const env = setup({
    "ipv4only.arpa": { 6: { at: 0, error: "nxdomain" } },
    "v4only.test": {
      6: { at: 0, addrs: [] },
      4: { at: 3, addrs: ["192.0.2.1"] },
    },
  }, { "192.0.2.1:80": { after: 1, connect: true } });
  const r = await run(env, "v4only.test:80", { nat64: true });
  assert.deepEqual(timeline(r), ["192.0.2.1:80@3"]);
  assert.equal(r.at, 4);
});

test("dial() with nat64 keeps native AAAA answers as they are", async () => {
  const env = setup({
    "dual.test": {
      6: { at: 0, addrs: ["2001:db8::1"] },
      4: { at: 0, addrs: ["192.0.2.1"] },
    },
  }, { "[2001:db8::1]:80": { after: 1, connect: true } });
  const r = await run(env, "dual.test:80", {
    nat64: { prefix: "2001:db8:64::/96" },
  });
  assert.deepEqual(timeline(r), ["[2001:db8::1]:80@0"]);
});

test("dial() sorts DNS64-synthesised answers under the Well-Known Prefix as IPv4, without the nat64 option", async () => {
  const env = setup({
    "h.test": {
      6: { at: 0, addrs: ["64:ff9b::808:808", "2001:db8::1"] },
      4: { at: 0, addrs: [] },
    },
  });
  const r = await run(env, "h.test:80", { timeout: 300, history: false });
  assert.deepEqual(timeline(r), [
    "[2001:db8::1]:80@0",
    "[64:ff9b::808:808]:80@250",
  ]);
  assert.equal(r.starts[0]!.sortedBy, "precedence");
  assert.equal(r.starts[1]!.nat64, "8.8.8.8");
});

test("dial() refuses a bad nat64 option", async () => {
  const env = setup({});
  const bad = await run(env, "192.0.2.1:80", {
    nat64: { prefix: "64:ff9b::/33" },
  });
  assert.ok(bad.error instanceof RangeError, String(bad.error));
  const notPrefix = await run(env, "192.0.2.1:80", { nat64: { prefix: "x" } });
  assert.ok(notPrefix.error instanceof AddrError, String(notPrefix.error));
  const wrong = await run(env, "192.0.2.1:80", {
    nat64: "yes" as unknown as boolean,
  });
  assert.ok(wrong.error instanceof TypeError, String(wrong.error));
  assert.deepEqual(env.dialer.calls, []);
});
