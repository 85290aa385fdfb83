// Bad input through dial(), table by table: malformed addresses, unusual
// but valid names, ports, networks, out-of-range options, resolvers and
// dialers that misbehave, hooks that throw. Every refusal is checked for its
// exact class and text, and for leaving nothing behind: the fake resolver
// and dialer saw no call and no timer is left on the virtual clock. Nothing
// here touches a network (documentation prefixes stand for other hosts).

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  AddrError,
  type Clock,
  dial,
  type Dialer,
  DialError,
  type DNSDoneInfo,
  DNSError,
  type Endpoint,
  type Family,
  type HookName,
  type IPAddr,
  OpError,
  type Resolver,
  setHookErrorHandler,
  splitHostPort,
  type Trace,
} from "../mod.ts";
import { type Env, makeEnv, type Settled, startDial } from "./_dial_env.ts";
import {
  type FakeConn,
  flush,
  type Outcome,
  type ResolverScript,
  type VirtualClock,
} from "./_virtual_clock.ts";

const CONNECT: Outcome = { after: 1, connect: true };
const REFUSED: Outcome = { after: 1, fail: "ECONNREFUSED" };

const env = (
  script: ResolverScript = {},
  outcomes: Record<string, Outcome> = {},
  fallback: Outcome = REFUSED,
): Env => makeEnv(script, outcomes, fallback);

/** Dial options, also ill-typed ones: the point is to pass bad values. */
type Options = Record<string, unknown>;
const start = (t: Env, address: string, options: Options = {}) =>
  startDial(t, address, options);

function rejection(r: Settled<unknown>, label: string): unknown {
  assert.equal(r.state, "rejected", `${label}: the dial must reject`);
  return r.reason;
}

function resolved<T>(r: Settled<T>, label = "dial"): T {
  assert.equal(
    r.state,
    "resolved",
    `${label}: the dial must resolve, got ${r.state} ${String(r.reason)}`,
  );
  return r.value!;
}

/** No timer left and only the given connections open (closed here). */
async function done(t: Env, label: string, ...conns: FakeConn[]) {
  await flush();
  assert.equal(t.clock.pending, 0, `${label}: no timer may be left`);
  assert.deepEqual(
    t.dialer.open,
    conns,
    `${label}: only the returned connections may be open`,
  );
  for (const conn of conns) t.dialer.close(conn);
}

/** Nothing was asked of the resolver or the dialer, and nothing is left. */
async function nothingDone(t: Env, label: string) {
  await done(t, label);
  assert.deepEqual(t.resolver.calls, [], `${label}: no lookup`);
  assert.deepEqual(t.dialer.calls, [], `${label}: no connect`);
  assert.deepEqual(t.log, [], `${label}: no hook`);
}

type ErrorClass = new (...args: never[]) => Error;

/**
 * Dials `address` and expects a refusal of `kind` with `message` before
 * anything was looked up or connected.
 */
async function expectRefusal(
  address: string,
  kind: ErrorClass,
  message: string,
  options: Options = {},
) {
  const label = `${JSON.stringify(address)} ${
    JSON.stringify(
      options,
      (_key, value) => typeof value === "bigint" ? `${value}n` : value,
    )
  }`;
  const t = env();
  const r = start(t, address, options);
  await t.clock.runAll();
  await flush();
  const error = rejection(r, label) as Error;
  assert.ok(
    error instanceof kind,
    `${label}: want ${kind.name}, got ${error?.constructor?.name}: ${error}`,
  );
  assert.equal(error.constructor, kind, `${label}: exactly ${kind.name}`);
  assert.equal(error.message, message, label);
  await nothingDone(t, label);
  return error;
}

// ── malformed addresses ───────────────────────────────────────────────

