// RFC 6724 §6 destination address selection and the RFC 8305 §4 history
// rules: the RFC's own examples (§10.2), the policy table, scopes, and each
// rule on its own.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  addressScope,
  compareDestinations,
  DEFAULT_POLICY_TABLE,
  type Destination,
  orderRule,
  policyOf,
  PREFER_IPV4_POLICY_TABLE,
  sortDestinations,
  type SourceAddress,
} from "../mod.ts";
import { run, setup, timeline } from "./_ordering_env.ts";

function dest(
  address: string,
  source?: string | SourceAddress | null,
  extra: Partial<Destination> = {},
): Destination {
  const family = address.includes(":") ? 6 : 4;
  const src = typeof source === "string"
    ? { address: source, family: source.includes(":") ? 6 : 4 } as const
    : source;
  return src === undefined
    ? { address, family, ...extra }
    : { address, family, source: src, ...extra };
}

function order(list: Destination[]): string[] {
  return sortDestinations(list).map((d) => d.address);
}

/** Sorts `list` both ways round; both must give `want`, decided by `rule`. */
function assertSorted(
  list: Destination[],
  want: string[],
  rule: string,
): void {
  assert.deepEqual(order(list), want);
  assert.deepEqual(order([...list].reverse()), want);
  assert.equal(orderRule(list[0]!, list[1]!), rule);
  assert.equal(orderRule(list[1]!, list[0]!), rule);
}

// ── RFC 6724 §10.2, examples 1–9 ─────────────────────────────────────────
// Each gives candidate source addresses; the source the algorithm picks for
// each destination (in the RFC's "Result" line) is Source(D) here.

test("sortDestinations() follows RFC 6724 §10.2 example 1: prefer matching scope (IPv6 first)", () => {
  // Candidates 2001:db8:1::2, fe80::1, 169.254.13.78; Result: 2001:db8:1::1
  // (src 2001:db8:1::2) then 198.51.100.121 (src 169.254.13.78).
  assertSorted(
    [
      dest("2001:db8:1::1", "2001:db8:1::2"),
      dest("198.51.100.121", "169.254.13.78"),
    ],
    ["2001:db8:1::1", "198.51.100.121"],
    "matching-scope",
  );
});

test("sortDestinations() follows RFC 6724 §10.2 example 2: prefer matching scope (IPv4 first)", () => {
  // Candidates fe80::1, 198.51.100.117; Result: 198.51.100.121
  // (src 198.51.100.117) then 2001:db8:1::1 (src fe80::1).
  assertSorted(
    [
      dest("2001:db8:1::1", "fe80::1"),
      dest("198.51.100.121", "198.51.100.117"),
    ],
    ["198.51.100.121", "2001:db8:1::1"],
    "matching-scope",
  );
});

test("sortDestinations() follows RFC 6724 §10.2 example 3: prefer higher precedence", () => {
  // Candidates 2001:db8:1::2, fe80::1, 10.1.2.4; Result: 2001:db8:1::1
  // (src 2001:db8:1::2) then 10.1.2.3 (src 10.1.2.4).
  assertSorted(
    [dest("2001:db8:1::1", "2001:db8:1::2"), dest("10.1.2.3", "10.1.2.4")],
    ["2001:db8:1::1", "10.1.2.3"],
    "precedence",
  );
});

test("sortDestinations() follows RFC 6724 §10.2 example 4: prefer smaller scope", () => {
  // Candidates 2001:db8:1::2, fe80::2; Result: fe80::1 (src fe80::2) then
  // 2001:db8:1::1 (src 2001:db8:1::2).
  assertSorted(
    [dest("2001:db8:1::1", "2001:db8:1::2"), dest("fe80::1", "fe80::2")],
    ["fe80::1", "2001:db8:1::1"],
    "smaller-scope",
  );
});

