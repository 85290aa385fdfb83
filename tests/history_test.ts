// The per-host connection history (RFC 8305 §4) and the attempt delay it
// derives (§5), at exact times on a virtual clock.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  attemptDelayFromConnectTime,
  DEFAULT_HISTORY_TTL,
  dialerHistory,
  HistoryStore,
} from "../mod.ts";
import { FakeDialer, FakeResolver, VirtualClock } from "./_virtual_clock.ts";
import { run, setup, timeline } from "./_ordering_env.ts";

const SCOPE = { name: "resolver A" };
const key = (address: string, host = "db.test", scope: object = SCOPE) => ({
  scope,
  host,
  address,
});

test("HistoryStore records a connect with its connect time and marks the address used", async () => {
  const clock = new VirtualClock();
  const history = new HistoryStore();
  await clock.advance(250);
  history.record(key("192.0.2.1"), {
    outcome: "connected",
    connectTime: 3,
    now: clock.now(),
  });
  assert.deepEqual(history.get(key("192.0.2.1"), clock.now()), {
    outcome: "connected",
    connectTime: 3,
    used: true,
    at: 250,
  });
  assert.equal(history.get(key("192.0.2.2"), clock.now()), undefined);
  assert.equal(history.size, 1);
});

test("HistoryStore keeps the connect time and the used mark when a later attempt fails or is outpaced", async () => {
  const clock = new VirtualClock();
  const history = new HistoryStore();
  history.record(key("2001:db8::1"), {
    outcome: "connected",
    connectTime: 12,
    now: clock.now(),
  });
  await clock.advance(5_000);
  history.record(key("2001:db8::1"), { outcome: "outpaced", now: clock.now() });
  assert.deepEqual(history.get(key("2001:db8::1"), clock.now()), {
    outcome: "outpaced",
    connectTime: 12,
    used: true,
    at: 5_000,
  });
  await clock.advance(1);
  history.record(key("2001:db8::1"), { outcome: "failed", now: clock.now() });
  assert.equal(history.get(key("2001:db8::1"), clock.now())?.outcome, "failed");
  // A connect again replaces the connect time.
  history.record(key("2001:db8::1"), {
    outcome: "connected",
    connectTime: 4.5,
    now: clock.now(),
  });
  assert.deepEqual(history.get(key("2001:db8::1"), clock.now()), {
    outcome: "connected",
    connectTime: 4.5,
    used: true,
    at: 5_001,
  });
  assert.equal(history.size, 1);
});

test("HistoryStore forgets a record exactly ttl ms after its latest update (10 minutes by default)", async () => {
  assert.equal(DEFAULT_HISTORY_TTL, 600_000);
  const clock = new VirtualClock();
  const history = new HistoryStore();
  assert.equal(history.ttl, 600_000);
  await clock.advance(1_000);
  history.record(key("2001:db8::1"), { outcome: "failed", now: clock.now() });
  await clock.advanceTo(600_999);
  assert.equal(
    history.get(key("2001:db8::1"), clock.now())?.outcome,
    "failed",
    "alive at 599,999 ms of age",
  );
  await clock.advanceTo(601_000);
  assert.equal(history.get(key("2001:db8::1"), clock.now()), undefined);
  assert.equal(history.size, 0, "an expired record is dropped when read");
});

test("HistoryStore with a ttl of its own expires on it, and an update restarts the ttl", async () => {
  const clock = new VirtualClock();
  const history = new HistoryStore({ ttl: 100 });
  history.record(key("192.0.2.1"), {
    outcome: "connected",
    connectTime: 1,
    now: clock.now(),
  });
  await clock.advanceTo(60);
  history.record(key("192.0.2.1"), { outcome: "failed", now: clock.now() });
  await clock.advanceTo(159);
  assert.deepEqual(history.get(key("192.0.2.1"), clock.now()), {
    outcome: "failed",
    connectTime: 1,
    used: true,
    at: 60,
  });
  await clock.advanceTo(160);
  assert.equal(history.get(key("192.0.2.1"), clock.now()), undefined);
});

