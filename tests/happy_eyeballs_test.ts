// Exact-time tests of the pure RFC 8305 scheduler. No clock at all: every
// event is stamped by hand and every action is checked as returned.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  formatEndpoint,
  HappyEyeballs,
  type HappyEyeballsAction,
  type HappyEyeballsEvent,
  type HappyEyeballsOptions,
  type IPAddr,
} from "../mod.ts";

// Addresses from the documentation prefixes: nothing here touches a network.
const A = "2001:db8::a";
const B = "2001:db8::b";
const C = "2001:db8::c";
const X = "192.0.2.1";
const Y = "192.0.2.2";

function ip(address: string): IPAddr {
  return address.includes(":")
    ? { address, family: 6 }
    : { address, family: 4 };
}

function answer(family: 4 | 6, ...addrs: string[]): HappyEyeballsEvent {
  return { type: "answer", family, addrs: addrs.map(ip) };
}

/** Short, readable forms of actions: `start 0 [2001:db8::a]:80 first`. */
function show(actions: readonly HappyEyeballsAction[]): string[] {
  return actions.map((a) => {
    switch (a.type) {
      case "start":
        return `start ${a.attempt} ${formatEndpoint(a.endpoint)} ${a.cause}`;
      case "cancel":
      case "close":
      case "won":
        return `${a.type} ${a.attempt}`;
      case "wake":
        return `wake ${a.at}`;
      case "failed":
        return `failed [${a.errors.map((e) => e.message).join(", ")}]`;
    }
  });
}

/**
 * Drives a scheduler the way `dial()` does: wake-ups come as `timer`
 * events at exactly the time asked for, before an input stamped with the
 * same time. Records every action with its time.
 */
class Sim {
  readonly he: HappyEyeballs;
  now = 0;
  readonly log: string[] = [];
  /** `address@time` of every start, in order. */
  readonly starts: string[] = [];
  /** The attempt index of each address. */
  readonly attempt: Record<string, number> = {};

  constructor(options: Partial<HappyEyeballsOptions> = {}) {
    this.he = new HappyEyeballs({ port: 80, ...options });
  }

  #step(at: number, event: HappyEyeballsEvent): string[] {
    this.now = at;
    const actions = this.he.step(at, event);
    for (const a of actions) {
      if (a.type === "start") {
        this.starts.push(`${a.endpoint.address}@${at}`);
        this.attempt[a.endpoint.address] = a.attempt;
      }
    }
    const shown = show(actions);
    for (const line of shown) this.log.push(`${at} ${line}`);
    return shown;
  }

  /** Runs every wake-up due up to `t`. */
  until(t: number): void {
    for (;;) {
      const wake = this.he.wakeAt;
      if (wake === undefined || wake > t) break;
      this.#step(wake, { type: "timer" });
    }
    this.now = t;
  }

  /** Runs the wake-ups due up to `t`, then feeds `event` at `t`. */
  at(t: number, event: HappyEyeballsEvent): string[] {
    this.until(t);
    return this.#step(t, event);
  }

  connected(t: number, address: string): string[] {
    return this.at(t, { type: "connected", attempt: this.attempt[address]! });
  }

  failed(t: number, address: string, error = new Error(address)): string[] {
    return this.at(t, {
      type: "failed",
      attempt: this.attempt[address]!,
      error,
    });
  }
}

// ── the example table of DESIGN.md ─────────────────────────────────────

test("HappyEyeballs waits the resolution delay after an A answer while AAAA is pending (A at 10 → v4 @ 60)", () => {
  const sim = new Sim();
  assert.deepEqual(sim.at(10, answer(4, X)), ["wake 60"]);
  sim.until(1000);
  assert.deepEqual(sim.starts, [`${X}@60`]);
  assert.equal(sim.he.isPending(6), true);
});

test("HappyEyeballs starts IPv6 on a late AAAA and IPv4 one attempt delay later (A at 30, AAAA at 40 → v6 @ 40, v4 @ 290)", () => {
  const sim = new Sim();
  sim.at(30, answer(4, X));
  sim.at(40, answer(6, A));
  sim.until(1000);
  assert.deepEqual(sim.starts, [`${A}@40`, `${X}@290`]);
});

