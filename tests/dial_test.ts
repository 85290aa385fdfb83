// Exact-time tests of dial(): a scripted resolver and dialer on a virtual
// clock, so every lookup, attempt and hook is checked at the millisecond it
// happens. Nothing here sleeps or touches a network: the fake dialer never
// opens a socket (the documentation prefixes 2001:db8::/32 and 192.0.2.0/24
// stand for "some other address").

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  AddrError,
  background,
  type ConnectDoneInfo,
  type ConnectStartInfo,
  currentContext,
  dial,
  type Dialer,
  DialError,
  type DNSDoneInfo,
  DNSError,
  type Endpoint,
  type Family,
  formatEndpoint,
  type IPAddr,
  LookupIPAltResolverKey,
  type Network,
  OpError,
  type Resolver,
  runWithContext,
  setHookErrorHandler,
  type Trace,
  withSignal,
  withTrace,
  withValue,
} from "../mod.ts";
import type { CoreDialOptions } from "../src/dial.ts";
import {
  type Env,
  makeEnv,
  type Settled,
  startDial,
  watch,
} from "./_dial_env.ts";
import {
  type FakeConn,
  FakeDialer,
  FakeResolver,
  flush,
  type Outcome,
  recordingTrace,
  type ResolverScript,
  VirtualClock,
} from "./_virtual_clock.ts";

const A = "2001:db8::a";
const B = "2001:db8::b";
const C = "2001:db8::c";
const X = "192.0.2.1";
const Y = "192.0.2.2";

const CONNECT: Outcome = { after: 1, connect: true };
const REFUSED: Outcome = { after: 1, fail: "ECONNREFUSED" };

const env = (
  script: ResolverScript,
  outcomes: Record<string, Outcome> = {},
  fallback: Outcome = { hang: true },
): Env => makeEnv(script, outcomes, fallback);

type Options = Partial<CoreDialOptions<FakeConn>>;
const start = (t: Env, address: string, options: Options = {}) =>
  startDial(t, address, options);

/**
 * The end of every test: no timer left on the clock, and the only open
 * connections are the ones the dials returned (closed here).
 */
async function done(t: Env, ...conns: (FakeConn | undefined)[]) {
  await flush();
  assert.equal(t.clock.pending, 0, "no timer may be left");
  assert.deepEqual(
    t.dialer.open,
    conns.filter((c) => c !== undefined),
    "only the returned connections may be open",
  );
  for (const conn of conns) if (conn !== undefined) t.dialer.close(conn);
}

function rejectedWith<T>(r: Settled<T>): unknown {
  assert.equal(r.state, "rejected", "the dial must have rejected");
  return r.reason;
}

function resolved<T>(r: Settled<T>): T {
  assert.equal(
    r.state,
    "resolved",
    `the dial must have resolved, got ${r.state} ${String(r.reason)}`,
  );
  return r.value!;
}

function dialError(r: Settled<unknown>): DialError {
  const error = rejectedWith(r);
  assert.ok(error instanceof DialError, `not a DialError: ${String(error)}`);
  assert.ok(error instanceof AggregateError);
  return error;
}

/** A trace that keeps every info object it is given. */
function capturingTrace() {
  const seen = {
    dnsStart: [] as { host: string }[],
    dnsDone: [] as DNSDoneInfo[],
    connectStart: [] as ConnectStartInfo[],
    connectDone: [] as ConnectDoneInfo[],
  };
  const trace: Trace = {
    dnsStart: (i) => void seen.dnsStart.push(i),
    dnsDone: (i) => void seen.dnsDone.push(i),
    connectStart: (i) => void seen.connectStart.push(i),
    connectDone: (i) => void seen.connectDone.push(i),
  };
  return { seen, trace };
}

interface ManualAttempt {
  endpoint: Endpoint;
  addr: string;
  signal: AbortSignal;
  succeed(): FakeConn;
  fail(error: Error): void;
}

/**
 * A dialer whose attempts settle only when the test says so — also after
 * their signal aborted, like a connect that completed just as it was
 * cancelled.
 */
class ManualDialer implements Dialer<FakeConn> {
  readonly attempts: ManualAttempt[] = [];
  readonly conns: FakeConn[] = [];

  get open(): FakeConn[] {
    return this.conns.filter((c) => !c.closed);
  }

  attempt(addr: string): ManualAttempt {
    const found = this.attempts.find((a) => a.addr === addr);
    assert.ok(found, `no attempt to ${addr}`);
    return found;
  }

  connect(endpoint: Endpoint, options: { signal: AbortSignal }) {
    const addr = formatEndpoint(endpoint);
    return new Promise<FakeConn>((resolve, reject) => {
      this.attempts.push({
        endpoint,
        addr,
        signal: options.signal,
        succeed: () => {
          const conn: FakeConn = { endpoint, addr, closed: false };
          this.conns.push(conn);
          resolve(conn);
          return conn;
        },
        fail: reject,
      });
    });
  }

  close(conn: FakeConn): void {
    conn.closed = true;
  }
}

// ── the example table of DESIGN.md, end to end ─────────────────────────

test("dial() table: A [v4] at 10 with AAAA pending starts v4 at 60", async () => {
  const t = env(
    { "h.test": { 4: { at: 10, addrs: ["127.0.0.1"] }, 6: { hang: true } } },
    { "127.0.0.1:80": { after: 5, connect: true } },
  );
  const r = start(t, "h.test:80");
  await t.clock.advanceTo(59);
  assert.deepEqual(t.dialer.starts, []);
  await t.clock.advanceTo(100);
  assert.deepEqual(t.dialer.starts, ["127.0.0.1:80@60"]);
  const conn = resolved(r);
  assert.equal(conn.addr, "127.0.0.1:80");
  assert.equal(r.at, 65);
  assert.deepEqual(t.log, [
    "0 dnsStart h.test",
    "60 connectStart tcp 127.0.0.1:80",
    "65 connectDone tcp 127.0.0.1:80",
    "65 dnsDone h.test [127.0.0.1]",
  ]);
  // The AAAA query nobody waits for any more is given up at the win.
  assert.equal(t.resolver.calls.find((c) => c.family === 6)!.abortedAt, 65);
  await done(t, conn);
});

test("dial() table: A at 30 and AAAA at 40 with IPv6 hanging start v6 at 40 and v4 at 290", async () => {
  const t = env(
    {
      "h.test": {
        4: { at: 30, addrs: ["127.0.0.1"] },
        6: { at: 40, addrs: ["::1"] },
      },
    },
    { "127.0.0.1:80": { after: 10, connect: true } },
  );
  const r = start(t, "h.test:80");
  await t.clock.advanceTo(1000);
  assert.deepEqual(t.dialer.starts, ["[::1]:80@40", "127.0.0.1:80@290"]);
  const conn = resolved(r);
  assert.equal(conn.addr, "127.0.0.1:80");
  assert.equal(r.at, 300);
  assert.equal(t.dialer.calls[0]!.abortedAt, 300);
  await done(t, conn);
});

test("dial() table: A at 30 and an empty AAAA at 35 start v4 at 35", async () => {
  const t = env(
    {
      "h.test": {
        4: { at: 30, addrs: ["127.0.0.1"] },
        6: { at: 35, addrs: [] },
      },
    },
    { "127.0.0.1:80": CONNECT },
  );
  const r = start(t, "h.test:80");
  await t.clock.advanceTo(1000);
  assert.deepEqual(t.dialer.starts, ["127.0.0.1:80@35"]);
  assert.equal(r.at, 36);
  await done(t, resolved(r));
});

test("dial() table: AAAA [a,b,c] at 0 and A [x] at 100, all hanging, start a@0 x@250 b@500 c@750", async () => {
  const t = env({
    "h.test": { 6: { at: 0, addrs: [A, B, C] }, 4: { at: 100, addrs: [X] } },
  });
  const r = start(t, "h.test:80", { timeout: 1000 });
  await t.clock.advanceTo(999);
  assert.deepEqual(t.dialer.starts, [
    `[${A}]:80@0`,
    `${X}:80@250`,
    `[${B}]:80@500`,
    `[${C}]:80@750`,
  ]);
  assert.equal(r.state, "pending");
  await t.clock.advanceTo(1000);
  assert.equal((rejectedWith(r) as DOMException).name, "TimeoutError");
  assert.deepEqual(t.dialer.calls.map((c) => c.abortedAt), [
    1000,
    1000,
    1000,
    1000,
  ]);
  await done(t);
});

test("dial() table: firstAddressFamilyCount 2 with AAAA [a,b,c] and A [x,y] at 0 starts a@0 b@250 x@500 c@750 y@1000", async () => {
  const t = env({
    "h.test": { 6: { at: 0, addrs: [A, B, C] }, 4: { at: 0, addrs: [X, Y] } },
  });
  const r = start(t, "h.test:80", {
    firstAddressFamilyCount: 2,
    timeout: 1100,
  });
  await t.clock.advanceTo(1100);
  assert.deepEqual(t.dialer.starts, [
    `[${A}]:80@0`,
    `[${B}]:80@250`,
    `${X}:80@500`,
    `[${C}]:80@750`,
    `${Y}:80@1000`,
  ]);
  rejectedWith(r);
  await done(t);
});