test("HistoryStore does not carry the used mark of an expired record into a new failure", async () => {
  const clock = new VirtualClock();
  const history = new HistoryStore({ ttl: 100 });
  history.record(key("192.0.2.1"), {
    outcome: "connected",
    connectTime: 1,
    now: clock.now(),
  });
  await clock.advanceTo(100);
  history.record(key("192.0.2.1"), { outcome: "failed", now: clock.now() });
  assert.deepEqual(history.get(key("192.0.2.1"), clock.now()), {
    outcome: "failed",
    connectTime: undefined,
    used: false,
    at: 100,
  });
});

test("HistoryStore treats a record stamped after `now` (another clock) as expired", () => {
  const history = new HistoryStore();
  history.record(key("192.0.2.1"), { outcome: "failed", now: 5_000 });
  assert.equal(history.get(key("192.0.2.1"), 4_999), undefined);
});

test("HistoryStore.clear() forgets everything", () => {
  const clock = new VirtualClock();
  const history = new HistoryStore();
  history.record(key("192.0.2.1"), { outcome: "failed", now: clock.now() });
  history.record(key("192.0.2.2", "other.test"), {
    outcome: "connected",
    connectTime: 2,
    now: clock.now(),
  });
  assert.equal(history.size, 2);
  history.clear();
  assert.equal(history.size, 0);
  assert.equal(history.get(key("192.0.2.1"), clock.now()), undefined);
  assert.deepEqual(history.host(SCOPE, "other.test", clock.now()), new Map());
});

test("HistoryStore never lets records cross scopes (resolvers) or hosts", () => {
  const history = new HistoryStore();
  const other = { name: "resolver B" };
  history.record(key("192.0.2.1"), { outcome: "failed", now: 0 });
  assert.equal(history.get(key("192.0.2.1", "db.test", other), 1), undefined);
  assert.equal(history.get(key("192.0.2.1", "web.test"), 1), undefined);
  history.record(key("192.0.2.1", "db.test", other), {
    outcome: "connected",
    connectTime: 7,
    now: 0,
  });
  assert.equal(history.get(key("192.0.2.1"), 1)?.outcome, "failed");
  assert.equal(
    history.get(key("192.0.2.1", "db.test", other), 1)?.outcome,
    "connected",
  );
  assert.equal(history.size, 2);
});

test("HistoryStore.host() lists the live records of one host through one scope", async () => {
  const clock = new VirtualClock();
  const history = new HistoryStore({ ttl: 1_000 });
  history.record(key("2001:db8::1"), { outcome: "outpaced", now: 0 });
  await clock.advanceTo(500);
  history.record(key("192.0.2.1"), {
    outcome: "connected",
    connectTime: 2,
    now: clock.now(),
  });
  history.record(key("192.0.2.9", "web.test"), { outcome: "failed", now: 500 });
  assert.deepEqual(
    [...history.host(SCOPE, "db.test", clock.now())].map(([a, r]) =>
      `${a} ${r.outcome}`
    ),
    ["2001:db8::1 outpaced", "192.0.2.1 connected"],
  );
  await clock.advanceTo(1_000);
  assert.deepEqual(
    [...history.host(SCOPE, "db.test", clock.now()).keys()],
    ["192.0.2.1"],
  );
  assert.equal(history.size, 2, "the expired record was dropped");
  assert.deepEqual(history.host({}, "db.test", clock.now()), new Map());
});

