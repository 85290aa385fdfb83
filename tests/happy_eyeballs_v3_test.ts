// Happy Eyeballs v3 (draft-ietf-happy-happyeyeballs-v3, editor's copy after
// -03 with the "Examples" section): the service-record logic, the move-on
// rule, and — on the virtual clock with exact times — dials that ask for
// HTTPS records. Scenario facts also come from the Rust `happy-eyeballs`
// crate's tests (hostname resolution, HTTPS records, ALPN, priorities),
// restated here as our own cases.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  background,
  cachingResolver,
  dial,
  dialedService,
  type DNSAnswerInfo,
  type DNSDoneInfo,
  type Family,
  formatEndpoint,
  HappyEyeballs,
  type HappyEyeballsEvent,
  type IPAddr,
  parseIP,
  type ServiceRecord,
  withTrace,
} from "../mod.ts";
import {
  type FakeConn,
  FakeDialer,
  FakeResolver,
  flush,
  type ResolverScript,
  VirtualClock,
} from "./_virtual_clock.ts";
import { watch } from "./_dial_env.ts";
import {
  DUAL,
  finish,
  type ServiceAnswer,
  svc,
  v3dial,
  v3env,
  V4A,
  V4B,
  V6A,
  V6B,
} from "./_service_env.ts";
import { offeredAlpn, serviceAlpnSet } from "../src/_he3/alpn.ts";
import { shouldMoveOn } from "../src/_he3/move_on.ts";
import {
  AliasChain,
  MAX_ALIAS_CHAIN,
  planServices,
} from "../src/_he3/records.ts";
import {
  type ServiceCandidate,
  ServiceResolution,
} from "../src/_he3/resolution.ts";

const H2_H11 = ["h2", "http/1.1"];

function show(candidates: readonly ServiceCandidate[]): string[] {
  return candidates.map((c) => {
    const host = c.endpoint.family === 6
      ? `[${c.endpoint.address}]`
      : c.endpoint.address;
    return `${c.rank} ${host}:${c.endpoint.port}${c.hint ? " hint" : ""}`;
  });
}

// ── ALPN (RFC 9460 §7.1.1, the draft's "Handling ALPN") ───────────────────

test("serviceAlpnSet() adds the scheme's default ALPN unless no-default-alpn", () => {
  assert.deepEqual(serviceAlpnSet(svc(1, ".", { alpn: ["h2"] }), "https"), [
    "h2",
    "http/1.1",
  ]);
  assert.deepEqual(
    serviceAlpnSet(svc(1, ".", { alpn: ["h3"], noDefaultAlpn: true }), "https"),
    ["h3"],
  );
  assert.deepEqual(serviceAlpnSet(svc(1, "."), "https"), ["http/1.1"]);
  assert.deepEqual(serviceAlpnSet(svc(1, ".", { alpn: ["x"] }), "foo"), ["x"]);
});

test("offeredAlpn() refuses alpn=h3 no-default-alpn to a TCP client (the draft's example)", () => {
  const h3only = svc(1, "svc1.example.test", {
    alpn: ["h3"],
    noDefaultAlpn: true,
  });
  assert.equal(offeredAlpn(h3only, "https", H2_H11), null);
  assert.equal(offeredAlpn(h3only, "https", undefined), null);
  // Without no-default-alpn, http/1.1 is in the set: usable.
  const h3 = svc(1, ".", { alpn: ["h3"] });
  assert.deepEqual(offeredAlpn(h3, "https", H2_H11), ["http/1.1"]);
});

test("offeredAlpn() intersects with the caller's list in the caller's order", () => {
  const record = svc(1, ".", { alpn: ["http/1.1", "h2", "h3"] });
  assert.deepEqual(offeredAlpn(record, "https", ["h2", "http/1.1"]), [
    "h2",
    "http/1.1",
  ]);
  assert.deepEqual(offeredAlpn(record, "https", ["h2"]), ["h2"]);
  // No caller list: usable when the default is in the set, nothing offered.
  assert.equal(offeredAlpn(record, "https", undefined), undefined);
  assert.equal(offeredAlpn(record, "https", []), undefined);
});

// ── AliasMode (RFC 9460 §2.4.2, §3) ─────────────────────────────────────────

test("AliasChain follows AliasMode records and ignores ServiceMode ones beside them", () => {
  const chain = new AliasChain("www.example.test");
  const step = chain.take(
    [svc(1, "ignored.test"), svc(0, "cdn.example.test.")],
    Math.random,
  );
  assert.deepEqual(step, { type: "follow", name: "cdn.example.test" });
  assert.equal(chain.name, "cdn.example.test");
  const end = chain.take([svc(1, ".", { alpn: ["h2"] })], Math.random);
  assert.equal(end.type, "services");
  assert.equal(end.type === "services" && end.name, "cdn.example.test");
  assert.equal(end.type === "services" && end.records.length, 1);
});

test("AliasChain refuses a loop", () => {
  const chain = new AliasChain("a.test");
  assert.equal(chain.take([svc(0, "b.test")], Math.random).type, "follow");
  const step = chain.take([svc(0, "A.TEST.")], Math.random);
  assert.equal(step.type, "error");
  assert.match(
    step.type === "error" ? step.error.message : "",
    /alias chain loops at a\.test/,
  );
});

test(`AliasChain refuses a chain longer than ${MAX_ALIAS_CHAIN}`, () => {
  const chain = new AliasChain("n0.test");
  for (let i = 1; i <= MAX_ALIAS_CHAIN; i++) {
    assert.equal(
      chain.take([svc(0, `n${i}.test`)], Math.random).type,
      "follow",
    );
  }
  const step = chain.take([svc(0, "n99.test")], Math.random);
  assert.equal(step.type, "error");
  assert.match(
    step.type === "error" ? step.error.message : "",
    /alias chain longer than 8/,
  );
});

test('AliasChain: an AliasMode target of "." means no service', () => {
  const chain = new AliasChain("a.test");
  assert.deepEqual(chain.take([svc(0, ".")], Math.random), {
    type: "services",
    name: "a.test",
    records: [],
  });
});

// ── priorities, ports, ALPN per record ──────────────────────────────────────