test("HappyEyeballs ends the resolution delay on an empty AAAA answer (A at 30, AAAA empty at 35 → v4 @ 35)", () => {
  const sim = new Sim();
  assert.deepEqual(sim.at(30, answer(4, X)), ["wake 80"]);
  assert.deepEqual(sim.at(35, answer(6)), [
    `start 0 ${X}:80 first`,
    "wake undefined",
  ]);
  sim.until(1000);
  assert.deepEqual(sim.starts, [`${X}@35`]);
});

test("HappyEyeballs interleaves a later A answer into hanging IPv6 attempts (AAAA [a,b,c] at 0, A [x] at 100 → a@0 x@250 b@500 c@750)", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B, C));
  sim.at(100, answer(4, X));
  sim.until(10_000);
  assert.deepEqual(sim.starts, [`${A}@0`, `${X}@250`, `${B}@500`, `${C}@750`]);
  assert.equal(sim.he.wakeAt, undefined);
  assert.equal(sim.he.state, "running");
});

test("HappyEyeballs puts firstAddressFamilyCount IPv6 addresses first (count 2: a@0 b@250 x@500 c@750 y@1000)", () => {
  for (const order of ["AAAA first", "A first"]) {
    const sim = new Sim({ firstAddressFamilyCount: 2 });
    if (order === "AAAA first") {
      sim.at(0, answer(6, A, B, C));
      sim.at(0, answer(4, X, Y));
    } else {
      sim.at(0, answer(4, X, Y));
      sim.at(0, answer(6, A, B, C));
    }
    sim.until(10_000);
    assert.deepEqual(sim.starts, [
      `${A}@0`,
      `${B}@250`,
      `${X}@500`,
      `${C}@750`,
      `${Y}@1000`,
    ], order);
  }
});

test("HappyEyeballs starts IPv4 10 ms after a refused IPv6 start and IPv4 wins (v6 refused at 2 → v6 @ 0, v4 @ 10)", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A));
  sim.at(0, answer(4, X));
  assert.deepEqual(sim.failed(2, A), ["wake 10"]);
  sim.until(10);
  assert.deepEqual(sim.starts, [`${A}@0`, `${X}@10`]);
  assert.deepEqual(sim.connected(12, X), ["won 1"]);
  assert.equal(sim.he.state, "won");
});

// ── RFC 8305 parameters ────────────────────────────────────────────────

test("HappyEyeballs clamps attemptDelay to [10, 2000]", () => {
  const cases: [number, number][] = [
    [0, 10],
    [1, 10],
    [10, 10],
    [100, 100],
    [2000, 2000],
    [5000, 2000],
    [Infinity, 2000],
  ];
  for (const [given, used] of cases) {
    const sim = new Sim({ attemptDelay: given });
    assert.equal(sim.he.attemptDelay, used, `attemptDelay ${given}`);
    sim.at(0, answer(6, A, B, C));
    sim.until(100_000);
    assert.deepEqual(
      sim.starts,
      [`${A}@0`, `${B}@${used}`, `${C}@${2 * used}`],
      `attemptDelay ${given}`,
    );
  }
});

test("HappyEyeballs uses the default attemptDelay 250 and resolutionDelay 50", () => {
  const he = new HappyEyeballs({ port: 80 });
  assert.equal(he.attemptDelay, 250);
  assert.deepEqual(show(he.step(7, answer(4, X))), ["wake 57"]);
});

test("HappyEyeballs honours a custom resolutionDelay", () => {
  const sim = new Sim({ resolutionDelay: 100 });
  assert.deepEqual(sim.at(10, answer(4, X)), ["wake 110"]);
  sim.until(1000);
  assert.deepEqual(sim.starts, [`${X}@110`]);

  const zero = new Sim({ resolutionDelay: 0 });
  zero.at(10, answer(4, X));
  zero.until(1000);
  assert.deepEqual(zero.starts, [`${X}@10`]);
});