test("dial() table: IPv6 refused at 2 starts v4 at 10 and v4 wins", async () => {
  const t = env(
    {
      "h.test": {
        6: { at: 0, addrs: ["::1"] },
        4: { at: 0, addrs: ["127.0.0.1"] },
      },
    },
    {
      "[::1]:80": { after: 2, fail: "ECONNREFUSED" },
      "127.0.0.1:80": CONNECT,
    },
  );
  const r = start(t, "h.test:80");
  await t.clock.advanceTo(100);
  assert.deepEqual(t.dialer.starts, ["[::1]:80@0", "127.0.0.1:80@10"]);
  const conn = resolved(r);
  assert.equal(conn.addr, "127.0.0.1:80");
  assert.equal(r.at, 11);
  assert.deepEqual(t.log, [
    "0 dnsStart h.test",
    "0 connectStart tcp [::1]:80",
    "0 dnsDone h.test [::1,127.0.0.1]",
    "2 connectDone tcp [::1]:80 error=dial tcp [::1]:80: connect: connection refused",
    "10 connectStart tcp 127.0.0.1:80",
    "11 connectDone tcp 127.0.0.1:80",
  ]);
  await done(t, conn);
});

// ── behaviour 1: dnsStart / dnsDone ─────────────────────────────────────

test("dial() behaviour 1: dnsStart fires once per dial, also when the lookup is shared", async () => {
  const t = env(
    {
      "h.test": {
        6: { at: 10, addrs: ["::1"] },
        4: { at: 10, addrs: ["127.0.0.1"] },
      },
    },
    { "[::1]:80": CONNECT },
  );
  const log2: string[] = [];
  const r1 = start(t, "h.test:80");
  const r2 = start(t, "h.test:80", { trace: recordingTrace(t.clock, log2) });
  await t.clock.advanceTo(100);
  assert.equal(t.resolver.calls.length, 2);
  for (const log of [t.log, log2]) {
    assert.deepEqual(log.filter((l) => l.includes("dnsStart")), [
      "0 dnsStart h.test",
    ]);
    assert.deepEqual(log.filter((l) => l.includes("dnsDone")), [
      "10 dnsDone h.test [::1,127.0.0.1] coalesced",
    ]);
  }
  await done(t, resolved(r1), resolved(r2));
});

test("dial() behaviour 1: dnsStart reports the host exactly as dialled", async () => {
  const t = env(
    { "H.Test": { 6: { at: 0, addrs: ["::1"] }, 4: { at: 0, addrs: [] } } },
    { "[::1]:443": CONNECT },
  );
  const r = start(t, "H.Test:https");
  await t.clock.advanceTo(10);
  assert.deepEqual(t.log.slice(0, 1), ["0 dnsStart H.Test"]);
  assert.deepEqual(t.resolver.calls.map((c) => c.host), ["H.Test", "H.Test"]);
  await done(t, resolved(r));
});

test("dial() behaviour 1: no DNS hooks and no lookup for IP literals (zoned IPv6 too) or an empty host", async () => {
  const cases: [string, Network, string][] = [
    ["127.0.0.1:80", "tcp", "127.0.0.1:80"],
    ["[::1]:80", "tcp", "[::1]:80"],
    ["[fe80::1%eth0]:80", "tcp", "[fe80::1%eth0]:80"],
    ["[::ffff:127.0.0.1]:80", "tcp", "127.0.0.1:80"],
    [":80", "tcp", "[::1]:80"],
    [":80", "tcp4", "127.0.0.1:80"],
  ];
  for (const [address, network, addr] of cases) {
    const t = env({}, {}, CONNECT);
    const r = start(t, address, { network });
    await t.clock.advanceTo(10);
    assert.deepEqual(t.resolver.calls, [], address);
    assert.deepEqual(t.log, [
      `0 connectStart ${network} ${addr}`,
      `1 connectDone ${network} ${addr}`,
    ], address);
    await done(t, resolved(r));
  }
});

test("dial() behaviour 1: dnsDone fires once, when both families have answered", async () => {
  const t = env(
    {
      "h.test": {
        6: { at: 0, addrs: ["::1"] },
        4: { at: 30, addrs: ["127.0.0.1"] },
      },
    },
    { "127.0.0.1:80": { after: 5, connect: true } },
  );
  const r = start(t, "h.test:80");
  await t.clock.advanceTo(1000);
  assert.deepEqual(t.log, [
    "0 dnsStart h.test",
    "0 connectStart tcp [::1]:80",
    "30 dnsDone h.test [::1,127.0.0.1]",
    "250 connectStart tcp 127.0.0.1:80",
    "255 connectDone tcp 127.0.0.1:80",
    "255 connectDone tcp [::1]:80 error=dial tcp [::1]:80: operation was canceled",
  ]);
  await done(t, resolved(r));
});

test("dial() behaviour 1: dnsDone fires at the win with the addresses that arrived", async () => {
  const t = env(
    { "h.test": { 6: { at: 0, addrs: ["::1"] }, 4: { hang: true } } },
    { "[::1]:80": { after: 5, connect: true } },
  );
  const r = start(t, "h.test:80");
  await t.clock.advanceTo(100);
  assert.deepEqual(t.log, [
    "0 dnsStart h.test",
    "0 connectStart tcp [::1]:80",
    "5 connectDone tcp [::1]:80",
    "5 dnsDone h.test [::1]",
  ]);
  assert.equal(t.resolver.calls[1]!.abortedAt, 5);
  await done(t, resolved(r));
});

test("dial() behaviour 1: dnsDone fires at an abort, with what arrived or with the reason", async () => {
  // Nothing arrived: the error says why the lookup was given up.
  const t = env({ "h.test": { 6: { hang: true }, 4: { hang: true } } });
  const ac = new AbortController();
  const r = start(t, "h.test:80", { signal: ac.signal });
  await t.clock.advanceTo(20);
  ac.abort();
  await flush();
  assert.deepEqual(t.log, [
    "0 dnsStart h.test",
    "20 dnsDone h.test [] error=lookup h.test: operation was canceled",
  ]);
  rejectedWith(r);
  await done(t);

  // AAAA arrived: dnsDone has it and no error.
  const u = env({
    "h.test": { 6: { at: 0, addrs: ["::1"] }, 4: { hang: true } },
  });
  const ac2 = new AbortController();
  const r2 = start(u, "h.test:80", { signal: ac2.signal });
  await u.clock.advanceTo(20);
  ac2.abort();
  await flush();
  assert.deepEqual(u.log, [
    "0 dnsStart h.test",
    "0 connectStart tcp [::1]:80",
    "20 dnsDone h.test [::1]",
    "20 connectDone tcp [::1]:80 error=dial tcp [::1]:80: operation was canceled",
  ]);
  rejectedWith(r2);
  await done(u);
});

test("dial() behaviour 1: dnsDone carries the lookup error when no address was found", async () => {
  const t = env({});
  const { seen, trace } = capturingTrace();
  const r = start(t, "nosuch.test:80", { trace });
  await t.clock.advanceTo(10);
  dialError(r);
  assert.equal(seen.dnsStart.length, 1);
  assert.equal(seen.dnsDone.length, 1);
  const info = seen.dnsDone[0]!;
  assert.deepEqual(info.addrs, []);
  assert.equal(info.coalesced, false);
  assert.ok(info.error instanceof DNSError);
  assert.equal(info.error.message, "lookup nosuch.test: no such host");
  await done(t);
});

test("dial() behaviour 1: dnsDone has no error and its own copy of the addresses on success", async () => {
  const t = env(
    { "h.test": { 6: { at: 0, addrs: ["::1"] }, 4: { at: 0, addrs: [] } } },
    { "[::1]:80": CONNECT },
  );
  const one = capturingTrace();
  const two = capturingTrace();
  const r1 = start(t, "h.test:80", { trace: one.trace });
  const r2 = start(t, "h.test:80", { trace: two.trace });
  await t.clock.advanceTo(10);
  const [a, b] = [one.seen.dnsDone[0]!, two.seen.dnsDone[0]!];
  assert.equal("error" in a, false);
  assert.deepEqual(a.addrs, [{ address: "::1", family: 6 }]);
  assert.deepEqual(b.addrs, a.addrs);
  assert.notEqual(a.addrs, b.addrs);
  assert.notEqual(a.addrs[0], b.addrs[0]);
  await done(t, resolved(r1), resolved(r2));
});

// ── behaviour 2: coalesced ─────────────────────────────────────────────

test("dial() behaviour 2: two concurrent dials of one host share each family's query and both see coalesced", async () => {
  const t = env(
    {
      "h.test": {
        6: { at: 10, addrs: ["::1"] },
        4: { at: 20, addrs: ["127.0.0.1"] },
      },
    },
    { "[::1]:80": CONNECT },
  );
  const one = capturingTrace();
  const two = capturingTrace();
  const r1 = start(t, "h.test:80", { trace: one.trace });
  const r2 = start(t, "h.test:80", { trace: two.trace });
  await t.clock.advanceTo(100);
  assert.deepEqual(
    t.resolver.calls.map((c) => `${c.family}@${c.at}`),
    ["6@0", "4@0"],
  );
  assert.equal(one.seen.dnsDone[0]!.coalesced, true);
  assert.equal(two.seen.dnsDone[0]!.coalesced, true);
  await done(t, resolved(r1), resolved(r2));
});