test("planServices() orders by priority and shuffles equal priorities with the random source", () => {
  const records = [
    svc(2, "b.test"),
    svc(1, "a1.test"),
    svc(1, "a2.test"),
    svc(1, "a3.test"),
  ];
  const base = {
    name: "o.test",
    port: 443,
    scheme: "https",
    clientAlpn: H2_H11,
  };
  // random 0.99: Fisher–Yates keeps every element in place.
  const kept = planServices(records, { ...base, random: () => 0.99 });
  assert.deepEqual(kept.options.map((o) => o.name), [
    "a1.test",
    "a2.test",
    "a3.test",
    "b.test",
  ]);
  assert.deepEqual(kept.options.map((o) => o.rank), [0, 1, 2, 3]);
  // random 0: each step swaps with the first of the run.
  const moved = planServices(records, { ...base, random: () => 0 });
  assert.deepEqual(moved.options.map((o) => o.name), [
    "a2.test",
    "a3.test",
    "a1.test",
    "b.test",
  ]);
});

test("planServices() gives each record its own port and ALPN, and skips unusable ones", () => {
  const plan = planServices(
    [
      svc(1, "svc1.test", { alpn: ["h3"], noDefaultAlpn: true, port: 9443 }),
      svc(2, "svc2.test", { alpn: ["h2"], port: 10443 }),
      svc(3, ".", { port: 0 }),
      svc(4, "bad name!.test"),
    ],
    {
      name: "o.test",
      port: 443,
      scheme: "https",
      clientAlpn: H2_H11,
      random: Math.random,
    },
  );
  assert.deepEqual(
    plan.options.map((o) => [o.name, o.port, o.alpn]),
    [["svc2.test", 10443, ["h2", "http/1.1"]]],
  );
  assert.deepEqual(plan.skipped.map((s) => s.reason), [
    "no ALPN in common",
    "bad port",
    "bad target name",
  ]);
});

// ── the resolution state ───────────────────────────────────────────────────

function resolution(random: () => number = () => 0.99) {
  return new ServiceResolution({
    host: "example.test",
    port: 443,
    scheme: "https",
    clientAlpn: H2_H11,
    families: [6, 4],
    random,
  });
}

test('ServiceResolution queries the addresses of targets other than "." only', () => {
  const r = resolution();
  assert.deepEqual(r.takeQueries(), []);
  r.serviceAnswer([svc(1, "."), svc(2, "alt.example.test")]);
  assert.deepEqual(r.takeQueries(), [
    { name: "alt.example.test", family: 6 },
    { name: "alt.example.test", family: 4 },
  ]);
  assert.deepEqual(r.takeQueries(), []);
});

test("ServiceResolution: hints count until the target's answer replaces them", () => {
  const r = resolution();
  r.serviceAnswer([
    svc(1, ".", { ipv6hint: ["2001:db8::1"], ipv4hint: ["192.0.2.1"] }),
  ]);
  assert.deepEqual(show(r.candidates()), [
    "0 [2001:db8::1]:443 hint",
    "0 192.0.2.1:443 hint",
  ]);
  assert.equal(r.preferredAnswered(r.candidates()), true);
  // The AAAA answer replaces the IPv6 hint (2001:db8::1 is gone); the IPv4
  // hint stays until A answers.
  r.addressAnswer("example.test", 6, [{ address: "2001:db8::2", family: 6 }]);
  assert.deepEqual(show(r.candidates()), [
    "0 [2001:db8::2]:443",
    "0 192.0.2.1:443 hint",
  ]);
  // An empty A answer has nothing to replace the IPv4 hint with.
  r.addressAnswer("example.test", 4, []);
  assert.deepEqual(show(r.candidates()), [
    "0 [2001:db8::2]:443",
    "0 192.0.2.1:443 hint",
  ]);
  assert.equal(r.pending, false);
});

test("ServiceResolution puts the host's own addresses last on the caller's port", () => {
  const r = resolution();
  r.addressAnswer("example.test", 6, [{ address: "2001:db8::1", family: 6 }]);
  r.addressAnswer("example.test", 4, [{ address: "192.0.2.1", family: 4 }]);
  // Before any service answer: the host's addresses, one group.
  assert.deepEqual(show(r.candidates()), [
    "0 [2001:db8::1]:443",
    "0 192.0.2.1:443",
  ]);
  r.serviceAnswer([
    svc(1, "alt.example.test", { port: 8443 }),
    svc(2, ".", { port: 8443 }),
  ]);
  r.takeQueries();
  r.addressAnswer("alt.example.test", 6, [{
    address: "2001:db8::9",
    family: 6,
  }]);
  r.addressAnswer("alt.example.test", 4, []);
  assert.deepEqual(show(r.candidates()), [
    "0 [2001:db8::9]:8443",
    "1 [2001:db8::1]:8443",
    "1 192.0.2.1:8443",
    "2 [2001:db8::1]:443",
    "2 192.0.2.1:443",
  ]);
});

test("ServiceResolution does not repeat an endpoint already in an earlier group", () => {
  const r = resolution();
  r.serviceAnswer([svc(1, ".", { alpn: ["h2"] })]);
  r.addressAnswer("example.test", 6, [{ address: "2001:db8::1", family: 6 }]);
  r.addressAnswer("example.test", 4, [{ address: "192.0.2.1", family: 4 }]);
  // The "." record on the caller's port covers the fallback's endpoints.
  assert.deepEqual(show(r.candidates()), [
    "0 [2001:db8::1]:443",
    "0 192.0.2.1:443",
  ]);
  assert.deepEqual(r.candidates().map((c) => c.service?.alpn), [
    ["h2", "http/1.1"],
    ["h2", "http/1.1"],
  ]);
});

test("ServiceResolution follows an alias and falls back to its target's addresses", () => {
  const r = resolution();
  assert.deepEqual(r.serviceAnswer([svc(0, "cdn.test")]), {
    type: "follow",
    name: "cdn.test",
  });
  assert.equal(r.serviceSettled, false);
  assert.equal(r.serviceName, "cdn.test");
  assert.deepEqual(r.serviceAnswer([]), { type: "done" });
  assert.deepEqual(r.takeQueries(), [
    { name: "cdn.test", family: 6 },
    { name: "cdn.test", family: 4 },
  ]);
  r.addressAnswer("cdn.test", 4, [{ address: "192.0.2.7", family: 4 }]);
  r.addressAnswer("example.test", 4, [{ address: "192.0.2.1", family: 4 }]);
  assert.deepEqual(show(r.candidates()), [
    "0 192.0.2.7:443",
    "1 192.0.2.1:443",
  ]);
  assert.equal(r.pending, true); // both AAAA lookups are still out
});