test("HappyEyeballs starts the next attempt at once when one fails, but never less than 10 ms after the previous start", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B, C));
  // a fails at 3: b waits until 10.
  assert.deepEqual(sim.failed(3, A), ["wake 10"]);
  // b fails at 100: c starts at 100, at once.
  sim.until(100);
  assert.deepEqual(sim.failed(100, B), [
    `start 2 [${C}]:80 failure`,
    "wake undefined",
  ]);
  assert.deepEqual(sim.starts, [`${A}@0`, `${B}@10`, `${C}@100`]);
});

test("HappyEyeballs keeps an earlier attempt running when the next one starts", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B));
  sim.until(250);
  // Starting b cancelled nothing.
  assert.deepEqual(sim.log, [
    `0 start 0 [${A}]:80 first`,
    "0 wake 250",
    `250 start 1 [${B}]:80 delay`,
    "250 wake undefined",
  ]);
  // a can still win.
  assert.deepEqual(sim.connected(300, A), ["cancel 1", "won 0"]);
});

test("HappyEyeballs starts an older attempt's failure replacement at once even while a newer one runs", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B, C));
  sim.until(250); // a@0, b@250
  assert.deepEqual(sim.failed(300, A), [
    `start 2 [${C}]:80 failure`,
    "wake undefined",
  ]);
});

test("HappyEyeballs sorts a late A address in next among the untried addresses", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B, C));
  sim.until(250); // a@0 b@250
  assert.deepEqual(sim.at(300, answer(4, X)), []); // still waits for 500
  sim.until(10_000);
  assert.deepEqual(sim.starts, [`${A}@0`, `${B}@250`, `${X}@500`, `${C}@750`]);
});

test("HappyEyeballs interleaves late A addresses with the untried AAAA ones, the family that did not go last first", () => {
  const D = "2001:db8::d";
  const sim = new Sim();
  sim.at(0, answer(6, A, B, C, D));
  sim.until(250); // a@0 b@250; c, d untried
  sim.at(300, answer(4, X, Y));
  sim.until(10_000);
  assert.deepEqual(sim.starts, [
    `${A}@0`,
    `${B}@250`,
    `${X}@500`,
    `${C}@750`,
    `${Y}@1000`,
    `${D}@1250`,
  ]);
});

test("HappyEyeballs keeps firstAddressFamilyCount when the other family arrives inside the first run", () => {
  const sim = new Sim({ firstAddressFamilyCount: 2 });
  sim.at(0, answer(6, A, B, C));
  sim.at(100, answer(4, X, Y)); // a@0 started; b is still due before x
  sim.until(10_000);
  assert.deepEqual(sim.starts, [
    `${A}@0`,
    `${B}@250`,
    `${X}@500`,
    `${C}@750`,
    `${Y}@1000`,
  ]);
});

test("HappyEyeballs keeps the stagger when an attempt fails with nothing left to try while another runs", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B));
  sim.until(250); // a@0 b@250, nothing untried
  assert.deepEqual(sim.failed(300, A), []);
  // A late address waits for b's attempt delay, not a@300's failure.
  assert.deepEqual(sim.at(310, answer(4, X)), ["wake 500"]);
  sim.until(10_000);
  assert.deepEqual(sim.starts, [`${A}@0`, `${B}@250`, `${X}@500`]);
});

test("HappyEyeballs starts a late answer at once when every attempt so far has failed", () => {
  const sim = new Sim({ families: [6, 4] });
  sim.at(0, answer(6, A));
  sim.failed(5, A);
  const started = sim.at(100, answer(4, X));
  assert.deepEqual(started[0], `start 1 ${X}:80 answer`);
});

test("HappyEyeballs tries a late AAAA address one attempt delay after the IPv4 attempt started", () => {
  const sim = new Sim();
  sim.at(0, answer(4, X));
  sim.until(50); // x@50 after the resolution delay
  assert.deepEqual(sim.at(100, answer(6, A)), ["wake 300"]);
  sim.until(10_000);
  assert.deepEqual(sim.starts, [`${X}@50`, `${A}@300`]);
});