test("HistoryStore holds at most maxEntries records, dropping the least recently updated", () => {
  const history = new HistoryStore({ maxEntries: 3 });
  for (let i = 1; i <= 3; i++) {
    history.record(key(`192.0.2.${i}`), { outcome: "failed", now: i });
  }
  // Updating .1 makes .2 the oldest.
  history.record(key("192.0.2.1"), { outcome: "failed", now: 4 });
  history.record(key("192.0.2.4"), { outcome: "failed", now: 5 });
  assert.equal(history.size, 3);
  assert.equal(history.get(key("192.0.2.2"), 6), undefined);
  for (const a of ["192.0.2.1", "192.0.2.3", "192.0.2.4"]) {
    assert.ok(history.get(key(a), 6), a);
  }
  assert.deepEqual(
    [...history.host(SCOPE, "db.test", 6).keys()].sort(),
    ["192.0.2.1", "192.0.2.3", "192.0.2.4"],
  );
});

test("attemptDelayFromConnectTime() is twice the connect time, never below 100 ms by default, never above 2 s", () => {
  assert.equal(attemptDelayFromConnectTime(0), 100);
  assert.equal(attemptDelayFromConnectTime(0.4), 100);
  assert.equal(attemptDelayFromConnectTime(50), 100);
  assert.equal(attemptDelayFromConnectTime(50.5), 101);
  assert.equal(attemptDelayFromConnectTime(180), 360);
  assert.equal(attemptDelayFromConnectTime(1_000), 2_000);
  assert.equal(attemptDelayFromConnectTime(60_000), 2_000);
});

test("attemptDelayFromConnectTime() takes a floor down to 10 ms and refuses one below", () => {
  assert.equal(attemptDelayFromConnectTime(2, { minAttemptDelay: 10 }), 10);
  assert.equal(attemptDelayFromConnectTime(7, { minAttemptDelay: 10 }), 14);
  assert.equal(attemptDelayFromConnectTime(7, { minAttemptDelay: 250 }), 250);
  assert.throws(
    () => attemptDelayFromConnectTime(2, { minAttemptDelay: 9.9 }),
    {
      name: "RangeError",
      message:
        "Cannot use minAttemptDelay 9.9: it must be a number of ms from 10 to 2000",
    },
  );
  assert.throws(
    () => attemptDelayFromConnectTime(2, { minAttemptDelay: 2001 }),
    RangeError,
  );
  assert.throws(() => attemptDelayFromConnectTime(-1), RangeError);
  assert.throws(() => attemptDelayFromConnectTime(NaN), RangeError);
});

test("HistoryStore.attemptDelay() uses the store's minAttemptDelay", () => {
  assert.equal(new HistoryStore().attemptDelay(3), 100);
  assert.equal(new HistoryStore().minAttemptDelay, 100);
  const fast = new HistoryStore({ minAttemptDelay: 10 });
  assert.equal(fast.attemptDelay(3), 10);
  assert.equal(fast.attemptDelay(30), 60);
  assert.equal(fast.attemptDelay(5_000), 2_000);
});

test("HistoryStore refuses bad options and bad records", () => {
  assert.throws(() => new HistoryStore({ ttl: -1 }), RangeError);
  assert.throws(() => new HistoryStore({ ttl: NaN }), RangeError);
  assert.throws(() => new HistoryStore({ maxEntries: 0 }), RangeError);
  assert.throws(() => new HistoryStore({ maxEntries: 1.5 }), RangeError);
  assert.throws(() => new HistoryStore({ minAttemptDelay: 5 }), RangeError);
  const history = new HistoryStore();
  assert.throws(
    () =>
      history.record(key("192.0.2.1"), {
        outcome: "won" as "connected",
        now: 0,
      }),
    TypeError,
  );
  assert.throws(
    () => history.record(key("192.0.2.1"), { outcome: "connected", now: 0 }),
    {
      name: "RangeError",
      message:
        "Cannot record connect time undefined: it must be a finite number of ms ≥ 0",
    },
  );
  assert.throws(
    () => history.record(key("192.0.2.1"), { outcome: "failed", now: NaN }),
    RangeError,
  );
  assert.throws(
    () =>
      history.record(
        { scope: null as unknown as object, host: "h", address: "192.0.2.1" },
        { outcome: "failed", now: 0 },
      ),
    TypeError,
  );
  assert.equal(history.size, 0);
});