test("dial() behaviour 2: a dial alone, or after another finished, is not coalesced", async () => {
  const t = env(
    { "h.test": { 6: { at: 10, addrs: ["::1"] }, 4: { at: 10, addrs: [] } } },
    { "[::1]:80": CONNECT },
  );
  const r1 = start(t, "h.test:80");
  await t.clock.advanceTo(100);
  const r2 = start(t, "h.test:80");
  await t.clock.advanceTo(200);
  assert.deepEqual(t.log.filter((l) => l.includes("dnsDone")), [
    "10 dnsDone h.test [::1]",
    // The script's times are absolute: the second lookup answers at once.
    "100 dnsDone h.test [::1]",
  ]);
  assert.equal(t.resolver.calls.length, 4);
  await done(t, resolved(r1), resolved(r2));
});

test("dial() behaviour 2: tcp and tcp4 dials share the A query", async () => {
  const t = env(
    {
      "h.test": {
        6: { at: 10, addrs: [] },
        4: { at: 10, addrs: ["127.0.0.1"] },
      },
    },
    { "127.0.0.1:80": CONNECT },
  );
  const one = capturingTrace();
  const four = capturingTrace();
  const r1 = start(t, "h.test:80", { trace: one.trace });
  const r4 = start(t, "h.test:80", { network: "tcp4", trace: four.trace });
  await t.clock.advanceTo(100);
  assert.deepEqual(t.resolver.calls.map((c) => c.family), [6, 4]);
  assert.equal(one.seen.dnsDone[0]!.coalesced, true);
  assert.equal(four.seen.dnsDone[0]!.coalesced, true);
  assert.equal(four.seen.connectStart[0]!.network, "tcp4");
  await done(t, resolved(r1), resolved(r4));
});

test("dial() behaviour 2: coalesced stays true when the dial wins before its shared query answers", async () => {
  // The tcp dial shares only the A query with the tcp4 dial, and wins over
  // IPv6 while that query still hangs: leaving it must not hide the sharing.
  const t = env(
    { "h.test": { 6: { at: 0, addrs: ["::1"] }, 4: { hang: true } } },
    { "[::1]:80": { after: 10, connect: true } },
  );
  const one = capturingTrace();
  const ac = new AbortController();
  const r1 = start(t, "h.test:80", { trace: one.trace });
  const r4 = start(t, "h.test:80", { network: "tcp4", signal: ac.signal });
  await t.clock.advanceTo(10);
  const conn = resolved(r1);
  assert.deepEqual(one.seen.dnsDone.map((i) => i.coalesced), [true]);
  // The tcp4 dial still waits on the A query, which is still running.
  assert.equal(t.resolver.calls[1]!.abortedAt, undefined);
  ac.abort();
  await flush();
  rejectedWith(r4);
  assert.equal(t.resolver.calls[1]!.abortedAt, 10);
  await done(t, conn);
});

// ── behaviour 3: connectStart / connectDone ────────────────────────────

test("dial() behaviour 3: connectStart and connectDone fire once per endpoint with the user's network and Go's addr", async () => {
  const t = env(
    {
      "h.test": {
        6: { at: 0, addrs: ["::1"] },
        4: { at: 0, addrs: ["127.0.0.1"] },
      },
    },
    { "[::1]:80": { after: 2, fail: "ECONNREFUSED" }, "127.0.0.1:80": CONNECT },
  );
  const { seen, trace } = capturingTrace();
  const r = start(t, "h.test:80", { trace });
  await t.clock.advanceTo(100);
  assert.deepEqual(seen.connectStart, [
    { network: "tcp", addr: "[::1]:80", family: 6, attempt: 0, cause: "first" },
    {
      network: "tcp",
      addr: "127.0.0.1:80",
      family: 4,
      attempt: 1,
      cause: "failure",
    },
  ]);
  assert.equal(seen.connectDone.length, 2);
  const [refused, ok] = seen.connectDone;
  assert.equal(refused!.addr, "[::1]:80");
  assert.ok(refused!.error instanceof OpError);
  assert.equal(
    refused!.error.message,
    "dial tcp [::1]:80: connect: connection refused",
  );
  assert.deepEqual(ok, {
    network: "tcp",
    addr: "127.0.0.1:80",
    family: 4,
    attempt: 1,
  });
  assert.equal("error" in ok!, false);
  await done(t, resolved(r));
});

test("dial() behaviour 3: a loser's connectDone fires with operation was canceled", async () => {
  const t = env(
    {
      "h.test": {
        6: { at: 0, addrs: ["::1"] },
        4: { at: 0, addrs: ["127.0.0.1"] },
      },
    },
    { "127.0.0.1:80": CONNECT },
  );
  const { seen, trace } = capturingTrace();
  const r = start(t, "h.test:80", { trace, network: "tcp" });
  await t.clock.advanceTo(300);
  const conn = resolved(r);
  assert.equal(conn.addr, "127.0.0.1:80");
  assert.deepEqual(seen.connectDone.map((i) => i.addr), [
    "127.0.0.1:80",
    "[::1]:80",
  ]);
  const loser = seen.connectDone[1]!;
  assert.equal(loser.network, "tcp");
  assert.equal(
    loser.error?.message,
    "dial tcp [::1]:80: operation was canceled",
  );
  assert.equal(t.dialer.calls[0]!.abortedAt, 251);
  await done(t, conn);
});

test("dial() behaviour 3: the network string is the user's (tcp6 stays tcp6)", async () => {
  const t = env(
    { "h.test": { 6: { at: 0, addrs: ["::1"] }, 4: { at: 0, addrs: [X] } } },
    { "[::1]:8080": CONNECT },
  );
  const r = start(t, "h.test:8080", { network: "tcp6" });
  await t.clock.advanceTo(10);
  assert.deepEqual(t.log, [
    "0 dnsStart h.test",
    // One family: its answer is the end of the lookup, before the attempt.
    "0 dnsDone h.test [::1]",
    "0 connectStart tcp6 [::1]:8080",
    "1 connectDone tcp6 [::1]:8080",
  ]);
  // Only the AAAA query was made.
  assert.deepEqual(t.resolver.calls.map((c) => c.family), [6]);
  await done(t, resolved(r));
});

// ── behaviour 4: composing traces, hooks that throw ────────────────────

function orderTrace(name: string, order: string[]): Trace {
  return {
    dnsStart: () => void order.push(`${name} dnsStart`),
    dnsDone: () => void order.push(`${name} dnsDone`),
    connectStart: () => void order.push(`${name} connectStart`),
    connectDone: () => void order.push(`${name} connectDone`),
  };
}

test("dial() behaviour 4: withTrace composes, the newest trace's hook first", async () => {
  const t = env(
    { "h.test": { 6: { at: 0, addrs: ["::1"] }, 4: { at: 0, addrs: [] } } },
    { "[::1]:80": CONNECT },
  );
  const order: string[] = [];
  const ctx = withTrace(
    withTrace(background, orderTrace("old", order)),
    orderTrace("new", order),
  );
  const r = start(t, "h.test:80", { context: ctx, trace: undefined });
  await t.clock.advanceTo(10);
  assert.deepEqual(order, [
    "new dnsStart",
    "old dnsStart",
    "new connectStart",
    "old connectStart",
    "new dnsDone",
    "old dnsDone",
    "new connectDone",
    "old connectDone",
  ]);
  await done(t, resolved(r));
});

test("dial() behaviour 4: options.trace composes with the context's trace and runs first", async () => {
  const t = env({}, {}, CONNECT);
  const order: string[] = [];
  const ctx = withTrace(background, orderTrace("context", order));
  const r = start(t, "127.0.0.1:80", {
    context: ctx,
    trace: orderTrace("options", order),
  });
  await t.clock.advanceTo(10);
  assert.deepEqual(order, [
    "options connectStart",
    "context connectStart",
    "options connectDone",
    "context connectDone",
  ]);
  await done(t, resolved(r));
});

test("dial() behaviour 4: hooks that throw never change the outcome and are reported", async () => {
  const reported: [string, string][] = [];
  const previous = setHookErrorHandler((error, hook) => {
    reported.push([hook, (error as Error).message]);
  });
  try {
    const t = env(
      {
        "h.test": {
          6: { at: 0, addrs: ["::1"] },
          4: { at: 0, addrs: ["127.0.0.1"] },
        },
      },
      { "[::1]:80": REFUSED, "127.0.0.1:80": CONNECT },
    );
    const throwing: Trace = {
      dnsStart: () => {
        throw new Error("s");
      },
      dnsDone: () => {
        throw new Error("d");
      },
      connectStart: () => {
        throw new Error("cs");
      },
      connectDone: () => {
        throw new Error("cd");
      },
    };
    const order: string[] = [];
    // The older trace still runs after the newer one threw.
    const ctx = withTrace(background, orderTrace("old", order));
    const r = start(t, "h.test:80", { context: ctx, trace: throwing });
    await t.clock.advanceTo(100);
    const conn = resolved(r);
    assert.equal(conn.addr, "127.0.0.1:80");
    assert.deepEqual(t.dialer.starts, ["[::1]:80@0", "127.0.0.1:80@10"]);
    assert.deepEqual(reported, [
      ["dnsStart", "s"],
      ["connectStart", "cs"],
      ["dnsDone", "d"],
      ["connectDone", "cd"],
      ["connectStart", "cs"],
      ["connectDone", "cd"],
    ]);
    assert.deepEqual(order, [
      "old dnsStart",
      "old connectStart",
      "old dnsDone",
      "old connectDone",
      "old connectStart",
      "old connectDone",
    ]);
    await done(t, conn);
  } finally {
    setHookErrorHandler(previous);
  }
});