test("HappyEyeballs ends the resolution delay when the AAAA lookup fails", () => {
  const sim = new Sim();
  sim.at(10, answer(4, X));
  assert.deepEqual(
    sim.at(20, {
      type: "lookupFailed",
      family: 6,
      error: new Error("servfail"),
    }),
    [`start 0 ${X}:80 first`, "wake undefined"],
  );
  assert.equal(sim.he.isPending(6), false);
});

test("HappyEyeballs starts an A answer at once when AAAA already answered empty", () => {
  const sim = new Sim();
  assert.deepEqual(sim.at(5, answer(6)), []);
  // No wake-up was asked for, so none is cleared.
  assert.deepEqual(sim.at(30, answer(4, X)), [`start 0 ${X}:80 first`]);
});

// ── inputs that must not count twice ──────────────────────────────────

test("HappyEyeballs ignores duplicate addresses and a second answer of a family, and files each address under its own family", () => {
  const sim = new Sim({ attemptDelay: 10 });
  sim.at(0, {
    type: "answer",
    family: 6,
    addrs: [ip(A), ip(A), ip(X), ip(B), { address: A, family: 6 }],
  });
  // A second AAAA answer (and a late AAAA failure) change nothing.
  assert.deepEqual(sim.at(1, answer(6, C)), []);
  assert.deepEqual(
    sim.at(2, {
      type: "lookupFailed",
      family: 6,
      error: new Error("late"),
    }),
    [],
  );
  // X came in the AAAA answer (as an IPv4-mapped address would) and counts
  // as IPv4 from 0; an A answer repeating known addresses adds nothing.
  sim.at(3, { type: "answer", family: 4, addrs: [ip(A), ip(X), ip(X)] });
  sim.until(1000);
  assert.deepEqual(sim.starts, [`${A}@0`, `${X}@10`, `${B}@20`]);
});

test("HappyEyeballs keeps zoned addresses apart from unzoned ones", () => {
  const sim = new Sim({ attemptDelay: 10 });
  sim.at(0, {
    type: "answer",
    family: 6,
    addrs: [
      { address: "fe80::1", family: 6, zone: "eth0" },
      { address: "fe80::1", family: 6 },
      { address: "fe80::1", family: 6, zone: "eth0" },
    ],
  });
  sim.at(0, answer(4));
  sim.until(1000);
  assert.deepEqual(sim.starts, ["fe80::1@0", "fe80::1@10"]);
  assert.match(sim.log[0]!, /start 0 \[fe80::1%eth0\]:80 first/);
  assert.match(sim.log[2]!, /start 1 \[fe80::1\]:80 delay/);
});

test("HappyEyeballs ignores a second outcome of one attempt and outcomes of unknown attempts", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B));
  assert.deepEqual(sim.at(1, { type: "connected", attempt: 7 }), []);
  assert.deepEqual(
    sim.at(1, { type: "failed", attempt: 7, error: new Error("?") }),
    [],
  );
  assert.deepEqual(sim.failed(20, A), [
    `start 1 [${B}]:80 failure`,
    "wake undefined",
  ]);
  assert.deepEqual(sim.failed(30, A), []);
  assert.deepEqual(sim.connected(30, A), []);
  assert.equal(sim.he.state, "running");
});

// ── causes and wake-ups ────────────────────────────────────────────────

test("HappyEyeballs gives every start its cause: first, delay, failure, answer", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B, C));
  sim.until(250);
  sim.failed(260, B);
  sim.failed(270, A);
  sim.failed(280, C);
  // Nothing left to try, A still pending: no wake-up, still running.
  assert.equal(sim.he.wakeAt, undefined);
  assert.equal(sim.he.state, "running");
  sim.at(400, answer(4, X));
  assert.deepEqual(
    sim.log.filter((l) => l.includes("start")),
    [
      `0 start 0 [${A}]:80 first`,
      `250 start 1 [${B}]:80 delay`,
      `260 start 2 [${C}]:80 failure`,
      `400 start 3 ${X}:80 answer`,
    ],
  );
});