test("ServiceResolution: a failed or looping service lookup leaves the host's addresses", () => {
  const r = resolution();
  r.serviceAnswer([svc(0, "b.test")]);
  const next = r.serviceAnswer([svc(0, "example.test")]);
  assert.equal(next.type, "done");
  assert.match(r.serviceError?.message ?? "", /loops/);
  assert.deepEqual(r.takeQueries(), []);
  r.addressAnswer("example.test", 6, [{ address: "2001:db8::1", family: 6 }]);
  assert.deepEqual(show(r.candidates()), ["0 [2001:db8::1]:443"]);
});

test("ServiceResolution: no usable ALPN leaves only the host's addresses", () => {
  const r = resolution();
  r.serviceAnswer([
    svc(1, "svc1.test", {
      alpn: ["h3"],
      noDefaultAlpn: true,
      ipv6hint: ["2001:db8::2"],
    }),
  ]);
  assert.deepEqual(r.takeQueries(), []); // svc1 is never resolved
  assert.deepEqual(r.candidates(), []); // nor its hint tried
  assert.equal(r.serviceSettled, true);
  r.addressAnswer("example.test", 6, [{ address: "2001:db8::1", family: 6 }]);
  assert.deepEqual(show(r.candidates()), ["0 [2001:db8::1]:443"]);
});

// ── the move-on rule ───────────────────────────────────────────────────────

test("shouldMoveOn() is (positive ∧ preferred ∧ service) ∨ (positive ∧ delay passed)", () => {
  const rows: [boolean, boolean, boolean, boolean, boolean][] = [];
  for (let i = 0; i < 16; i++) {
    const [
      positive,
      preferredAnswered,
      serviceAnswered,
      resolutionDelayPassed,
    ] = [8, 4, 2, 1].map((bit) => (i & bit) !== 0) as [
      boolean,
      boolean,
      boolean,
      boolean,
    ];
    rows.push([
      positive,
      preferredAnswered,
      serviceAnswered,
      resolutionDelayPassed,
      shouldMoveOn({
        positive,
        preferredAnswered,
        serviceAnswered,
        resolutionDelayPassed,
      }),
    ]);
  }
  const moving = rows.filter((r) => r[4]).map((r) =>
    r.slice(0, 4).map(Number).join("")
  );
  assert.deepEqual(moving, ["1001", "1011", "1101", "1110", "1111"]);
});

// ── the scheduler driven by the resolution state (no clock, exact times) ──

function ips(...texts: string[]): IPAddr[] {
  return texts.map((t) => parseIP(t)!);
}

/**
 * The pure v3 pipeline as `dial()` runs it: answers go into a
 * ServiceResolution, whose endpoints go to the scheduler as `endpoints`
 * events; wake-ups come at exactly the time asked for. Attempts hang
 * unless a test says otherwise.
 */
class V3Sim {
  readonly he: HappyEyeballs;
  readonly res: ServiceResolution;
  readonly starts: string[] = [];
  readonly queries: string[] = [];
  readonly attempt: Record<string, number> = {};
  failure: Error[] | undefined;

  constructor(
    families: Family[] = [6, 4],
    options: { random?: () => number; port?: number } = {},
  ) {
    const port = options.port ?? 443;
    this.he = new HappyEyeballs({
      port,
      families,
      preferredFamily: families[0],
      awaitService: true,
    });
    this.res = new ServiceResolution({
      host: "example.test",
      port,
      scheme: "https",
      clientAlpn: H2_H11,
      families,
      random: options.random ?? (() => 0.99),
    });
  }

  #step(at: number, event: HappyEyeballsEvent): void {
    for (const a of this.he.step(at, event)) {
      if (a.type === "start") {
        const addr = formatEndpoint(a.endpoint);
        this.starts.push(`${addr}@${at}`);
        this.attempt[addr] = a.attempt;
      } else if (a.type === "failed") this.failure = a.errors;
    }
  }

  until(t: number): void {
    for (;;) {
      const wake = this.he.wakeAt;
      if (wake === undefined || wake > t) break;
      this.#step(wake, { type: "timer" });
    }
  }

  #push(at: number): void {
    for (const q of this.res.takeQueries()) {
      this.queries.push(`${q.name} ${q.family === 6 ? "AAAA" : "A"}@${at}`);
    }
    const endpoints = this.res.candidates();
    this.#step(at, {
      type: "endpoints",
      endpoints,
      preferredAnswered: this.res.preferredAnswered(endpoints),
      serviceAnswered: this.res.serviceSettled,
      settled: !this.res.pending,
    });
  }

  https(t: number, ...records: ServiceRecord[]): void {
    this.until(t);
    const next = this.res.serviceAnswer(records);
    if (next.type === "follow") this.queries.push(`${next.name} HTTPS@${t}`);
    this.#push(t);
  }

  httpsFailed(t: number, error = new Error("server misbehaving")): void {
    this.until(t);
    this.res.serviceFailed(error as never);
    this.#push(t);
  }

  addrs(t: number, name: string, family: Family, ...texts: string[]): void {
    this.until(t);
    this.res.addressAnswer(name, family, ips(...texts));
    this.#push(t);
  }

  aaaa(t: number, ...texts: string[]): void {
    this.addrs(t, "example.test", 6, ...texts);
  }

  a(t: number, ...texts: string[]): void {
    this.addrs(t, "example.test", 4, ...texts);
  }

  fail(t: number, addr: string): void {
    this.until(t);
    this.#step(t, {
      type: "failed",
      attempt: this.attempt[addr]!,
      error: new Error(addr),
    });
  }
}

test("HappyEyeballs v3 (draft example 1): HTTPS and AAAA at 30 start IPv6 at once; A at 32 is sorted in", () => {
  const sim = new V3Sim();
  sim.https(30, svc(1, "."));
  sim.aaaa(30, V6A, V6B);
  assert.deepEqual(sim.starts, [`[${V6A}]:443@30`]);
  sim.a(32, V4A, V4B);
  sim.until(1000);
  assert.deepEqual(sim.starts, [
    `[${V6A}]:443@30`,
    `${V4A}:443@280`,
    `[${V6B}]:443@530`,
    `${V4B}:443@780`,
  ]);
});

test("HappyEyeballs v3 (draft example 2): HTTPS and A at 30 set the 50 ms timer; AAAA at 40 starts IPv6 then IPv4", () => {
  const sim = new V3Sim();
  sim.https(30, svc(1, "."));
  sim.a(30, V4A, V4B);
  assert.equal(sim.he.wakeAt, 80);
  sim.aaaa(40, V6A, V6B);
  sim.until(1000);
  assert.deepEqual(sim.starts, [
    `[${V6A}]:443@40`,
    `${V4A}:443@290`,
    `[${V6B}]:443@540`,
    `${V4B}:443@790`,
  ]);
});