/** [address, message]: each is an AddrError and nothing is sent. */
const MALFORMED: readonly (readonly [string, string])[] = [
  // Go's net.SplitHostPort failures (its own test table).
  ["golang.org", "address golang.org: missing port in address"],
  ["127.0.0.1", "address 127.0.0.1: missing port in address"],
  ["[::1]", "address [::1]: missing port in address"],
  ["[fe80::1%lo0]", "address [fe80::1%lo0]: missing port in address"],
  ["[localhost%lo0]", "address [localhost%lo0]: missing port in address"],
  ["localhost%lo0", "address localhost%lo0: missing port in address"],
  ["::1", "address ::1: too many colons in address"],
  ["fe80::1%lo0", "address fe80::1%lo0: too many colons in address"],
  ["fe80::1%lo0:80", "address fe80::1%lo0:80: too many colons in address"],
  ["[foo:bar]", "address [foo:bar]: missing port in address"],
  ["[foo:bar]baz", "address [foo:bar]baz: missing port in address"],
  ["[foo]bar:baz", "address [foo]bar:baz: missing port in address"],
  ["[foo]:[bar]:baz", "address [foo]:[bar]:baz: too many colons in address"],
  ["[foo]:[bar]baz", "address [foo]:[bar]baz: unexpected '[' in address"],
  ["foo[bar]:baz", "address foo[bar]:baz: unexpected '[' in address"],
  ["foo]bar:baz", "address foo]bar:baz: unexpected ']' in address"],
  ["[::1]:80:", "address [::1]:80:: too many colons in address"],
  // Empty, only a port, brackets without a port or without a ']'.
  ["", "missing address"],
  [":", "address :: missing port in address"],
  ["80", "address 80: missing port in address"],
  ["[::1", "address [::1: missing ']' in address"],
  ["::1:80", "address ::1:80: too many colons in address"],
  ["h.test:", "address h.test:: missing port in address"],
  ["127.0.0.1:", "address 127.0.0.1:: missing port in address"],
  // Zones: only on IPv6, and only a valid one.
  [
    "127.0.0.1%eth0:80",
    "address 127.0.0.1%eth0: invalid domain name (a zone is allowed on IPv6 addresses only)",
  ],
  [
    "[::ffff:127.0.0.1%eth0]:80",
    "address ::ffff:127.0.0.1%eth0: invalid IP address (a zone is allowed on IPv6 addresses only)",
  ],
  ["[::1%]:80", "address ::1%: invalid IP address (invalid zone)"],
  [
    "[fe80::1%a b]:80",
    "address fe80::1%a b: invalid IP address (invalid zone)",
  ],
  ["[1::2::3]:80", "address 1::2::3: invalid IP address"],
  ["[12345::1]:80", "address 12345::1: invalid IP address"],
  [
    "h.test%eth0:80",
    'address h.test%eth0: invalid domain name (character "%")',
  ],
  // Characters no host name has.
  ["a b:80", "address a b: invalid domain name (space)"],
  [" h.test:80", "address  h.test: invalid domain name (space)"],
  [
    "a\u0000b:80",
    "address a\u0000b: invalid domain name (control character U+0000)",
  ],
  ["a\nb:80", "address a\nb: invalid domain name (control character U+000A)"],
  ["a\tb:80", "address a\tb: invalid domain name (control character U+0009)"],
  [
    "a\u007fb:80",
    "address a\u007fb: invalid domain name (control character U+007F)",
  ],
  ["bad/host:80", 'address bad/host: invalid domain name (character "/")'],
  ["user@host:80", 'address user@host: invalid domain name (character "@")'],
  ["a?b:80", 'address a?b: invalid domain name (character "?")'],
  ["a#b:80", 'address a#b: invalid domain name (character "#")'],
  ["a\\b:80", 'address a\\b: invalid domain name (character "\\\\")'],
  ["a*.test:80", 'address a*.test: invalid domain name (character "*")'],
  ["ü/x.test:80", 'address ü/x.test: invalid domain name (character "/")'],
  // Lengths and labels.
  [
    `${"a".repeat(300)}:80`,
    `address ${
      "a".repeat(300)
    }: invalid domain name (name longer than 253 characters)`,
  ],
  [
    `${"a".repeat(64)}.test:80`,
    `address ${
      "a".repeat(64)
    }.test: invalid domain name (label longer than 63 characters)`,
  ],
  [
    "-a.test:80",
    "address -a.test: invalid domain name (label starts or ends with '-')",
  ],
  [
    "a-.test:80",
    "address a-.test: invalid domain name (label starts or ends with '-')",
  ],
  ["a..test:80", "address a..test: invalid domain name (empty label)"],
  [".test:80", "address .test: invalid domain name (empty label)"],
  [".:80", "address .: invalid domain name (empty name)"],
  ["h.test..:80", "address h.test..: invalid domain name (empty label)"],
  [
    "xn--:80",
    "address xn--: invalid domain name (label starts or ends with '-')",
  ],
  // Numbers that are not IPv4 addresses: getaddrinfo would read them as
  // 127.0.0.1 (inet_aton), a DNS query would not.
  [
    "127.000.0.1:80",
    "address 127.000.0.1: invalid domain name (it ends in a number but is not an IPv4 address)",
  ],
  [
    "0x7f.1:80",
    "address 0x7f.1: invalid domain name (it ends in a number but is not an IPv4 address)",
  ],
  [
    "2130706433:80",
    "address 2130706433: invalid domain name (it ends in a number but is not an IPv4 address)",
  ],
  [
    "1.2.3:80",
    "address 1.2.3: invalid domain name (it ends in a number but is not an IPv4 address)",
  ],
  [
    "256.0.0.1:80",
    "address 256.0.0.1: invalid domain name (it ends in a number but is not an IPv4 address)",
  ],
  [
    "h.test.0x:80",
    "address h.test.0x: invalid domain name (it ends in a number but is not an IPv4 address)",
  ],
  // IDNA: full-width digits and dots map to an IP address; a full-width
  // solidus maps to '/'; a soft hyphen maps to nothing.
  [
    "１２７．０．０．１:80",
    "address １２７．０．０．１: invalid domain name (its IDNA form 127.0.0.1 is an IP address)",
  ],
  ["ａ／ｂ.test:80", "address ａ／ｂ.test: invalid domain name (no IDNA form)"],
  ["\u00ad.test:80", "address \u00ad.test: invalid domain name (empty label)"],
];

test("dial() refuses every malformed address with AddrError before any lookup or connect", async () => {
  for (const [address, message] of MALFORMED) {
    // dial() raises Go's OpError text around the AddrError's own.
    const error = await expectRefusal(
      address,
      AddrError,
      `dial tcp: ${message}`,
    );
    assert.equal((error as AddrError).reason.length > 0, true);
  }
});

test("dial() checks the options before the address", async () => {
  await expectRefusal(
    "no port",
    RangeError,
    "Cannot use timeout -1: it must be a number of ms ≥ 0",
    {
      timeout: -1,
    },
  );
  await expectRefusal(
    "a b:80",
    AddrError,
    "dial tcp: address a b: invalid domain name (space)",
    {
      maxAttempts: 3,
    },
  );
});

test("dial() raises parse errors in Go's OpError text, still as AddrError, while splitHostPort() keeps the bare text", async () => {
  // Go 1.22's net.Dialer on the same addresses (issue 13, A).
  for (
    const [address, message] of [
      ["127.0.0.1:99999", "dial tcp: address 99999: invalid port"],
      ["127.0.0.1:-1", "dial tcp: address -1: invalid port"],
      ["127.0.0.1", "dial tcp: address 127.0.0.1: missing port in address"],
      ["[::1:9101", "dial tcp: address [::1:9101: missing ']' in address"],
      [
        "127.0.0.1]:9101",
        "dial tcp: address 127.0.0.1]:9101: unexpected ']' in address",
      ],
      [
        "[[::1]]:9101",
        "dial tcp: address [[::1]]:9101: missing port in address",
      ],
      ["::1:9101", "dial tcp: address ::1:9101: too many colons in address"],
      ["", "dial tcp: missing address"],
    ] as const
  ) {
    await expectRefusal(address, AddrError, message);
  }
  await expectRefusal(
    "127.0.0.1:99999",
    AddrError,
    "dial tcp6: address 99999: invalid port",
    { network: "tcp6" },
  );
  assert.throws(() => splitHostPort("127.0.0.1"), {
    name: "AddrError",
    message: "address 127.0.0.1: missing port in address",
  });
});

