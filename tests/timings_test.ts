// recordTimings() and formatTimings(): the breakdown of real dial() runs on
// the virtual clock with exact times (a scripted resolver and dialer, TLS
// included), and the recorder fed by hand for what a dial should never do.
// The documentation prefixes 2001:db8::/32 and 192.0.2.0/24 stand for "some
// other address": the fake dialer never opens a socket.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  type CoreDialOptions,
  type DialTimings,
  formatTimings,
  recordTimings,
  type TimingRecorder,
} from "../mod.ts";
import { type Env, makeEnv, type Settled, startDial } from "./_dial_env.ts";
import {
  type FakeConn,
  flush,
  type Outcome,
  type ResolverScript,
  VirtualClock,
} from "./_virtual_clock.ts";

const A = "2001:db8::a";
const X = "192.0.2.1";
const CONNECT: Outcome = { after: 1, connect: true };
const CANCELED = "operation was canceled";

interface Run {
  t: Env;
  recorder: TimingRecorder;
  r: Settled<FakeConn>;
}

/** Dials `address` with a recorder on the env's virtual clock. */
function run(
  script: ResolverScript,
  outcomes: Record<string, Outcome>,
  address: string,
  options: Partial<CoreDialOptions<FakeConn>> = {},
): Run {
  const t = makeEnv(script, outcomes, { hang: true });
  const recorder = recordTimings({ clock: t.clock });
  const r = startDial(t, address, { trace: recorder.trace, ...options });
  return { t, recorder, r };
}

/** Lets everything settle, then checks nothing is left open. */
async function finish({ t, r }: Run): Promise<void> {
  await t.clock.runAll();
  await flush();
  assert.equal(t.clock.pending, 0, "no timer may be left");
  if (r.state === "resolved") t.dialer.close(r.value!);
  assert.deepEqual(t.dialer.open, [], "nothing may be left open");
}

test("recordTimings() keeps each family's answer time: a late AAAA answer ends the lookup, and namelookup is the winner's", async () => {
  const d = run(
    {
      "h.test": {
        4: { at: 10, addrs: [X] },
        6: { at: 30, addrs: [A] },
      },
    },
    { [`[${A}]:80`]: { after: 5, connect: true } },
    "h.test:80",
  );
  await d.t.clock.advanceTo(100);
  assert.equal(d.r.state, "resolved");
  assert.deepEqual(
    d.recorder.timings(),
    {
      address: "h.test:80",
      network: "tcp",
      outcome: "connected",
      addr: `[${A}]:80`,
      family: 6,
      lookup: {
        host: "h.test",
        start: 0,
        end: 30,
        ipv4: { end: 10, count: 1 },
        ipv6: { end: 30, count: 1 },
        coalesced: false,
        cached: false,
      },
      connect: { start: 30, end: 35 },
      total: 35,
      curl: { namelookup: 30, connect: 35, total: 35 },
      attempts: [{
        attempt: 0,
        addr: `[${A}]:80`,
        family: 6,
        cause: "first",
        start: 30,
        end: 35,
        outcome: "connected",
        won: true,
      }],
    } satisfies DialTimings,
  );
  await finish(d);
});

test("recordTimings() with AAAA later than the resolution delay: IPv4 connects first, namelookup is the A answer, the AAAA answer is absent", async () => {
  const d = run(
    {
      "h.test": {
        4: { at: 10, addrs: [X] },
        6: { at: 400, addrs: [A] },
      },
    },
    { [`${X}:80`]: CONNECT },
    "h.test:80",
  );
  await d.t.clock.advanceTo(500);
  const t = d.recorder.timings();
  assert.equal(t.outcome, "connected");
  assert.deepEqual(t.lookup, {
    host: "h.test",
    start: 0,
    // dnsDone fires as the dial wins, with what had arrived.
    end: 61,
    ipv4: { end: 10, count: 1 },
    coalesced: false,
    cached: false,
  });
  assert.deepEqual(t.connect, { start: 60, end: 61 });
  assert.deepEqual(t.curl, { namelookup: 10, connect: 61, total: 61 });
  assert.deepEqual(
    t.attempts.map((a) => [a.addr, a.cause, a.start, a.end, a.won]),
    [[`${X}:80`, "first", 60, 61, true]],
  );
  await finish(d);
});