test("HappyEyeballs v3 (draft example 3): A long before AAAA starts IPv4 at 80; AAAA at 180 goes next", () => {
  const sim = new V3Sim();
  sim.https(30, svc(1, "."));
  sim.a(30, V4A, V4B);
  sim.until(179);
  assert.deepEqual(sim.starts, [`${V4A}:443@80`]);
  sim.aaaa(180, V6A, V6B);
  sim.until(1000);
  assert.deepEqual(sim.starts, [
    `${V4A}:443@80`,
    `[${V6A}]:443@330`,
    `${V4B}:443@580`,
    `[${V6B}]:443@830`,
  ]);
});

test("HappyEyeballs v3 (draft example 4): AAAA and A at 30, HTTPS at 40 starts then", () => {
  const sim = new V3Sim();
  sim.aaaa(30, V6A, V6B);
  sim.a(30, V4A, V4B);
  assert.deepEqual(sim.starts, []);
  assert.equal(sim.he.wakeAt, 80);
  sim.https(40, svc(1, "."));
  sim.until(300);
  assert.deepEqual(sim.starts, [`[${V6A}]:443@40`, `${V4A}:443@290`]);
});

test("HappyEyeballs v3 (draft example 5): HTTPS never answering delays the start by the resolution delay only", () => {
  const sim = new V3Sim();
  sim.aaaa(30, V6A, V6B);
  sim.a(30, V4A, V4B);
  sim.until(340);
  assert.deepEqual(sim.starts, [`[${V6A}]:443@80`, `${V4A}:443@330`]);
});

test("HappyEyeballs v3 (draft example 6): HTTPS with hints at 30 starts at once, AAAA and A still out", () => {
  const sim = new V3Sim();
  sim.https(
    30,
    svc(1, ".", { ipv6hint: [V6A], ipv4hint: [V4A] }),
  );
  sim.until(300);
  assert.deepEqual(sim.starts, [`[${V6A}]:443@30`, `${V4A}:443@280`]);
  assert.equal(sim.res.pending, true);
});

test("HappyEyeballs v3 (draft example 7): a second service name is queried at 30 and its answers at 60 join the race", () => {
  const sim = new V3Sim();
  sim.https(30, svc(1, "."), svc(2, "alt.example.test"));
  sim.aaaa(30, V6A, V6B);
  sim.a(30, V4A, V4B);
  assert.deepEqual(sim.queries, [
    "alt.example.test AAAA@30",
    "alt.example.test A@30",
  ]);
  assert.deepEqual(sim.starts, [`[${V6A}]:443@30`]);
  sim.addrs(60, "alt.example.test", 6, "2001:db8::99");
  sim.addrs(60, "alt.example.test", 4, "192.0.2.99");
  sim.until(2000);
  assert.deepEqual(sim.starts, [
    `[${V6A}]:443@30`,
    `${V4A}:443@280`,
    `[${V6B}]:443@530`,
    `${V4B}:443@780`,
    // priority 2: after every endpoint of priority 1
    "[2001:db8::99]:443@1030",
    "192.0.2.99:443@1280",
  ]);
});

test('HappyEyeballs v3 (draft example 7, alt preferred): the alt service\'s late answers go before the rest of "."', () => {
  const sim = new V3Sim();
  sim.https(30, svc(2, "."), svc(1, "alt.example.test"));
  sim.aaaa(30, V6A, V6B);
  sim.a(30, V4A, V4B);
  // Moved on at 30 with what is there: the "." group.
  assert.deepEqual(sim.starts, [`[${V6A}]:443@30`]);
  sim.addrs(60, "alt.example.test", 6, "2001:db8::99");
  sim.addrs(60, "alt.example.test", 4, "192.0.2.99");
  sim.until(1300);
  assert.deepEqual(sim.starts, [
    `[${V6A}]:443@30`,
    "[2001:db8::99]:443@280",
    "192.0.2.99:443@530",
    `${V4A}:443@780`,
    `[${V6B}]:443@1030`,
    `${V4B}:443@1280`,
  ]);
});

test("HappyEyeballs v3 (draft example 8): IPv4 only, A at 30 waits for HTTPS at 40", () => {
  const sim = new V3Sim([4]);
  sim.a(30, V4A, V4B);
  assert.equal(sim.he.wakeAt, 80);
  sim.https(40, svc(1, "."));
  sim.until(300);
  assert.deepEqual(sim.starts, [`${V4A}:443@40`, `${V4B}:443@290`]);
});

// ── scenarios of the Rust happy-eyeballs crate's tests, as facts ─────────

test("HappyEyeballs v3: with HTTPS in, a positive AAAA starts at once while A is out", () => {
  const sim = new V3Sim();
  sim.https(0, svc(1, ".", { alpn: ["h2"] }));
  assert.deepEqual(sim.starts, []);
  sim.aaaa(0, V6A);
  assert.deepEqual(sim.starts, [`[${V6A}]:443@0`]);
});

test("HappyEyeballs v3: an empty preferred answer and a positive other one move on when HTTPS (or its absence) arrives", () => {
  for (const records of [[svc(1, ".")], []]) {
    for (const families of [[6, 4], [4, 6]] as Family[][]) {
      const sim = new V3Sim(families);
      const other = families[0] === 6 ? V4A : V6A;
      sim.addrs(0, "example.test", families[1]!, other);
      sim.addrs(0, "example.test", families[0]!);
      assert.deepEqual(sim.starts, []);
      sim.https(0, ...records);
      assert.equal(sim.starts.length, 1);
      assert.match(
        sim.starts[0]!,
        new RegExp(`${other.replace(/\./g, "\\.")}`),
      );
    }
  }
});

test("HappyEyeballs v3: with IPv4 preferred, A goes first once HTTPS is in", () => {
  const sim = new V3Sim([4, 6]);
  sim.aaaa(0, V6A);
  sim.a(0, V4A);
  assert.deepEqual(sim.starts, []);
  sim.https(0);
  sim.until(300);
  assert.deepEqual(sim.starts, [`${V4A}:443@0`, `[${V6A}]:443@250`]);
});

test("HappyEyeballs v3: the resolution delay counts from the first positive answer (A at 10 → 60)", () => {
  const sim = new V3Sim();
  sim.a(10, V4A);
  assert.equal(sim.he.wakeAt, 60);
  sim.until(100);
  assert.deepEqual(sim.starts, [`${V4A}:443@60`]);
});