// ── unusual but valid addresses ───────────────────────────────────────

test("dial() keeps a trailing dot for the resolver and shares the lookup with the name without it", async () => {
  const t = env(
    {
      "h.test.": {
        6: { at: 5, addrs: ["2001:db8::1"] },
        4: { at: 5, addrs: ["192.0.2.1"] },
      },
    },
    {},
    CONNECT,
  );
  const dnsDone: DNSDoneInfo[] = [];
  const starts: string[] = [];
  const trace: Trace = {
    dnsStart: ({ host }) => void starts.push(host),
    dnsDone: (info) => void dnsDone.push(info),
  };
  const fqdn = start(t, "h.test.:80", { trace });
  const plain = start(t, "h.test:80", { trace });
  await t.clock.advanceTo(100);
  assert.deepEqual(
    t.resolver.calls.map((c) => `${c.family} ${c.host}@${c.at}`),
    ["6 h.test.@0", "4 h.test.@0"],
    "one lookup per family for both dials",
  );
  assert.deepEqual(starts, ["h.test.", "h.test"]);
  assert.deepEqual(dnsDone.map((d) => [d.host, d.coalesced]), [
    ["h.test.", true],
    ["h.test", true],
  ]);
  const a = resolved(fqdn);
  const b = resolved(plain);
  assert.equal(a.addr, "[2001:db8::1]:80");
  assert.equal(b.addr, "[2001:db8::1]:80");
  await done(t, "trailing dot", a, b);
});

test("dial() sends a non-ASCII name to the resolver in its IDNA form and reports it as given", async () => {
  const t = env(
    {
      "xn--bcher-kva.test": {
        6: { at: 0, addrs: [] },
        4: { at: 0, addrs: ["192.0.2.7"] },
      },
    },
    {},
    CONNECT,
  );
  const r = start(t, "bücher.test:80");
  await t.clock.advanceTo(10);
  assert.deepEqual(
    t.resolver.calls.map((c) => `${c.family} ${c.host}`),
    ["6 xn--bcher-kva.test", "4 xn--bcher-kva.test"],
  );
  assert.deepEqual(t.log, [
    "0 dnsStart bücher.test",
    "0 dnsDone bücher.test [192.0.2.7]",
    "0 connectStart tcp 192.0.2.7:80",
    "1 connectDone tcp 192.0.2.7:80",
  ]);
  await done(t, "IDNA", resolved(r));
});

test("dial() maps other IDNA spellings to the same name: full-width letters, ideographic dots, upper case", async () => {
  for (
    const [address, sent] of [
      ["ｂüｃｈｅｒ.test:80", "xn--bcher-kva.test"],
      ["bücher\u3002test:80", "xn--bcher-kva.test"],
      ["BÜCHER.TEST:80", "xn--bcher-kva.test"],
      ["faß.test:80", "xn--fa-hia.test"],
      ["ü.test.:80", "xn--tda.test."],
    ] as const
  ) {
    const t = env();
    const r = start(t, address);
    await t.clock.runAll();
    const error = rejection(r, address);
    assert.ok(error instanceof DialError, address);
    assert.deepEqual(
      t.resolver.calls.map((c) => c.host),
      [sent, sent],
      address,
    );
    await done(t, address);
  }
});

test("dial() keeps upper case for the resolver and shares the lookup with the lower-case name", async () => {
  const t = env(
    {
      "H.Test": {
        6: { at: 3, addrs: ["2001:db8::2"] },
        4: { at: 3, addrs: [] },
      },
    },
    {},
    CONNECT,
  );
  const upper = start(t, "H.Test:80");
  const lower = start(t, "h.test:80");
  await t.clock.advanceTo(10);
  assert.deepEqual(
    t.resolver.calls.map((c) => `${c.family} ${c.host}`),
    ["6 H.Test", "4 H.Test"],
  );
  await done(t, "case", resolved(upper), resolved(lower));
});

test("dial() takes the names Go takes: underscores, digits, one-letter labels, 253 characters, 63-character labels", async () => {
  const long = [
    "a".repeat(63),
    "b".repeat(63),
    "c".repeat(63),
    "d".repeat(61),
  ].join(".");
  assert.equal(long.length, 253);
  for (
    const host of [
      "_srv._tcp.h.test",
      "x_.test",
      "1.test",
      "123.h.test",
      "a",
      "h-1.test",
      "xn--bcher-kva.test",
      long,
      `${long}.`,
      `${"a".repeat(63)}.test`,
    ]
  ) {
    const t = env();
    const r = start(t, `${host}:80`);
    await t.clock.runAll();
    const error = rejection(r, host) as DialError;
    assert.ok(error instanceof DialError, host);
    assert.equal(error.message, `dial tcp: lookup ${host}: no such host`);
    assert.deepEqual(t.resolver.calls.map((c) => c.host), [host, host]);
    await done(t, host);
  }
});

test("dial() takes IP literals in brackets, IPv4-mapped literals as IPv4, and zones on IPv6", async () => {
  for (
    const [address, addr] of [
      ["[127.0.0.1]:80", "127.0.0.1:80"],
      ["[::ffff:127.0.0.1]:80", "127.0.0.1:80"],
      ["[::FFFF:7f00:1]:80", "127.0.0.1:80"],
      ["[0:0:0:0:0:0:0:1]:80", "[::1]:80"],
      ["[fe80::1%eth0]:80", "[fe80::1%eth0]:80"],
      [":80", "[::1]:80"],
    ] as const
  ) {
    const t = env({}, {}, CONNECT);
    const r = start(t, address);
    await t.clock.advanceTo(5);
    assert.deepEqual(t.dialer.starts, [`${addr}@0`], address);
    assert.deepEqual(t.resolver.calls, [], address);
    await done(t, address, resolved(r, address));
  }
});