test("dial() behaviour 4: hooks that return a rejected promise never change the outcome and are reported", async () => {
  const reported: [string, unknown][] = [];
  const previous = setHookErrorHandler((error, hook) => {
    reported.push([hook, error]);
  });
  try {
    const t = env(
      { "h.test": { 6: { at: 0, addrs: [] }, 4: { at: 0, addrs: [] } } },
    );
    const reason = new Error("async hook");
    const rejecting: Trace = {
      dnsStart: () => Promise.reject(reason),
      dnsDone: async () => {
        await null;
        throw reason;
      },
    };
    const r = start(t, "h.test:80", { trace: rejecting });
    await t.clock.advanceTo(10);
    const error = dialError(r);
    assert.equal(error.message, "dial tcp: lookup h.test: no such host");
    assert.deepEqual(reported, [["dnsStart", reason], ["dnsDone", reason]]);
    await done(t);
  } finally {
    setHookErrorHandler(previous);
  }
});

// ── behaviour 5: shared lookups, one caller's abort ────────────────────

test("dial() behaviour 5: one caller's abort rejects only that caller and keeps the shared query", async () => {
  const t = env(
    { "h.test": { 6: { at: 50, addrs: ["::1"] }, 4: { at: 50, addrs: [] } } },
    { "[::1]:80": { after: 5, connect: true } },
  );
  const ac = new AbortController();
  const reason = new Error("caller 1 left");
  const two = capturingTrace();
  const r1 = start(t, "h.test:80", { signal: ac.signal });
  const r2 = start(t, "h.test:80", { trace: two.trace });
  await t.clock.advanceTo(20);
  ac.abort(reason);
  await flush();
  assert.equal(rejectedWith(r1), reason);
  assert.equal(r2.state, "pending");
  assert.deepEqual(t.resolver.calls.map((c) => c.abortedAt), [
    undefined,
    undefined,
  ]);
  await t.clock.advanceTo(100);
  const conn = resolved(r2);
  assert.equal(r2.at, 55);
  assert.equal(two.seen.dnsDone[0]!.coalesced, true);
  assert.equal(t.resolver.calls.length, 2);
  await done(t, conn);
});

test("dial() behaviour 5: the shared query is aborted only when every caller has gone", async () => {
  const t = env({ "h.test": { 6: { hang: true }, 4: { hang: true } } });
  const ac1 = new AbortController();
  const ac2 = new AbortController();
  const r1 = start(t, "h.test:80", { signal: ac1.signal });
  const r2 = start(t, "h.test:80", { signal: ac2.signal });
  await t.clock.advanceTo(10);
  ac1.abort();
  await t.clock.advanceTo(20);
  assert.deepEqual(t.resolver.calls.map((c) => c.abortedAt), [
    undefined,
    undefined,
  ]);
  ac2.abort();
  await flush();
  assert.deepEqual(t.resolver.calls.map((c) => c.abortedAt), [20, 20]);
  assert.equal(rejectedWith(r1), ac1.signal.reason);
  assert.equal(rejectedWith(r2), ac2.signal.reason);
  await done(t);
});

test("dial() behaviour 5: lookups are shared per resolver", async () => {
  const script: ResolverScript = {
    "h.test": { 6: { at: 0, addrs: ["::1"] }, 4: { at: 0, addrs: [] } },
  };
  const t = env(script, { "[::1]:80": CONNECT });
  const other = new FakeResolver(t.clock, script);
  const r1 = start(t, "h.test:80");
  const r2 = start(t, "h.test:80", { resolver: other });
  await t.clock.advanceTo(10);
  assert.equal(t.resolver.calls.length, 2);
  assert.equal(other.calls.length, 2);
  assert.deepEqual(t.log.filter((l) => l.includes("dnsDone")), [
    "0 dnsDone h.test [::1]",
    "0 dnsDone h.test [::1]",
  ]);
  await done(t, resolved(r1), resolved(r2));
});

// ── behaviours 6–10: RFC 8305 timing ───────────────────────────────────

test("dial() behaviour 6: AAAA and A queries start together and neither waits for the other", async () => {
  const t = env(
    { "h.test": { 6: { hang: true }, 4: { at: 10, addrs: ["127.0.0.1"] } } },
    { "127.0.0.1:80": CONNECT },
  );
  const r = start(t, "h.test:80");
  assert.deepEqual(
    t.resolver.calls.map((c) => `${c.family}@${c.at}`),
    ["6@0", "4@0"],
  );
  await t.clock.advanceTo(100);
  assert.deepEqual(t.dialer.starts, ["127.0.0.1:80@60"]);
  await done(t, resolved(r));

  const u = env(
    { "h.test": { 6: { at: 0, addrs: ["::1"] }, 4: { hang: true } } },
    { "[::1]:80": CONNECT },
  );
  const r2 = start(u, "h.test:80");
  await u.clock.advanceTo(100);
  assert.deepEqual(u.dialer.starts, ["[::1]:80@0"]);
  await done(u, resolved(r2));
});

test("dial() behaviour 7: a positive AAAA answer starts IPv6 at once", async () => {
  const t = env(
    { "h.test": { 6: { at: 20, addrs: ["::1"] }, 4: { hang: true } } },
    { "[::1]:80": CONNECT },
  );
  const r = start(t, "h.test:80");
  await t.clock.advanceTo(100);
  assert.deepEqual(t.dialer.starts, ["[::1]:80@20"]);
  await done(t, resolved(r));
});

test("dial() behaviour 7: a positive A answer waits the resolution delay, counted from that answer", async () => {
  for (const [at, delay, expected] of [[10, 50, 60], [25, 100, 125]]) {
    const t = env(
      { "h.test": { 6: { hang: true }, 4: { at: at!, addrs: ["127.0.0.1"] } } },
      { "127.0.0.1:80": CONNECT },
    );
    const r = start(t, "h.test:80", { resolutionDelay: delay });
    await t.clock.advanceTo(1000);
    assert.deepEqual(t.dialer.starts, [`127.0.0.1:80@${expected}`]);
    await done(t, resolved(r));
  }
});

test("dial() behaviour 7: an empty or failed AAAA answer ends the resolution delay at once", async () => {
  const answers = [
    { at: 35, addrs: [] },
    { at: 35, error: "servfail" as const },
    { at: 35, error: "nxdomain" as const },
  ];
  for (const aaaa of answers) {
    const t = env(
      { "h.test": { 6: aaaa, 4: { at: 30, addrs: ["127.0.0.1"] } } },
      { "127.0.0.1:80": CONNECT },
    );
    const r = start(t, "h.test:80");
    await t.clock.advanceTo(1000);
    assert.deepEqual(
      t.dialer.starts,
      ["127.0.0.1:80@35"],
      JSON.stringify(aaaa),
    );
    await done(t, resolved(r));
  }
});

test("dial() behaviour 8: endpoints are interleaved by family, IPv6 first", async () => {
  const t = env({
    "h.test": { 6: { at: 0, addrs: [A, B] }, 4: { at: 0, addrs: [X, Y] } },
  });
  const r = start(t, "h.test:80", { timeout: 2000 });
  await t.clock.advanceTo(2000);
  assert.deepEqual(t.dialer.starts, [
    `[${A}]:80@0`,
    `${X}:80@250`,
    `[${B}]:80@500`,
    `${Y}:80@750`,
  ]);
  rejectedWith(r);
  await done(t);
});

test("dial() behaviour 8: preferredFamily 4 puts IPv4 first and makes AAAA wait the resolution delay", async () => {
  const t = env({
    "h.test": { 6: { at: 0, addrs: [A, B] }, 4: { at: 0, addrs: [X, Y] } },
  });
  const r = start(t, "h.test:80", { preferredFamily: 4, timeout: 2000 });
  await t.clock.advanceTo(2000);
  assert.deepEqual(t.dialer.starts, [
    `${X}:80@0`,
    `[${A}]:80@250`,
    `${Y}:80@500`,
    `[${B}]:80@750`,
  ]);
  rejectedWith(r);
  await done(t);

  const u = env({ "h.test": { 6: { at: 5, addrs: [A] }, 4: { hang: true } } });
  const r2 = start(u, "h.test:80", { preferredFamily: 4, timeout: 1000 });
  await u.clock.advanceTo(1000);
  assert.deepEqual(u.dialer.starts, [`[${A}]:80@55`]);
  rejectedWith(r2);
  await done(u);
});