test("recordTimings() of a hung IPv6 attempt and IPv4 winning at 250 ms: the IPv6 attempt is cancelled as IPv4 connects", async () => {
  const d = run(
    {
      "h.test": { 4: { at: 0, addrs: [X] }, 6: { at: 0, addrs: [A] } },
    },
    { [`${X}:80`]: CONNECT },
    "h.test:80",
  );
  await d.t.clock.advanceTo(1000);
  assert.equal(d.r.state, "resolved");
  await flush();
  assert.deepEqual(
    d.recorder.timings(),
    {
      address: "h.test:80",
      network: "tcp",
      outcome: "connected",
      addr: `${X}:80`,
      family: 4,
      lookup: {
        host: "h.test",
        start: 0,
        end: 0,
        ipv4: { end: 0, count: 1 },
        ipv6: { end: 0, count: 1 },
        coalesced: false,
        cached: false,
      },
      connect: { start: 0, end: 251 },
      total: 251,
      curl: { namelookup: 0, connect: 251, total: 251 },
      attempts: [{
        attempt: 0,
        addr: `[${A}]:80`,
        family: 6,
        cause: "first",
        start: 0,
        end: 251,
        outcome: "cancelled",
        error: `dial tcp [${A}]:80: ${CANCELED}`,
        won: false,
      }, {
        attempt: 1,
        addr: `${X}:80`,
        family: 4,
        cause: "delay",
        start: 250,
        end: 251,
        outcome: "connected",
        won: true,
      }],
    } satisfies DialTimings,
  );
  await finish(d);
});

test("recordTimings() of an IP literal has no lookup phase and no namelookup, on the fast path and the scheduled one", async () => {
  for (const options of [{}, { timeout: 1000 }]) {
    const d = run(
      {},
      { "127.0.0.1:80": { after: 3, connect: true } },
      "127.0.0.1:80",
      options,
    );
    await d.t.clock.advanceTo(10);
    assert.equal(d.r.state, "resolved");
    assert.deepEqual(
      d.recorder.timings(),
      {
        address: "127.0.0.1:80",
        network: "tcp",
        outcome: "connected",
        addr: "127.0.0.1:80",
        family: 4,
        connect: { start: 0, end: 3 },
        total: 3,
        curl: { connect: 3, total: 3 },
        attempts: [{
          attempt: 0,
          addr: "127.0.0.1:80",
          family: 4,
          cause: "first",
          start: 0,
          end: 3,
          outcome: "connected",
          won: true,
        }],
      } satisfies DialTimings,
    );
    assert.ok(!("lookup" in d.recorder.timings()));
    await finish(d);
  }
});

test("recordTimings() of a dial whose every attempt is refused: failed attempts, the connect phase ends with the dial's error", async () => {
  const d = run({
    "h.test": { 4: { at: 0, addrs: [X] }, 6: { at: 0, addrs: [A] } },
  }, {
    [`[${A}]:80`]: { after: 2, fail: "ECONNREFUSED" },
    [`${X}:80`]: { after: 3, fail: "ECONNREFUSED" },
  }, "h.test:80");
  await d.t.clock.advanceTo(1000);
  assert.equal(d.r.state, "rejected");
  const error = (d.r.reason as Error).message;
  const t = d.recorder.timings();
  assert.equal(t.outcome, "failed");
  assert.equal(t.error, error);
  assert.equal(t.addr, undefined);
  assert.deepEqual(t.connect, { start: 0, end: 13, error });
  // The lookup worked: namelookup is when it ended; no connect, no TLS.
  assert.deepEqual(t.curl, { namelookup: 0, total: 13 });
  assert.equal(t.tls, undefined);
  assert.deepEqual(
    t.attempts.map((a) => [a.attempt, a.cause, a.start, a.end, a.outcome]),
    [[0, "first", 0, 2, "failed"], [1, "failure", 10, 13, "failed"]],
  );
  assert.equal(
    t.attempts[0]!.error,
    `dial tcp [${A}]:80: connect: connection refused`,
  );
  await finish(d);
});