// ── ports ─────────────────────────────────────────────────────────────

test("dial() refuses ports out of range with AddrError and unknown services like Go's unknown port", async () => {
  for (
    const [port, message] of [
      ["-1", "address -1: invalid port"],
      ["65536", "address 65536: invalid port"],
      ["99999999999999999999", "address 99999999999999999999: invalid port"],
      ["-99999999999", "address -99999999999: invalid port"],
      ["0", "address 0: invalid port"],
      ["-0", "address -0: invalid port"],
      ["+0", "address +0: invalid port"],
      ["00", "address 00: invalid port"],
    ] as const
  ) {
    await expectRefusal(`h.test:${port}`, AddrError, `dial tcp: ${message}`);
    await expectRefusal(
      `127.0.0.1:${port}`,
      AddrError,
      `dial tcp: ${message}`,
    );
  }
  for (
    const port of [
      "1e3",
      "0x50",
      "nosuchsvc",
      " 80",
      "80 ",
      "8o",
      "٨٠",
      "ｈｔｔｐ",
      "http2",
      "HTTP ",
    ]
  ) {
    const error = await expectRefusal(
      `h.test:${port}`,
      DialError,
      `dial tcp: lookup tcp/${port}: unknown port`,
    ) as DialError;
    assert.equal(error.errors.length, 1);
    const op = error.errors[0] as OpError;
    assert.ok(op instanceof OpError);
    assert.ok(op.cause instanceof DNSError);
    assert.equal((op.cause as DNSError).isNotFound, true);
    assert.equal((op.cause as DNSError).host, `tcp/${port}`);
  }
});

test("dial() reads service names case-insensitively and numbers with a sign or leading zeros", async () => {
  for (
    const [port, number] of [
      ["http", 80],
      ["HTTPS", 443],
      ["Ssh", 22],
      ["ftp", 21],
      ["imaps", 993],
      ["+80", 80],
      ["00080", 80],
      ["65535", 65535],
      ["1", 1],
    ] as const
  ) {
    const t = env({}, {}, CONNECT);
    const r = start(t, `127.0.0.1:${port}`);
    await t.clock.advanceTo(5);
    assert.deepEqual(t.dialer.starts, [`127.0.0.1:${number}@0`], port);
    await done(t, port, resolved(r, port));
  }
});

// ── networks ──────────────────────────────────────────────────────────

test("dial() refuses networks other than tcp, tcp4 and tcp6 with TypeError", async () => {
  const use = '(use "tcp", "tcp4" or "tcp6")';
  for (
    const [network, shown] of [
      ["udp", '"udp"'],
      ["tcp5", '"tcp5"'],
      ["", '""'],
      ["TCP", '"TCP"'],
      ["tcp ", '"tcp "'],
      ["unix", '"unix"'],
      [4, "4"],
      [true, "true"],
      [{}, "[object Object]"],
    ] as const
  ) {
    await expectRefusal(
      "127.0.0.1:80",
      TypeError,
      `Cannot dial on network ${shown}: unknown network ${use}`,
      { network: network as never },
    );
  }
});

test("dial() refuses a literal of the family the network excludes with DialError", async () => {
  await expectRefusal(
    "[::1]:80",
    DialError,
    "dial tcp4: address ::1: no suitable address found",
    { network: "tcp4" },
  );
  await expectRefusal(
    "127.0.0.1:80",
    DialError,
    "dial tcp6: address 127.0.0.1: no suitable address found",
    { network: "tcp6" },
  );
});

// ── options ───────────────────────────────────────────────────────────