test("dial() behaviour 8: firstAddressFamilyCount puts that many of the preferred family first", async () => {
  const t = env({
    "h.test": { 6: { at: 0, addrs: [A, B, C] }, 4: { at: 0, addrs: [X] } },
  });
  const r = start(t, "h.test:80", {
    firstAddressFamilyCount: 3,
    attemptDelay: 10,
    timeout: 100,
  });
  await t.clock.advanceTo(100);
  assert.deepEqual(t.dialer.starts, [
    `[${A}]:80@0`,
    `[${B}]:80@10`,
    `[${C}]:80@20`,
    `${X}:80@30`,
  ]);
  rejectedWith(r);
  await done(t);
});

test("dial() behaviour 9: attempts are staggered by attemptDelay and earlier ones keep running", async () => {
  const t = env(
    { "h.test": { 6: { at: 0, addrs: [A, B, C] }, 4: { at: 0, addrs: [] } } },
    { [`[${A}]:80`]: { after: 600, connect: true } },
  );
  const r = start(t, "h.test:80", { attemptDelay: 200 });
  await t.clock.advanceTo(1000);
  assert.deepEqual(t.dialer.starts, [
    `[${A}]:80@0`,
    `[${B}]:80@200`,
    `[${C}]:80@400`,
  ]);
  // The first attempt was never cancelled by the later starts, and won.
  const conn = resolved(r);
  assert.equal(conn.addr, `[${A}]:80`);
  assert.deepEqual(t.dialer.calls.map((c) => c.abortedAt), [
    undefined,
    600,
    600,
  ]);
  await done(t, conn);
});

test("dial() behaviour 9: a failed attempt starts the next at once, but never less than 10 ms after the previous start", async () => {
  const t = env(
    { "h.test": { 6: { at: 0, addrs: [A, B, C] }, 4: { at: 0, addrs: [] } } },
    {
      [`[${A}]:80`]: { after: 3, fail: "ECONNREFUSED" },
      [`[${B}]:80`]: { after: 90, fail: "ECONNRESET" },
      [`[${C}]:80`]: CONNECT,
    },
  );
  const r = start(t, "h.test:80");
  await t.clock.advanceTo(1000);
  assert.deepEqual(t.dialer.starts, [
    `[${A}]:80@0`,
    `[${B}]:80@10`,
    `[${C}]:80@100`,
  ]);
  assert.equal(
    t.log.filter((l) => l.includes("connectStart")).length,
    3,
  );
  await done(t, resolved(r));
});

test("dial() behaviour 9: attemptDelay is clamped to [10 ms, 2 s]", async () => {
  for (const [given, used] of [[0, 10], [3, 10], [5000, 2000]]) {
    const t = env({
      "h.test": { 6: { at: 0, addrs: [A, B] }, 4: { at: 0, addrs: [] } },
    });
    const r = start(t, "h.test:80", { attemptDelay: given, timeout: 3000 });
    await t.clock.advanceTo(3000);
    assert.deepEqual(t.dialer.starts, [`[${A}]:80@0`, `[${B}]:80@${used}`]);
    rejectedWith(r);
    await done(t);
  }
});

test("dial() behaviour 10: an IPv4 address arriving mid-race is tried next", async () => {
  const t = env({
    "h.test": { 6: { at: 0, addrs: [A, B, C] }, 4: { at: 300, addrs: [X] } },
  });
  const r = start(t, "h.test:80", { timeout: 1000 });
  await t.clock.advanceTo(1000);
  assert.deepEqual(t.dialer.starts, [
    `[${A}]:80@0`,
    `[${B}]:80@250`,
    `${X}:80@500`,
    `[${C}]:80@750`,
  ]);
  rejectedWith(r);
  await done(t);
});

test("dial() behaviour 10: addresses arriving after every attempt failed are tried at once", async () => {
  const t = env(
    { "h.test": { 6: { at: 0, addrs: ["::1"] }, 4: { at: 100, addrs: [X] } } },
    { "[::1]:80": REFUSED, [`${X}:80`]: CONNECT },
  );
  const { seen, trace } = capturingTrace();
  const r = start(t, "h.test:80", { trace });
  await t.clock.advanceTo(1000);
  assert.deepEqual(t.dialer.starts, ["[::1]:80@0", `${X}:80@100`]);
  assert.deepEqual(seen.connectStart.map((i) => i.cause), ["first", "answer"]);
  await done(t, resolved(r));
});

// ── behaviour 11: one winner ───────────────────────────────────────────

test("dial() behaviour 11: the first connected attempt wins and every other is cancelled", async () => {
  const t = env(
    { "h.test": { 6: { at: 0, addrs: [A, B] }, 4: { at: 0, addrs: [X] } } },
    { [`${X}:80`]: { after: 300, connect: true } },
  );
  const r = start(t, "h.test:80");
  await t.clock.advanceTo(1000);
  const conn = resolved(r);
  assert.equal(conn.addr, `${X}:80`);
  assert.equal(r.at, 550);
  assert.deepEqual(t.dialer.starts, [
    `[${A}]:80@0`,
    `${X}:80@250`,
    `[${B}]:80@500`,
  ]);
  assert.deepEqual(t.dialer.calls.map((c) => c.abortedAt), [
    550,
    undefined,
    550,
  ]);
  await done(t, conn);
});

test("dial() behaviour 11: exactly one winner also when two complete in the same tick", async () => {
  // a@0 connects after 260, x@250 after 10: both at 260.
  const t = env(
    { "h.test": { 6: { at: 0, addrs: [A] }, 4: { at: 0, addrs: [X] } } },
    {
      [`[${A}]:80`]: { after: 260, connect: true },
      [`${X}:80`]: { after: 10, connect: true },
    },
  );
  const { seen, trace } = capturingTrace();
  const r = start(t, "h.test:80", { trace });
  await t.clock.advanceTo(1000);
  const conn = resolved(r);
  assert.equal(r.at, 260);
  assert.equal(conn.addr, `[${A}]:80`);
  assert.equal(
    seen.connectDone.filter((i) => i.error === undefined).length,
    1,
  );
  assert.equal(seen.connectDone.length, 2);
  await done(t, conn);
});

test("dial() behaviour 11: exactly one winner when two connections resolve in the same microtask turn", async () => {
  const clock = new VirtualClock();
  const resolver = new FakeResolver(clock, {
    "h.test": { 6: { at: 0, addrs: ["::1"] }, 4: { at: 0, addrs: [X] } },
  });
  const dialer = new ManualDialer();
  const { seen, trace } = capturingTrace();
  const r = watch(dial("h.test:80", { resolver, dialer, clock, trace }), clock);
  await clock.advanceTo(250);
  assert.deepEqual(dialer.attempts.map((a) => a.addr), ["[::1]:80", `${X}:80`]);
  const second = dialer.attempt(`${X}:80`);
  const first = dialer.attempt("[::1]:80");
  const loser = second.succeed();
  const winner = first.succeed();
  await flush();
  assert.equal(resolved(r), loser, "the one resolved first wins");
  assert.equal(winner.closed, true);
  assert.equal(loser.closed, false);
  assert.deepEqual(dialer.open, [loser]);
  assert.equal(first.signal.aborted, true);
  assert.equal(second.signal.aborted, false);
  assert.deepEqual(
    seen.connectDone.map((i) => `${i.addr} ${i.error?.message ?? "ok"}`),
    [
      `${X}:80 ok`,
      "[::1]:80 dial tcp [::1]:80: operation was canceled",
    ],
  );
  assert.equal(clock.pending, 0);
  dialer.close(loser);
});

test("dial() behaviour 11: a connection that completes after the win is closed", async () => {
  const clock = new VirtualClock();
  const resolver = new FakeResolver(clock, {
    "h.test": { 6: { at: 0, addrs: ["::1"] }, 4: { at: 0, addrs: [X] } },
  });
  const dialer = new ManualDialer();
  const r = watch(dial("h.test:80", { resolver, dialer, clock }), clock);
  await clock.advanceTo(250);
  const conn = dialer.attempt(`${X}:80`).succeed();
  await flush();
  assert.equal(resolved(r), conn);
  const late = dialer.attempt("[::1]:80");
  assert.equal(late.signal.aborted, true);
  const lateConn = late.succeed();
  await flush();
  assert.equal(lateConn.closed, true);
  assert.deepEqual(dialer.open, [conn]);
  assert.equal(clock.pending, 0);
  dialer.close(conn);
});

// ── behaviour 12: errors ───────────────────────────────────────────────

test("dial() behaviour 12: a refused connect reads dial tcp [::1]:1: connect: connection refused", async () => {
  const t = env({}, { "[::1]:1": REFUSED });
  const r = start(t, "[::1]:1");
  await t.clock.advanceTo(10);
  const error = dialError(r);
  assert.equal(error.message, "dial tcp [::1]:1: connect: connection refused");
  assert.equal(error.errors.length, 1);
  const op = error.errors[0]!;
  assert.ok(op instanceof OpError);
  assert.equal(op.message, "dial tcp [::1]:1: connect: connection refused");
  assert.equal(op.addr, "[::1]:1");
  assert.equal(op.net, "tcp");
  await done(t);
});