test("recordTimings() of a failed lookup: the lookup ends with its error, no connect phase, no namelookup", async () => {
  const d = run(
    {
      "nosuch.test": {
        4: { at: 5, error: "nxdomain" },
        6: { at: 7, error: "nxdomain" },
      },
    },
    {},
    "nosuch.test:80",
  );
  await d.t.clock.advanceTo(100);
  const t = d.recorder.timings();
  assert.equal(t.outcome, "failed");
  assert.deepEqual(t.lookup, {
    host: "nosuch.test",
    start: 0,
    end: 7,
    ipv4: { end: 5, count: 0, error: "lookup nosuch.test: no such host" },
    ipv6: { end: 7, count: 0, error: "lookup nosuch.test: no such host" },
    coalesced: false,
    cached: false,
    error: "lookup nosuch.test: no such host",
  });
  assert.equal(t.connect, undefined);
  assert.deepEqual(t.curl, { total: 7 });
  assert.deepEqual(t.attempts, []);
  await finish(d);
});

test("recordTimings() of an aborted dial: the attempt is cancelled and the phases end with the abort's error", async () => {
  const controller = new AbortController();
  const d = run(
    {
      "h.test": { 4: { at: 0, addrs: [X] }, 6: { hang: true } },
    },
    {},
    "h.test:80",
    { signal: controller.signal },
  );
  await d.t.clock.advanceTo(100);
  const during = d.recorder.timings();
  assert.equal(during.outcome, "pending");
  assert.deepEqual(during.connect, { start: 50 });
  assert.deepEqual(during.curl, { namelookup: 0 });
  assert.equal(during.total, undefined);
  assert.equal(during.attempts[0]!.outcome, "pending");
  controller.abort(new Error("stop"));
  await flush();
  await flush();
  assert.equal(d.r.state, "rejected");
  const t = d.recorder.timings();
  assert.equal(t.outcome, "failed");
  assert.equal(t.error, "stop");
  assert.deepEqual(t.lookup, {
    host: "h.test",
    start: 0,
    end: 100,
    ipv4: { end: 0, count: 1 },
    coalesced: false,
    cached: false,
  });
  assert.deepEqual(t.connect, { start: 50, end: 100, error: "stop" });
  // The A answer, when connecting could begin (AAAA never came).
  assert.deepEqual(t.curl, { namelookup: 0, total: 100 });
  assert.deepEqual(
    t.attempts.map((a) => [a.start, a.end, a.outcome, a.error]),
    [[50, 100, "cancelled", `dial tcp ${X}:80: ${CANCELED}`]],
  );
  await finish(d);
});

test("recordTimings() of a dial that times out reports the i/o timeout", async () => {
  const d = run(
    {
      "h.test": { 4: { at: 0, addrs: [X] }, 6: { at: 0, addrs: [] } },
    },
    {},
    "h.test:80",
    { timeout: 300 },
  );
  await d.t.clock.advanceTo(1000);
  const t = d.recorder.timings();
  assert.equal(t.outcome, "failed");
  // Go names the attempt that timed out.
  assert.equal(t.error, `dial tcp ${X}:80: i/o timeout`);
  assert.deepEqual(t.connect, {
    start: 0,
    end: 300,
    error: `dial tcp ${X}:80: i/o timeout`,
  });
  assert.equal(t.total, 300);
  assert.equal(t.attempts[0]!.outcome, "cancelled");
  await finish(d);
});

test("recordTimings() with tls: the winner's handshake is the tls phase and appconnect, with ALPN and version", async () => {
  const d = run(
    {
      "h.test": { 4: { at: 0, addrs: [X] }, 6: { at: 2, addrs: [A] } },
    },
    { [`[${A}]:443`]: CONNECT },
    "h.test:443",
    {
      tls: { alpnProtocols: ["h2"] },
    },
  );
  d.t.dialer.tls[`[${A}]:443`] = { after: 20, alpn: "h2" };
  await d.t.clock.advanceTo(1000);
  assert.equal(d.r.state, "resolved");
  const t = d.recorder.timings();
  assert.deepEqual(t.connect, { start: 2, end: 3 });
  assert.deepEqual(t.tls, {
    attempt: 0,
    serverName: "h.test",
    start: 3,
    end: 23,
    alpnProtocol: "h2",
    tlsVersion: "TLSv1.3",
  });
  assert.deepEqual(t.curl, {
    namelookup: 2,
    connect: 3,
    appconnect: 23,
    total: 23,
  });
  assert.deepEqual(t.attempts[0]!.tls, {
    start: 3,
    end: 23,
    outcome: "connected",
    alpnProtocol: "h2",
    tlsVersion: "TLSv1.3",
  });
  assert.equal(t.attempts[0]!.won, true);
  await finish(d);
});