test("HistoryStore instances are independent (no process-global state)", () => {
  const a = new HistoryStore();
  const b = new HistoryStore();
  a.record(key("192.0.2.1"), { outcome: "failed", now: 0 });
  assert.equal(b.get(key("192.0.2.1"), 0), undefined);
  assert.equal(b.size, 0);
});

// ── dial() with history ──────────────────────────────────────────────────

const DUAL = {
  "h.test": {
    6: { at: 0, addrs: ["2001:db8::1"] },
    4: { at: 0, addrs: ["192.0.2.1"] },
  },
};
const V6_HANGS = { "192.0.2.1:80": { after: 3, connect: true as const } };

test("dial() with history: after IPv6 was outpaced, the next dial starts IPv4 at once", async () => {
  const env = setup(DUAL, V6_HANGS);
  const history = new HistoryStore();
  const first = await run(env, "h.test:80", { history });
  assert.deepEqual(timeline(first), ["[2001:db8::1]:80@0", "192.0.2.1:80@250"]);
  assert.equal(first.at, 253);
  assert.equal(first.starts[0]!.history, undefined);
  const known = history.host(env.resolver, "h.test", 253);
  assert.deepEqual(known.get("2001:db8::1"), {
    outcome: "outpaced",
    connectTime: undefined,
    used: false,
    at: 253,
  });
  assert.deepEqual(known.get("192.0.2.1"), {
    outcome: "connected",
    connectTime: 3,
    used: true,
    at: 253,
  });

  await env.clock.advanceTo(1_000);
  const second = await run(env, "h.test:80", { history });
  assert.deepEqual(timeline(second), ["192.0.2.1:80@1000"]);
  assert.equal(second.at, 1_003);
  const info = second.starts[0]!;
  assert.equal(info.sortedBy, "avoid-failed");
  assert.deepEqual(info.history, known.get("192.0.2.1"));
  assert.equal(info.historyDelay, 100, "2 × 3 ms, at least 100");
  assert.equal(env.clock.pending, 0);
  assert.deepEqual(env.dialer.open, []);
});

test("dial() with history: the family that worked goes first even when its answer comes last", async () => {
  const env = setup({
    "h.test": {
      6: { at: 0, addrs: ["2001:db8::1"] },
      4: { at: 0, addrs: ["192.0.2.1"] },
    },
  }, V6_HANGS);
  const history = new HistoryStore();
  await run(env, "h.test:80", { history });
  // The AAAA answer now comes at +5, the A answer at +20: IPv4 is waited
  // for (the Resolution Delay is IPv6's no more) and starts as it comes.
  env.resolver.script = {
    "h.test": {
      6: { at: 1_005, addrs: ["2001:db8::1"] },
      4: { at: 1_020, addrs: ["192.0.2.1"] },
    },
  };
  await env.clock.advanceTo(1_000);
  const second = await run(env, "h.test:80", { history });
  assert.deepEqual(timeline(second), ["192.0.2.1:80@1020"]);
  assert.equal(second.starts[0]!.sortedBy, "avoid-failed");
});

test("dial() with history derives the attempt delay from the measured connect time: 2 ×, 100 ms to 2 s", async () => {
  for (
    const [connectTime, delay] of [[3, 100], [180, 360], [1_500, 2_000]]
  ) {
    const env = setup(DUAL, {}, { hang: true });
    const history = new HistoryStore();
    history.record(
      { scope: env.resolver, host: "h.test", address: "2001:db8::1" },
      { outcome: "connected", connectTime, now: 0 },
    );
    const r = await run(env, "h.test:80", { history, timeout: 3_000 });
    assert.deepEqual(
      timeline(r),
      ["[2001:db8::1]:80@0", `192.0.2.1:80@${delay}`],
      `connect time ${connectTime}`,
    );
    assert.equal(r.starts[0]!.historyDelay, delay);
    assert.equal(r.starts[1]!.historyDelay, undefined);
    assert.equal((r.error as DOMException).name, "TimeoutError");
  }
});