test("sortDestinations() follows RFC 6724 §10.2 example 5: prefer home address", () => {
  // Candidates 2001:db8:1::2 (care-of), 2001:db8:3::1 (home), fe80::2
  // (care-of); Result: 2001:db8:1::1 (src 2001:db8:3::1) then fe80::1
  // (src fe80::2).
  assertSorted(
    [
      dest("2001:db8:1::1", {
        address: "2001:db8:3::1",
        family: 6,
        home: true,
      }),
      dest("fe80::1", { address: "fe80::2", family: 6, careOf: true }),
    ],
    ["2001:db8:1::1", "fe80::1"],
    "home-address",
  );
});

test("sortDestinations() follows RFC 6724 §10.2 example 6: avoid deprecated addresses", () => {
  // Candidates 2001:db8:1::2 (deprecated), fe80::2; Result: fe80::1
  // (src fe80::2) then 2001:db8:1::1 (src 2001:db8:1::2).
  assertSorted(
    [
      dest("2001:db8:1::1", {
        address: "2001:db8:1::2",
        family: 6,
        deprecated: true,
      }),
      dest("fe80::1", "fe80::2"),
    ],
    ["fe80::1", "2001:db8:1::1"],
    "avoid-deprecated",
  );
});

test("sortDestinations() follows RFC 6724 §10.2 example 7: longest matching prefix", () => {
  // Candidates 2001:db8:1::2, 2001:db8:3f44::2, fe80::2; Result:
  // 2001:db8:1::1 (src 2001:db8:1::2) then 2001:db8:3ffe::1
  // (src 2001:db8:3f44::2): 64 common bits (rule 9 stops there) against 40.
  assertSorted(
    [
      dest("2001:db8:1::1", "2001:db8:1::2"),
      dest("2001:db8:3ffe::1", "2001:db8:3f44::2"),
    ],
    ["2001:db8:1::1", "2001:db8:3ffe::1"],
    "longest-prefix",
  );
});

test("sortDestinations() follows RFC 6724 §10.2 example 8: prefer matching label", () => {
  // Candidates 2002:c633:6401::2, fe80::2; Result: 2002:c633:6401::1
  // (src 2002:c633:6401::2) then 2001:db8:1::1 (src 2002:c633:6401::2).
  assertSorted(
    [
      dest("2002:c633:6401::1", "2002:c633:6401::2"),
      dest("2001:db8:1::1", "2002:c633:6401::2"),
    ],
    ["2002:c633:6401::1", "2001:db8:1::1"],
    "matching-label",
  );
});

test("sortDestinations() follows RFC 6724 §10.2 example 9: prefer higher precedence over 6to4", () => {
  // Candidates 2002:c633:6401::2, 2001:db8:1::2, fe80::2; Result:
  // 2001:db8:1::1 (src 2001:db8:1::2) then 2002:c633:6401::1
  // (src 2002:c633:6401::2).
  assertSorted(
    [
      dest("2002:c633:6401::1", "2002:c633:6401::2"),
      dest("2001:db8:1::1", "2001:db8:1::2"),
    ],
    ["2001:db8:1::1", "2002:c633:6401::1"],
    "precedence",
  );
});

// ── the policy table and scopes ──────────────────────────────────────────

test("policyOf() finds the longest matching row of the RFC 6724 default table", () => {
  const cases: [string, string, number, number][] = [
    ["::1", "::1/128", 50, 0],
    ["2001:db8::1", "::/0", 40, 1],
    ["2601:645:8002:a500:986f:1db8:c836:bd65", "::/0", 40, 1],
    ["127.0.0.1", "::ffff:0:0/96", 35, 4],
    ["::ffff:192.0.2.9", "::ffff:0:0/96", 35, 4],
    ["2002::ab12", "2002::/16", 30, 2],
    ["2001::1", "2001::/32", 5, 5],
    ["2001:0:4136:e378::1", "2001::/32", 5, 5],
    ["fd00::1", "fc00::/7", 3, 13],
    ["fc00::1", "fc00::/7", 3, 13],
    ["::102:304", "::/96", 1, 3],
    ["fec0::1", "fec0::/10", 1, 11],
    ["3ffe::1", "3ffe::/16", 1, 12],
    ["fe80::1", "::/0", 40, 1],
  ];
  for (const [address, prefix, precedence, label] of cases) {
    assert.deepEqual(
      { ...policyOf(address) },
      { prefix, precedence, label },
      address,
    );
  }
  assert.equal(DEFAULT_POLICY_TABLE.length, 9);
  assert.ok(Object.isFrozen(DEFAULT_POLICY_TABLE));
  assert.ok(Object.isFrozen(DEFAULT_POLICY_TABLE[0]));
});