test("recordTimings() with a failed handshake: connect is set as curl's is, appconnect is not, the tls phase has the error", async () => {
  const d = run(
    {
      "h.test": { 4: { at: 0, addrs: [X] }, 6: { at: 0, addrs: [A] } },
    },
    { [`[${A}]:443`]: CONNECT },
    "h.test:443",
    { tls: {} },
  );
  d.t.dialer.tls[`[${A}]:443`] = { after: 5, fail: "hostname" };
  await d.t.clock.advanceTo(1000);
  assert.equal(d.r.state, "rejected");
  const t = d.recorder.timings();
  assert.equal(t.outcome, "failed");
  assert.equal(t.error, `dial tcp [${A}]:443: tls: scripted hostname failure`);
  assert.deepEqual(t.connect, { start: 0, end: 1 });
  assert.deepEqual(t.tls, {
    attempt: 0,
    serverName: "h.test",
    start: 1,
    end: 6,
    error: "tls: scripted hostname failure",
  });
  assert.deepEqual(t.curl, { namelookup: 0, connect: 1, total: 6 });
  assert.deepEqual(
    t.attempts.map((a) => [a.outcome, a.tls?.outcome, a.won]),
    [["connected", "failed", false]],
  );
  await finish(d);
});

test("recordTimings() with a handshake aborted by the dial's timeout: the handshake was cancelled, the tls phase holds the timeout", async () => {
  const d = run(
    {
      "h.test": { 4: { at: 0, addrs: [X] }, 6: { at: 0, addrs: [A] } },
    },
    { [`[${A}]:443`]: CONNECT },
    "h.test:443",
    { tls: {}, timeout: 500 },
  );
  d.t.dialer.tls[`[${A}]:443`] = { hang: true };
  await d.t.clock.advanceTo(1000);
  const t = d.recorder.timings();
  assert.equal(t.outcome, "failed");
  assert.equal(t.total, 500);
  assert.equal(t.tls?.start, 1);
  assert.equal(t.tls?.end, 500);
  assert.match(t.tls?.error ?? "", /i\/o timeout/);
  assert.equal(t.attempts[0]!.tls?.outcome, "cancelled");
  assert.equal(t.curl.appconnect, undefined);
  assert.match(formatTimings(t), /^ {2}appconnect: +— +handshake cancelled$/m);
  await finish(d);
});

test("recordTimings() with a handshake aborted by the caller: the handshake was cancelled, with the abort's reason", async () => {
  const controller = new AbortController();
  const d = run(
    {
      "h.test": { 4: { at: 0, addrs: [X] }, 6: { at: 0, addrs: [A] } },
    },
    { [`[${A}]:443`]: CONNECT },
    "h.test:443",
    {
      tls: {},
      signal: controller.signal,
    },
  );
  d.t.dialer.tls[`[${A}]:443`] = { hang: true };
  await d.t.clock.advanceTo(40);
  assert.deepEqual(d.recorder.timings().tls, {
    attempt: 0,
    serverName: "h.test",
    start: 1,
  });
  controller.abort(new Error("stop"));
  await d.t.clock.advanceTo(50);
  const t = d.recorder.timings();
  assert.equal(t.outcome, "failed");
  assert.equal(t.error, "stop");
  assert.deepEqual(t.tls, {
    attempt: 0,
    serverName: "h.test",
    start: 1,
    end: 40,
    error: "stop",
  });
  assert.deepEqual(t.attempts[0]!.tls, {
    start: 1,
    end: 40,
    outcome: "cancelled",
    error: "stop",
  });
  assert.deepEqual(t.curl, { namelookup: 0, connect: 1, total: 40 });
  await finish(d);
});