test("dial() with history honours the store's minAttemptDelay down to 10 ms", async () => {
  const env = setup(DUAL);
  const history = new HistoryStore({ minAttemptDelay: 10 });
  history.record(
    { scope: env.resolver, host: "h.test", address: "2001:db8::1" },
    { outcome: "connected", connectTime: 2, now: 0 },
  );
  const r = await run(env, "h.test:80", { history, timeout: 100 });
  assert.deepEqual(timeline(r), ["[2001:db8::1]:80@0", "192.0.2.1:80@10"]);
});

test("dial() with history sorts the lower connect time first within a family", async () => {
  const env = setup({
    "h.test": {
      6: { at: 0, addrs: ["2001:db8::1", "2001:db8::2"] },
      4: { at: 0, addrs: [] },
    },
  }, { "[2001:db8::2]:80": { after: 4, connect: true } });
  const history = new HistoryStore();
  const key = (address: string) => ({
    scope: env.resolver,
    host: "h.test",
    address,
  });
  history.record(key("2001:db8::1"), {
    outcome: "connected",
    connectTime: 90,
    now: 0,
  });
  history.record(key("2001:db8::2"), {
    outcome: "connected",
    connectTime: 4,
    now: 0,
  });
  const r = await run(env, "h.test:80", { history });
  assert.deepEqual(timeline(r), ["[2001:db8::2]:80@0"]);
  assert.equal(r.starts[0]!.sortedBy, "lower-rtt");
  assert.equal(r.at, 4);
});

test("dial() forgets history after its ttl: IPv6 first again", async () => {
  const env = setup(DUAL, V6_HANGS);
  const history = new HistoryStore({ ttl: 60_000 });
  await run(env, "h.test:80", { history });
  await env.clock.advanceTo(60_252);
  assert.deepEqual(timeline(await run(env, "h.test:80", { history })), [
    "192.0.2.1:80@60252",
  ]);
  // The second dial refreshed IPv4's record, not IPv6's (made at 253).
  await env.clock.advanceTo(60_260);
  assert.deepEqual(timeline(await run(env, "h.test:80", { history })), [
    "[2001:db8::1]:80@60260",
    "192.0.2.1:80@60510",
  ]);
});

test("dial() with history: false neither reads nor writes history", async () => {
  const env = setup(DUAL, V6_HANGS);
  const store = dialerHistory(env.dialer);
  for (const at of [0, 1_000]) {
    await env.clock.advanceTo(at);
    const r = await run(env, "h.test:80", { history: false });
    assert.deepEqual(timeline(r), [
      `[2001:db8::1]:80@${at}`,
      `192.0.2.1:80@${at + 250}`,
    ]);
  }
  assert.equal(store.size, 0);
});

test("dial() keeps one default history per dialer object (dialerHistory)", async () => {
  const env = setup(DUAL, V6_HANGS);
  await run(env, "h.test:80");
  const store = dialerHistory(env.dialer);
  assert.equal(store.size, 2);
  assert.equal(dialerHistory(env.dialer), store);
  await env.clock.advanceTo(1_000);
  assert.deepEqual(timeline(await run(env, "h.test:80")), [
    "192.0.2.1:80@1000",
  ]);
  // Another dialer starts with nothing.
  const other = new FakeDialer(env.clock, V6_HANGS);
  assert.equal(dialerHistory(other).size, 0);
  await env.clock.advanceTo(2_000);
  assert.deepEqual(timeline(await run(env, "h.test:80", { dialer: other })), [
    "[2001:db8::1]:80@2000",
    "192.0.2.1:80@2250",
  ]);
  store.clear();
  await env.clock.advanceTo(3_000);
  assert.deepEqual(timeline(await run(env, "h.test:80")), [
    "[2001:db8::1]:80@3000",
    "192.0.2.1:80@3250",
  ]);
});