test("dial() behaviour 12: DialError lists every attempt's error in start order", async () => {
  const t = env(
    { "h.test": { 6: { at: 0, addrs: [A, B] }, 4: { at: 0, addrs: [X] } } },
    {
      [`[${A}]:80`]: { after: 900, fail: "ETIMEDOUT" },
      [`${X}:80`]: { after: 10, fail: "ECONNREFUSED" },
      [`[${B}]:80`]: { after: 1, fail: "EHOSTUNREACH" },
    },
  );
  const r = start(t, "h.test:80");
  await t.clock.advanceTo(1000);
  assert.deepEqual(t.dialer.starts, [
    `[${A}]:80@0`,
    `${X}:80@250`,
    `[${B}]:80@260`,
  ]);
  const error = dialError(r);
  assert.equal(r.at, 900);
  assert.deepEqual(error.errors.map((e) => e.message), [
    `dial tcp [${A}]:80: connect: connection timed out`,
    `dial tcp ${X}:80: connect: connection refused`,
    `dial tcp [${B}]:80: connect: no route to host`,
  ]);
  assert.equal(error.message, error.errors[0]!.message);
  await done(t);
});

test("dial() behaviour 12: NXDOMAIN on both families reads dial tcp: lookup nosuch.test: no such host, once", async () => {
  const t = env({
    "nosuch.test": {
      6: { at: 5, error: "nxdomain" },
      4: { at: 7, error: "nxdomain" },
    },
  });
  const r = start(t, "nosuch.test:80");
  await t.clock.advanceTo(100);
  const error = dialError(r);
  assert.equal(r.at, 7);
  assert.equal(error.message, "dial tcp: lookup nosuch.test: no such host");
  assert.equal(error.errors.length, 1);
  const op = error.errors[0]!;
  assert.ok(op instanceof OpError);
  assert.ok(op.cause instanceof DNSError);
  assert.equal(op.cause.isNotFound, true);
  assert.deepEqual(t.dialer.calls, []);
  await done(t);
});

test("dial() behaviour 12: a name with no address of either family is no such host", async () => {
  const t = env({
    "empty.test": { 6: { at: 0, addrs: [] }, 4: { at: 0, addrs: [] } },
  });
  const r = start(t, "empty.test:80", { network: "tcp4" });
  await t.clock.advanceTo(10);
  assert.equal(
    dialError(r).message,
    "dial tcp4: lookup empty.test: no such host",
  );
  assert.deepEqual(t.log, [
    "0 dnsStart empty.test",
    "0 dnsDone empty.test [] error=lookup empty.test: no such host",
  ]);
  await done(t);
});

test("dial() behaviour 12: different lookup failures are all listed", async () => {
  const t = env({
    "bad.test": {
      6: { at: 0, error: "servfail" },
      4: { at: 0, error: "nxdomain" },
    },
  });
  const r = start(t, "bad.test:80");
  await t.clock.advanceTo(10);
  assert.deepEqual(dialError(r).errors.map((e) => e.message), [
    "dial tcp: lookup bad.test: server misbehaving",
    "dial tcp: lookup bad.test: no such host",
  ]);
  await done(t);
});

// ── behaviour 13: signal, timeout, context ─────────────────────────────

test("dial() behaviour 13: signal aborts DNS and attempts and rejects with the reason unchanged", async () => {
  const t = env({
    "h.test": { 6: { at: 0, addrs: ["::1", A] }, 4: { hang: true } },
  });
  const ac = new AbortController();
  const reason = { why: "not an Error at all" };
  const r = start(t, "h.test:80", { signal: ac.signal });
  await t.clock.advanceTo(300);
  ac.abort(reason);
  await flush();
  assert.equal(rejectedWith(r), reason);
  assert.equal(r.at, 300);
  assert.deepEqual(t.resolver.calls.map((c) => c.abortedAt), [undefined, 300]);
  assert.deepEqual(t.dialer.calls.map((c) => c.abortedAt), [300, 300]);
  assert.deepEqual(t.log.slice(-3), [
    "300 dnsDone h.test [::1,2001:db8::a]",
    "300 connectDone tcp [::1]:80 error=dial tcp [::1]:80: operation was canceled",
    `300 connectDone tcp [${A}]:80 error=dial tcp [${A}]:80: operation was canceled`,
  ]);
  await done(t);
});

test("dial() behaviour 13: timeout rejects with a TimeoutError naming the attempt, as Go: dial tcp [::1]:80: i/o timeout", async () => {
  const t = env({
    "h.test": { 6: { at: 0, addrs: ["::1"] }, 4: { hang: true } },
  });
  const r = start(t, "h.test:80", { timeout: 300 });
  await t.clock.advanceTo(299);
  assert.equal(r.state, "pending");
  await t.clock.advanceTo(300);
  const error = rejectedWith(r);
  assert.ok(error instanceof DOMException);
  assert.equal(error.name, "TimeoutError");
  // Go names what timed out: the attempt connecting, not the host dialled.
  assert.equal(error.message, "dial tcp [::1]:80: i/o timeout");
  assert.equal(r.at, 300);
  assert.equal(t.resolver.calls[1]!.abortedAt, 300);
  assert.equal(t.dialer.calls[0]!.abortedAt, 300);
  await done(t);
});

test("dial() timeout: each attempt it ends says Go's dial tcp 198.18.0.2:9104: i/o timeout in connectDone, and the dial names the first", async () => {
  // Go 1.22 on bh4.test (A 198.18.0.2, 198.18.0.3, both dropped), timeout
  // 400 ms: connectDone and the dial's error name the attempt (issue 13 D, E).
  const t = env({
    "bh4.test": {
      6: { at: 0, addrs: [] },
      4: { at: 0, addrs: ["198.18.0.2", "198.18.0.3"] },
    },
  });
  const r = start(t, "bh4.test:9104", { timeout: 400 });
  await t.clock.advanceTo(1000);
  const error = rejectedWith(r);
  assert.ok(error instanceof DOMException);
  assert.equal(error.name, "TimeoutError");
  assert.equal(error.message, "dial tcp 198.18.0.2:9104: i/o timeout");
  assert.deepEqual(t.log.slice(-2), [
    "400 connectDone tcp 198.18.0.2:9104 error=dial tcp 198.18.0.2:9104: i/o timeout",
    "400 connectDone tcp 198.18.0.3:9104 error=dial tcp 198.18.0.3:9104: i/o timeout",
  ]);
  await done(t);
});

test("dial() timeout during DNS names the lookup, as Go: dial tcp: lookup slowdns.test: i/o timeout", async () => {
  const t = env({ "slowdns.test": { 6: { hang: true }, 4: { hang: true } } });
  const r = start(t, "slowdns.test:9101", { timeout: 250 });
  await t.clock.advanceTo(250);
  const error = rejectedWith(r) as DOMException;
  assert.equal(error.name, "TimeoutError");
  assert.equal(error.message, "dial tcp: lookup slowdns.test: i/o timeout");
  assert.deepEqual(t.log, [
    "0 dnsStart slowdns.test",
    "250 dnsDone slowdns.test [] error=lookup slowdns.test: i/o timeout",
  ]);
  await done(t);
});

test("dial() of a literal whose attempt times out says i/o timeout in connectDone (fast path and scheduler alike)", async () => {
  for (const signal of [undefined, new AbortController().signal]) {
    const t = env({});
    const r = start(t, "198.18.0.2:9104", { timeout: 100, signal });
    await t.clock.advanceTo(100);
    await flush();
    const error = rejectedWith(r) as DOMException;
    assert.equal(error.message, "dial tcp 198.18.0.2:9104: i/o timeout");
    assert.deepEqual(t.log.slice(-1), [
      "100 connectDone tcp 198.18.0.2:9104 error=dial tcp 198.18.0.2:9104: i/o timeout",
    ]);
    await done(t);
  }
});

test("dial() of a name with an already-aborted signal or context fires dnsStart and dnsDone with operation was canceled, as Go", async () => {
  const ac = new AbortController();
  const reason = new Error("gone");
  ac.abort(reason);
  for (
    const options of [
      { signal: ac.signal },
      { context: withSignal(background, ac.signal) },
    ]
  ) {
    const t = env({ "one4.test": { 4: { at: 0, addrs: [X] } } });
    const r = start(t, "one4.test:9101", options);
    await flush();
    assert.equal(r.state, "rejected");
    assert.deepEqual(t.log, [
      "0 dnsStart one4.test",
      "0 dnsDone one4.test [] error=lookup one4.test: operation was canceled",
    ]);
    assert.deepEqual(t.resolver.calls, []);
    assert.deepEqual(t.dialer.calls, []);
    await done(t);
  }
});

test("dial() behaviour 13: timeout covers DNS, and dnsDone says i/o timeout", async () => {
  const t = env({ "h.test": { 6: { hang: true }, 4: { hang: true } } });
  const r = start(t, "h.test:80", { timeout: 100 });
  await t.clock.advanceTo(100);
  assert.equal((rejectedWith(r) as DOMException).name, "TimeoutError");
  // Go names the lookup that timed out.
  assert.equal(
    (rejectedWith(r) as DOMException).message,
    "dial tcp: lookup h.test: i/o timeout",
  );
  assert.deepEqual(t.log, [
    "0 dnsStart h.test",
    "100 dnsDone h.test [] error=lookup h.test: i/o timeout",
  ]);
  assert.deepEqual(t.resolver.calls.map((c) => c.abortedAt), [100, 100]);
  await done(t);
});