test("recordTimings() with successPoint tls: a stalled handshake loses to the next attempt; its handshake is cancelled, the winner's is the tls phase", async () => {
  const d = run(
    {
      "h.test": { 4: { at: 0, addrs: [X] }, 6: { at: 0, addrs: [A] } },
    },
    { [`[${A}]:443`]: CONNECT, [`${X}:443`]: CONNECT },
    "h.test:443",
    {
      tls: { successPoint: "tls", alpnProtocols: ["h2"] },
    },
  );
  d.t.dialer.tls[`[${A}]:443`] = { hang: true };
  d.t.dialer.tls[`${X}:443`] = { after: 4, alpn: "h2" };
  await d.t.clock.advanceTo(100);
  // Mid-race, the attempt that connected stands for the winner.
  const during = d.recorder.timings();
  assert.equal(during.outcome, "pending");
  assert.deepEqual(during.connect, { start: 0, end: 1 });
  assert.deepEqual(during.tls, { attempt: 0, serverName: "h.test", start: 1 });
  assert.deepEqual(during.curl, { namelookup: 0, connect: 1 });
  assert.ok(during.attempts.every((a) => !a.won));
  await d.t.clock.advanceTo(1000);
  assert.equal(d.r.state, "resolved");
  await flush();
  const t = d.recorder.timings();
  assert.equal(t.outcome, "connected");
  assert.equal(t.addr, `${X}:443`);
  assert.deepEqual(t.connect, { start: 0, end: 251 });
  assert.deepEqual(t.tls, {
    attempt: 1,
    serverName: "h.test",
    start: 251,
    end: 255,
    alpnProtocol: "h2",
    tlsVersion: "TLSv1.3",
  });
  assert.deepEqual(t.curl, {
    namelookup: 0,
    connect: 251,
    appconnect: 255,
    total: 255,
  });
  assert.deepEqual(t.attempts, [{
    attempt: 0,
    addr: `[${A}]:443`,
    family: 6,
    cause: "first",
    start: 0,
    end: 1,
    outcome: "connected",
    tls: {
      start: 1,
      end: 255,
      outcome: "cancelled",
      error: `dial tcp [${A}]:443: ${CANCELED}`,
    },
    won: false,
  }, {
    attempt: 1,
    addr: `${X}:443`,
    family: 4,
    cause: "delay",
    start: 250,
    end: 251,
    outcome: "connected",
    tls: {
      start: 251,
      end: 255,
      outcome: "connected",
      alpnProtocol: "h2",
      tlsVersion: "TLSv1.3",
    },
    won: true,
  }]);
  await finish(d);
});

test("recordTimings() with successPoint tls and every handshake failing: the first connected attempt's handshake is the tls phase", async () => {
  const d = run(
    {
      "h.test": { 4: { at: 0, addrs: [X] }, 6: { at: 0, addrs: [A] } },
    },
    { [`[${A}]:443`]: CONNECT, [`${X}:443`]: CONNECT },
    "h.test:443",
    {
      tls: { successPoint: "tls" },
    },
  );
  d.t.dialer.tls[`[${A}]:443`] = { after: 2, fail: "untrusted" };
  d.t.dialer.tls[`${X}:443`] = { after: 2, fail: "untrusted" };
  await d.t.clock.advanceTo(1000);
  assert.equal(d.r.state, "rejected");
  const t = d.recorder.timings();
  assert.equal(t.outcome, "failed");
  assert.equal(t.tls?.attempt, 0);
  assert.equal(t.tls?.error, "tls: scripted untrusted failure");
  assert.equal(t.curl.connect, 1);
  assert.equal(t.curl.appconnect, undefined);
  assert.deepEqual(
    t.attempts.map((a) => [a.attempt, a.outcome, a.tls?.outcome, a.won]),
    [[0, "connected", "failed", false], [1, "connected", "failed", false]],
  );
  await finish(d);
});

// ── the recorder fed by hand ────────────────────────────────────────────

test("recordTimings() measures from dialStart on its clock and returns a new snapshot each call", async () => {
  const clock = new VirtualClock();
  const recorder = recordTimings({ clock });
  const before = recorder.timings();
  assert.deepEqual(before, { outcome: "pending", curl: {}, attempts: [] });
  // Time before the dial does not count.
  await clock.advanceTo(1000);
  recorder.trace.dialStart!({ network: "tcp", address: "127.0.0.1:80" });
  recorder.trace.connectStart!({
    network: "tcp",
    addr: "127.0.0.1:80",
    family: 4,
    attempt: 0,
    cause: "first",
  });
  const first = recorder.timings();
  first.attempts[0]!.start = 99;
  first.curl.total = 99;
  const second = recorder.timings();
  assert.equal(second.attempts[0]!.start, 0);
  assert.equal(second.curl.total, undefined);
  assert.equal(second.outcome, "pending");
  await clock.advanceTo(1005);
  recorder.trace.connectDone!({
    network: "tcp",
    addr: "127.0.0.1:80",
    family: 4,
    attempt: 0,
  });
  assert.deepEqual(recorder.timings().connect, { start: 0, end: 5 });
  assert.equal(recorder.timings().curl.connect, 5);
});