test("policyOf() with PREFER_IPV4_POLICY_TABLE gives IPv4 precedence 100 (RFC 6724 §10.3)", () => {
  const options = { policyTable: PREFER_IPV4_POLICY_TABLE };
  assert.equal(policyOf("192.0.2.1", options).precedence, 100);
  assert.equal(policyOf("2001:db8::1", options).precedence, 40);
  assert.equal(policyOf("192.0.2.1").precedence, 35);
});

test("addressScope() classifies link-local, site-local, multicast and global scopes", () => {
  const cases: [string, number][] = [
    ["127.0.0.1", 2], // RFC 6724 §3.2
    ["127.255.0.9", 2],
    ["::1", 2], // RFC 4007 §4
    ["169.254.1.2", 2],
    ["fe80::1", 2],
    ["febf::1", 2],
    ["fec0::1", 5],
    ["ff02::1", 2],
    ["ff05::1:3", 5],
    ["ff04::", 4],
    ["ff0e::", 14],
    ["8.8.8.8", 14],
    ["10.0.0.1", 14],
    ["224.0.0.1", 14],
    ["2001:db8::1", 14],
    ["fd00::1", 14],
  ];
  for (const [address, scope] of cases) {
    assert.equal(addressScope(address), scope, address);
  }
});

// ── the rules that need no source address ────────────────────────────────

test("sortDestinations() without sources puts IPv4 before 6to4, Teredo, ULA and deprecated prefixes", () => {
  assert.deepEqual(
    order([
      dest("3ffe::1"),
      dest("fec0::1"),
      dest("::102:304"),
      dest("fd00::1"),
      dest("2001::1"),
      dest("2002:c000:201::1"),
      dest("192.0.2.1"),
      dest("2001:db8::1"),
      dest("::1"),
    ]),
    [
      "::1",
      "2001:db8::1",
      "192.0.2.1",
      "2002:c000:201::1",
      "2001::1",
      "fd00::1",
      "fec0::1", // precedence 1 like the next two, but site-local (rule 8)
      "3ffe::1",
      "::102:304",
    ],
  );
});

test("sortDestinations() sorts an IPv4-mapped address as the IPv4 address", () => {
  assert.deepEqual(
    order([dest("2002:c000:201::1"), {
      address: "::ffff:192.0.2.1",
      family: 4,
    }]),
    ["::ffff:192.0.2.1", "2002:c000:201::1"],
  );
  assert.equal(
    compareDestinations(
      { address: "::ffff:192.0.2.1", family: 4 },
      dest("192.0.2.2"),
    ),
    0,
  );
});

test("sortDestinations() puts loopback and link-local IPv4 before global IPv4 (rule 8)", () => {
  assertSorted(
    [dest("192.0.2.1"), dest("127.0.0.1")],
    ["127.0.0.1", "192.0.2.1"],
    "smaller-scope",
  );
});

test("sortDestinations() keeps the given order when no rule decides (rule 10), and leaves its input alone", () => {
  const input = [dest("2001:db8::3"), dest("2001:db8::1"), dest("2001:db8::2")];
  const copy = structuredClone(input);
  assert.deepEqual(order(input), ["2001:db8::3", "2001:db8::1", "2001:db8::2"]);
  assert.deepEqual(input, copy);
  assert.equal(orderRule(input[0]!, input[1]!), "order");
  assert.equal(compareDestinations(input[0]!, input[1]!), 0);
  assert.deepEqual(sortDestinations([]), []);
  const one = [dest("192.0.2.1")];
  assert.notEqual(sortDestinations(one), one);
});