test("HappyEyeballs asks for exactly the wake-ups it needs", () => {
  const he = new HappyEyeballs({ port: 80 });
  assert.equal(he.wakeAt, undefined);
  assert.deepEqual(show(he.step(10, answer(4, X, Y))), ["wake 60"]);
  assert.equal(he.wakeAt, 60);
  assert.deepEqual(show(he.step(60, { type: "timer" })), [
    `start 0 ${X}:80 first`,
    "wake 310",
  ]);
  // An unrelated event does not repeat an unchanged wake-up.
  assert.deepEqual(show(he.step(100, answer(6))), []);
  assert.deepEqual(show(he.step(310, { type: "timer" })), [
    `start 1 ${Y}:80 delay`,
    "wake undefined",
  ]);
  assert.equal(he.wakeAt, undefined);
});

test("HappyEyeballs asks again when a timer fires before the time asked for", () => {
  const he = new HappyEyeballs({ port: 80 });
  assert.deepEqual(show(he.step(0, answer(6, A, B))), [
    `start 0 [${A}]:80 first`,
    "wake 250",
  ]);
  // A system timer may fire a little early: the wake-up must be asked for
  // again, or nobody would ever call step() at 250.
  assert.deepEqual(show(he.step(249.5, { type: "timer" })), ["wake 250"]);
  assert.deepEqual(show(he.step(250, { type: "timer" })), [
    `start 1 [${B}]:80 delay`,
    "wake undefined",
  ]);
});

test("HappyEyeballs asks again when a timer fires before the resolution delay is over", () => {
  const he = new HappyEyeballs({ port: 80 });
  he.step(0, answer(4, X));
  assert.deepEqual(show(he.step(49, { type: "timer" })), ["wake 50"]);
  assert.deepEqual(show(he.step(50, { type: "timer" })), [
    `start 0 ${X}:80 first`,
    "wake undefined",
  ]);
});

// ── the end of the race ────────────────────────────────────────────────

test("HappyEyeballs cancels every other attempt still connecting at the win", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B));
  sim.at(0, answer(4, X, Y));
  sim.until(750); // a@0 x@250 b@500 y@750
  sim.failed(760, X);
  assert.deepEqual(sim.connected(800, B), [
    "cancel 0",
    "cancel 3",
    "won 2",
  ]);
  assert.deepEqual(sim.at(900, { type: "timer" }), []);
  assert.equal(sim.he.state, "won");
  assert.equal(sim.he.wakeAt, undefined);
});

test("HappyEyeballs clears its wake-up at the win", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B));
  assert.deepEqual(sim.connected(5, A), ["wake undefined", "won 0"]);
});

test("HappyEyeballs closes a connection that completes after the win, and ignores later failures", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B, C));
  sim.until(500);
  sim.connected(510, B);
  assert.deepEqual(sim.connected(510, A), ["close 0"]);
  assert.deepEqual(sim.failed(520, C), []);
  assert.deepEqual(sim.connected(530, C), []);
  // No further starts, no wake-ups, ever.
  assert.deepEqual(sim.at(600, answer(4, X)), []);
  assert.deepEqual(sim.at(2000, { type: "timer" }), []);
  assert.equal(sim.starts.length, 3);
});

test("HappyEyeballs reports every attempt's error in start order when all fail", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B));
  sim.at(0, answer(4, X));
  sim.until(500); // a@0 x@250 b@500
  assert.deepEqual(sim.failed(600, B, new Error("b")), []);
  assert.deepEqual(sim.failed(610, X, new Error("x")), []);
  assert.deepEqual(sim.failed(620, A, new Error("a")), ["failed [a, x, b]"]);
  assert.equal(sim.he.state, "failed");
  assert.equal(sim.he.attempts, 3);
});

test("HappyEyeballs waits for a pending lookup before failing", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A));
  assert.deepEqual(sim.failed(5, A, new Error("a")), []);
  assert.equal(sim.he.state, "running");
  assert.deepEqual(sim.at(100, answer(4)), ["failed [a]"]);
});

test("HappyEyeballs fails with the lookup errors when no attempt was made", () => {
  const sim = new Sim();
  sim.at(0, { type: "lookupFailed", family: 6, error: new Error("e6") });
  assert.equal(sim.he.state, "running");
  assert.deepEqual(
    sim.at(5, { type: "lookupFailed", family: 4, error: new Error("e4") }),
    ["failed [e6, e4]"],
  );

  const empty = new Sim();
  empty.at(0, answer(4));
  assert.deepEqual(empty.at(1, answer(6)), ["failed []"]);
  assert.equal(empty.he.state, "failed");
});