test("recordTimings() accepts a loser's connectDone after dialDone but no new attempt, and ignores a second dial", async () => {
  const clock = new VirtualClock();
  const { trace, timings } = recordTimings({ clock });
  const start = (attempt: number, addr: string) =>
    trace.connectStart!({
      network: "tcp",
      addr,
      family: 4,
      attempt,
      cause: attempt === 0 ? "first" : "delay",
    });
  trace.dialStart!({ network: "tcp", address: "h.test:80" });
  start(0, "192.0.2.1:80");
  await clock.advanceTo(250);
  start(1, "192.0.2.2:80");
  await clock.advanceTo(260);
  trace.connectDone!({
    network: "tcp",
    addr: "192.0.2.2:80",
    family: 4,
    attempt: 1,
  });
  trace.dialDone!({
    network: "tcp",
    address: "h.test:80",
    addr: "192.0.2.2:80",
    family: 4,
    attempt: 1,
  });
  await clock.advanceTo(262);
  const canceled = new Error(`dial tcp 192.0.2.1:80: ${CANCELED}`);
  trace.connectDone!({
    network: "tcp",
    addr: "192.0.2.1:80",
    family: 4,
    attempt: 0,
    error: canceled,
  });
  // A second dial through the same trace changes nothing.
  trace.dialStart!({ network: "tcp", address: "other.test:80" });
  trace.dnsStart!({ host: "other.test" });
  start(2, "192.0.2.3:80");
  trace.dialDone!({
    network: "tcp",
    address: "other.test:80",
    error: new Error("x"),
  });
  const t = timings();
  assert.equal(t.address, "h.test:80");
  assert.equal(t.outcome, "connected");
  assert.equal(t.total, 260);
  assert.equal(t.lookup, undefined);
  assert.deepEqual(
    t.attempts.map((a) => [a.attempt, a.end, a.outcome, a.won]),
    [[0, 262, "cancelled", false], [1, 260, "connected", true]],
  );
});

test("recordTimings() closes a lookup that never reported dnsDone when the dial ends", async () => {
  const clock = new VirtualClock();
  const { trace, timings } = recordTimings({ clock });
  trace.dialStart!({ network: "tcp", address: "h.test:80" });
  trace.dnsStart!({ host: "h.test" });
  await clock.advanceTo(40);
  const t0 = timings();
  assert.deepEqual(t0.lookup, {
    host: "h.test",
    start: 0,
    coalesced: false,
    cached: false,
  });
  assert.equal(t0.curl.namelookup, undefined);
  trace.dialDone!({
    network: "tcp",
    address: "h.test:80",
    error: new Error("gave up"),
  });
  const t = timings();
  assert.deepEqual(t.lookup, {
    host: "h.test",
    start: 0,
    end: 40,
    coalesced: false,
    cached: false,
    error: "gave up",
  });
  assert.equal(t.connect, undefined);
  assert.deepEqual(t.curl, { total: 40 });
  // A late dnsDone does not reopen or move it.
  trace.dnsDone!({ host: "h.test", addrs: [], coalesced: true, cached: false });
  assert.equal(timings().lookup?.coalesced, false);
});

test("recordTimings() takes shared and cached from the lookup's hooks", () => {
  const clock = new VirtualClock();
  const { trace, timings } = recordTimings({ clock });
  trace.dialStart!({ network: "tcp", address: "h.test:80" });
  trace.dnsStart!({ host: "h.test" });
  trace.dnsAnswer!({
    host: "h.test",
    family: 4,
    addrs: [{ address: X, family: 4 }],
    coalesced: true,
    cached: true,
  });
  assert.deepEqual(timings().lookup, {
    host: "h.test",
    start: 0,
    ipv4: { end: 0, count: 1 },
    coalesced: true,
    cached: true,
  });
  trace.dnsDone!({
    host: "h.test",
    addrs: [{ address: X, family: 4 }],
    coalesced: true,
    cached: true,
  });
  assert.equal(timings().lookup?.end, 0);
});

