// Fuzz tests (fast-check, 1,000 runs each): random strings — full Unicode,
// lone surrogates, and a grammar biased towards the characters addresses
// are made of — fed to the address parsers and to dial(). The parsers answer
// with a value or their own error class; dial() always settles, on a virtual
// clock, with AddrError, TypeError, RangeError or DialError and nothing
// else, leaves no timer and no connection, and never lets a rejection go
// unhandled. The fake resolver answers nothing and the fake dialer refuses
// everything: no packet is sent.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import {
  AddrError,
  type AddressClass,
  classifyAddress,
  dial,
  DialError,
  DNSError,
  OpError,
  parseIP,
  parsePort,
  publicAddressesOnly,
  setHookErrorHandler,
  splitHostPort,
} from "../mod.ts";
import { lookupName } from "../src/hostname.ts";
import {
  type FakeConn,
  FakeDialer,
  FakeResolver,
  flush,
  type ResolverScript,
  VirtualClock,
} from "./_virtual_clock.ts";

const RUNS = 1_000;

// ── arbitraries ───────────────────────────────────────────────────────

/** Any code points, astral ones included. */
const unicode = fc.string({ unit: "binary", maxLength: 40 });

/** Any UTF-16 code units: lone surrogates included. */
const utf16 = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

/** The pieces addresses are made of, and the ones that break them. */
const TOKENS = [
  "[",
  "]",
  ":",
  "::",
  "%",
  ".",
  "0",
  "1",
  "9",
  "00",
  "127",
  "255",
  "256",
  "0x7f",
  "ffff",
  "::ffff:",
  "64:ff9b::",
  "fe80",
  "a",
  "f",
  "h",
  "test",
  "-",
  "_",
  "ü",
  "ß",
  "ｂ",
  "１",
  "．",
  "\u3002",
  " ",
  "\t",
  "\u0000",
  "\n",
  "\u00ad",
  "\u200b",
  "eth0",
  "@",
  "/",
  "xn--",
  "\ud800",
] as const;

const grammar = fc.array(fc.constantFrom(...TOKENS), { maxLength: 16 })
  .map((parts) => parts.join(""));

/** Ports as Go sees them, and near misses. */
const port = fc.oneof(
  fc.integer({ min: -70_000, max: 70_000 }).map(String),
  fc.constantFrom(
    "",
    "0",
    "+80",
    "-0",
    "00080",
    "65535",
    "65536",
    "1e3",
    "0x50",
    "http",
    "HTTPS",
    "nosuchsvc",
    " 80",
    "٨٠",
    "99999999999999999999",
  ),
);

/** host:port built from the grammar, often well-formed enough to go deep. */
const hostPort = fc.tuple(
  fc.oneof(grammar, fc.constantFrom("h.test", "127.0.0.1", "[::1]", "")),
  fc.constantFrom(":", "", "]:", "::"),
  port,
).map(([host, sep, p]) => `${host}${sep}${p}`);

const anyAddress = fc.oneof(unicode, utf16, grammar, hostPort);

const KNOWN_CLASSES: ReadonlySet<AddressClass> = new Set<AddressClass>([
  "public",
  "unspecified",
  "loopback",
  "private",
  "shared",
  "link-local",
  "unique-local",
  "site-local",
  "multicast",
  "broadcast",
  "documentation",
  "benchmarking",
  "reserved",
]);

// ── the parsers ───────────────────────────────────────────────────────

test("splitHostPort() on random strings returns host and port that rebuild the input, or throws AddrError", () => {
  fc.assert(
    fc.property(anyAddress, (input) => {
      let parts: [string, string];
      try {
        parts = splitHostPort(input);
      } catch (error) {
        assert.ok(error instanceof AddrError, String(error));
        assert.equal(error.addr, input);
        assert.equal(
          error.message,
          input === "" ? error.reason : `address ${input}: ${error.reason}`,
        );
        return;
      }
      const [host, p] = parts;
      assert.ok(!p.includes(":"), "the port has no colon");
      assert.ok(
        input === `${host}:${p}` || input === `[${host}]:${p}`,
        `${JSON.stringify(input)} → ${JSON.stringify(parts)}`,
      );
    }),
    { numRuns: RUNS },
  );
});

test("parseIP() on random strings returns undefined or a canonical address that parses to itself", () => {
  fc.assert(
    fc.property(anyAddress, (input) => {
      const ip = parseIP(input);
      if (ip === undefined) return;
      assert.ok(ip.family === 4 || ip.family === 6);
      const text = ip.zone === undefined
        ? ip.address
        : `${ip.address}%${ip.zone}`;
      assert.deepEqual(parseIP(text), ip, `${JSON.stringify(input)}`);
      if (ip.zone !== undefined) {
        assert.equal(ip.family, 6);
        assert.ok(ip.zone.length > 0);
      }
      assert.ok(KNOWN_CLASSES.has(classifyAddress(ip)));
    }),
    { numRuns: RUNS },
  );
});