test("sortDestinations() keeps extra fields of the destinations", () => {
  const sorted = sortDestinations([
    { address: "192.0.2.1", family: 4 as const, port: 1 },
    { address: "2001:db8::1", family: 6 as const, port: 2 },
  ]);
  assert.deepEqual(sorted.map((d) => d.port), [2, 1]);
});

test("sortDestinations() sorts a NAT64-synthesised address as the IPv4 address it stands for", () => {
  // As IPv6 it would go before the native IPv4 address (precedence 40);
  // as IPv4 (35) it goes after the 2001:db8 one and ties with 192.0.2.9.
  assert.deepEqual(
    order([
      dest("64:ff9b::c000:201", undefined, { ipv4: "192.0.2.1" }),
      dest("2001:db8::1"),
    ]),
    ["2001:db8::1", "64:ff9b::c000:201"],
  );
  assert.deepEqual(
    order([
      dest("2002:c000:201::1"),
      dest("64:ff9b::c000:201", undefined, { ipv4: "192.0.2.1" }),
    ]),
    ["64:ff9b::c000:201", "2002:c000:201::1"],
  );
  assert.equal(
    compareDestinations(
      dest("64:ff9b::c000:201", undefined, { ipv4: "192.0.2.1" }),
      dest("192.0.2.9"),
    ),
    0,
  );
  // With sources: an IPv6-only host has none for the IPv4 address (rule 1).
  assertSorted(
    [
      dest("192.0.2.1", null),
      dest("64:ff9b::c000:201", "2001:db8::5", { ipv4: "192.0.2.1" }),
    ],
    ["64:ff9b::c000:201", "192.0.2.1"],
    "avoid-unusable",
  );
});

// ── the rules that need the source address ───────────────────────────────

test("sortDestinations() puts a destination without a source address last (rule 1)", () => {
  assertSorted(
    [dest("::1", null), dest("192.0.2.1", "192.0.2.7")],
    ["192.0.2.1", "::1"],
    "avoid-unusable",
  );
  // Rule 1 needs only the unusable side's source.
  assertSorted(
    [dest("2001:db8::1", null), dest("192.0.2.1")],
    ["192.0.2.1", "2001:db8::1"],
    "avoid-unusable",
  );
});

test("sortDestinations() skips the source rules when a source is unknown", () => {
  // Example 2's destinations with one source unknown: precedence decides.
  assertSorted(
    [dest("2001:db8:1::1", "fe80::1"), dest("198.51.100.121")],
    ["2001:db8:1::1", "198.51.100.121"],
    "precedence",
  );
  // Example 7's without sources: rule 10.
  assert.equal(
    orderRule(dest("2001:db8:3ffe::1"), dest("2001:db8:1::1")),
    "order",
  );
});

test("sortDestinations() avoids destinations reached through 6to4 or Teredo encapsulation (rule 7)", () => {
  // Two ULA destinations: same label and precedence; one is reached from a
  // 6to4 source (a tunnel), one natively. Rule 5 sees no match on either.
  assertSorted(
    [dest("fd00::1", "2002:c000:201::9"), dest("fd00::2", "2001:db8::9")],
    ["fd00::2", "fd00::1"],
    "native-transport",
  );
  assertSorted(
    [
      dest("fd00::1", {
        address: "2001:db8::9",
        family: 6,
        encapsulated: true,
      }),
      dest("fd00::2", "2001:db8::8"),
    ],
    ["fd00::2", "fd00::1"],
    "native-transport",
  );
});