// ── formatTimings ───────────────────────────────────────────────────────

test("formatTimings() prints curl's four times and one row per attempt, the winner starred", async () => {
  const d = run(
    {
      "h.test": { 4: { at: 0, addrs: [X] }, 6: { at: 12.5, addrs: [A] } },
    },
    { [`${X}:443`]: CONNECT },
    "h.test:443",
    {
      tls: { alpnProtocols: ["h2"] },
    },
  );
  d.t.dialer.tls[`${X}:443`] = { after: 11.25, alpn: "h2" };
  await d.t.clock.advanceTo(1000);
  await flush();
  assert.equal(
    formatTimings(d.recorder.timings()),
    [
      "dial h.test:443 (tcp): connected to 192.0.2.1:443 (attempt #1)",
      "  namelookup:    0.0 ms   AAAA 1 at 12.5 ms, A 1 at 0.0 ms",
      "  connect:     263.5 ms   2 attempts",
      "  appconnect:  274.8 ms   TLSv1.3, ALPN h2",
      "  total:       274.8 ms",
      "  attempts (ms):",
      "   #   address            cause  start  tcp end  tcp        tls end  tls",
      "    0  [2001:db8::a]:443  first   12.5    263.5  cancelled        —  —",
      "   *1  192.0.2.1:443      delay  262.5    263.5  connected    274.8  connected",
      "",
    ].join("\n"),
  );
  await finish(d);
});

test("formatTimings() prints — for phases that did not happen, and each failed attempt's error", async () => {
  const d = run({}, {
    "127.0.0.1:1": { after: 0.5, fail: "ECONNREFUSED" },
  }, "127.0.0.1:1");
  await d.t.clock.advanceTo(10);
  assert.equal(
    formatTimings(d.recorder.timings()),
    [
      "dial 127.0.0.1:1 (tcp): failed: dial tcp 127.0.0.1:1: connect: connection refused",
      "  namelookup:       —   no lookup (IP literal)",
      "  connect:          —   1 attempt",
      "  appconnect:       —   no TLS",
      "  total:       0.5 ms",
      "  attempts (ms):",
      "   #   address      cause  start  tcp end  tcp",
      "    0  127.0.0.1:1  first    0.0      0.5  failed",
      "       dial tcp 127.0.0.1:1: connect: connection refused",
      "",
    ].join("\n"),
  );
  await finish(d);
});

test("formatTimings() of a dial still running says pending", () => {
  const clock = new VirtualClock();
  const { trace, timings } = recordTimings({ clock });
  trace.dialStart!({ network: "tcp4", address: "h.test:80" });
  trace.dnsStart!({ host: "h.test" });
  assert.equal(
    formatTimings(timings()),
    [
      "dial h.test:80 (tcp4): pending",
      "  namelookup:  —",
      "  connect:     —",
      "  appconnect:  —",
      "  total:       —",
      "",
    ].join("\n"),
  );
});

test("formatTimings() of a failed handshake after a lookup given up: the AAAA answer never came", async () => {
  const d = run(
    {
      "h.test": { 4: { at: 1, addrs: [X] }, 6: { hang: true } },
    },
    { [`${X}:443`]: { after: 2, connect: true } },
    "h.test:443",
    {
      tls: {},
    },
  );
  d.t.dialer.tls[`${X}:443`] = { after: 7.5, fail: "expired" };
  await d.t.clock.advanceTo(1000);
  assert.equal(
    formatTimings(d.recorder.timings()),
    [
      "dial h.test:443 (tcp): failed: dial tcp 192.0.2.1:443: tls: scripted expired failure",
      "  namelookup:   1.0 ms   A 1 at 1.0 ms, ended at 53.0 ms",
      "  connect:     53.0 ms   1 attempt",
      "  appconnect:        —   handshake failed",
      "  total:       60.5 ms",
      "  attempts (ms):",
      "   #   address        cause  start  tcp end  tcp        tls end  tls",
      "    0  192.0.2.1:443  first   51.0     53.0  connected     60.5  failed",
      "       tls: scripted expired failure",
      "",
    ].join("\n"),
  );
  await finish(d);
});
