// The core dial() with the `tls` option, and the dial-wide hooks (dialStart,
// dnsAnswer, dialDone), on the virtual clock with exact times: the
// handshake after the race (Go's success point), inside each attempt
// (successPoint "tls", Happy Eyeballs v3), its failures, aborts and
// timeouts, and what the resolver is told.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  type CoreDialOptions,
  DialError,
  type IPAddr,
  OpError,
  type Resolver,
  TLSError,
  type Trace,
} from "../mod.ts";
import { markCached } from "../src/_cached_answer.ts";
import { type Env, makeEnv, type Settled, startDial } from "./_dial_env.ts";
import {
  type FakeConn,
  flush,
  type Outcome,
  type ResolverScript,
} from "./_virtual_clock.ts";

type Options = Partial<CoreDialOptions<FakeConn>>;

const BOTH: ResolverScript = {
  "h.test": {
    4: { at: 0, addrs: ["127.0.0.1"] },
    6: { at: 0, addrs: ["::1"] },
  },
};
const CONNECT: Outcome = { after: 1, connect: true };

/** A trace logging every hook as `time hook detail`. */
function fullTrace(t: Env): Trace {
  const at = () => t.clock.now();
  const log = t.log;
  return {
    dialStart: (i) => log.push(`${at()} dialStart ${i.network} ${i.address}`),
    dnsStart: (i) => log.push(`${at()} dnsStart ${i.host}`),
    dnsAnswer: (i) =>
      log.push(
        `${at()} dnsAnswer ${i.family} [${
          i.addrs.map((a) => a.address).join(",")
        }]${i.cached ? " cached" : ""}${
          i.error ? ` error=${i.error.message}` : ""
        }`,
      ),
    dnsDone: (i) =>
      log.push(
        `${at()} dnsDone [${i.addrs.map((a) => a.address).join(",")}]${
          i.cached ? " cached" : ""
        }`,
      ),
    connectStart: (i) => log.push(`${at()} connectStart ${i.addr}`),
    connectDone: (i) =>
      log.push(
        `${at()} connectDone ${i.addr}${
          i.error ? ` error=${i.error.message}` : ""
        }`,
      ),
    tlsHandshakeStart: (i) =>
      log.push(`${at()} tlsStart #${i.attempt} ${i.addr} ${i.serverName}`),
    tlsHandshakeDone: (i) =>
      log.push(
        `${at()} tlsDone #${i.attempt} ${i.addr}${
          i.error
            ? ` error=${i.error.message}`
            : ` alpn=${i.alpnProtocol} ${i.tlsVersion}`
        }`,
      ),
    dialDone: (i) =>
      log.push(
        `${at()} dialDone ${
          i.error ? `error=${i.error.message}` : `${i.addr} #${i.attempt}`
        }`,
      ),
  };
}

function env(
  script: ResolverScript,
  outcomes: Record<string, Outcome>,
): Env {
  const t = makeEnv(script, outcomes, { hang: true });
  t.trace = fullTrace(t);
  return t;
}

const start = (t: Env, address: string, options: Options = {}) =>
  startDial(t, address, options);

function resolved(r: Settled<FakeConn>): FakeConn {
  assert.equal(
    r.state,
    "resolved",
    `the dial must have resolved, got ${r.state} ${String(r.reason)}`,
  );
  return r.value!;
}

function rejected(r: Settled<FakeConn>): unknown {
  assert.equal(r.state, "rejected", "the dial must have rejected");
  return r.reason;
}

/** Nothing left: no timer, and only `conns` open (then closed). */
async function done(t: Env, ...conns: FakeConn[]): Promise<void> {
  await flush();
  assert.equal(t.clock.pending, 0, "no timer may be left");
  assert.deepEqual(t.dialer.open, conns, "only the returned conns are open");
  for (const conn of conns) t.dialer.close(conn);
}

// ── the handshake after the race (successPoint "tcp", the default) ──────

test("dial() with tls runs one handshake on the winner and returns the TLS connection", async () => {
  const t = env(BOTH, { "[::1]:443": CONNECT });
  t.dialer.tls["[::1]:443"] = { after: 20, alpn: "h2" };
  const r = start(t, "h.test:443", {
    tls: { alpnProtocols: ["h2", "http/1.1"] },
  });
  await t.clock.advanceTo(1000);
  const conn = resolved(r);
  assert.equal(r.at, 21);
  assert.deepEqual(conn.tls, { serverName: "h.test", alpnProtocol: "h2" });
  assert.deepEqual(t.dialer.tlsCalls, [{
    addr: "[::1]:443",
    at: 1,
    serverName: "h.test",
    alpnProtocols: ["h2", "http/1.1"],
    settledAt: 21,
  }]);
  assert.deepEqual(t.log, [
    "0 dialStart tcp h.test:443",
    "0 dnsStart h.test",
    "0 dnsAnswer 6 [::1]",
    "0 connectStart [::1]:443",
    "0 dnsAnswer 4 [127.0.0.1]",
    "0 dnsDone [::1,127.0.0.1]",
    "1 connectDone [::1]:443",
    "1 tlsStart #0 [::1]:443 h.test",
    "21 tlsDone #0 [::1]:443 alpn=h2 TLSv1.3",
    "21 dialDone [::1]:443 #0",
  ]);
  await done(t, conn);
});

test("dial() with tls checks the IP literal's address, or tls.serverName, and drops a trailing dot", async () => {
  const t = env({}, { "127.0.0.1:443": CONNECT, "[::1]:443": CONNECT });
  const literal = start(t, "127.0.0.1:443", { tls: {} });
  const named = start(t, "[::1]:443", { tls: { serverName: "api.test" } });
  await t.clock.advanceTo(10);
  const conns = [resolved(literal), resolved(named)];
  t.resolver.script["fq.test."] = { 4: { at: 10, addrs: ["127.0.0.1"] } };
  const fq = start(t, "fq.test.:443", { tls: {}, network: "tcp4" });
  await t.clock.advanceTo(20);
  conns.push(resolved(fq));
  assert.deepEqual(t.dialer.tlsCalls.map((c) => c.serverName), [
    "127.0.0.1",
    "api.test",
    "fq.test",
  ]);
  await done(t, ...conns);
});

test("dial() with tls: a failed handshake is a DialError holding the TLSError, and the connection is closed", async () => {
  const t = env(BOTH, { "[::1]:443": CONNECT });
  t.dialer.tls["[::1]:443"] = { after: 5, fail: "hostname" };
  const r = start(t, "h.test:443", { tls: {} });
  await t.clock.advanceTo(1000);
  const error = rejected(r);
  assert.ok(error instanceof DialError);
  assert.equal(error.errors.length, 1);
  const op = error.errors[0]!;
  assert.ok(op instanceof OpError);
  assert.ok(op.cause instanceof TLSError);
  assert.equal(op.cause.kind, "hostname");
  assert.equal(
    error.message,
    "dial tcp [::1]:443: tls: scripted hostname failure",
  );
  assert.equal(r.at, 6);
  // The race is over: IPv4 is not tried after a TLS failure (Go's order).
  assert.deepEqual(t.dialer.starts, ["[::1]:443@0"]);
  assert.deepEqual(t.log.slice(-2), [
    "6 tlsDone #0 [::1]:443 error=tls: scripted hostname failure",
    "6 dialDone error=dial tcp [::1]:443: tls: scripted hostname failure",
  ]);
  await done(t);
});

test("dial() with tls: the timeout covers the handshake and closes the connection", async () => {
  const t = env(BOTH, { "[::1]:443": CONNECT });
  t.dialer.tls["[::1]:443"] = { hang: true };
  const r = start(t, "h.test:443", { tls: {}, timeout: 500 });
  await t.clock.advanceTo(1000);
  const error = rejected(r);
  assert.ok(error instanceof DOMException);
  assert.equal(error.name, "TimeoutError");
  assert.equal(r.at, 500);
  assert.equal(t.dialer.tlsCalls[0]!.abortedAt, 500);
  assert.deepEqual(t.log.slice(-2), [
    "500 tlsDone #0 [::1]:443 error=dial tcp [::1]:443: i/o timeout",
    "500 dialDone error=dial tcp [::1]:443: i/o timeout",
  ]);
  await done(t);
});

test("dial() with tls: aborting during the handshake rejects with the reason at once", async () => {
  const t = env(BOTH, { "[::1]:443": CONNECT });
  t.dialer.tls["[::1]:443"] = { hang: true };
  const controller = new AbortController();
  const r = start(t, "h.test:443", { tls: {}, signal: controller.signal });
  await t.clock.advanceTo(30);
  assert.equal(r.state, "pending");
  const reason = new Error("user gave up");
  controller.abort(reason);
  await flush();
  assert.equal(rejected(r), reason);
  assert.equal(r.at, 30);
  assert.equal(t.dialer.tlsCalls[0]!.abortedAt, 30);
  await done(t);
});

test("dial() with tls: a tlsHandshakeStart hook that aborts the dial leaves nothing open", async () => {
  const t = env(BOTH, { "[::1]:443": CONNECT });
  const controller = new AbortController();
  const reason = new Error("stop");
  const r = start(t, "h.test:443", {
    tls: {},
    signal: controller.signal,
    trace: { tlsHandshakeStart: () => controller.abort(reason) },
  });
  await t.clock.advanceTo(100);
  assert.equal(rejected(r), reason);
  assert.equal(r.at, 1);
  await done(t);
});

test("dial() with tls: a startTls that throws or resolves garbage fails the dial and closes the connection", async () => {
  for (
    const broken of [
      () => {
        throw new Error("startTls broke");
      },
      () => Promise.resolve(null),
    ]
  ) {
    const t = env(BOTH, { "[::1]:443": CONNECT });
    (t.dialer as { startTls: unknown }).startTls = broken;
    const r = start(t, "h.test:443", { tls: {} });
    await t.clock.advanceTo(10);
    const error = rejected(r);
    assert.ok(error instanceof DialError);
    assert.match(error.message, /^dial tcp \[::1\]:443: /);
    // A startTls that throws sync has the driver close the connection; one
    // that resolves garbage owns the connection it did not return.
    if (t.dialer.open.length > 0) t.dialer.close(t.dialer.open[0]!);
    await done(t);
  }
});

// ── the handshake inside each attempt (successPoint "tls") ──────────────

test("dial() with successPoint tls: an attempt stalled in TLS does not win; the next one does", async () => {
  const t = env(BOTH, {
    "[::1]:443": CONNECT,
    "127.0.0.1:443": { after: 2, connect: true },
  });
  t.dialer.tls["[::1]:443"] = { hang: true };
  t.dialer.tls["127.0.0.1:443"] = { after: 10, alpn: "http/1.1" };
  const r = start(t, "h.test:443", { tls: { successPoint: "tls" } });
  await t.clock.advanceTo(1000);
  const conn = resolved(r);
  assert.equal(conn.addr, "127.0.0.1:443");
  assert.equal(r.at, 262);
  assert.deepEqual(t.dialer.starts, ["[::1]:443@0", "127.0.0.1:443@250"]);
  assert.equal(t.dialer.tlsCalls[0]!.abortedAt, 262);
  assert.deepEqual(t.log.slice(6), [
    "1 connectDone [::1]:443",
    "1 tlsStart #0 [::1]:443 h.test",
    "250 connectStart 127.0.0.1:443",
    "252 connectDone 127.0.0.1:443",
    "252 tlsStart #1 127.0.0.1:443 h.test",
    "262 tlsDone #1 127.0.0.1:443 alpn=http/1.1 TLSv1.3",
    "262 tlsDone #0 [::1]:443 error=dial tcp [::1]:443: operation was canceled",
    "262 dialDone 127.0.0.1:443 #1",
  ]);
  await done(t, conn);
});

test("dial() with the default success point picks the TCP winner even when its TLS stalls", async () => {
  const t = env(BOTH, {
    "[::1]:443": CONNECT,
    "127.0.0.1:443": { after: 2, connect: true },
  });
  t.dialer.tls["[::1]:443"] = { hang: true };
  const r = start(t, "h.test:443", { tls: {}, timeout: 2000 });
  await t.clock.advanceTo(3000);
  assert.equal((rejected(r) as Error).name, "TimeoutError");
  assert.equal(r.at, 2000);
  assert.deepEqual(t.dialer.starts, ["[::1]:443@0"]);
  await done(t);
});

test("dial() with successPoint tls: a failed handshake starts the next attempt at once and is not a connect failure", async () => {
  const t = env(BOTH, {
    "[::1]:443": CONNECT,
    "127.0.0.1:443": CONNECT,
  });
  t.dialer.tls["[::1]:443"] = { after: 5, fail: "untrusted" };
  const failed: IPAddr[] = [];
  const resolver: Resolver = {
    lookup: (h, f, o) => t.resolver.lookup(h, f, o),
    connectFailed: (_host, address) => void failed.push(address),
  };
  const r = start(t, "h.test:443", {
    tls: { successPoint: "tls" },
    resolver,
  });
  await t.clock.advanceTo(1000);
  const conn = resolved(r);
  assert.equal(conn.addr, "127.0.0.1:443");
  // Failed at 6; the next start keeps the 10 ms minimum between starts.
  assert.deepEqual(t.dialer.starts, ["[::1]:443@0", "127.0.0.1:443@10"]);
  assert.equal(r.at, 11);
  assert.deepEqual(failed, [], "TCP worked: the address is fine");
  await done(t, conn);
});

test("dial() with successPoint tls: every attempt failing in TLS gives one OpError per attempt", async () => {
  const t = env(BOTH, { "[::1]:443": CONNECT, "127.0.0.1:443": CONNECT });
  t.dialer.tls["[::1]:443"] = { after: 5, fail: "alpn" };
  t.dialer.tls["127.0.0.1:443"] = { after: 5, fail: "alpn" };
  const r = start(t, "h.test:443", { tls: { successPoint: "tls" } });
  await t.clock.advanceTo(1000);
  const error = rejected(r);
  assert.ok(error instanceof DialError);
  assert.deepEqual(error.errors.map((e) => e.message), [
    "dial tcp [::1]:443: tls: scripted alpn failure",
    "dial tcp 127.0.0.1:443: tls: scripted alpn failure",
  ]);
  await done(t);
});

// ── options ─────────────────────────────────────────────────────────────

test("dial() refuses bad tls options before anything starts", async () => {
  const t = env(BOTH, {});
  const cases: [unknown, RegExp][] = [
    [null, /options\.tls null: it is not a TLSOptions object/],
    ["yes", /options\.tls "yes": it is not a TLSOptions object/],
    [{ serverName: "" }, /tls\.serverName "": it must be a non-empty string/],
    [{ alpnProtocols: "h2" }, /tls\.alpnProtocols "h2": it must be an array/],
    [
      { alpnProtocols: [""] },
      /ALPN protocol "": it must be a string of 1–255 bytes/,
    ],
    [
      { alpnProtocols: ["x".repeat(256)] },
      /it must be a string of 1–255 bytes/,
    ],
    [{ caCerts: [1] }, /tls\.caCerts .*: it must be an array of PEM strings/],
    [
      { successPoint: "http" },
      /tls\.successPoint "http": it must be "tcp" or "tls"/,
    ],
  ];
  for (const [tls, message] of cases) {
    const r = start(t, "h.test:443", { tls } as Options);
    await assert.rejects(r.promise, (error: Error) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.match(error.message, message);
      return true;
    });
  }
  const plain = { connect: t.dialer.connect.bind(t.dialer), close: () => {} };
  const r = start(t, "h.test:443", { tls: {}, dialer: plain });
  await assert.rejects(r.promise, {
    name: "TypeError",
    message: "Cannot dial TLS: options.dialer.startTls is not a function",
  });
  assert.deepEqual(t.resolver.calls, []);
  assert.deepEqual(t.dialer.calls, []);
  await done(t);
});

// ── dialStart, dnsAnswer, dialDone, cached, connectFailed ───────────────

test("dial() fires dialStart first and dialDone last, also for a literal and a failure", async () => {
  const t = env({
    "no.test": {
      4: { at: 3, error: "nxdomain" },
      6: { at: 4, error: "nxdomain" },
    },
  }, {
    "127.0.0.1:80": CONNECT,
  });
  const literal = start(t, "127.0.0.1:80");
  const missing = start(t, "no.test:80");
  await t.clock.advanceTo(10);
  const conn = resolved(literal);
  rejected(missing);
  assert.deepEqual(t.log, [
    "0 dialStart tcp 127.0.0.1:80",
    "0 connectStart 127.0.0.1:80",
    "0 dialStart tcp no.test:80",
    "0 dnsStart no.test",
    "1 connectDone 127.0.0.1:80",
    "1 dialDone 127.0.0.1:80 #0",
    "3 dnsAnswer 4 [] error=lookup no.test: no such host",
    "4 dnsAnswer 6 [] error=lookup no.test: no such host",
    "4 dnsDone []",
    "4 dialDone error=dial tcp: lookup no.test: no such host",
  ]);
  await done(t, conn);
});

test("dial() reports cached in dnsAnswer and dnsDone only for answers a cache marked", async () => {
  const t = env({
    "h.test": {
      4: { at: 1, addrs: ["127.0.0.1"] },
      6: { at: 2, addrs: ["::1"] },
    },
  }, { "[::1]:80": CONNECT });
  let cache4 = true;
  let cache6 = true;
  const resolver: Resolver = {
    lookup: (h, family, o) =>
      t.resolver.lookup(h, family, o).then((addrs) =>
        (family === 4 ? cache4 : cache6) ? markCached(addrs) : addrs
      ),
  };
  const all = start(t, "h.test:80", { resolver });
  await t.clock.advanceTo(10);
  cache6 = false;
  const some = start(t, "h.test:80", { resolver });
  await t.clock.advanceTo(20);
  cache4 = false;
  const none = start(t, "h.test:80", { resolver });
  await t.clock.advanceTo(30);
  const conns = [resolved(all), resolved(some), resolved(none)];
  assert.deepEqual(
    t.log.filter((l) => l.includes(" dns")).filter((l) => !l.includes("Start")),
    [
      "1 dnsAnswer 4 [127.0.0.1] cached",
      "2 dnsAnswer 6 [::1] cached",
      "2 dnsDone [127.0.0.1,::1] cached",
      // The script's answers are due already: both arrive at once.
      "10 dnsAnswer 6 [::1]",
      "10 dnsAnswer 4 [127.0.0.1] cached",
      "10 dnsDone [::1,127.0.0.1]",
      "20 dnsAnswer 6 [::1]",
      "20 dnsAnswer 4 [127.0.0.1]",
      "20 dnsDone [::1,127.0.0.1]",
    ],
  );
  await done(t, ...conns);
});

test("dial() tells the resolver of a failed connect, not of a cancelled or refused one", async () => {
  const t = env({
    "h.test": {
      4: { at: 0, addrs: ["127.0.0.1", "127.0.0.2"] },
      6: { at: 0, addrs: ["::1"] },
    },
  }, {
    "[::1]:80": { after: 5, fail: "ECONNREFUSED" },
    "127.0.0.1:80": { hang: true },
    "127.0.0.2:80": { after: 1, connect: true },
  });
  const told: string[] = [];
  const resolver: Resolver = {
    lookup: (h, f, o) => t.resolver.lookup(h, f, o),
    connectFailed(host, address) {
      told.push(`${host} ${address.address} ${address.family}`);
      throw new Error("a resolver's bookkeeping never changes the dial");
    },
  };
  const r = start(t, "h.test:80", { resolver });
  await t.clock.advanceTo(1000);
  const conn = resolved(r);
  assert.equal(conn.addr, "127.0.0.2:80");
  // [::1] refused: told; 127.0.0.1 lost the race (cancelled): not told.
  assert.deepEqual(told, ["h.test ::1 6"]);
  await done(t, conn);
});

test("dial() of an IP literal with a timeout rejects at the deadline, cancels the attempt and leaves no timer", async () => {
  const t = env({}, { "127.0.0.1:80": CONNECT });
  const ok = start(t, "127.0.0.1:80", { timeout: 100 });
  const hung = start(t, "[::1]:80", { timeout: 100 });
  await t.clock.advanceTo(1000);
  const conn = resolved(ok);
  assert.equal(ok.at, 1);
  const error = rejected(hung);
  assert.ok(error instanceof DOMException);
  assert.equal(error.name, "TimeoutError");
  assert.equal(error.message, "dial tcp [::1]:80: i/o timeout");
  assert.equal(hung.at, 100);
  assert.equal(t.dialer.calls[1]!.abortedAt, 100);
  assert.deepEqual(t.log, [
    "0 dialStart tcp 127.0.0.1:80",
    "0 connectStart 127.0.0.1:80",
    "0 dialStart tcp [::1]:80",
    "0 connectStart [::1]:80",
    "1 connectDone 127.0.0.1:80",
    "1 dialDone 127.0.0.1:80 #0",
    "100 connectDone [::1]:80 error=dial tcp [::1]:80: i/o timeout",
    "100 dialDone error=dial tcp [::1]:80: i/o timeout",
  ]);
  await done(t, conn);
});
