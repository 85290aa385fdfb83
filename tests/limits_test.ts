// maxAttempts and maxConcurrentAttempts through dial() on a virtual clock:
// a hostile DNS answer cannot make one dial open thousands of sockets.
// Every start time is exact; the fake dialer opens nothing (documentation
// and private prefixes stand for other hosts).

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_CONCURRENT_ATTEMPTS,
  dial,
  type Dialer,
  DialError,
  type Endpoint,
  type IPAddr,
  type Resolver,
} from "../mod.ts";
import type { CoreDialOptions } from "../src/dial.ts";
import {
  type FakeConn,
  FakeDialer,
  flush,
  type Outcome,
  VirtualClock,
} from "./_virtual_clock.ts";

/** `n` distinct IPv6 addresses in 2001:db8::/32. */
function v6(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `2001:db8::${i.toString(16)}`);
}

/** `n` distinct IPv4 addresses in 10.0.0.0/8. */
function v4(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`,
  );
}

interface Env {
  clock: VirtualClock;
  fake: FakeDialer;
  /** Counts what is connecting at each moment. */
  dialer: Dialer<FakeConn>;
  resolver: Resolver;
  readonly maxInFlight: number;
  readonly inFlight: number;
}

/** A resolver answering both families at 0 and a dialer that counts. */
function env(
  answers: { 6?: string[]; 4?: string[] },
  fallback: Outcome,
): Env {
  const clock = new VirtualClock();
  const fake = new FakeDialer(clock, {}, fallback);
  let inFlight = 0;
  let maxInFlight = 0;
  const dialer: Dialer<FakeConn> = {
    connect(endpoint: Endpoint, options) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const p = fake.connect(endpoint, options);
      const settle = () => void inFlight--;
      p.then(settle, settle);
      return p;
    },
    close: (conn) => fake.close(conn),
  };
  const resolver: Resolver = {
    lookup: (_host, family) =>
      Promise.resolve(
        (answers[family] ?? []).map((address): IPAddr => ({
          address,
          family,
        })),
      ),
  };
  return {
    clock,
    fake,
    dialer,
    resolver,
    get maxInFlight() {
      return maxInFlight;
    },
    get inFlight() {
      return inFlight;
    },
  };
}

interface Settled {
  state: "pending" | "resolved" | "rejected";
  value?: FakeConn;
  reason?: unknown;
  at?: number;
}

function start(
  t: Env,
  options: Partial<CoreDialOptions<FakeConn>> = {},
): Settled {
  const seen: Settled = { state: "pending" };
  dial<FakeConn>("many.test:80", {
    resolver: t.resolver,
    dialer: t.dialer,
    clock: t.clock,
    ...options,
  }).then(
    (value) =>
      Object.assign(seen, { state: "resolved", value, at: t.clock.now() }),
    (reason) =>
      Object.assign(seen, { state: "rejected", reason, at: t.clock.now() }),
  );
  return seen;
}

function times(t: Env): number[] {
  return t.fake.calls.map((c) => c.at);
}

function dialError(r: Settled): DialError {
  assert.equal(r.state, "rejected");
  assert.ok(r.reason instanceof DialError, String(r.reason));
  return r.reason;
}

async function done(t: Env, ...conns: FakeConn[]) {
  await flush();
  assert.equal(t.clock.pending, 0, "no timer may be left");
  assert.equal(t.inFlight, 0, "nothing may still be connecting");
  assert.deepEqual(t.fake.open, conns);
  for (const conn of conns) t.fake.close(conn);
}

test("the default limits are 32 attempts per dial and 8 at once", () => {
  assert.equal(DEFAULT_MAX_ATTEMPTS, 32);
  assert.equal(DEFAULT_MAX_CONCURRENT_ATTEMPTS, 8);
});

test("dial() with a 10,000-address answer of hanging endpoints keeps 8 connecting and starts no 9th", async () => {
  const t = env({ 6: v6(5_000), 4: v4(5_000) }, { hang: true });
  const ac = new AbortController();
  const r = start(t, { signal: ac.signal });
  await t.clock.advanceTo(3_600_000);
  assert.deepEqual(times(t), [0, 250, 500, 750, 1000, 1250, 1500, 1750]);
  assert.equal(t.maxInFlight, 8);
  assert.equal(t.inFlight, 8);
  // Nothing to wake up for while the 8 hang.
  assert.equal(t.clock.pending, 0);
  assert.equal(r.state, "pending");
  const reason = new Error("given up");
  ac.abort(reason);
  await flush();
  assert.equal(r.reason, reason);
  assert.deepEqual(
    t.fake.calls.map((c) => c.abortedAt),
    new Array(8).fill(3_600_000),
  );
  await done(t);
});

test("dial() with a 10,000-address answer of refusing endpoints tries 32, one every 10 ms, and fails at 311", async () => {
  const t = env({ 6: v6(10_000), 4: v4(10_000) }, {
    after: 1,
    fail: "ECONNREFUSED",
  });
  const r = start(t);
  await t.clock.runAll();
  assert.deepEqual(times(t), Array.from({ length: 32 }, (_, i) => 10 * i));
  assert.equal(t.maxInFlight, 1);
  const error = dialError(r);
  assert.equal(error.errors.length, 32);
  assert.equal(r.at, 311);
  // Interleaved to the end: IPv6 first, then one of each in turn.
  assert.equal(t.fake.calls[30]!.addr, "[2001:db8::f]:80");
  assert.equal(t.fake.calls[31]!.addr, "10.0.0.15:80");
  await done(t);
});

test("dial() with a 10,000-address answer failing after 100 ms and a 10 ms delay starts 8, then one per failure", async () => {
  const t = env({ 6: v6(10_000) }, { after: 100, fail: "ECONNREFUSED" });
  const r = start(t, { attemptDelay: 10 });
  await t.clock.runAll();
  // 0–70: eight start 10 ms apart; the 9th waits for the first failure at
  // 100, and from then on each failure lets one more start: four waves of
  // eight, 100 ms apart.
  assert.deepEqual(
    times(t),
    Array.from(
      { length: 32 },
      (_, k) => 100 * Math.floor(k / 8) + 10 * (k % 8),
    ),
  );
  assert.equal(t.maxInFlight, 8);
  assert.equal(dialError(r).errors.length, 32);
  assert.equal(r.at, 470);
  await done(t);
});

test("dial() with a 10,000-address answer still connects when the 32nd attempt is the first to succeed", async () => {
  const t = env({ 6: v6(10_000) }, { after: 1, fail: "ECONNREFUSED" });
  t.fake.outcomes["[2001:db8::1f]:80"] = { after: 1, connect: true };
  t.fake.outcomes["[2001:db8::20]:80"] = { after: 1, connect: true };
  const r = start(t);
  await t.clock.runAll();
  assert.equal(t.fake.calls.length, 32);
  assert.equal(r.state, "resolved");
  assert.equal(r.value!.addr, "[2001:db8::1f]:80");
  assert.equal(r.at, 311);
  await done(t, r.value!);
});

test("dial() with maxAttempts 3 and maxConcurrentAttempts 2 tries 3 endpoints, 2 at a time", async () => {
  const t = env({ 6: v6(100), 4: v4(100) }, { after: 600, fail: "ETIMEDOUT" });
  const r = start(t, { maxAttempts: 3, maxConcurrentAttempts: 2 });
  await t.clock.runAll();
  // 0 and 250; the third waits for room (the first fails at 600).
  assert.deepEqual(t.fake.starts, [
    "[2001:db8::]:80@0",
    "10.0.0.0:80@250",
    "[2001:db8::1]:80@600",
  ]);
  assert.equal(t.maxInFlight, 2);
  const error = dialError(r);
  assert.deepEqual(error.errors.map((e) => e.message), [
    "dial tcp [2001:db8::]:80: connect: connection timed out",
    "dial tcp 10.0.0.0:80: connect: connection timed out",
    "dial tcp [2001:db8::1]:80: connect: connection timed out",
  ]);
  assert.equal(r.at, 1200);
  await done(t);
});

test("dial() with maxConcurrentAttempts 1 dials one endpoint after the other, as Go's serial dialer", async () => {
  const t = env({ 6: v6(3) }, { after: 400, fail: "ECONNREFUSED" });
  t.fake.outcomes["[2001:db8::2]:80"] = { after: 400, connect: true };
  const r = start(t, { maxConcurrentAttempts: 1 });
  await t.clock.runAll();
  assert.deepEqual(times(t), [0, 400, 800]);
  assert.equal(t.maxInFlight, 1);
  assert.equal(r.state, "resolved");
  assert.equal(r.at, 1200);
  await done(t, r.value!);

  // A hanging first endpoint blocks the rest for good (until the timeout).
  const h = env({ 6: v6(3) }, { hang: true });
  const r2 = start(h, { maxConcurrentAttempts: 1, timeout: 10_000 });
  await h.clock.runAll();
  assert.deepEqual(times(h), [0]);
  assert.equal((r2.reason as DOMException).name, "TimeoutError");
  assert.equal(r2.at, 10_000);
  await done(h);
});

test("dial() with maxAttempts 1 tries only the first endpoint of the interleaving", async () => {
  const t = env({ 6: v6(5), 4: v4(5) }, { after: 1, fail: "ECONNREFUSED" });
  const r = start(t, { maxAttempts: 1 });
  await t.clock.runAll();
  assert.deepEqual(t.fake.starts, ["[2001:db8::]:80@0"]);
  assert.equal(
    dialError(r).message,
    "dial tcp [2001:db8::]:80: connect: connection refused",
  );
  assert.equal(r.at, 1);
  await done(t);
});

test("dial() with maxAttempts Infinity tries every address of a 100-address answer", async () => {
  const t = env({ 4: v4(100) }, { after: 1, fail: "ECONNREFUSED" });
  const r = start(t, { maxAttempts: Infinity, network: "tcp4" });
  await t.clock.runAll();
  assert.equal(t.fake.calls.length, 100);
  assert.deepEqual(times(t), Array.from({ length: 100 }, (_, i) => 10 * i));
  assert.equal(dialError(r).errors.length, 100);
  await done(t);
});

test("dial() counts addresses refused by the control towards maxAttempts but not towards maxConcurrentAttempts", async () => {
  const t = env({ 4: v4(40) }, { hang: true });
  const r = start(t, {
    network: "tcp4",
    maxAttempts: 10,
    maxConcurrentAttempts: 2,
    timeout: 5_000,
    // Refuses every address ending in an odd number, before any connect.
    control: ({ endpoint }) => {
      if (Number(endpoint.address.split(".")[3]) % 2 === 1) {
        throw new Error("odd");
      }
    },
  });
  await t.clock.runAll();
  // 10 attempts: 5 refused at once (free), 5 connects of which 2 hang at a
  // time: the third never starts.
  assert.deepEqual(t.fake.starts, ["10.0.0.0:80@0", "10.0.0.2:80@250"]);
  assert.equal(t.maxInFlight, 2);
  assert.equal((r.reason as DOMException).name, "TimeoutError");
  await done(t);
});

test("dial() keeps the limits when addresses keep arriving: a late 10,000-address A answer adds no more than the budget", async () => {
  const clock = new VirtualClock();
  const fake = new FakeDialer(clock, {}, { after: 1, fail: "ECONNREFUSED" });
  const resolver: Resolver = {
    lookup: (_host, family) =>
      new Promise((resolve) =>
        clock.setTimeout(
          () =>
            resolve(
              (family === 6 ? v6(20) : v4(10_000)).map((address) => ({
                address,
                family,
              })),
            ),
          family === 6 ? 0 : 100,
        )
      ),
  };
  let result: unknown;
  dial("late.test:80", { resolver, dialer: fake, clock }).catch((e) =>
    result = e
  );
  await clock.runAll();
  assert.ok(result instanceof DialError);
  assert.equal(fake.calls.length, 32);
  // 20 IPv6 addresses at 0, 10, …, 190 — the A answer at 100 goes next
  // each time, interleaved.
  assert.deepEqual(fake.starts.slice(9, 13), [
    "[2001:db8::9]:80@90",
    "10.0.0.0:80@100",
    "[2001:db8::a]:80@110",
    "10.0.0.1:80@120",
  ]);
  assert.equal(clock.pending, 0);
});