test("HappyEyeballs fails with only the attempt errors when a lookup failed too", () => {
  const sim = new Sim();
  sim.at(0, { type: "lookupFailed", family: 6, error: new Error("e6") });
  sim.at(1, answer(4, X));
  assert.deepEqual(sim.failed(3, X, new Error("x")), ["failed [x]"]);
});

// ── families ───────────────────────────────────────────────────────────

test("HappyEyeballs with preferredFamily 4 starts IPv4 first and delays IPv6", () => {
  const sim = new Sim({ preferredFamily: 4 });
  assert.deepEqual(sim.at(10, answer(6, A, B)), ["wake 60"]);
  sim.at(20, answer(4, X, Y));
  sim.until(10_000);
  assert.deepEqual(sim.starts, [`${X}@20`, `${A}@270`, `${Y}@520`, `${B}@770`]);

  const late = new Sim({ preferredFamily: 4 });
  late.at(10, answer(6, A));
  late.until(1000);
  assert.deepEqual(late.starts, [`${A}@60`]);
});

test("HappyEyeballs with one family (tcp4/tcp6) starts on its answer at once and ignores the other", () => {
  const v4 = new Sim({ families: [4] });
  assert.equal(v4.he.isPending(6), false);
  assert.deepEqual(v4.at(0, answer(6, A)), []);
  assert.deepEqual(v4.at(10, answer(4, X)), [`start 0 ${X}:80 first`]);

  const v6 = new Sim({ families: [6] });
  assert.deepEqual(v6.at(0, answer(4, X)), []);
  v6.at(10, answer(6, A, B));
  v6.until(1000);
  assert.deepEqual(v6.starts, [`${A}@10`, `${B}@260`]);

  const none = new Sim({ families: [4] });
  assert.deepEqual(none.at(10, answer(4)), ["failed []"]);
});

test("HappyEyeballs with preferredFamily 4 and only IPv6 wanted starts IPv6 at once", () => {
  const sim = new Sim({ families: [6], preferredFamily: 4 });
  assert.deepEqual(sim.at(10, answer(6, A)), [`start 0 [${A}]:80 first`]);
});

// ── abort ──────────────────────────────────────────────────────────────

test("HappyEyeballs abort cancels every attempt in flight and closes late connections", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B, C));
  sim.until(500);
  sim.failed(510, B);
  // c started last: no wake-up was outstanding.
  assert.deepEqual(sim.at(520, { type: "abort" }), ["cancel 0", "cancel 2"]);
  assert.equal(sim.he.state, "aborted");
  assert.deepEqual(sim.connected(530, A), ["close 0"]);
  assert.deepEqual(sim.failed(530, C), []);
  assert.deepEqual(sim.at(540, answer(4, X)), []);
  assert.deepEqual(sim.at(550, { type: "abort" }), []);
});

test("HappyEyeballs abort before any answer ends the race quietly", () => {
  const he = new HappyEyeballs({ port: 80 });
  assert.deepEqual(show(he.step(0, { type: "abort" })), []);
  assert.equal(he.state, "aborted");
  assert.deepEqual(show(he.step(1, answer(6, A))), []);

  const waiting = new HappyEyeballs({ port: 80 });
  waiting.step(0, answer(4, X));
  assert.deepEqual(show(waiting.step(10, { type: "abort" })), [
    "wake undefined",
  ]);
});

test("HappyEyeballs abort after the win changes nothing", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A));
  sim.connected(5, A);
  assert.deepEqual(sim.at(6, { type: "abort" }), []);
  assert.equal(sim.he.state, "won");
});

// ── options ────────────────────────────────────────────────────────────

