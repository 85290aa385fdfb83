// The address policy: classifyAddress() vectors for every class in IPv4,
// IPv6 and the IPv6 forms that carry IPv4 (mapped, NAT64, 6to4,
// compatible), and publicAddressesOnly() / custom control hooks through
// dial() on a virtual clock. Public addresses appear only as strings and as
// endpoints of the fake dialer, which never opens a socket.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  type AddressClass,
  classifyAddress,
  type ConnectDoneInfo,
  type ConnectStartInfo,
  type Control,
  type ControlInfo,
  DialError,
  type Family,
  type IPAddr,
  OpError,
  parseIP,
  PolicyError,
  publicAddressesOnly,
  type Resolver,
} from "../mod.ts";
import type { CoreDialOptions } from "../src/dial.ts";
import { type Env, makeEnv, type Settled, startDial } from "./_dial_env.ts";
import {
  type FakeConn,
  flush,
  type Outcome,
  type ResolverScript,
} from "./_virtual_clock.ts";

// ── classifyAddress ───────────────────────────────────────────────────

const V4: readonly (readonly [string, AddressClass])[] = [
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["10.0.0.1", "private"],
  ["10.255.255.255", "private"],
  ["100.64.0.1", "shared"],
  ["100.100.100.200", "shared"], // Alibaba Cloud metadata
  ["100.127.255.254", "shared"],
  ["100.63.255.255", "public"],
  ["100.128.0.0", "public"],
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["169.254.169.254", "link-local"], // AWS, GCP, Azure, Oracle metadata
  ["169.254.0.1", "link-local"],
  ["169.253.255.255", "public"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["172.15.255.255", "public"],
  ["172.32.0.0", "public"],
  ["192.0.0.1", "reserved"],
  ["192.0.0.170", "reserved"],
  ["192.0.2.1", "documentation"],
  ["192.88.99.1", "reserved"],
  ["192.168.0.1", "private"],
  ["192.168.255.255", "private"],
  ["192.169.0.0", "public"],
  ["198.18.0.1", "benchmarking"],
  ["198.19.255.255", "benchmarking"],
  ["198.20.0.0", "public"],
  ["198.51.100.1", "documentation"],
  ["203.0.113.1", "documentation"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["240.0.0.1", "reserved"],
  ["255.255.255.254", "reserved"],
  ["255.255.255.255", "broadcast"],
  ["1.0.0.1", "public"],
  ["1.1.1.1", "public"],
  ["8.8.8.8", "public"],
  ["9.9.9.9", "public"],
  ["223.255.255.255", "public"],
];

const V6: readonly (readonly [string, AddressClass])[] = [
  ["::", "unspecified"],
  ["::1", "loopback"],
  ["0:0:0:0:0:0:0:1", "loopback"],
  ["fe80::1", "link-local"],
  ["febf:ffff::1", "link-local"],
  ["fec0::1", "site-local"],
  ["fc00::1", "unique-local"],
  ["fd00:ec2::254", "unique-local"], // AWS metadata over IPv6
  ["fdff:ffff::1", "unique-local"],
  ["ff02::1", "multicast"],
  ["ff05::1:3", "multicast"],
  ["2001:db8::1", "documentation"],
  ["3fff::1", "documentation"],
  ["3fff:fff:ffff::1", "documentation"],
  ["3fff:1000::1", "public"],
  ["2001:2::1", "benchmarking"],
  ["2001::1", "reserved"], // Teredo
  ["2001:1ff::1", "reserved"],
  ["100::1", "reserved"], // discard
  ["5f00::1", "reserved"], // SRv6 SIDs
  ["4000::1", "reserved"],
  ["e000::1", "reserved"],
  ["::ffff:0:7f00:1", "reserved"], // IPv4-translated, not mapped
  ["2606:4700:4700::1111", "public"],
  ["2001:4860:4860::8888", "public"],
  ["2001:200::1", "public"],
  ["2a00:1450:4001::1", "public"],
];

/** IPv6 forms that carry an IPv4 address, classified by it. */
const EMBEDDED: readonly (readonly [string, AddressClass])[] = [
  // IPv4-mapped ::ffff:0:0/96.
  ["::ffff:127.0.0.1", "loopback"],
  ["::FFFF:7f00:1", "loopback"],
  ["0:0:0:0:0:ffff:a9fe:a9fe", "link-local"],
  ["::ffff:169.254.169.254", "link-local"],
  ["::ffff:10.1.2.3", "private"],
  ["::ffff:100.64.0.1", "shared"],
  ["::ffff:0.0.0.0", "unspecified"],
  ["::ffff:1.1.1.1", "public"],
  // NAT64 well-known prefix 64:ff9b::/96 and the local-use 64:ff9b:1::/48.
  ["64:ff9b::a9fe:a9fe", "link-local"],
  ["64:ff9b::169.254.169.254", "link-local"],
  ["64:ff9b::7f00:1", "loopback"],
  ["64:ff9b::10.0.0.1", "private"],
  ["64:ff9b::c0a8:101", "private"],
  ["64:ff9b::e000:1", "multicast"],
  ["64:ff9b::1.1.1.1", "public"],
  ["64:ff9b:1::a9fe:a9fe", "private"],
  // 6to4 2002::/16: the IPv4 address is bits 16–47.
  ["2002:7f00:1::", "loopback"],
  ["2002:a9fe:a9fe::1", "link-local"],
  ["2002:a00:1::1", "private"],
  ["2002:c0a8:101::", "private"],
  ["2002:101:101::1", "public"],
  // IPv4-compatible ::a.b.c.d (deprecated).
  ["::127.0.0.1", "loopback"],
  ["::169.254.169.254", "link-local"],
  ["::10.0.0.1", "private"],
  ["::1.1.1.1", "public"],
  ["::2", "unspecified"],
];

for (
  const [title, table] of [
    ["IPv4", V4],
    ["IPv6", V6],
    ["IPv4 embedded in IPv6", EMBEDDED],
  ] as const
) {
  test(`classifyAddress() classifies ${title} addresses`, () => {
    for (const [text, expected] of table) {
      const ip = parseIP(text);
      assert.ok(ip !== undefined, `${text} must parse`);
      assert.equal(classifyAddress(ip), expected, text);
      // The text as given classifies the same (any spelling is parsed again).
      const family: Family = text.includes(":") ? 6 : 4;
      assert.equal(classifyAddress({ address: text, family }), expected, text);
    }
  });
}

test("classifyAddress() trusts the text, not the family, and calls what is no address reserved", () => {
  assert.equal(
    classifyAddress({ address: "127.0.0.1", family: 6 }),
    "loopback",
  );
  assert.equal(classifyAddress({ address: "::1", family: 4 }), "loopback");
  assert.equal(
    classifyAddress({ address: "fe80::1", family: 6, zone: "eth0" }),
    "link-local",
  );
  assert.equal(
    classifyAddress({ address: "fe80::1%eth0", family: 6 }),
    "link-local",
  );
  for (
    const garbage of [
      "",
      "nonsense",
      "1.2.3",
      "127.000.0.1",
      "0x7f.0.0.1",
      "::ffff:127.0.0.1%eth0",
      "[::1]",
      " 1.1.1.1",
    ]
  ) {
    assert.equal(
      classifyAddress({ address: garbage, family: 4 }),
      "reserved",
      JSON.stringify(garbage),
    );
  }
  for (const bad of [undefined, null, 42, {}]) {
    assert.equal(classifyAddress(bad as never), "reserved");
    assert.equal(
      classifyAddress({ address: bad, family: 4 } as never),
      "reserved",
    );
  }
});

test("publicAddressesOnly() refuses every non-public class and lets public ones through", () => {
  const control = publicAddressesOnly();
  for (const [text, cls] of [...V4, ...V6, ...EMBEDDED]) {
    const ip = parseIP(text)!;
    const info: ControlInfo = {
      network: "tcp",
      host: "h.test",
      addr: "",
      endpoint: { ...ip, port: 80 },
    };
    if (cls === "public") {
      control(info);
      continue;
    }
    assert.throws(() => control(info), (error: unknown) => {
      assert.ok(error instanceof PolicyError, text);
      assert.equal(error.addressClass, cls);
      assert.equal(error.address, ip.address);
      assert.equal(
        error.message,
        `address ${ip.address} is not public (${cls}): refused by policy`,
      );
      return true;
    });
  }
});

test("publicAddressesOnly() refuses an allow list naming something that is not an address class", () => {
  for (const name of ["loopbak", "Loopback", "", "private ", 4]) {
    assert.throws(
      () => publicAddressesOnly({ allow: [name as AddressClass] }),
      (error: unknown) => {
        assert.ok(error instanceof RangeError);
        assert.match(
          error.message,
          /^Cannot allow .*: not an address class \(one of public, unspecified, loopback, /,
        );
        return true;
      },
    );
  }
  // Every real class is accepted.
  publicAddressesOnly({
    allow: [...new Set([...V4, ...V6].map(([, cls]) => cls))],
  });
});

// ── through dial() ────────────────────────────────────────────────────

const env = (
  script: ResolverScript,
  outcomes: Record<string, Outcome> = {},
  fallback: Outcome = { after: 1, connect: true },
): Env => makeEnv(script, outcomes, fallback);

const start = (
  t: Env,
  address: string,
  options: Partial<CoreDialOptions<FakeConn>> = {},
): Settled<FakeConn> => startDial(t, address, options);

function dialError(r: Settled<unknown>): DialError {
  assert.equal(r.state, "rejected", "the dial must reject");
  assert.ok(r.reason instanceof DialError, `not a DialError: ${r.reason}`);
  return r.reason;
}

function resolved<T>(r: Settled<T>): T {
  assert.equal(r.state, "resolved", `the dial must resolve: ${r.reason}`);
  return r.value!;
}

async function done(t: Env, ...conns: FakeConn[]) {
  await flush();
  assert.equal(t.clock.pending, 0, "no timer may be left");
  assert.deepEqual(t.dialer.open, conns);
  for (const conn of conns) t.dialer.close(conn);
}

/**
 * Answers AAAA queries the way a resolver that keeps the record's text
 * does: an IPv4-mapped address stays `::ffff:a.b.c.d` (the fake resolver
 * parses its script, which makes it IPv4 and the core drop it from an AAAA
 * answer as the wrong family).
 */
function keepingMappedText(inner: Resolver): Resolver {
  return {
    lookup: async (host, family, options) => {
      const addrs = await inner.lookup(host, family, options);
      return family === 4
        ? addrs
        : addrs.map((a): IPAddr =>
          a.family === 4 ? { address: `::ffff:${a.address}`, family: 6 } : a
        );
    },
  };
}

const METADATA_REFUSED =
  "dial tcp 169.254.169.254:80: address 169.254.169.254 is not public (link-local): refused by policy";

test("dial() with publicAddressesOnly() refuses a name resolving to 169.254.169.254 before any connect", async () => {
  const t = env({
    "metadata.test": {
      6: { at: 0, addrs: [] },
      4: { at: 0, addrs: ["169.254.169.254"] },
    },
  });
  const r = start(t, "metadata.test:80", { control: publicAddressesOnly() });
  await t.clock.runAll();
  const error = dialError(r);
  assert.equal(error.message, METADATA_REFUSED);
  assert.equal(error.errors.length, 1);
  const op = error.errors[0] as OpError;
  assert.ok(op instanceof OpError);
  assert.equal(op.addr, "169.254.169.254:80");
  assert.ok(op.cause instanceof PolicyError);
  assert.equal(op.cause.addressClass, "link-local");
  assert.deepEqual(t.dialer.calls, [], "the dialer was never called");
  assert.equal(r.at, 0);
  assert.deepEqual(t.log, [
    "0 dnsStart metadata.test",
    "0 dnsDone metadata.test [169.254.169.254]",
    "0 connectStart tcp 169.254.169.254:80",
    `0 connectDone tcp 169.254.169.254:80 error=${METADATA_REFUSED}`,
  ]);
  await done(t);
});

test("dial() with publicAddressesOnly() refuses ::ffff:127.0.0.1 in an AAAA answer as IPv4 loopback", async () => {
  const t = env({
    "rebind.test": {
      6: { at: 0, addrs: ["::ffff:127.0.0.1"] },
      4: { at: 0, addrs: [] },
    },
  });
  const starts: ConnectStartInfo[] = [];
  const dones: ConnectDoneInfo[] = [];
  const r = start(t, "rebind.test:80", {
    resolver: keepingMappedText(t.resolver),
    control: publicAddressesOnly(),
    trace: {
      connectStart: (i) => void starts.push(i),
      connectDone: (i) => void dones.push(i),
    },
  });
  await t.clock.runAll();
  const message =
    "dial tcp 127.0.0.1:80: address 127.0.0.1 is not public (loopback): refused by policy";
  assert.equal(dialError(r).message, message);
  assert.deepEqual(t.dialer.calls, []);
  assert.deepEqual(starts.map((i) => [i.addr, i.family]), [[
    "127.0.0.1:80",
    4,
  ]]);
  assert.equal(dones.length, 1);
  assert.equal(dones[0]!.error?.message, message);
  assert.ok(dones[0]!.error?.cause instanceof PolicyError);
  await done(t);
});

test("dial() drops an IPv4-mapped address that a resolver already turned into IPv4 from an AAAA answer", async () => {
  // The fake resolver parses its script: ::ffff:127.0.0.1 reaches the core
  // as { address: "127.0.0.1", family: 4 } in an AAAA answer — the wrong
  // family, dropped. Either way nothing is connected.
  const t = env({
    "rebind.test": {
      6: { at: 0, addrs: ["::ffff:127.0.0.1"] },
      4: { at: 0, addrs: [] },
    },
  });
  const r = start(t, "rebind.test:80", { control: publicAddressesOnly() });
  await t.clock.runAll();
  assert.equal(
    dialError(r).message,
    "dial tcp: lookup rebind.test: no such host",
  );
  assert.deepEqual(t.dialer.calls, []);
  await done(t);
});

test("dial() with publicAddressesOnly() refuses NAT64, 6to4 and IPv4-compatible forms of internal addresses", async () => {
  for (
    const [v6, cls] of [
      ["64:ff9b::a9fe:a9fe", "link-local"],
      ["2002:7f00:1::", "loopback"],
      ["::a9fe:a9fe", "link-local"],
      ["fd00:ec2::254", "unique-local"],
      ["fe80::1", "link-local"],
    ] as const
  ) {
    const t = env({
      "h.test": { 6: { at: 0, addrs: [v6] }, 4: { at: 0, addrs: [] } },
    });
    const r = start(t, "h.test:80", { control: publicAddressesOnly() });
    await t.clock.runAll();
    assert.equal(
      dialError(r).message,
      `dial tcp [${v6}]:80: address ${v6} is not public (${cls}): refused by policy`,
    );
    assert.deepEqual(t.dialer.calls, [], v6);
    await done(t);
  }
});

test("dial() with publicAddressesOnly() dials the public address of the same answer at once, without the 10 ms spacing", async () => {
  const t = env({
    "mixed.test": {
      6: { at: 0, addrs: [] },
      4: { at: 0, addrs: ["169.254.169.254", "10.0.0.1", "1.0.0.1"] },
    },
  });
  const r = start(t, "mixed.test:80", { control: publicAddressesOnly() });
  await t.clock.runAll();
  // Nothing was sent for the refused ones: the public one goes at 0.
  assert.deepEqual(t.dialer.starts, ["1.0.0.1:80@0"]);
  const conn = resolved(r);
  assert.equal(conn.addr, "1.0.0.1:80");
  assert.equal(r.at, 1);
  assert.deepEqual(t.log, [
    "0 dnsStart mixed.test",
    "0 dnsDone mixed.test [169.254.169.254,10.0.0.1,1.0.0.1]",
    "0 connectStart tcp 169.254.169.254:80",
    `0 connectDone tcp 169.254.169.254:80 error=${METADATA_REFUSED}`,
    "0 connectStart tcp 10.0.0.1:80",
    "0 connectDone tcp 10.0.0.1:80 error=dial tcp 10.0.0.1:80: address 10.0.0.1 is not public (private): refused by policy",
    "0 connectStart tcp 1.0.0.1:80",
    "1 connectDone tcp 1.0.0.1:80",
  ]);
  await done(t, conn);
});

test("dial() with publicAddressesOnly() goes from a refused IPv6 address to the next at once, also across families", async () => {
  const t = env(
    {
      "mixed6.test": {
        6: { at: 0, addrs: ["fd00::1", "2606:4700::1"] },
        4: { at: 0, addrs: ["169.254.169.254"] },
      },
    },
    {},
    { hang: true },
  );
  const r = start(t, "mixed6.test:80", {
    control: publicAddressesOnly(),
    timeout: 600,
  });
  await t.clock.runAll();
  // RFC 6724 puts 2606:4700::1 (precedence 40) before fd00::1 (unique-local,
  // 3): it starts at 0 and hangs; 250 ms later the metadata address
  // (interleaved next) is refused without a connect, and fd00::1 at once.
  assert.deepEqual(t.dialer.starts, ["[2606:4700::1]:80@0"]);
  assert.deepEqual(
    t.log.filter((l) => l.includes("connectStart")),
    [
      "0 connectStart tcp [2606:4700::1]:80",
      "250 connectStart tcp 169.254.169.254:80",
      "250 connectStart tcp [fd00::1]:80",
    ],
  );
  assert.equal((r.reason as DOMException).name, "TimeoutError");
  await done(t);
});

test("dial() with publicAddressesOnly() reports every refusal in start order when nothing is public", async () => {
  const t = env({
    "internal.test": {
      6: { at: 0, addrs: ["::1", "fe80::1"] },
      4: { at: 5, addrs: ["127.0.0.1", "192.168.1.1", "100.64.0.1"] },
    },
  });
  const r = start(t, "internal.test:80", { control: publicAddressesOnly() });
  await t.clock.runAll();
  const error = dialError(r);
  assert.deepEqual(error.errors.map((e) => (e.cause as PolicyError).address), [
    "::1",
    "fe80::1",
    "127.0.0.1",
    "192.168.1.1",
    "100.64.0.1",
  ]);
  // Both IPv6 refusals at 0; the A answer at 5 brings the rest.
  assert.equal(r.at, 5);
  assert.deepEqual(t.dialer.calls, []);
  await done(t);
});

test("dial() with publicAddressesOnly() refuses IP literals too, zone included", async () => {
  for (
    const [address, refused] of [
      [
        "169.254.169.254:80",
        "address 169.254.169.254 is not public (link-local)",
      ],
      ["[::1]:443", "address ::1 is not public (loopback)"],
      ["[fe80::1%eth0]:80", "address fe80::1%eth0 is not public (link-local)"],
      ["[::ffff:10.0.0.1]:80", "address 10.0.0.1 is not public (private)"],
      [":80", "address ::1 is not public (loopback)"],
    ] as const
  ) {
    const t = env({});
    const r = start(t, address, { control: publicAddressesOnly() });
    await t.clock.runAll();
    const { message } = dialError(r);
    assert.ok(message.endsWith(`: ${refused}: refused by policy`), message);
    assert.deepEqual(t.dialer.calls, [], address);
    assert.deepEqual(t.resolver.calls, []);
    await done(t);
  }
});

test('dial() with publicAddressesOnly({ allow: ["loopback"] }) connects loopback and still refuses metadata', async () => {
  const t = env({
    "dev.test": {
      6: { at: 0, addrs: [] },
      4: { at: 0, addrs: ["169.254.169.254", "127.0.0.1"] },
    },
  });
  const control = publicAddressesOnly({ allow: ["loopback"] });
  const r = start(t, "dev.test:80", { control });
  await t.clock.runAll();
  assert.deepEqual(t.dialer.starts, ["127.0.0.1:80@0"]);
  const conn = resolved(r);
  assert.equal(conn.addr, "127.0.0.1:80");
  assert.deepEqual(
    t.log.filter((l) => l.includes("connectDone")),
    [
      `0 connectDone tcp 169.254.169.254:80 error=${METADATA_REFUSED}`,
      "1 connectDone tcp 127.0.0.1:80",
    ],
  );
  await done(t, conn);
});

test("dial() hands a custom control the endpoint, and its own error comes back as the attempt's cause", async () => {
  class Forbidden extends Error {
    constructor(message: string) {
      super(message);
      this.name = "Forbidden";
    }
  }
  const t = env({
    "custom.test": {
      6: { at: 0, addrs: ["2001:db8::1"] },
      4: { at: 0, addrs: ["192.0.2.1", "192.0.2.2"] },
    },
  });
  const seen: ControlInfo[] = [];
  const control: Control = (info) => {
    seen.push(info);
    if (info.endpoint.address !== "192.0.2.2") {
      throw new Forbidden(`${info.endpoint.address} not on the list`);
    }
  };
  const r = start(t, "custom.test:https", { control, network: "tcp" });
  await t.clock.runAll();
  assert.deepEqual(seen, [
    {
      network: "tcp",
      host: "custom.test",
      addr: "[2001:db8::1]:443",
      endpoint: { address: "2001:db8::1", family: 6, port: 443 },
    },
    {
      network: "tcp",
      host: "custom.test",
      addr: "192.0.2.1:443",
      endpoint: { address: "192.0.2.1", family: 4, port: 443 },
    },
    {
      network: "tcp",
      host: "custom.test",
      addr: "192.0.2.2:443",
      endpoint: { address: "192.0.2.2", family: 4, port: 443 },
    },
  ]);
  assert.deepEqual(t.dialer.starts, ["192.0.2.2:443@0"]);
  await done(t, resolved(r));

  // All refused: the DialError carries each Forbidden as its cause.
  const t2 = env({
    "custom.test": {
      6: { at: 0, addrs: [] },
      4: { at: 0, addrs: ["192.0.2.1"] },
    },
  });
  const r2 = start(t2, "custom.test:80", {
    control: () => {
      throw new Forbidden("no");
    },
  });
  await t2.clock.runAll();
  const error = dialError(r2);
  assert.equal(error.message, "dial tcp 192.0.2.1:80: no");
  assert.ok(error.errors[0]!.cause instanceof Forbidden);
  assert.deepEqual(t2.dialer.calls, []);
  await done(t2);
});

test("dial() refuses an endpoint when the control throws something that is not an Error", async () => {
  for (
    const [thrown, text] of [
      ["a string", "a string"],
      [undefined, "refused by the control hook"],
      [null, "refused by the control hook"],
      [42, "42"],
    ] as const
  ) {
    const t = env({});
    const r = start(t, "192.0.2.1:80", {
      control: () => {
        throw thrown;
      },
    });
    await t.clock.runAll();
    assert.equal(dialError(r).message, `dial tcp 192.0.2.1:80: ${text}`);
    assert.deepEqual(t.dialer.calls, []);
    await done(t);
  }
});

test("dial() refuses every endpoint when the control returns a promise: it fails closed", async () => {
  const controls: Control[] = [
    // Looks like it allows, but a verdict after the connect is no verdict.
    (async () => {}) as Control,
    // Looks like it refuses; without the fix the connect went ahead.
    (async () => {
      await Promise.resolve();
      throw new Error("refused too late");
    }) as Control,
  ];
  for (const control of controls) {
    const t = env({});
    const r = start(t, "192.0.2.1:80", { control });
    await t.clock.runAll();
    const error = dialError(r);
    assert.equal(
      error.message,
      "dial tcp 192.0.2.1:80: Cannot use the control hook: it returned a promise; it must decide synchronously (throw to refuse)",
    );
    assert.ok(error.errors[0]!.cause instanceof TypeError);
    assert.deepEqual(t.dialer.calls, []);
    await done(t);
  }
});

test("dial() runs the control on each endpoint right before its connect, after every answer", async () => {
  // DNS rebinding: the late A answer brings an internal address; it is
  // checked when its turn comes, like every other.
  const t = env(
    {
      "rebind.test": {
        6: { at: 0, addrs: ["2001:db8::1"] },
        4: { at: 100, addrs: ["169.254.169.254"] },
      },
    },
    {},
    { hang: true },
  );
  const checked: string[] = [];
  const policy = publicAddressesOnly({ allow: ["documentation"] });
  const control: Control = (info) => {
    checked.push(`${info.addr}@${t.clock.now()}`);
    policy(info);
  };
  const r = start(t, "rebind.test:80", { control, timeout: 1000 });
  await t.clock.runAll();
  assert.deepEqual(checked, ["[2001:db8::1]:80@0", "169.254.169.254:80@250"]);
  assert.deepEqual(t.dialer.starts, ["[2001:db8::1]:80@0"]);
  assert.equal((r.reason as DOMException).name, "TimeoutError");
  await done(t);
});

test("publicAddressesOnly() refuses a NAT64 address whose embedded IPv4 address is private, also under a network-specific prefix", async () => {
  const t = env({});
  // Fake resolver and dialer only: nothing is sent anywhere.
  const r = start(t, "10.0.0.1:80", {
    nat64: { prefix: "2606:4700:64::/96" },
    control: publicAddressesOnly(),
  });
  await t.clock.runAll();
  const error = dialError(r);
  assert.deepEqual(t.dialer.calls, [], "nothing may be connected");
  assert.ok(error.errors.length >= 1);
  for (const e of error.errors) {
    assert.ok(e.cause instanceof PolicyError, String(e));
  }
  assert.ok(
    error.errors.some((e) => /NAT64 for 10\.0\.0\.1/.test(e.message)),
    error.errors.map((e) => e.message).join("\n"),
  );
  await done(t);
});