test("dial() refuses options out of range with RangeError and of the wrong type with TypeError", async () => {
  const cases: [Options, ErrorClass, string][] = [
    [
      { attemptDelay: NaN },
      RangeError,
      "Cannot use attemptDelay NaN: it must be a number of ms ≥ 0",
    ],
    [
      { attemptDelay: -1 },
      RangeError,
      "Cannot use attemptDelay -1: it must be a number of ms ≥ 0",
    ],
    [
      { attemptDelay: -Infinity },
      RangeError,
      "Cannot use attemptDelay -Infinity: it must be a number of ms ≥ 0",
    ],
    [
      { attemptDelay: "10" },
      TypeError,
      'Cannot use attemptDelay "10": it must be a number, not a string',
    ],
    [
      { attemptDelay: null },
      TypeError,
      "Cannot use attemptDelay null: it must be a number, not null",
    ],
    [
      { timeout: NaN },
      RangeError,
      "Cannot use timeout NaN: it must be a number of ms ≥ 0",
    ],
    [
      { timeout: -5 },
      RangeError,
      "Cannot use timeout -5: it must be a number of ms ≥ 0",
    ],
    [
      { timeout: 10n },
      TypeError,
      "Cannot use timeout 10n: it must be a number, not a bigint",
    ],
    [
      { resolutionDelay: NaN },
      RangeError,
      "Cannot use resolutionDelay NaN: it must be a number of ms ≥ 0",
    ],
    [
      { resolutionDelay: -1 },
      RangeError,
      "Cannot use resolutionDelay -1: it must be a number of ms ≥ 0",
    ],
    [
      { firstAddressFamilyCount: 0 },
      RangeError,
      "Cannot use firstAddressFamilyCount 0: it must be an integer ≥ 1",
    ],
    [
      { firstAddressFamilyCount: 1.5 },
      RangeError,
      "Cannot use firstAddressFamilyCount 1.5: it must be an integer ≥ 1",
    ],
    [
      { firstAddressFamilyCount: Infinity },
      RangeError,
      "Cannot use firstAddressFamilyCount Infinity: it must be an integer ≥ 1",
    ],
    [
      { preferredFamily: 5 },
      RangeError,
      "Cannot use preferredFamily 5: it must be 4 or 6",
    ],
    [
      { preferredFamily: "6" },
      TypeError,
      'Cannot use preferredFamily "6": it must be a number, not a string',
    ],
    [
      { maxAttempts: 0 },
      RangeError,
      "Cannot use maxAttempts 0: it must be an integer ≥ 1",
    ],
    [
      { maxAttempts: 2.5 },
      RangeError,
      "Cannot use maxAttempts 2.5: it must be an integer ≥ 1",
    ],
    [
      { maxAttempts: NaN },
      RangeError,
      "Cannot use maxAttempts NaN: it must be an integer ≥ 1",
    ],
    [
      { maxConcurrentAttempts: 0 },
      RangeError,
      "Cannot use maxConcurrentAttempts 0: it must be an integer ≥ 1",
    ],
    [
      { maxConcurrentAttempts: -1 },
      RangeError,
      "Cannot use maxConcurrentAttempts -1: it must be an integer ≥ 1",
    ],
    [
      { signal: {} },
      TypeError,
      "Cannot use options.signal [object Object]: it is not an AbortSignal",
    ],
    [
      { signal: "abort" },
      TypeError,
      'Cannot use options.signal "abort": it is not an AbortSignal',
    ],
    [
      { clock: {} },
      TypeError,
      "Cannot use options.clock: it needs now(), setTimeout() and clearTimeout()",
    ],
    [
      { context: {} },
      TypeError,
      "Cannot use options.context [object Object]: it is not a Context",
    ],
    [
      { context: null },
      TypeError,
      "Cannot use options.context null: it is not a Context",
    ],
    [
      { trace: 42 },
      TypeError,
      "Cannot use options.trace 42: it is not a Trace object",
    ],
    [
      { control: "deny" },
      TypeError,
      "Cannot use options.control: it is not a function",
    ],
    [
      { dialer: undefined },
      TypeError,
      "Cannot dial without a dialer: options.dialer.connect is not a function",
    ],
    [
      { dialer: {} },
      TypeError,
      "Cannot dial without a dialer: options.dialer.connect is not a function",
    ],
  ];
  for (const [options, kind, message] of cases) {
    await expectRefusal("h.test:80", kind, message, options);
    await expectRefusal("127.0.0.1:80", kind, message, options);
  }
  // No resolver is fine for a literal, not for a name.
  for (const resolver of [undefined, null, {}]) {
    await expectRefusal(
      "h.test:80",
      TypeError,
      "Cannot resolve without a resolver: options.resolver.lookup is not a function",
      { resolver: resolver as never },
    );
  }
  // No options at all, or not an object; an address that is no string.
  for (const options of [null, undefined, 42, "tcp"]) {
    const r = dial("127.0.0.1:80", options as never);
    await assert.rejects(r, (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.equal(
        error.message,
        "Cannot dial without options: pass a resolver and a dialer",
      );
      return true;
    });
  }
  for (const [address, shown] of [[42, "42"], [undefined, "undefined"]]) {
    const t = env();
    await assert.rejects(
      dial(address as never, { resolver: t.resolver, dialer: t.dialer }),
      new TypeError(`Cannot dial ${shown}: the address must be a string`),
    );
  }
});

test("dial() clamps attemptDelay below 10 ms to 10 and above 2 s to 2000, at exact times", async () => {
  for (
    const [attemptDelay, gap] of [
      [0, 10],
      [5, 10],
      [9.5, 10],
      [10, 10],
      [5000, 2000],
      [Infinity, 2000],
    ] as const
  ) {
    const t = env(
      {
        "h.test": {
          6: { at: 0, addrs: ["2001:db8::1", "2001:db8::2", "2001:db8::3"] },
          4: { at: 0, addrs: [] },
        },
      },
      {},
      { hang: true },
    );
    const r = start(t, "h.test:80", { attemptDelay, timeout: 3 * gap + 1 });
    await t.clock.advanceTo(3 * gap + 1);
    assert.deepEqual(
      t.dialer.starts,
      [
        "[2001:db8::1]:80@0",
        `[2001:db8::2]:80@${gap}`,
        `[2001:db8::3]:80@${2 * gap}`,
      ],
      `attemptDelay ${attemptDelay}`,
    );
    assert.equal(
      (rejection(r, "timeout") as DOMException).name,
      "TimeoutError",
    );
    await done(t, `attemptDelay ${attemptDelay}`);
  }
});

test("dial() with timeout 0 or Infinity sets no timeout timer at all", async () => {
  for (const timeout of [0, Infinity]) {
    const t = env({}, {}, { hang: true });
    const ac = new AbortController();
    const r = start(t, "127.0.0.1:80", { timeout, signal: ac.signal });
    await t.clock.advanceTo(3_600_000);
    assert.equal(r.state, "pending", `timeout ${timeout}`);
    assert.equal(t.clock.pending, 0, "neither a timeout nor a wake-up");
    const reason = new Error("enough");
    ac.abort(reason);
    await flush();
    assert.equal(rejection(r, "abort"), reason);
    await done(t, `timeout ${timeout}`);
  }
});

/** A clock that records every delay asked of it. */
function recordingClock(inner: VirtualClock, delays: number[]): Clock {
  return {
    now: () => inner.now(),
    setTimeout: (fn, ms) => {
      delays.push(ms);
      return inner.setTimeout(fn, ms);
    },
    clearTimeout: (handle) => inner.clearTimeout(handle),
  };
}