test("dial() never lets history cross resolvers", async () => {
  const env = setup(DUAL, V6_HANGS);
  const history = new HistoryStore();
  await run(env, "h.test:80", { history });
  const other = new FakeResolver(env.clock, DUAL);
  await env.clock.advanceTo(1_000);
  assert.deepEqual(
    timeline(await run(env, "h.test:80", { history, resolver: other })),
    ["[2001:db8::1]:80@1000", "192.0.2.1:80@1250"],
  );
  // The name as dialled in another case is the same host.
  env.resolver.script = { ...DUAL, "H.Test": DUAL["h.test"] };
  await env.clock.advanceTo(2_000);
  assert.deepEqual(timeline(await run(env, "H.Test:80", { history })), [
    "192.0.2.1:80@2000",
  ]);
});

test("dial() records a refused connect as failed, a control refusal and an abort not at all", async () => {
  const env = setup(DUAL, {
    "[2001:db8::1]:80": { after: 1, fail: "ECONNREFUSED" },
    "192.0.2.1:80": { after: 2, connect: true },
  });
  const history = new HistoryStore();
  const first = await run(env, "h.test:80", { history });
  assert.deepEqual(timeline(first), ["[2001:db8::1]:80@0", "192.0.2.1:80@10"]);
  const key = { scope: env.resolver, host: "h.test", address: "2001:db8::1" };
  assert.equal(history.get(key, 12)?.outcome, "failed");

  const controlled = new HistoryStore();
  await run(env, "h.test:80", {
    history: controlled,
    control: ({ endpoint }) => {
      if (endpoint.family === 6) throw new Error("no IPv6");
    },
  });
  assert.equal(controlled.get(key, env.clock.now()), undefined);
  assert.equal(
    controlled.get({ ...key, address: "192.0.2.1" }, env.clock.now())
      ?.outcome,
    "connected",
  );

  const aborted = new HistoryStore();
  const hang = setup(DUAL);
  const r = await run(hang, "h.test:80", { history: aborted, timeout: 400 });
  assert.equal((r.error as DOMException).name, "TimeoutError");
  assert.equal(aborted.size, 0);
});

test("dial() records a loser that connects after the win, with its connect time", async () => {
  const env = setup(DUAL, {
    "[2001:db8::1]:80": { after: 300, connect: true },
    "192.0.2.1:80": { after: 5, connect: true },
  });
  // The dialer ignores the abort of the IPv6 attempt: it lands at 300.
  const connect = env.dialer.connect.bind(env.dialer);
  env.dialer.connect = (endpoint) =>
    connect(endpoint, { signal: new AbortController().signal });
  const history = new HistoryStore();
  const r = await run(env, "h.test:80", { history });
  assert.equal(r.at, 255);
  await env.clock.advanceTo(400);
  const record = history.get(
    { scope: env.resolver, host: "h.test", address: "2001:db8::1" },
    400,
  );
  assert.deepEqual(record, {
    outcome: "connected",
    connectTime: 300,
    used: true,
    at: 300,
  });
  assert.deepEqual(env.dialer.open, [], "the late connection was closed");
});

test("dial() keeps no history for IP literals", async () => {
  const env = setup({}, { "192.0.2.1:80": { after: 1, connect: true } });
  await run(env, "192.0.2.1:80");
  await run(env, "192.0.2.1:80", { timeout: 100 });
  assert.equal(dialerHistory(env.dialer).size, 0);
});

test("dial() refuses an options.history that is no HistoryStore", async () => {
  const env = setup(DUAL);
  for (const history of [null, true, {}, "yes"]) {
    await assert.rejects(
      run(env, "h.test:80", {
        history: history as unknown as HistoryStore,
      }).then((r) => {
        throw r.error;
      }),
      TypeError,
    );
  }
});