test("parsePort() on random strings returns a port 0–65535 or throws AddrError or DNSError", () => {
  fc.assert(
    fc.property(fc.oneof(port, unicode, grammar), (input) => {
      let value: number;
      try {
        value = parsePort(input, "tcp");
      } catch (error) {
        if (error instanceof AddrError) {
          assert.equal(error.message, `address ${input}: invalid port`);
          return;
        }
        assert.ok(error instanceof DNSError, String(error));
        assert.equal(error.message, `lookup tcp/${input}: unknown port`);
        return;
      }
      assert.ok(Number.isInteger(value) && value >= 0 && value <= 65535);
      assert.ok(!Object.is(value, -0));
    }),
    { numRuns: RUNS },
  );
});

test("lookupName() on random strings returns an ASCII name that checks again to itself, or throws AddrError", () => {
  fc.assert(
    fc.property(anyAddress, (input) => {
      let name: string;
      try {
        name = lookupName(input);
      } catch (error) {
        assert.ok(error instanceof AddrError, String(error));
        assert.match(error.reason, /^invalid (domain name|IP address)/);
        return;
      }
      assert.match(name, /^[A-Za-z0-9_.-]+$/, JSON.stringify(input));
      assert.ok(name.replace(/\.$/, "").length <= 253);
      assert.equal(parseIP(name), undefined);
      assert.equal(lookupName(name), name);
    }),
    { numRuns: RUNS },
  );
});

test("classifyAddress() on random text never throws and always names a class", () => {
  fc.assert(
    fc.property(anyAddress, fc.constantFrom(4, 6) as fc.Arbitrary<4 | 6>, (
      address,
      family,
    ) => {
      assert.ok(KNOWN_CLASSES.has(classifyAddress({ address, family })));
    }),
    { numRuns: RUNS },
  );
});

// ── dial() ────────────────────────────────────────────────────────────

const ALLOWED = [AddrError, TypeError, RangeError, DialError] as const;

/** Mostly a good value, sometimes a bad one. */
function mostlyGood<T, U>(
  good: readonly T[],
  bad: readonly U[],
): fc.Arbitrary<T | U> {
  return fc.oneof(
    { weight: 30, arbitrary: fc.constantFrom(...good) },
    { weight: 1, arbitrary: fc.constantFrom(...bad) },
  );
}

/** Options, good and bad. */
const options = fc.record({
  network: mostlyGood(
    [undefined, "tcp", "tcp4", "tcp6"],
    ["udp", "", 4, null, "TCP"],
  ),
  attemptDelay: mostlyGood([undefined, 0, 5, 250, 1e9], [NaN, -1, "10"]),
  resolutionDelay: mostlyGood([undefined, 0, 50, 1e12], [NaN, -1, null]),
  timeout: mostlyGood(
    [undefined, 0, 60_000, 2 ** 31 + 10, Infinity],
    [-5, NaN, "5"],
  ),
  firstAddressFamilyCount: mostlyGood([undefined, 1, 2], [0, 1.5]),
  preferredFamily: mostlyGood([undefined, 4, 6], [5, "6"]),
  maxAttempts: mostlyGood([undefined, 1, 32, Infinity], [0, 2.5]),
  maxConcurrentAttempts: mostlyGood([undefined, 1, 8], [0, -1]),
  control: mostlyGood(
    [undefined, publicAddressesOnly(), () => {
      throw new Error("no");
    }],
    ["deny"],
  ),
  // Never an aborted signal: its reason (any value) would be the outcome.
  signal: mostlyGood([undefined, new AbortController().signal], [{}, 42]),
  context: mostlyGood([undefined], [{}, null, "ctx"]),
  trace: mostlyGood([undefined, {}, {
    dnsStart: () => {
      throw new Error("hook");
    },
  }], [42]),
  // Only broken clocks: a missing key keeps the virtual one.
  clock: fc.constantFrom({}, { now: () => 0 }),
  resolver: fc.constantFrom(undefined, {}),
  dialer: fc.constantFrom(undefined, {}),
}, {
  requiredKeys: [],
}).map((record) => {
  // The broken ones in only one run of four.
  const { clock, resolver, dialer, ...rest } = record;
  return rest.network === "tcp6" && clock !== undefined
    ? { ...rest, clock, resolver, dialer }
    : rest;
});

interface Outcome {
  settled: boolean;
  error?: unknown;
  value?: FakeConn;
}

/** Dials on a fresh virtual clock and runs it dry. */
async function dialOnce(
  address: string,
  extra: Record<string, unknown>,
  script: ResolverScript = {},
): Promise<{ outcome: Outcome; clock: VirtualClock; dialer: FakeDialer }> {
  const clock = new VirtualClock();
  // Answers no name (NXDOMAIN at 0) unless scripted, refuses every connect
  // after 1 ms.
  const resolver = new FakeResolver(clock, script);
  const dialer = new FakeDialer(clock, {}, { after: 1, fail: "ECONNREFUSED" });
  const outcome: Outcome = { settled: false };
  let promise: Promise<FakeConn>;
  try {
    promise = dial<FakeConn>(address, {
      resolver,
      dialer,
      clock,
      ...extra,
    } as never);
  } catch (error) {
    assert.fail(`dial() threw synchronously: ${String(error)}`);
  }
  assert.ok(promise instanceof Promise, "dial() returns a promise");
  promise.then(
    (value) => Object.assign(outcome, { settled: true, value }),
    (error) => Object.assign(outcome, { settled: true, error }),
  );
  await clock.runAll();
  await flush();
  return { outcome, clock, dialer };
}