test("HappyEyeballs v3: an ipv4hint alone is positive but not the preferred family: it waits the resolution delay", () => {
  const sim = new V3Sim();
  sim.https(0, svc(1, ".", { ipv4hint: [V4A] }));
  assert.equal(sim.he.wakeAt, 50);
  sim.until(100);
  assert.deepEqual(sim.starts, [`${V4A}:443@50`]);
});

test("HappyEyeballs v3: empty AAAA and A first, then HTTPS with an ipv6hint: the hint is tried at once", () => {
  const sim = new V3Sim();
  sim.aaaa(0);
  sim.a(0);
  assert.deepEqual(sim.starts, []);
  assert.equal(sim.failure, undefined); // HTTPS is still out
  sim.https(5, svc(1, ".", { ipv6hint: [V6A], alpn: ["http/1.1"] }));
  assert.deepEqual(sim.starts, [`[${V6A}]:443@5`]);
});

test("HappyEyeballs v3: a failed attempt does not fail the dial while AAAA is out", () => {
  const sim = new V3Sim();
  sim.https(0);
  sim.a(0, V4A);
  sim.until(50);
  assert.deepEqual(sim.starts, [`${V4A}:443@50`]);
  sim.fail(50, `${V4A}:443`);
  assert.equal(sim.failure, undefined);
  assert.equal(sim.he.state, "running");
  sim.aaaa(70);
  assert.equal(sim.he.state, "failed");
});

test("HappyEyeballs v3: several AAAA addresses of one answer go 250 ms apart", () => {
  const sim = new V3Sim();
  sim.https(0);
  sim.a(0);
  sim.aaaa(0, V6A, V6B, "2001:db8::c");
  sim.until(600);
  assert.deepEqual(sim.starts, [
    `[${V6A}]:443@0`,
    `[${V6B}]:443@250`,
    "[2001:db8::c]:443@500",
  ]);
});

test("HappyEyeballs v3: an IPv4-only dial queries only A for a target name", () => {
  const sim = new V3Sim([4]);
  sim.https(0, svc(1, "svc1.example.test"));
  assert.deepEqual(sim.queries, ["svc1.example.test A@0"]);
});

test("HappyEyeballs v3: the record's port is dialled for hints and answers; the host's own port comes last", () => {
  const sim = new V3Sim();
  sim.https(0, svc(1, ".", { port: 8443, ipv6hint: [V6A], ipv4hint: [V4A] }));
  sim.aaaa(10, V6A);
  sim.a(10, V4A);
  sim.until(1000);
  assert.deepEqual(sim.starts, [
    `[${V6A}]:8443@0`,
    `${V4A}:8443@250`,
    `[${V6A}]:443@500`,
    `${V4A}:443@750`,
  ]);
});

test("HappyEyeballs v3: two priorities on different ports are tried group by group, then the host's port", () => {
  const sim = new V3Sim();
  sim.https(0, svc(2, ".", { port: 20008 }), svc(1, ".", { port: 20007 }));
  sim.aaaa(0, V6A);
  sim.a(0, V4A);
  sim.until(2000);
  assert.deepEqual(sim.starts, [
    `[${V6A}]:20007@0`,
    `${V4A}:20007@250`,
    `[${V6A}]:20008@500`,
    `${V4A}:20008@750`,
    `[${V6A}]:443@1000`,
    `${V4A}:443@1250`,
  ]);
});

test("HappyEyeballs v3: each target offers its own record's ALPN, never the union", () => {
  const sim = new V3Sim();
  sim.https(
    0,
    svc(1, "svc1.example.test", { alpn: ["h3"] }),
    svc(2, "svc2.example.test", { alpn: ["h2"] }),
  );
  sim.addrs(0, "svc1.example.test", 6, "2001:db8::2");
  sim.addrs(0, "svc2.example.test", 6, "2001:db8::3");
  sim.aaaa(0, V6A);
  const alpn = Object.fromEntries(
    sim.res.candidates().map((c) => [c.endpoint.address, c.service?.alpn]),
  );
  assert.deepEqual(alpn, {
    "2001:db8::2": ["http/1.1"],
    "2001:db8::3": ["h2", "http/1.1"],
    [V6A]: undefined,
  });
});

test("HappyEyeballs v3: an answer equal to the hint is not tried twice", () => {
  const sim = new V3Sim();
  sim.https(0, svc(1, ".", { ipv6hint: [V6A] }));
  sim.aaaa(0, V6A);
  sim.a(0);
  sim.until(2000);
  assert.deepEqual(sim.starts, [`[${V6A}]:443@0`]);
});

test("HappyEyeballs v3: an untried hint the AAAA answer leaves out is withdrawn", () => {
  const sim = new V3Sim();
  sim.https(0, svc(1, ".", { ipv6hint: [V6A, V6B] }));
  assert.deepEqual(sim.starts, [`[${V6A}]:443@0`]);
  sim.aaaa(100, "2001:db8::c");
  sim.a(100);
  sim.until(2000);
  // V6A keeps running (already tried); V6B was never tried and is gone.
  assert.deepEqual(sim.starts, [`[${V6A}]:443@0`, "[2001:db8::c]:443@250"]);
});

// ── hard cases ────────────────────────────────────────────────────────────

test("HappyEyeballs v3: SERVFAIL on HTTPS counts as its answer (AAAA at 30 starts at 30)", () => {
  const sim = new V3Sim();
  sim.httpsFailed(5);
  sim.aaaa(30, V6A);
  assert.deepEqual(sim.starts, [`[${V6A}]:443@30`]);
});

test("HappyEyeballs v3: a late SERVFAIL or a hanging HTTPS never delays past the resolution delay", () => {
  const late = new V3Sim();
  late.aaaa(30, V6A);
  late.httpsFailed(200);
  assert.deepEqual(late.starts, [`[${V6A}]:443@80`]);
  const hang = new V3Sim();
  hang.aaaa(30, V6A);
  hang.a(35);
  hang.until(5000);
  assert.deepEqual(hang.starts, [`[${V6A}]:443@80`]);
});

test("HappyEyeballs v3: an AliasMode loop falls back to the host's addresses", () => {
  const sim = new V3Sim();
  sim.https(0, svc(0, "b.example.test"));
  assert.deepEqual(sim.queries, ["b.example.test HTTPS@0"]);
  sim.https(10, svc(0, "example.test"));
  assert.equal(sim.res.serviceSettled, true);
  assert.match(sim.res.serviceError?.message ?? "", /loops/);
  sim.aaaa(20, V6A);
  assert.deepEqual(sim.starts, [`[${V6A}]:443@20`]);
});