test("dial() behaviour 13: timeout 0 or Infinity means no timeout, and a finished dial leaves no timer", async () => {
  for (const timeout of [0, Infinity]) {
    const t = env({}, { "127.0.0.1:80": { after: 10_000, connect: true } });
    const r = start(t, "127.0.0.1:80", { timeout });
    await t.clock.advanceTo(10_000);
    await done(t, resolved(r));
  }
  const t = env({}, { "127.0.0.1:80": CONNECT });
  const r = start(t, "127.0.0.1:80", { timeout: 500 });
  await t.clock.advanceTo(1);
  await done(t, resolved(r));
});

test("dial() behaviour 13: the context's signal (withSignal) aborts the dial with its reason", async () => {
  const t = env({
    "h.test": { 6: { at: 0, addrs: ["::1"] }, 4: { hang: true } },
  });
  const ac = new AbortController();
  const reason = new Error("request cancelled");
  const ctx = withSignal(background, ac.signal);
  const r = start(t, "h.test:80", { context: ctx });
  await t.clock.advanceTo(50);
  ac.abort(reason);
  await flush();
  assert.equal(rejectedWith(r), reason);
  assert.equal(t.resolver.calls[1]!.abortedAt, 50);
  assert.equal(t.dialer.calls[0]!.abortedAt, 50);
  await done(t);
});

test("dial() behaviour 13: an already aborted signal rejects at once without a lookup or an attempt", async () => {
  const t = env({ "h.test": { 6: { at: 0, addrs: ["::1"] } } });
  const ac = new AbortController();
  ac.abort();
  const r = start(t, "h.test:80", { signal: ac.signal });
  await flush();
  assert.equal(rejectedWith(r), ac.signal.reason);
  const ctx = withSignal(background, ac.signal);
  const r2 = start(t, "127.0.0.1:80", { context: ctx });
  await flush();
  assert.equal(rejectedWith(r2), ac.signal.reason);
  assert.deepEqual(t.resolver.calls, []);
  assert.deepEqual(t.dialer.calls, []);
  // The name's lookup is reported cancelled, as Go does; the literal fires
  // no hook at all.
  assert.deepEqual(t.log, [
    "0 dnsStart h.test",
    "0 dnsDone h.test [] error=lookup h.test: operation was canceled",
  ]);
  await done(t);
});

test("dial() behaviour 13: a connection completing after the abort is closed", async () => {
  const clock = new VirtualClock();
  const resolver = new FakeResolver(clock, {});
  const dialer = new ManualDialer();
  const ac = new AbortController();
  const r = watch(
    dial("[::1]:80", { resolver, dialer, clock, signal: ac.signal }),
    clock,
  );
  await clock.advanceTo(10);
  ac.abort();
  const attempt = dialer.attempt("[::1]:80");
  assert.equal(attempt.signal.aborted, true);
  const conn = attempt.succeed();
  await flush();
  assert.equal(rejectedWith(r), ac.signal.reason);
  assert.equal(conn.closed, true);
  assert.deepEqual(dialer.open, []);
  assert.equal(clock.pending, 0);
});

test("dial() behaviour 13: aborting after the dial finished changes nothing", async () => {
  const t = env({}, { "127.0.0.1:80": CONNECT });
  const ac = new AbortController();
  const r = start(t, "127.0.0.1:80", { signal: ac.signal });
  await t.clock.advanceTo(5);
  const conn = resolved(r);
  ac.abort();
  await flush();
  assert.equal(conn.closed, false);
  await done(t, conn);
});

// ── addresses, ports, networks and options ─────────────────────────────

test("dial() rejects an unparseable address with AddrError and does nothing else", async () => {
  const t = env({});
  for (
    const [address, message] of [
      ["h.test", "dial tcp: address h.test: missing port in address"],
      ["[::1:80", "dial tcp: address [::1:80: missing ']' in address"],
      ["::1:80", "dial tcp: address ::1:80: too many colons in address"],
      ["h.test:99999", "dial tcp: address 99999: invalid port"],
    ]
  ) {
    const r = start(t, address!);
    await flush();
    const error = rejectedWith(r);
    assert.ok(error instanceof AddrError, address);
    assert.equal(error.message, message);
  }
  assert.deepEqual(t.resolver.calls, []);
  assert.deepEqual(t.dialer.calls, []);
  assert.deepEqual(t.log, []);
  await done(t);
});

test("dial() rejects an unknown port service with dial tcp: lookup tcp/nosuchsvc: unknown port", async () => {
  const t = env({});
  const r = start(t, "h.test:nosuchsvc");
  await flush();
  const error = dialError(r);
  assert.equal(error.message, "dial tcp: lookup tcp/nosuchsvc: unknown port");
  assert.ok(error.errors[0]!.cause instanceof DNSError);
  assert.deepEqual(t.resolver.calls, []);
  await done(t);
});

test("dial() maps the service names Go knows to their ports, case-insensitively", async () => {
  for (
    const [address, addr] of [
      ["127.0.0.1:http", "127.0.0.1:80"],
      ["127.0.0.1:HTTPS", "127.0.0.1:443"],
      ["[::1]:ssh", "[::1]:22"],
    ]
  ) {
    const t = env({}, {}, CONNECT);
    const r = start(t, address!);
    await t.clock.advanceTo(5);
    assert.deepEqual(t.dialer.starts, [`${addr}@0`]);
    await done(t, resolved(r));
  }
});

test("dial() rejects an unknown network with TypeError", async () => {
  const t = env({});
  const r = start(t, "h.test:80", { network: "udp" as Network });
  await flush();
  const error = rejectedWith(r);
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /"udp"/);
  assert.deepEqual(t.resolver.calls, []);
  await done(t);
});

test("dial() rejects out-of-range options with RangeError", async () => {
  const t = env({});
  const bad: Options[] = [
    { timeout: -1 },
    { timeout: NaN },
    { attemptDelay: -5 },
    { attemptDelay: NaN },
    { resolutionDelay: -1 },
    { firstAddressFamilyCount: 0 },
    { firstAddressFamilyCount: 2.5 },
    { preferredFamily: 5 as Family },
  ];
  for (const options of bad) {
    const r = start(t, "h.test:80", options);
    await flush();
    assert.ok(rejectedWith(r) instanceof RangeError, JSON.stringify(options));
  }
  assert.deepEqual(t.resolver.calls, []);
  await done(t);
});

test("dial() on tcp4 of an IPv6 literal fails with no suitable address found", async () => {
  const t = env({});
  const r4 = start(t, "[::1]:80", { network: "tcp4" });
  const r6 = start(t, "127.0.0.1:80", { network: "tcp6" });
  await flush();
  const e4 = dialError(r4);
  assert.equal(e4.message, "dial tcp4: address ::1: no suitable address found");
  assert.ok(e4.errors[0]!.cause instanceof AddrError);
  assert.equal(
    dialError(r6).message,
    "dial tcp6: address 127.0.0.1: no suitable address found",
  );
  assert.deepEqual(t.dialer.calls, []);
  await done(t);
});

test("dial() uses the resolver under LookupIPAltResolverKey instead of options.resolver", async () => {
  const t = env({}, { "127.0.0.1:80": CONNECT });
  const alt = new FakeResolver(t.clock, {
    "h.test": { 6: { at: 0, addrs: [] }, 4: { at: 0, addrs: ["127.0.0.1"] } },
  });
  const ctx = withValue(background, LookupIPAltResolverKey, alt as Resolver);
  const r = start(t, "h.test:80", { context: ctx });
  await t.clock.advanceTo(10);
  assert.deepEqual(t.resolver.calls, []);
  assert.deepEqual(alt.calls.map((c) => c.family), [6, 4]);
  await done(t, resolved(r));
});

test("dial() sees the ambient context of runWithContext when given none", async () => {
  const t = env({}, { "127.0.0.1:80": CONNECT });
  const log: string[] = [];
  const ctx = withTrace(background, recordingTrace(t.clock, log));
  const r = runWithContext(
    ctx,
    () =>
      watch(
        dial<FakeConn>("127.0.0.1:80", {
          resolver: t.resolver,
          dialer: t.dialer,
          clock: t.clock,
        }),
        t.clock,
      ),
  );
  assert.equal(currentContext(), background);
  await t.clock.advanceTo(10);
  assert.deepEqual(log, [
    "0 connectStart tcp 127.0.0.1:80",
    "1 connectDone tcp 127.0.0.1:80",
  ]);
  // An explicit context wins over the ambient one.
  const log2: string[] = [];
  const r2 = runWithContext(ctx, () =>
    start(t, "127.0.0.1:80", {
      context: background,
      trace: recordingTrace(t.clock, log2),
    }));
  await t.clock.advanceTo(20);
  assert.equal(log.length, 2);
  assert.equal(log2.length, 2);
  await done(t, resolved(r), resolved(r2));
});