test("dial() waits out a timeout longer than the platform timers take in steps, not at once", async () => {
  // setTimeout fires at once for a delay over 2³¹−1 ms (Node warns, Deno
  // and Bun say nothing): a 25-day timeout used to end the dial at 1 ms.
  const MAX = 2 ** 31 - 1;
  const t = env({}, {}, { hang: true });
  const delays: number[] = [];
  const clock = recordingClock(t.clock, delays);
  const timeout = 2 ** 31 + 10;
  const r = start(t, "127.0.0.1:80", { timeout, clock });
  await t.clock.advanceTo(MAX);
  assert.equal(r.state, "pending");
  await t.clock.advanceTo(timeout - 1);
  assert.equal(r.state, "pending");
  await t.clock.advanceTo(timeout);
  const reason = rejection(r, "timeout") as DOMException;
  assert.equal(reason.name, "TimeoutError");
  assert.equal(reason.message, "dial tcp 127.0.0.1:80: i/o timeout");
  assert.equal(r.at, timeout);
  assert.ok(delays.every((ms) => ms <= MAX), `delays ${delays}`);
  await done(t, "long timeout");
});

test("dial() waits out a resolution delay longer than the platform timers take in steps", async () => {
  const MAX = 2 ** 31 - 1;
  const t = env(
    { "h.test": { 4: { at: 0, addrs: ["192.0.2.1"] }, 6: { hang: true } } },
    {},
    CONNECT,
  );
  const delays: number[] = [];
  const clock = recordingClock(t.clock, delays);
  const resolutionDelay = 3 * 2 ** 31;
  const r = start(t, "h.test:80", { resolutionDelay, clock });
  await t.clock.advanceTo(resolutionDelay - 1);
  assert.deepEqual(t.dialer.starts, []);
  await t.clock.advanceTo(resolutionDelay + 1);
  assert.deepEqual(t.dialer.starts, [`192.0.2.1:80@${resolutionDelay}`]);
  assert.ok(delays.every((ms) => ms <= MAX), `delays ${delays}`);
  assert.ok(delays.length <= 6, `a few steps, not a busy loop: ${delays}`);
  await done(t, "long resolution delay", resolved(r));
});

// ── resolvers that return garbage ─────────────────────────────────────

/** A resolver answering `answers[family]` at time 0 on the clock. */
function fixedResolver(
  clock: VirtualClock,
  answers: Partial<Record<Family, unknown>>,
  calls: string[] = [],
): Resolver {
  return {
    lookup(host, family, { signal }) {
      calls.push(`${family} ${host}`);
      return new Promise<IPAddr[]>((resolve, reject) => {
        const timer = clock.setTimeout(() => {
          signal.removeEventListener("abort", onAbort);
          resolve(answers[family] as IPAddr[]);
        }, 0);
        const onAbort = () => {
          clock.clearTimeout(timer);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
      });
    },
  };
}

test("dial() drops what a resolver returns that is no address of the family, and duplicates", async () => {
  const t = env({}, {}, REFUSED);
  const resolver = fixedResolver(t.clock, {
    6: [
      "2001:db8::1",
      "2001:DB8:0:0:0:0:0:1", // the same, spelled otherwise
      "not an address",
      "2001:db8::1%", // empty zone
      { address: "2001:db8::2", family: 6, zone: "eth0" },
      { address: "2001:db8::2", family: 6, zone: "eth0" },
      { address: "2001:db8::2", family: 6, zone: "bad zone" }, // dropped
      "::ffff:192.0.2.9", // IPv4-mapped: IPv4, as in Go
      "192.0.2.10", // plain IPv4 text in AAAA: dropped
      { address: "192.0.2.11", family: 4 }, // IPv4 record in AAAA: dropped
      "[2001:db8::3]",
      "2001:db8::3::80",
      " 2001:db8::3",
      42,
      null,
      undefined,
      [],
      {},
      { family: 6 },
      { address: 7 },
      Symbol("x"),
    ],
    4: [
      "192.0.2.1",
      { address: "192.0.2.1", family: 4 },
      "192.0.2.01",
      "192.0.2",
      "2001:db8::9", // IPv6 in an A answer
      "192.0.2.1:80",
      "",
      -1,
    ],
  });
  const r = start(t, "h.test:80", { resolver });
  await t.clock.runAll();
  assert.deepEqual(t.dialer.starts, [
    "[2001:db8::1]:80@0",
    "192.0.2.9:80@10",
    "[2001:db8::2%eth0]:80@20",
    "192.0.2.1:80@30",
  ]);
  const error = rejection(r, "garbage") as DialError;
  assert.ok(error instanceof DialError);
  assert.deepEqual(error.errors.map((e) => e.message), [
    "dial tcp [2001:db8::1]:80: connect: connection refused",
    "dial tcp 192.0.2.9:80: connect: connection refused",
    "dial tcp [2001:db8::2%eth0]:80: connect: connection refused",
    "dial tcp 192.0.2.1:80: connect: connection refused",
  ]);
  assert.deepEqual(t.log.filter((l) => l.includes("dnsDone")), [
    "0 dnsDone h.test [2001:db8::1,2001:db8::2,192.0.2.9,192.0.2.1]",
  ]);
  await done(t, "garbage");
});

test("dial() treats a resolver answer that is no array, or entries that throw, as no address", async () => {
  const revoked = Proxy.revocable([], {});
  revoked.revoke();
  const throwing = {
    get address(): string {
      throw new Error("getter");
    },
  };
  const answers: unknown[] = [
    undefined,
    null,
    "2001:db8::1",
    { 0: "2001:db8::1", length: 1 },
    new Set(["2001:db8::1"]),
    42,
    revoked.proxy,
    [throwing],
    new Proxy([], {
      get() {
        throw new Error("trap");
      },
    }),
  ];
  for (const [i, answer] of answers.entries()) {
    const t = env({}, {}, CONNECT);
    const resolver = fixedResolver(t.clock, { 6: answer, 4: ["192.0.2.1"] });
    const r = start(t, "h.test:80", { resolver });
    await t.clock.runAll();
    assert.deepEqual(t.dialer.starts, ["192.0.2.1:80@0"], `answer ${i}`);
    await done(t, `answer ${i}`, resolved(r, `answer ${i}`));
  }
  // Nothing usable in either family: no such host.
  const t = env();
  const resolver = fixedResolver(t.clock, { 6: "nope", 4: [null] });
  const r = start(t, "h.test:80", { resolver });
  await t.clock.runAll();
  assert.equal(
    (rejection(r, "nothing") as Error).message,
    "dial tcp: lookup h.test: no such host",
  );
  await done(t, "nothing");
});

test("dial() with a 10,000-address answer tries at most maxAttempts, at most maxConcurrentAttempts at once, and ends fast", async () => {
  const many = (n: number, prefix: string) =>
    Array.from(
      { length: n },
      (_, i) => `${prefix}${(i >> 8) & 0xff}.${i & 0xff}`,
    );
  const t = env({}, {}, { after: 3000, fail: "ECONNREFUSED" });
  const resolver = fixedResolver(t.clock, {
    6: Array.from({ length: 10_000 }, (_, i) => `2001:db8::${i.toString(16)}`),
    4: many(10_000, "10.0."),
  });
  let inFlight = 0;
  let maxInFlight = 0;
  const dialer: Dialer<FakeConn> = {
    connect(endpoint: Endpoint, options) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const p = t.dialer.connect(endpoint, options);
      p.then(() => inFlight--, () => inFlight--);
      return p;
    },
    close: (conn) => t.dialer.close(conn),
  };
  const began = performance.now();
  const r = start(t, "h.test:80", { resolver, dialer });
  await t.clock.runAll();
  const elapsed = performance.now() - began;
  const error = rejection(r, "10,000") as DialError;
  assert.equal(error.errors.length, 32);
  assert.equal(t.dialer.calls.length, 32);
  assert.equal(maxInFlight, 8);
  // The interleaving holds: IPv6 first, then one of each in turn.
  assert.deepEqual(t.dialer.starts.slice(0, 4), [
    "[2001:db8::]:80@0",
    "10.0.0.0:80@250",
    "[2001:db8::1]:80@500",
    "10.0.0.1:80@750",
  ]);
  // 8 in flight from 1750 until the first fails at 3000; from then on each
  // failure makes room for one more: batches of 8, 3 s apart.
  assert.equal(t.dialer.calls[7]!.at, 1750);
  assert.equal(t.dialer.calls[8]!.at, 3000);
  assert.equal(t.dialer.calls[16]!.at, 6000);
  assert.equal(t.dialer.calls[31]!.at, 10_750);
  assert.equal(r.at, 13_750);
  assert.ok(elapsed < 5_000, `took ${elapsed.toFixed(0)} ms`);
  await done(t, "10,000");
});