test("HappyEyeballs v3: an AliasMode chain too long falls back to the host's addresses", () => {
  const sim = new V3Sim();
  for (let i = 1; i <= MAX_ALIAS_CHAIN + 1; i++) {
    sim.https(i, svc(0, `n${i}.example.test`));
  }
  assert.equal(sim.res.serviceSettled, true);
  assert.match(sim.res.serviceError?.message ?? "", /longer than 8/);
  sim.aaaa(20, V6A);
  assert.deepEqual(sim.starts, [`[${V6A}]:443@20`]);
});

test("HappyEyeballs v3: no usable ALPN (h3 only, no-default-alpn): its hints are never tried", () => {
  const sim = new V3Sim();
  sim.https(
    0,
    svc(1, ".", { alpn: ["h3"], noDefaultAlpn: true, ipv6hint: [V6B] }),
  );
  sim.aaaa(10, V6A);
  sim.a(10);
  sim.until(2000);
  assert.deepEqual(sim.starts, [`[${V6A}]:443@10`]);
});

test("HappyEyeballs v3: every lookup empty fails the dial once all have settled", () => {
  const sim = new V3Sim();
  sim.aaaa(0);
  sim.a(5);
  assert.equal(sim.he.state, "running");
  sim.https(9);
  assert.equal(sim.he.state, "failed");
  assert.deepEqual(sim.failure, []);
});

// ── dial() with the service option, on the virtual clock ──────────────────

test("dial() with service sends HTTPS, AAAA and A together, in that order", async () => {
  const t = v3env(DUAL(30, 32), { "example.test": { at: 30, records: [] } });
  const d = v3dial(t);
  await t.clock.advance(0);
  assert.deepEqual(t.resolver.queries, [
    "HTTPS example.test@0",
    "AAAA example.test@0",
    "A example.test@0",
  ]);
  assert.deepEqual(t.resolver.serviceCalls, [
    { host: "example.test", port: 443, scheme: "https" },
  ]);
  await finish(t);
  assert.equal(d.state, "rejected");
});

test("dial() without service asks no service query, even of a resolver that has lookupService", async () => {
  const t = v3env(DUAL(30, 32), { "example.test": { at: 0, records: [] } });
  const d = v3dial(t, { service: false });
  await t.clock.advanceTo(300);
  assert.deepEqual(t.resolver.queries, [
    "AAAA example.test@0",
    "A example.test@0",
  ]);
  assert.deepEqual(t.dialer.starts, [
    `[${V6A}]:443@30`,
    `${V4A}:443@280`,
  ]);
  assert.ok(t.log.every((line) => !line.includes("service")));
  await finish(t);
  assert.equal(d.state, "rejected");
});

/** The draft's Examples, each as: answers, then the attempts' start times. */
const EXAMPLES: {
  name: string;
  script: ResolverScript;
  https: ServiceAnswer;
  network?: "tcp4";
  until: number;
  starts: string[];
}[] = [
  {
    name: "1: HTTPS and AAAA at 30, A at 32",
    script: DUAL(30, 32),
    https: { at: 30, records: [svc(1, ".")] },
    until: 600,
    starts: [`[${V6A}]:443@30`, `${V4A}:443@280`, `[${V6B}]:443@530`],
  },
  {
    name: "2: HTTPS and A at 30, AAAA at 40",
    script: DUAL(40, 30),
    https: { at: 30, records: [svc(1, ".")] },
    until: 600,
    starts: [`[${V6A}]:443@40`, `${V4A}:443@290`, `[${V6B}]:443@540`],
  },
  {
    name: "3: HTTPS and A at 30, AAAA at 180",
    script: DUAL(180, 30),
    https: { at: 30, records: [svc(1, ".")] },
    until: 600,
    starts: [`${V4A}:443@80`, `[${V6A}]:443@330`, `${V4B}:443@580`],
  },
  {
    name: "4: AAAA and A at 30, HTTPS at 40",
    script: DUAL(30, 30),
    https: { at: 40, records: [svc(1, ".")] },
    until: 300,
    starts: [`[${V6A}]:443@40`, `${V4A}:443@290`],
  },
  {
    name: "5: AAAA and A at 30, HTTPS never",
    script: DUAL(30, 30),
    https: { hang: true },
    until: 340,
    starts: [`[${V6A}]:443@80`, `${V4A}:443@330`],
  },
  {
    name: "6: HTTPS with hints at 30, AAAA and A never",
    script: DUAL(undefined, undefined),
    https: {
      at: 30,
      records: [svc(1, ".", { ipv6hint: [V6A], ipv4hint: [V4A] })],
    },
    until: 300,
    starts: [`[${V6A}]:443@30`, `${V4A}:443@280`],
  },
  {
    name: "8: IPv4 only, A at 30, HTTPS at 40",
    script: DUAL(undefined, 30),
    https: { at: 40, records: [svc(1, ".")] },
    network: "tcp4",
    until: 300,
    starts: [`${V4A}:443@40`, `${V4B}:443@290`],
  },
];

for (const example of EXAMPLES) {
  test(`dial() with service, the draft's example ${example.name}`, async () => {
    const t = v3env(example.script, { "example.test": example.https });
    const d = v3dial(t, example.network ? { network: example.network } : {});
    await t.clock.advanceTo(example.until);
    assert.deepEqual(t.dialer.starts, example.starts);
    await finish(t);
    assert.equal(d.state, "rejected");
  });
}

test("dial() with service, the draft's example 7: the alt name's AAAA/A go out at 30, its answers at 60 join the race", async () => {
  const t = v3env(
    {
      ...DUAL(30, 30),
      "alt.example.test": {
        6: { at: 60, addrs: ["2001:db8::99"] },
        4: { at: 60, addrs: ["192.0.2.99"] },
      },
    },
    {
      "example.test": {
        at: 30,
        records: [svc(2, "."), svc(1, "alt.example.test")],
      },
    },
  );
  const d = v3dial(t);
  await t.clock.advanceTo(1300);
  assert.deepEqual(t.resolver.queries, [
    "HTTPS example.test@0",
    "AAAA example.test@0",
    "A example.test@0",
    "AAAA alt.example.test@30",
    "A alt.example.test@30",
  ]);
  assert.deepEqual(t.dialer.starts, [
    `[${V6A}]:443@30`,
    "[2001:db8::99]:443@280",
    "192.0.2.99:443@530",
    `${V4A}:443@780`,
    `[${V6B}]:443@1030`,
    `${V4B}:443@1280`,
  ]);
  await finish(t);
  assert.equal(d.state, "rejected");
});