test("dial() filters what a resolver returns: non-IP strings, wrong family and duplicates", async () => {
  const t = env({}, {}, REFUSED);
  const garbage: Record<Family, unknown> = {
    6: [
      "::1",
      "nonsense",
      { address: "127.0.0.1", family: 4 },
      { address: "::1", family: 6 },
      "::0001",
      42,
      null,
      { address: "::ffff:127.0.0.2" },
      { family: 6 },
    ],
    4: ["127.0.0.1", { address: "127.0.0.1", family: 4 }, "::2", "", "1.2.3"],
  };
  const resolver: Resolver = {
    lookup: (_host, family) => Promise.resolve(garbage[family] as IPAddr[]),
  };
  const { seen, trace } = capturingTrace();
  const r = start(t, "h.test:80", { resolver, trace });
  await t.clock.advanceTo(100);
  // The IPv4-mapped address in the AAAA answer is IPv4, as in Go.
  assert.deepEqual(t.dialer.starts, [
    "[::1]:80@0",
    "127.0.0.2:80@10",
    "127.0.0.1:80@20",
  ]);
  assert.deepEqual(seen.dnsDone[0]!.addrs, [
    { address: "::1", family: 6 },
    { address: "127.0.0.2", family: 4 },
    { address: "127.0.0.1", family: 4 },
  ]);
  assert.equal(dialError(r).errors.length, 3);
  await done(t);
});

test("dial() treats a resolver answer that is not an array as no address", async () => {
  const t = env({}, {}, CONNECT);
  const resolver: Resolver = {
    lookup: (_host, family) =>
      Promise.resolve(
        (family === 6 ? undefined : ["127.0.0.1"]) as unknown as IPAddr[],
      ),
  };
  const r = start(t, "h.test:80", { resolver });
  await t.clock.advanceTo(10);
  assert.deepEqual(t.dialer.starts, ["127.0.0.1:80@0"]);
  await done(t, resolved(r));
});

test("dial() wraps a resolver's non-DNSError failure and a synchronous throw in DNSError", async () => {
  const t = env({});
  const resolver: Resolver = {
    lookup: (_host, family) => {
      if (family === 6) throw new TypeError("resolver bug");
      return Promise.reject("plain string");
    },
  };
  const r = start(t, "h.test:80", { resolver });
  await t.clock.advanceTo(10);
  const error = dialError(r);
  assert.deepEqual(error.errors.map((e) => e.message), [
    "dial tcp: lookup h.test: resolver bug",
    "dial tcp: lookup h.test: plain string",
  ]);
  for (const e of error.errors) assert.ok(e.cause instanceof DNSError);
  await done(t);
});

test("dial() counts a dialer that throws synchronously as a failed attempt", async () => {
  const t = env(
    {
      "h.test": {
        6: { at: 0, addrs: ["::1"] },
        4: { at: 0, addrs: ["127.0.0.1"] },
      },
    },
    { "127.0.0.1:80": CONNECT },
  );
  const throwing: Dialer<FakeConn> = {
    connect: (endpoint, options) => {
      if (endpoint.family === 6) throw new Error("boom");
      return t.dialer.connect(endpoint, options);
    },
    close: (conn) => t.dialer.close(conn),
  };
  const r = start(t, "h.test:80", { dialer: throwing });
  await t.clock.advanceTo(100);
  assert.equal(resolved(r).addr, "127.0.0.1:80");
  assert.deepEqual(t.log.filter((l) => l.includes("connect")), [
    "0 connectStart tcp [::1]:80",
    "0 connectDone tcp [::1]:80 error=dial tcp [::1]:80: boom",
    "10 connectStart tcp 127.0.0.1:80",
    "11 connectDone tcp 127.0.0.1:80",
  ]);
  await done(t, r.value);

  const u = env({});
  const always: Dialer<FakeConn> = {
    connect: () => {
      throw "not even an Error";
    },
    close: () => {},
  };
  const r2 = start(u, "[::1]:80", { dialer: always });
  await u.clock.advanceTo(10);
  assert.equal(
    dialError(r2).message,
    "dial tcp [::1]:80: not even an Error",
  );
  await done(u);
});

// ── drivers' corner cases ──────────────────────────────────────────────

test("dial() starts no lookup when the dnsStart hook aborts the dial", async () => {
  const t = env({
    "h.test": { 6: { at: 10, addrs: ["::1"] }, 4: { at: 10, addrs: [] } },
  });
  const ac = new AbortController();
  const r = start(t, "h.test:80", {
    signal: ac.signal,
    trace: {
      dnsStart: () => ac.abort(),
      dnsDone: (i) => t.log.push(`dnsDone ${i.error?.message}`),
    },
  });
  await flush();
  assert.equal(rejectedWith(r), ac.signal.reason);
  assert.deepEqual(t.resolver.calls, []);
  assert.deepEqual(t.log, ["dnsDone lookup h.test: operation was canceled"]);
  await done(t);
});

test("dial() leaves the lookup a resolver was asked when it aborts the dial from inside lookup(), and asks no other family", async () => {
  const ac = new AbortController();
  const asked: { family: Family; signal: AbortSignal }[] = [];
  let abortInside = true;
  const resolver: Resolver = {
    lookup(_host, family, { signal }) {
      asked.push({ family, signal });
      if (abortInside) ac.abort(new Error("the caller gave up"));
      // Settles only when aborted, as a resolver waiting on the network.
      return new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason), {
          once: true,
        })
      );
    },
  };
  const dialer: Dialer<Endpoint> = {
    connect: (endpoint) => Promise.resolve(endpoint),
    close: () => {},
  };
  await assert.rejects(
    dial("stuck.test:80", { resolver, dialer, signal: ac.signal }),
    (err: unknown) => err === ac.signal.reason,
  );
  // The first family's flight was left (nobody else waits: aborted), the
  // other family was never asked.
  assert.deepEqual(asked.map((a) => a.family), [6]);
  assert.equal(asked[0]!.signal.aborted, true);
  // The key is not stuck: the next dial of the name asks again.
  abortInside = false;
  const next = dial("stuck.test:80", {
    resolver,
    dialer,
    signal: AbortSignal.abort(new Error("second")),
  });
  await assert.rejects(next, /second/);
  const again = new AbortController();
  const third = dial("stuck.test:80", {
    resolver,
    dialer,
    signal: again.signal,
  });
  await flush();
  assert.deepEqual(asked.map((a) => a.family), [6, 6, 4]);
  again.abort(new Error("done"));
  await assert.rejects(third, /done/);
  assert.ok(asked.every((a) => a.signal.aborted));
});

test("dial() re-arms its wake-up when the clock's timer fires early", async () => {
  /** A clock whose timers of 2 ms or more fire 1 ms early, as Node's can. */
  class EarlyClock extends VirtualClock {
    override setTimeout(fn: () => void, ms: number): unknown {
      return super.setTimeout(fn, ms >= 2 ? ms - 1 : ms);
    }
  }
  const clock = new EarlyClock();
  const resolver = new FakeResolver(clock, {
    "h.test": { 6: { at: 0, addrs: [A, B] }, 4: { at: 0, addrs: [] } },
  });
  const dialer = new FakeDialer(clock, { [`[${B}]:80`]: CONNECT });
  const r = watch(dial("h.test:80", { resolver, dialer, clock }), clock);
  await clock.advanceTo(1000);
  assert.deepEqual(dialer.starts, [`[${A}]:80@0`, `[${B}]:80@250`]);
  const conn = resolved(r);
  assert.equal(clock.pending, 0);
  assert.deepEqual(dialer.open, [conn]);
  dialer.close(conn);
});

test("dial() rejects with TypeError when the dialer or the resolver is missing", async () => {
  const clock = new VirtualClock();
  const r1 = watch(
    dial("127.0.0.1:80", {
      resolver: new FakeResolver(clock, {}),
      dialer: undefined as unknown as Dialer<unknown>,
    }),
  );
  const r2 = watch(
    dial("h.test:80", {
      resolver: undefined as unknown as Resolver,
      dialer: new FakeDialer(clock, {}),
    }),
  );
  await flush();
  assert.ok(rejectedWith(r1) instanceof TypeError);
  assert.ok(rejectedWith(r2) instanceof TypeError);
  assert.equal(clock.pending, 0);
});

test("dial() hands the dialer one frozen endpoint per address and port, for a literal and a name alike; a control hook's dial gets its own", async () => {
  const seen: Endpoint[] = [];
  const resolver: Resolver = {
    lookup: (_host, family) =>
      Promise.resolve(
        family === 4 ? [{ address: "192.0.2.9", family: 4 }] : [],
      ),
  };
  const dialer: Dialer<Endpoint> = {
    connect: (endpoint) => {
      seen.push(endpoint);
      return Promise.resolve({ ...endpoint });
    },
    close: () => {},
  };
  await dial("192.0.2.9:8080", { resolver, dialer });
  await dial("192.0.2.9:8080", { resolver, dialer });
  await dial("shared.test:8080", { resolver, dialer });
  await dial("shared.test:8080", { resolver, dialer, control: () => {} });
  await dial("shared.test:8081", { resolver, dialer });
  assert.equal(seen.length, 5);
  for (const i of [0, 1, 2, 4]) assert.ok(Object.isFrozen(seen[i]));
  assert.equal(seen[1], seen[0]);
  assert.equal(seen[2], seen[0]);
  assert.notEqual(seen[3], seen[0]);
  assert.deepEqual(seen[3], seen[0]);
  assert.equal(seen[4]!.port, 8081);
});