test("sortDestinations() applies rule 9 to IPv6 only, on at most 64 bits", () => {
  // Go issue 13283: a 10/8 source must not favour 10/8 destinations.
  const v4 = [
    "54.83.193.112",
    "184.72.238.214",
    "23.23.172.185",
    "75.101.148.21",
    "10.23.134.56",
  ];
  assert.deepEqual(order(v4.map((a) => dest(a, "10.2.3.4"))), v4);
  // Beyond 64 bits the interface identifiers do not count.
  assert.equal(
    orderRule(
      dest("2001:db8:1:1::1", "2001:db8:1:1::2"),
      dest("2001:db8:1:1:ffff::1", "2001:db8:1:1::2"),
    ),
    "order",
  );
  assert.equal(
    orderRule(
      dest("2001:db8:1:1::1", { address: "2001:db8:1::2", family: 6 }),
      dest("2001:db8:1:2::1", { address: "2001:db8:1:2::2", family: 6 }),
    ),
    "longest-prefix",
  );
});

// ── RFC 8305 §4: the history rules ───────────────────────────────────────

test("sortDestinations() puts addresses that failed recently after those that worked, before precedence (rule 1)", () => {
  assertSorted(
    [
      dest("2001:db8::1", undefined, { failed: true }),
      dest("192.0.2.1", undefined, { used: true, rtt: 3 }),
    ],
    ["192.0.2.1", "2001:db8::1"],
    "avoid-failed",
  );
  // After those with no history too.
  assertSorted(
    [dest("::1", undefined, { failed: true }), dest("192.0.2.1")],
    ["192.0.2.1", "::1"],
    "avoid-failed",
  );
  // Two failed ones: the next rules decide.
  assertSorted(
    [
      dest("192.0.2.1", undefined, { failed: true }),
      dest("2001:db8::1", undefined, { failed: true }),
    ],
    ["2001:db8::1", "192.0.2.1"],
    "precedence",
  );
});

test("sortDestinations() prefers the lower RTT between rules 8 and 9", () => {
  // Same precedence and scope: the RTT decides, before rule 9 would.
  assertSorted(
    [
      dest("2001:db8:1::1", "2001:db8:1::2", { rtt: 40, used: true }),
      dest("2001:db8:3ffe::1", "2001:db8:3f44::2", { rtt: 12, used: true }),
    ],
    ["2001:db8:3ffe::1", "2001:db8:1::1"],
    "lower-rtt",
  );
  // Precedence (rule 6) and scope (rule 8) still come first.
  assertSorted(
    [
      dest("192.0.2.1", undefined, { rtt: 1, used: true }),
      dest("2001:db8::1", undefined, { rtt: 90, used: true }),
    ],
    ["2001:db8::1", "192.0.2.1"],
    "precedence",
  );
  assertSorted(
    [
      dest("2001:db8::1", undefined, { rtt: 1, used: true }),
      dest("fe80::1", undefined, { rtt: 90, used: true }),
    ],
    ["fe80::1", "2001:db8::1"],
    "smaller-scope",
  );
});

test("sortDestinations() prefers an address used before after the RTT rule and before rule 9", () => {
  assertSorted(
    [
      dest("2001:db8:1::1", "2001:db8:1::2"),
      dest("2001:db8:3ffe::1", "2001:db8:3f44::2", { used: true }),
    ],
    ["2001:db8:3ffe::1", "2001:db8:1::1"],
    "used-before",
  );
  // One RTT known, one not: the RTT rule passes, "used" decides.
  assertSorted(
    [
      dest("2001:db8::1"),
      dest("2001:db8::2", undefined, { rtt: 5, used: true }),
    ],
    ["2001:db8::2", "2001:db8::1"],
    "used-before",
  );
});

// ── bad input ────────────────────────────────────────────────────────────

test("sortDestinations() throws a TypeError for an address, source or table that is not one", () => {
  assert.throws(
    () => sortDestinations([dest("2001:db8::1"), dest("nope")]),
    {
      name: "TypeError",
      message: 'Cannot sort destination "nope": it is not an IP address',
    },
  );
  assert.throws(
    () =>
      sortDestinations([
        dest("2001:db8::1"),
        dest("192.0.2.1", { address: "x", family: 4 }),
      ]),
    TypeError,
  );
  assert.throws(
    () =>
      sortDestinations([dest("2001:db8::1"), dest("::1")], {
        policyTable: [{ prefix: "::1", precedence: 1, label: 1 }],
      }),
    {
      name: "TypeError",
      message:
        'Cannot use policy table entry "::1": it is not an IPv6 prefix (address/bits)',
    },
  );
  assert.throws(() => addressScope("example.test"), TypeError);
});