test("HappyEyeballs throws RangeError for bad options", () => {
  const bad: Partial<HappyEyeballsOptions>[] = [
    { attemptDelay: -1 },
    { attemptDelay: NaN },
    { resolutionDelay: -1 },
    { resolutionDelay: NaN },
    { firstAddressFamilyCount: 0 },
    { firstAddressFamilyCount: 1.5 },
    { firstAddressFamilyCount: NaN },
    { preferredFamily: 5 as 4 },
    { families: [4, 5 as 6] },
  ];
  for (const options of bad) {
    assert.throws(
      () => new HappyEyeballs({ port: 80, ...options }),
      RangeError,
      JSON.stringify(options),
    );
  }
  assert.throws(
    () => new HappyEyeballs({ port: 80, attemptDelay: -1 }),
    { message: "Cannot use attemptDelay -1: it must be a number of ms ≥ 0" },
  );
});

test("HappyEyeballs reports its state, attempts and pending families", () => {
  const he = new HappyEyeballs({ port: 443 });
  assert.equal(he.state, "running");
  assert.equal(he.attempts, 0);
  assert.equal(he.isPending(4), true);
  assert.equal(he.isPending(6), true);
  const actions = he.step(0, answer(6, A));
  assert.deepEqual(actions[0], {
    type: "start",
    attempt: 0,
    endpoint: { address: A, family: 6, port: 443 },
    cause: "first",
  });
  assert.equal(he.attempts, 1);
  assert.equal(he.isPending(6), false);
  assert.equal(he.isPending(4), true);
});

test("HappyEyeballs tries at most maxAttempts endpoints, then fails with their errors", () => {
  const sim = new Sim({ maxAttempts: 2, attemptDelay: 10 });
  sim.at(0, answer(6, A, B, C));
  sim.at(0, answer(4, X));
  sim.until(100);
  assert.deepEqual(sim.starts, [`${A}@0`, `${X}@10`]);
  sim.failed(200, A);
  assert.deepEqual(sim.failed(201, X), [`failed [${A}, ${X}]`]);
});

test("HappyEyeballs keeps at most maxConcurrentAttempts connecting and starts the next when one fails", () => {
  const sim = new Sim({ maxConcurrentAttempts: 2 });
  sim.at(0, answer(6, A, B, C));
  sim.until(10_000);
  assert.deepEqual(sim.starts, [`${A}@0`, `${B}@250`]);
  assert.equal(sim.he.wakeAt, undefined);
  assert.deepEqual(sim.failed(20_000, A), [`start 2 [${C}]:80 failure`]);
});

test("HappyEyeballs starts the next attempt at once after one refused before sending anything", () => {
  const sim = new Sim();
  sim.at(0, answer(6, A, B));
  assert.deepEqual(
    sim.at(0, {
      type: "failed",
      attempt: 0,
      error: new Error("policy"),
      free: true,
    }),
    [`start 1 [${B}]:80 failure`, "wake undefined"],
  );
});

test("HappyEyeballs rejects maxAttempts and maxConcurrentAttempts below 1 or fractional", () => {
  for (const bad of [0, -1, 1.5, NaN]) {
    assert.throws(
      () => new HappyEyeballs({ port: 80, maxAttempts: bad }),
      RangeError,
    );
    assert.throws(
      () => new HappyEyeballs({ port: 80, maxConcurrentAttempts: bad }),
      RangeError,
    );
  }
});

test("HappyEyeballs counts the next start from when an attempt really began (a started event)", () => {
  const he = new HappyEyeballs({ port: 80 });
  he.step(0, answer(6, A, B));
  // The driver's own work delayed the connect by 3 ms.
  assert.deepEqual(show(he.step(3, { type: "started", attempt: 0 })), [
    "wake 253",
  ]);
  assert.deepEqual(show(he.step(253, { type: "timer" })), [
    `start 1 [${B}]:80 delay`,
    "wake undefined",
  ]);
});

test("HappyEyeballs keeps 10 ms after a late-begun attempt when a failure frees the next start", () => {
  const he = new HappyEyeballs({ port: 80 });
  he.step(0, answer(6, A, B));
  he.step(0, { type: "failed", attempt: 0, error: new Error("refused") });
  // nextStart is 10 now; the attempt really began at 4: wait until 14.
  assert.deepEqual(show(he.step(4, { type: "started", attempt: 0 })), [
    "wake 14",
  ]);
});