test("dial() with service: hooks say which record and whether a hint; the record's port is dialled and its ALPN offered", async () => {
  const ech = new Uint8Array([0, 1, 2]);
  const t = v3env(
    { "example.test": { 6: { hang: true }, 4: { at: 10, addrs: [V4A] } } },
    {
      "example.test": {
        at: 5,
        records: [
          svc(1, ".", {
            alpn: ["h2"],
            noDefaultAlpn: true,
            port: 8443,
            ipv6hint: [V6A],
            ech,
          }),
        ],
      },
    },
    { [`[${V6A}]:8443`]: { after: 20, connect: true } },
  );
  const d = v3dial(t, { tls: { alpnProtocols: ["h2", "http/1.1"] } });
  await t.clock.advanceTo(100);
  assert.equal(d.state, "resolved");
  assert.deepEqual(t.log, [
    "5 dnsAnswer service records=1",
    `5 connectStart [${V6A}]:8443 service=1/./h2/ech hint=true`,
    "10 dnsAnswer 4",
    `25 dialDone [${V6A}]:8443 service=.`,
  ]);
  assert.deepEqual(
    t.dialer.tlsCalls.map((c) => [c.addr, c.alpnProtocols]),
    [[`[${V6A}]:8443`, ["h2"]]],
  );
  // The same record on the returned (TLS) connection, a fresh copy each
  // call; not on the TCP connection the handshake ran on.
  const conn = d.value!;
  assert.ok(conn.tls !== undefined);
  const expected = {
    priority: 1,
    target: ".",
    port: 8443,
    alpn: ["h2"],
    ech: new Uint8Array([0, 1, 2]),
  };
  const first = dialedService(conn)!;
  assert.deepEqual(first, expected);
  first.alpn!.push("changed");
  first.ech![0] = 9;
  assert.deepEqual(dialedService(conn), expected);
  assert.deepEqual(ech, expected.ech);
  const tcp = t.dialer.conns.filter((c) => c.tls === undefined);
  assert.equal(tcp.length, 1);
  assert.equal(dialedService(tcp[0]), undefined);
  conn.closed = true;
  await finish(t);
});

test("dial() with service won on a hint before AAAA and A answered: dnsDone says the lookups were given up, not that the name has no address", async () => {
  const t = v3env(
    { "example.test": { 6: { hang: true }, 4: { hang: true } } },
    { "example.test": { at: 5, records: [svc(1, ".", { ipv6hint: [V6A] })] } },
    { [`[${V6A}]:443`]: { after: 10, connect: true } },
  );
  const done: DNSDoneInfo[] = [];
  const d = v3dial(t, {
    context: withTrace(background, { dnsDone: (i) => void done.push(i) }),
  });
  await t.clock.advanceTo(100);
  assert.equal(d.state, "resolved");
  assert.equal(done.length, 1);
  assert.deepEqual(done[0]!.addrs, []);
  assert.equal(
    done[0]!.error?.message,
    "lookup example.test: operation was canceled",
  );
  d.value!.closed = true;
  await finish(t);
});

test("dial() with service: the host's own addresses offer the caller's ALPN on the caller's port", async () => {
  const t = v3env(
    { "example.test": { 6: { at: 0, addrs: [V6A] }, 4: { at: 0, addrs: [] } } },
    { "example.test": { at: 0, records: [] } },
    { [`[${V6A}]:443`]: { after: 1, connect: true } },
  );
  const d = v3dial(t, {
    tls: { alpnProtocols: ["h2", "http/1.1"], successPoint: "tls" },
  });
  await t.clock.advanceTo(10);
  assert.equal(d.state, "resolved");
  assert.deepEqual(t.log, [
    "0 dnsAnswer service records=0",
    "0 dnsAnswer 6",
    `0 connectStart [${V6A}]:443 hint=false`,
    "0 dnsAnswer 4",
    `1 dialDone [${V6A}]:443`,
  ]);
  assert.deepEqual(t.dialer.tlsCalls.map((c) => c.alpnProtocols), [
    ["h2", "http/1.1"],
  ]);
  d.value!.closed = true;
  await finish(t);
});

test("dial() with service: SERVFAIL on HTTPS is reported and does not hold the AAAA answer", async () => {
  const t = v3env(DUAL(30, 35), {
    "example.test": { at: 5, error: "servfail" },
  });
  const d = v3dial(t);
  await t.clock.advanceTo(100);
  assert.deepEqual(t.log, [
    "5 dnsAnswer service records=0 error=lookup example.test: server misbehaving",
    "30 dnsAnswer 6",
    `30 connectStart [${V6A}]:443 hint=false`,
    "35 dnsAnswer 4",
  ]);
  await finish(t);
  assert.equal(d.state, "rejected");
});

test("dial() with service: a late timeout on HTTPS never delays the dial past the resolution delay", async () => {
  const t = v3env(DUAL(30, 35), {
    "example.test": { at: 400, error: "timeout" },
  });
  const d = v3dial(t);
  await t.clock.advanceTo(500);
  assert.deepEqual(t.dialer.starts, [`[${V6A}]:443@80`, `${V4A}:443@330`]);
  assert.ok(
    t.log.includes(
      "400 dnsAnswer service records=0 error=lookup example.test: i/o timeout",
    ),
  );
  await finish(t);
  assert.equal(d.state, "rejected");
});

test("dial() with service follows an alias: the target is asked without a port prefix, then its addresses", async () => {
  const t = v3env(
    {
      "example.test": { 6: { at: 1, addrs: [] }, 4: { at: 1, addrs: [] } },
      "cdn.test": { 6: { at: 30, addrs: [V6B] }, 4: { at: 30, addrs: [] } },
    },
    {
      "example.test": { at: 10, records: [svc(0, "cdn.test.")] },
      "cdn.test": { at: 20, records: [svc(1, ".", { alpn: ["h2"] })] },
    },
    { [`[${V6B}]:8443`]: { after: 1, connect: true } },
  );
  const d = v3dial(t, {}, "example.test:8443");
  await t.clock.advanceTo(100);
  assert.equal(d.state, "resolved");
  assert.deepEqual(t.resolver.queries, [
    "HTTPS example.test@0",
    "AAAA example.test@0",
    "A example.test@0",
    "HTTPS cdn.test@10",
    "AAAA cdn.test@20",
    "A cdn.test@20",
  ]);
  assert.deepEqual(t.resolver.serviceCalls.map((c) => c.port), [8443, 443]);
  assert.deepEqual(t.dialer.starts, [`[${V6B}]:8443@30`]);
  d.value!.closed = true;
  await finish(t);
});