/** How the runs ended, for the test's diagnostic line. */
class Tally {
  readonly counts: Record<string, number> = {};
  connects = 0;
  runs = 0;

  add(kind: string, connects: number): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    this.runs++;
    if (connects > 0) this.connects++;
  }

  toString(): string {
    return `${this.runs} dials: ${
      Object.entries(this.counts).map(([k, n]) => `${k} ${n}`).join(", ")
    }; ${this.connects} reached the dialer`;
  }
}

function checkOutcome(
  address: string,
  extra: Record<string, unknown>,
  { outcome, clock, dialer }: Awaited<ReturnType<typeof dialOnce>>,
  tally: Tally,
): void {
  const label = `${JSON.stringify(address)} ${
    JSON.stringify(extra, (_k, v) => typeof v === "function" ? "fn" : v)
  }`;
  assert.ok(outcome.settled, `${label}: the dial must settle, not hang`);
  assert.equal(outcome.value, undefined, `${label}: nothing can connect`);
  const error = outcome.error as Error;
  assert.ok(
    ALLOWED.some((kind) => error instanceof kind),
    `${label}: unexpected ${error?.constructor?.name}: ${String(error)}`,
  );
  if (error instanceof TypeError || error instanceof RangeError) {
    // Ours all say what cannot be used; anything else is a crash.
    assert.match(error.message, /^Cannot /, `${label}: ${error.message}`);
  }
  if (error instanceof DialError) {
    assert.ok(error.errors.length > 0, label);
    for (const e of error.errors) assert.ok(e instanceof OpError, label);
  }
  assert.equal(clock.pending, 0, `${label}: no timer may be left`);
  assert.deepEqual(dialer.open, [], `${label}: no connection may be left`);
  tally.add(error.name, dialer.calls.length);
}

/**
 * Runs `body` and fails if any rejection went unhandled meanwhile. Hook
 * errors (from the throwing trace among the options) are counted, not
 * printed.
 */
async function noUnhandledRejection(body: () => Promise<void>) {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  const previous = setHookErrorHandler(() => {});
  try {
    await body();
    // Runtimes report unhandled rejections after a macrotask turn.
    await flush();
    await flush();
  } finally {
    setHookErrorHandler(previous);
    process.off("unhandledRejection", onUnhandled);
  }
  assert.deepEqual(unhandled, [], "no rejection may go unhandled");
}

test("dial() on random addresses always settles with AddrError, TypeError, RangeError or DialError", async (t) => {
  const tally = new Tally();
  await noUnhandledRejection(() =>
    fc.assert(
      fc.asyncProperty(anyAddress, async (address) => {
        checkOutcome(address, {}, await dialOnce(address, {}), tally);
      }),
      { numRuns: RUNS },
    )
  );
  assert.ok(tally.runs >= RUNS);
  t.diagnostic(String(tally));
});

test("dial() on grammar-built host:port addresses with random options always settles with one of the four errors", async (t) => {
  const tally = new Tally();
  await noUnhandledRejection(() =>
    fc.assert(
      fc.asyncProperty(hostPort, options, async (address, extra) => {
        checkOutcome(address, extra, await dialOnce(address, extra), tally);
      }),
      { numRuns: RUNS },
    )
  );
  assert.ok(tally.runs >= RUNS);
  t.diagnostic(String(tally));
});

/** Names that resolve, at staggered times, to addresses that all refuse. */
const SCRIPT: ResolverScript = {
  "h.test": {
    6: { at: 3, addrs: ["2001:db8::1", "2001:db8::2"] },
    4: { at: 1, addrs: ["192.0.2.1", "169.254.169.254"] },
  },
  "xn--bcher-kva.test": {
    6: { at: 0, addrs: ["::1"] },
    4: { at: 60, addrs: ["127.0.0.1"] },
  },
  "H.TEST.": { 6: { at: 0, addrs: [] }, 4: { at: 0, error: "servfail" } },
};

test("dial() on well-formed names and literals with random options always settles with one of the four errors", async (t) => {
  const tally = new Tally();
  const wellFormed = fc.tuple(
    fc.constantFrom(
      "h.test",
      "bücher.test",
      "H.TEST.",
      "127.0.0.1",
      "[::1]",
      "[fe80::1%eth0]",
      "[::ffff:169.254.169.254]",
      "",
    ),
    fc.constantFrom("80", "443", "http", "0", "65536", "x"),
  ).map(([h, p]) => `${h}:${p}`);
  await noUnhandledRejection(() =>
    fc.assert(
      fc.asyncProperty(wellFormed, options, async (address, extra) => {
        checkOutcome(
          address,
          extra,
          await dialOnce(address, extra, SCRIPT),
          tally,
        );
      }),
      { numRuns: RUNS },
    )
  );
  assert.ok(tally.runs >= RUNS);
  t.diagnostic(String(tally));
});