test("dial() reads at most 65,536 entries of a huge sparse resolver answer", async () => {
  const t = env({}, {}, CONNECT);
  const huge = new Array(2 ** 32 - 1);
  huge[0] = "2001:db8::1";
  huge[2 ** 20] = "2001:db8::2"; // beyond what is read
  const resolver = fixedResolver(t.clock, { 6: huge, 4: [] });
  const began = performance.now();
  const r = start(t, "h.test:80", { resolver });
  await t.clock.runAll();
  assert.deepEqual(t.dialer.starts, ["[2001:db8::1]:80@0"]);
  assert.ok(performance.now() - began < 5_000);
  await done(t, "sparse", resolved(r));
});

test("dial() wraps a resolver that throws synchronously or rejects with a non-Error in DNSError", async () => {
  const nullProto = Object.create(null);
  const badToString = {
    toString() {
      throw new Error("no text");
    },
  };
  const cases: [string, Resolver["lookup"], string[]][] = [
    [
      "sync throw",
      () => {
        throw new TypeError("resolver bug");
      },
      ["dial tcp: lookup h.test: resolver bug"],
    ],
    ["string", () => Promise.reject("plain string"), [
      "dial tcp: lookup h.test: plain string",
    ]],
    ["undefined", () => Promise.reject(undefined), [
      "dial tcp: lookup h.test: undefined",
    ]],
    ["number", () => Promise.reject(42), ["dial tcp: lookup h.test: 42"]],
    ["null-prototype object", () => Promise.reject(nullProto), [
      "dial tcp: lookup h.test: [object Object]",
    ]],
    ["throwing toString", () => Promise.reject(badToString), [
      "dial tcp: lookup h.test: [object Object]",
    ]],
    ["sync throw of a string", () => {
      throw "thrown string";
    }, ["dial tcp: lookup h.test: thrown string"]],
    ["returns a non-promise", () => 42 as never, [
      "dial tcp: lookup h.test: no such host",
    ]],
  ];
  for (const [label, lookup, messages] of cases) {
    const t = env();
    const r = start(t, "h.test:80", { resolver: { lookup } });
    await t.clock.runAll();
    const error = rejection(r, label) as DialError;
    assert.ok(error instanceof DialError, label);
    assert.deepEqual(error.errors.map((e) => e.message), messages, label);
    for (const e of error.errors) {
      assert.ok(e instanceof OpError, label);
      assert.ok(e.cause instanceof DNSError, label);
    }
    await done(t, label);
  }
});

// ── dialers that misbehave ────────────────────────────────────────────