test("dial() with service: an alias loop is reported and the host's addresses are dialled", async () => {
  const t = v3env(DUAL(20, 20), {
    "example.test": { at: 5, records: [svc(0, "b.test")] },
    "b.test": { at: 10, records: [svc(0, "example.test")] },
  });
  const d = v3dial(t);
  await t.clock.advanceTo(30);
  assert.deepEqual(t.log, [
    "5 dnsAnswer service records=1",
    "10 dnsAnswer service records=1 error=lookup example.test: service alias chain loops at example.test",
    "20 dnsAnswer 6",
    `20 connectStart [${V6A}]:443 hint=false`,
    "20 dnsAnswer 4",
  ]);
  await finish(t);
  assert.equal(d.state, "rejected");
});

test("dial() with service: a record with no usable ALPN is never resolved nor dialled", async () => {
  const t = v3env(DUAL(20, 20), {
    "example.test": {
      at: 5,
      records: [
        svc(1, "quic.test", {
          alpn: ["h3"],
          noDefaultAlpn: true,
          ipv6hint: ["2001:db8::3"],
        }),
      ],
    },
  });
  const d = v3dial(t, { tls: { alpnProtocols: ["h2", "http/1.1"] } });
  await t.clock.advanceTo(300);
  assert.deepEqual(t.resolver.queries, [
    "HTTPS example.test@0",
    "AAAA example.test@0",
    "A example.test@0",
  ]);
  assert.deepEqual(t.dialer.starts, [`[${V6A}]:443@20`, `${V4A}:443@270`]);
  await finish(t);
  assert.equal(d.state, "rejected");
});

test("dial() with service: equal priorities are shuffled by the given random source", async () => {
  const records = [
    svc(1, ".", { port: 1001 }),
    svc(1, ".", { port: 1002 }),
  ];
  for (const [random, first] of [[0.99, 1001], [0, 1002]] as const) {
    const t = v3env(
      {
        "example.test": { 6: { at: 0, addrs: [V6A] }, 4: { at: 0, addrs: [] } },
      },
      { "example.test": { at: 0, records } },
    );
    const d = v3dial(t, { service: { scheme: "https", random: () => random } });
    await t.clock.advanceTo(300);
    assert.deepEqual(t.dialer.starts, [
      `[${V6A}]:${first}@0`,
      `[${V6A}]:${first === 1001 ? 1002 : 1001}@250`,
    ]);
    await finish(t);
    assert.equal(d.state, "rejected");
  }
});

test("dial() with service and a resolver without lookupService, or an IP literal, is RFC 8305's", async () => {
  const clock = new VirtualClock();
  const plain = new FakeResolver(clock, DUAL(30, 30));
  const dialer = new FakeDialer(clock, {}, { hang: true });
  const abort = new AbortController();
  const d = watch(
    dial<FakeConn>("example.test:443", {
      resolver: plain,
      dialer,
      clock,
      signal: abort.signal,
      service: "https",
    }),
    clock,
  );
  const literal = watch(
    dial<FakeConn>("192.0.2.5:443", {
      resolver: plain,
      dialer,
      clock,
      signal: abort.signal,
      service: "https",
    }),
    clock,
  );
  await clock.advanceTo(300);
  assert.deepEqual(dialer.starts, [
    "192.0.2.5:443@0",
    `[${V6A}]:443@30`,
    `${V4A}:443@280`,
  ]);
  abort.abort(new Error("test over"));
  await flush();
  assert.equal(clock.pending, 0);
  assert.equal(d.state, "rejected");
  assert.equal(literal.state, "rejected");
});

test("dial() refuses a service option of the wrong shape", async () => {
  const clock = new VirtualClock();
  for (const service of ["http", { scheme: 5 }, { scheme: "a b" }, true]) {
    await assert.rejects(
      () =>
        dial<FakeConn>("example.test:443", {
          resolver: new FakeResolver(clock, {}),
          dialer: new FakeDialer(clock, {}),
          clock,
          service: service as never,
        }),
      /Cannot use options\.service/,
    );
  }
});

test("ServiceResolution bounds a huge answer: 32 records, 8 target names, 16 hints a family", () => {
  const r = resolution();
  const records: ServiceRecord[] = [];
  for (let i = 0; i < 1000; i++) {
    records.push(
      svc(1 + (i % 5), `t${i}.example.test`, {
        ipv6hint: Array.from({ length: 40 }, (_, j) => `2001:db8::${i}:${j}`),
      }),
    );
  }
  r.serviceAnswer(records);
  assert.ok(r.services.length <= 8);
  assert.equal(r.takeQueries().length, 16); // 8 names × AAAA, A
  assert.equal(r.candidates().length, 8 * 16);
});

test("dial() with service ignores garbage from lookupService and dials the host", async () => {
  const t = v3env(DUAL(10, 10), {});
  t.resolver.lookupService = () =>
    Promise.resolve([
      null,
      5,
      { priority: "x", target: "." },
      { priority: 1, target: 7 },
      { priority: 1.5, target: "." },
      { priority: 1, target: ".", ipv6hint: ["not an ip", 3], port: -1 },
    ] as unknown as ServiceRecord[]);
  const d = v3dial(t);
  await t.clock.advanceTo(300);
  assert.deepEqual(t.dialer.starts, [`[${V6A}]:443@10`, `${V4A}:443@260`]);
  await finish(t);
  assert.equal(d.state, "rejected");
});

test("dial() with service through a caching resolver: the second dial's service answer is cached, not asked again", async () => {
  const t = v3env(DUAL(0, 0), {
    "example.test": {
      at: 5,
      records: [Object.assign(svc(1, "."), { ttl: 60 })],
    },
  }, { [`[${V6A}]:443`]: { after: 1, connect: true } });
  const cached: boolean[] = [];
  const resolver = cachingResolver(t.resolver, { clock: t.clock });
  for (let i = 0; i < 2; i++) {
    const d = v3dial(t, {
      resolver,
      trace: {
        dnsAnswer: (info: DNSAnswerInfo) => {
          if (info.family === "service") cached.push(info.cached);
        },
      },
    });
    await t.clock.advance(20);
    assert.equal(d.state, "resolved");
    d.value!.closed = true;
  }
  assert.deepEqual(cached, [false, true]);
  assert.equal(
    t.resolver.queries.filter((q) => q.startsWith("HTTPS")).length,
    1,
  );
  await finish(t);
});