test("sortDestinations() with a table lacking ::/0 gives unmatched addresses precedence 0", () => {
  const policyTable = [{ prefix: "::ffff:0:0/96", precedence: 10, label: 4 }];
  assert.deepEqual(
    sortDestinations([dest("2001:db8::1"), dest("192.0.2.1")], { policyTable })
      .map((d) => d.address),
    ["192.0.2.1", "2001:db8::1"],
  );
});

// ── dial() sorts by RFC 6724 ─────────────────────────────────────────────

test("dial() sorts each family's answer by RFC 6724 and interleaves from the family that sorts first", async () => {
  const env = setup({
    "h.test": {
      6: { at: 0, addrs: ["fd00::1", "2002:c000:201::1", "2001:db8::1"] },
      4: { at: 0, addrs: ["192.0.2.1"] },
    },
  });
  const r = await run(env, "h.test:80", {
    timeout: 1_000,
    history: false,
    sourceAddress: () => undefined,
  });
  assert.deepEqual(timeline(r), [
    "[2001:db8::1]:80@0",
    "192.0.2.1:80@250",
    "[2002:c000:201::1]:80@500",
    "[fd00::1]:80@750",
  ]);
  assert.deepEqual(r.starts.map((s) => s.sortedBy), [
    "precedence", // 2001:db8::1 (40) over the next IPv6 one, 2002:… (30)
    "family", // the interleaving
    "precedence", // 2002::/16 (30) over fd00::/8 (3)
    undefined,
  ]);
});

test("dial() lets IPv4 lead when its best address sorts before IPv6's (RFC 8305 §4)", async () => {
  // A unique-local AAAA (precedence 3) against IPv4 (35): both in before
  // the first attempt (A waits the Resolution Delay, AAAA comes at 10).
  const env = setup({
    "h.test": {
      6: { at: 10, addrs: ["fd00::1"] },
      4: { at: 0, addrs: ["192.0.2.1"] },
    },
  });
  const r = await run(env, "h.test:80", { timeout: 1_000, history: false });
  assert.deepEqual(timeline(r), ["192.0.2.1:80@10", "[fd00::1]:80@260"]);
  assert.equal(r.starts[0]!.sortedBy, "precedence");
  assert.equal(r.starts[1]!.sortedBy, undefined);
});

test("dial() keeps the preferred family first on a tie and says so (sortedBy: family)", async () => {
  const env = setup({
    "h.test": {
      6: { at: 10, addrs: ["64:ff9b::c000:201"] }, // sorts as 192.0.2.1
      4: { at: 0, addrs: ["192.0.2.9"] },
    },
  });
  const r = await run(env, "h.test:80", { timeout: 300, history: false });
  assert.deepEqual(timeline(r), [
    "[64:ff9b::c000:201]:80@10",
    "192.0.2.9:80@260",
  ]);
  assert.equal(r.starts[0]!.sortedBy, "family");
  assert.equal(r.starts[0]!.nat64, "192.0.2.1");
});

test("dial() with preferredFamily 4 sorts with the RFC 6724 §10.3 table", async () => {
  const env = setup({
    "h.test": {
      6: { at: 0, addrs: ["2001:db8::1"] },
      4: { at: 10, addrs: ["192.0.2.1"] },
    },
  });
  // The AAAA answer waits for A (the preferred family), which leads.
  const r = await run(env, "h.test:80", {
    timeout: 300,
    preferredFamily: 4,
    history: false,
  });
  assert.deepEqual(timeline(r), ["192.0.2.1:80@10", "[2001:db8::1]:80@260"]);
  assert.equal(r.starts[0]!.sortedBy, "precedence");
});