test("dial() counts a dialer that throws synchronously or rejects with a non-Error as a failed attempt, Go-shaped", async () => {
  const nullProto = Object.create(null);
  const cases: [string, () => Promise<FakeConn>, string][] = [
    ["sync throw", () => {
      throw new Error("dialer bug");
    }, "dial tcp 127.0.0.1:80: dialer bug"],
    ["sync throw of a string", () => {
      throw "boom";
    }, "dial tcp 127.0.0.1:80: boom"],
    ["string", () => Promise.reject("nope"), "dial tcp 127.0.0.1:80: nope"],
    [
      "undefined",
      () => Promise.reject(undefined),
      "dial tcp 127.0.0.1:80: undefined",
    ],
    [
      "null-prototype object",
      () => Promise.reject(nullProto),
      "dial tcp 127.0.0.1:80: [object Object]",
    ],
  ];
  for (const [label, connect, message] of cases) {
    const t = env();
    let closes = 0;
    const dialer: Dialer<FakeConn> = { connect, close: () => void closes++ };
    const r = start(t, "127.0.0.1:80", { dialer });
    await t.clock.runAll();
    const error = rejection(r, label) as DialError;
    assert.ok(error instanceof DialError, label);
    assert.equal(error.message, message, label);
    assert.equal(error.errors.length, 1);
    assert.deepEqual(t.log, [
      "0 connectStart tcp 127.0.0.1:80",
      `0 connectDone tcp 127.0.0.1:80 error=${message}`,
    ]);
    assert.equal(closes, 0);
    await done(t, label);
  }
});

test("dial() goes on to the next address when the first dialer call throws, and survives a close that throws", async () => {
  const t = env({
    "h.test": {
      6: { at: 0, addrs: ["2001:db8::1"] },
      4: { at: 0, addrs: ["192.0.2.1", "192.0.2.2"] },
    },
  });
  let calls = 0;
  const closed: string[] = [];
  const dialer: Dialer<FakeConn> = {
    connect(endpoint) {
      calls++;
      if (calls === 1) throw new Error("first call throws");
      // Deaf to cancellation: a loser still connects after the win.
      return t.dialer.connect(endpoint, {
        signal: new AbortController().signal,
      });
    },
    close(conn) {
      closed.push(conn.addr);
      t.dialer.close(conn);
      throw new Error("close throws");
    },
  };
  t.dialer.outcomes = {
    "192.0.2.1:80": { after: 15, connect: true },
    "192.0.2.2:80": { after: 6, connect: true },
  };
  const r = start(t, "h.test:80", { dialer, attemptDelay: 10 });
  await t.clock.advanceTo(100);
  // The throw fails the first attempt at 0; the next starts 10 ms after
  // it. The loser that connects after the win is closed, and its close
  // throwing is harmless.
  assert.deepEqual(t.dialer.starts, ["192.0.2.1:80@10", "192.0.2.2:80@20"]);
  const conn = resolved(r);
  assert.equal(conn.addr, "192.0.2.1:80");
  assert.equal(r.at, 25);
  assert.deepEqual(closed, ["192.0.2.2:80"]);
  assert.deepEqual(t.log.filter((l) => l.includes("connectDone")), [
    "0 connectDone tcp [2001:db8::1]:80 error=dial tcp [2001:db8::1]:80: first call throws",
    "25 connectDone tcp 192.0.2.1:80",
    "26 connectDone tcp 192.0.2.2:80 error=dial tcp 192.0.2.2:80: operation was canceled",
  ]);
  await done(t, "throwing dialer", conn);
});

// ── hooks that throw ──────────────────────────────────────────────────

const HOOKS: readonly HookName[] = [
  "dnsStart",
  "dnsDone",
  "connectStart",
  "connectDone",
];

/** Runs one dial that loses an IPv6 race and wins on IPv4. */
async function raceOutcome(trace: Trace) {
  const t = env(
    {
      "h.test": {
        6: { at: 0, addrs: ["2001:db8::1"] },
        4: { at: 0, addrs: ["192.0.2.1"] },
      },
    },
    {
      "[2001:db8::1]:80": { after: 3, fail: "ECONNREFUSED" },
      "192.0.2.1:80": { after: 4, connect: true },
    },
  );
  const r = start(t, "h.test:80", { trace });
  await t.clock.advanceTo(100);
  const conn = resolved(r);
  const outcome = {
    starts: t.dialer.starts,
    winner: conn.addr,
    at: r.at,
  };
  await done(t, "race", conn);
  return outcome;
}

test("dial() outcome is unchanged when any hook throws or rejects, and each error reaches the hook error handler", async () => {
  const baseline = await raceOutcome({});
  assert.deepEqual(baseline, {
    starts: ["[2001:db8::1]:80@0", "192.0.2.1:80@10"],
    winner: "192.0.2.1:80",
    at: 14,
  });
  for (const hook of HOOKS) {
    for (const mode of ["throw", "reject", "throw a string"] as const) {
      const reported: [HookName, unknown][] = [];
      const previous = setHookErrorHandler((error, name) => {
        reported.push([name, error]);
      });
      try {
        const thrown = mode === "throw a string"
          ? `${hook} string`
          : new Error(`${hook} ${mode}`);
        const fn = mode === "reject" ? () => Promise.reject(thrown) : () => {
          throw thrown;
        };
        const outcome = await raceOutcome({ [hook]: fn } as Trace);
        assert.deepEqual(outcome, baseline, `${hook} ${mode}`);
        await flush();
        // dnsStart and dnsDone fire once; connectStart and connectDone
        // once per attempt (two attempts).
        const times = hook.startsWith("dns") ? 1 : 2;
        assert.equal(reported.length, times, `${hook} ${mode}`);
        for (const [name, error] of reported) {
          assert.equal(name, hook);
          assert.equal(error, thrown);
        }
      } finally {
        setHookErrorHandler(previous);
      }
    }
  }
});

test("dial() outcome is unchanged when every hook throws and the handler throws too", async () => {
  const baseline = await raceOutcome({});
  let handled = 0;
  const previous = setHookErrorHandler(() => {
    handled++;
    throw new Error("handler throws");
  });
  // A throwing handler falls back to console.error: silence it here.
  const consoleError = console.error;
  let printed = 0;
  console.error = () => void printed++;
  try {
    const trace: Trace = {};
    for (const hook of HOOKS) {
      trace[hook] = () => {
        throw new Error(hook);
      };
    }
    assert.deepEqual(await raceOutcome(trace), baseline);
    assert.equal(handled, 6);
    assert.equal(printed, 6);
  } finally {
    console.error = consoleError;
    setHookErrorHandler(previous);
  }
});