test("dial() with a sourceAddress probe sorts a destination without a source after the others (rule 1)", async () => {
  const env = setup({
    "h.test": {
      6: { at: 10, addrs: ["2001:db8::1"] },
      4: { at: 0, addrs: ["192.0.2.1"] },
    },
  }, { "192.0.2.1:80": { after: 1, connect: true } });
  const probed: string[] = [];
  const r = await run(env, "h.test:80", {
    history: false,
    sourceAddress: (ip) => {
      probed.push(ip.address);
      return ip.family === 6 ? null : { address: "192.0.2.7", family: 4 };
    },
  });
  assert.deepEqual(timeline(r), ["192.0.2.1:80@10"]);
  assert.equal(r.at, 11);
  assert.deepEqual(probed, ["192.0.2.1", "2001:db8::1"]);
  const info = r.starts[0]!;
  assert.equal(info.sortedBy, "avoid-unusable");
  assert.deepEqual(info.source, { address: "192.0.2.7", family: 4 });
});

test("dial() with a sourceAddress probe applies the rules that need the source (RFC 6724 §10.2 example 7)", async () => {
  const env = setup({
    "h.test": {
      6: { at: 0, addrs: ["2001:db8:3ffe::1", "2001:db8:1::1"] },
      4: { at: 0, addrs: [] },
    },
  });
  const sources: Record<string, string> = {
    "2001:db8:3ffe::1": "2001:db8:3f44::2",
    "2001:db8:1::1": "2001:db8:1::2",
  };
  const r = await run(env, "h.test:80", {
    timeout: 300,
    history: false,
    sourceAddress: (ip) =>
      Promise.resolve({ address: sources[ip.address]!, family: 6 }),
  });
  assert.deepEqual(timeline(r), [
    "[2001:db8:1::1]:80@0",
    "[2001:db8:3ffe::1]:80@250",
  ]);
  assert.equal(r.starts[0]!.sortedBy, "longest-prefix");
  assert.deepEqual(r.starts[0]!.source, {
    address: "2001:db8:1::2",
    family: 6,
  });
});

test("dial() does not probe a lone first answer that starts at once", async () => {
  const env = setup({
    "h.test": {
      6: { at: 0, addrs: ["::1"] },
      4: { at: 5, addrs: ["127.0.0.1"] },
    },
  }, { "[::1]:80": { after: 1, connect: true } });
  const probed: string[] = [];
  const r = await run(env, "h.test:80", {
    history: false,
    sourceAddress: (ip) => {
      probed.push(ip.address);
      return undefined;
    },
  });
  assert.deepEqual(timeline(r), ["[::1]:80@0"]);
  assert.deepEqual(probed, []);
  assert.equal(r.starts[0]!.source, undefined);
});

test("dial() treats a sourceAddress probe that throws, rejects or returns garbage as unknown", async () => {
  for (
    const probe of [
      () => {
        throw new Error("boom");
      },
      () => Promise.reject(new Error("boom")),
      () => ({ address: "not an address", family: 6 as const }),
      () => 42 as unknown as undefined,
    ]
  ) {
    const env = setup({
      "h.test": {
        6: { at: 0, addrs: ["2001:db8::1", "2001:db8::2"] },
        4: { at: 0, addrs: [] },
      },
    }, { "[2001:db8::1]:80": { after: 1, connect: true } });
    const r = await run(env, "h.test:80", {
      history: false,
      sourceAddress: probe,
    });
    assert.deepEqual(timeline(r), ["[2001:db8::1]:80@0"]);
    assert.equal(r.starts[0]!.source, undefined);
    assert.equal(r.starts[0]!.sortedBy, "order");
  }
});

test("dial() refuses a sourceAddress that is not a function", async () => {
  const env = setup({});
  const r = await run(env, "h.test:80", {
    sourceAddress: "probe" as unknown as () => undefined,
  });
  assert.ok(r.error instanceof TypeError);
  assert.equal(
    (r.error as Error).message,
    "Cannot use options.sourceAddress: it is not a function",
  );
});
