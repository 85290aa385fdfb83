// Property tests of dial(): random resolver answers, endpoint outcomes and
// options, driven on a virtual clock, checked against the invariants of
// DESIGN.md (RFC 8305 timing, one winner, nothing left behind, errors in
// start order, hooks paired).

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  AddrError,
  background,
  type ConnectDoneInfo,
  type ConnectStartInfo,
  type Context,
  dial,
  type Dialer,
  DialError,
  type DNSDoneInfo,
  DNSError,
  type Family,
  formatEndpoint,
  type HookName,
  type Network,
  OpError,
  parseIP,
  type Trace,
  withSignal,
} from "../mod.ts";
import {
  type Answer,
  type ConnectCall,
  type FakeConn,
  FakeDialer,
  FakeResolver,
  flush,
  type Outcome,
  VirtualClock,
} from "./_virtual_clock.ts";

// ── address pools ──────────────────────────────────────────────────────

const HOST = "h.test";
const PORT = 80;

/** IPv6 answers, with a second spelling of 2001:db8::1 to exercise dedup. */
const V6_POOL = [
  "2001:db8::1",
  "2001:db8::2",
  "2001:db8:1::5",
  "2001:0db8:0:0::1",
];
const V4_POOL = ["192.0.2.1", "192.0.2.2", "198.18.0.1", "198.19.255.254"];

function canonical(text: string): string {
  const ip = parseIP(text);
  if (ip === undefined) throw new Error(`not an IP literal: ${text}`);
  return ip.address;
}

function endpointAddr(ip: string, family: Family): string {
  return family === 6 ? `[${ip}]:${PORT}` : `${ip}:${PORT}`;
}

/** Every distinct endpoint any script can produce, as the dialer sees it. */
const ENDPOINTS: readonly string[] = [
  ...new Set([
    ...V6_POOL.map((t) => endpointAddr(canonical(t), 6)),
    ...V4_POOL.map((t) => endpointAddr(canonical(t), 4)),
  ]),
];

function clampDelay(ms: number): number {
  return Math.min(2000, Math.max(10, ms));
}

// ── recording ──────────────────────────────────────────────────────────

/** Hook calls with a global sequence number, so order can be checked. */
interface Recorded {
  seq: number;
  now: number;
}

interface Recording {
  next(): number;
  dnsStart: (Recorded & { host: string })[];
  dnsDone: (Recorded & DNSDoneInfo)[];
  connectStart: (Recorded & ConnectStartInfo)[];
  connectDone: (Recorded & ConnectDoneInfo)[];
}

/**
 * A trace that only records (assertions inside hooks would be swallowed by
 * the hook isolation, so every check happens afterwards).
 */
function recorder(
  clock: VirtualClock,
  onHook?: (hook: HookName, info: unknown) => void,
): { trace: Trace; rec: Recording } {
  let seq = 0;
  const rec: Recording = {
    next: () => seq++,
    dnsStart: [],
    dnsDone: [],
    connectStart: [],
    connectDone: [],
  };
  const trace: Trace = {
    dnsStart(i) {
      rec.dnsStart.push({ ...i, seq: seq++, now: clock.now() });
      onHook?.("dnsStart", i);
    },
    dnsDone(i) {
      rec.dnsDone.push({ ...i, seq: seq++, now: clock.now() });
      onHook?.("dnsDone", i);
    },
    connectStart(i) {
      rec.connectStart.push({ ...i, seq: seq++, now: clock.now() });
      onHook?.("connectStart", i);
    },
    connectDone(i) {
      rec.connectDone.push({ ...i, seq: seq++, now: clock.now() });
      onHook?.("connectDone", i);
    },
  };
  return { trace, rec };
}

interface Observed<T> {
  settlements: number;
  state: "pending" | "fulfilled" | "rejected";
  value?: T;
  reason?: unknown;
  /** Virtual time of the settlement. */
  at: number;
  /** Sequence number (from the recording) of the settlement. */
  seq: number;
  /** Timers pending on the clock when the settlement was seen. */
  timersAtSettle: number;
}

function observe<T>(
  promise: Promise<T>,
  clock: VirtualClock,
  rec: Recording,
): Observed<T> {
  const seen: Observed<T> = {
    settlements: 0,
    state: "pending",
    at: NaN,
    seq: NaN,
    timersAtSettle: NaN,
  };
  const mark = () => {
    seen.settlements++;
    seen.at = clock.now();
    seen.seq = rec.next();
    seen.timersAtSettle = clock.pending;
  };
  promise.then(
    (value) => {
      mark();
      seen.state = "fulfilled";
      seen.value = value;
    },
    (reason: unknown) => {
      mark();
      seen.state = "rejected";
      seen.reason = reason;
    },
  );
  return seen;
}

/** Counts the abort listeners added to a signal and not removed. */
interface ListenerProbe {
  active: Set<unknown>;
  allOnce: boolean;
}

function probeListeners(signal: AbortSignal): ListenerProbe {
  const probe: ListenerProbe = { active: new Set(), allOnce: true };
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ) => {
    if (type === "abort" && listener !== null) {
      probe.active.add(listener);
      if (typeof options !== "object" || options.once !== true) {
        probe.allOnce = false;
      }
    }
    add(type, listener as EventListenerOrEventListenerObject, options);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ) => {
    if (type === "abort") probe.active.delete(listener);
    remove(type, listener as EventListenerOrEventListenerObject, options);
  }) as typeof signal.removeEventListener;
  return probe;
}

// ── property 1: one dial, random script ───────────────────────────────

interface Script {
  /** `undefined`: dial HOST; otherwise an IP literal from the pools. */
  literal: string | undefined;
  answer4: Answer;
  answer6: Answer;
  outcomes: Record<string, Outcome>;
  attemptDelay: number | undefined;
  resolutionDelay: number | undefined;
  firstAddressFamilyCount: number | undefined;
  preferredFamily: Family | undefined;
  network: Network | undefined;
  /** "pre": aborted before dial(); a number: aborted at that time. */
  abort: "pre" | number | undefined;
  reason: "error" | "object" | "default";
  timeout: number | undefined;
  /** Pass the signal on a context (combined with a parent's) instead. */
  viaContext: boolean;
  /**
   * The dialer lets a connect that is already under way finish after its
   * signal aborted (as a real socket can, in the same tick): the dial must
   * close such late connections itself.
   */
  sloppy: boolean;
  /** A hook that aborts the dial's signal the `nth` time it is called. */
  hookAbort: { hook: HookName; nth: number } | undefined;
}

const time = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 400 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 10, 50, 250, 300) },
);

function answerArb(pool: readonly string[]): fc.Arbitrary<Answer> {
  return fc.oneof(
    {
      weight: 12,
      arbitrary: fc.record({
        at: time,
        addrs: fc.array(fc.constantFrom(...pool), {
          minLength: 1,
          maxLength: 6,
        }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ at: time, addrs: fc.constant<string[]>([]) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        at: time,
        error: fc.constantFrom("nxdomain" as const, "servfail" as const),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ hang: true as const }) },
  );
}

const outcomeArb: fc.Arbitrary<Outcome> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      after: fc.oneof(
        fc.integer({ min: 0, max: 3000 }),
        fc.constantFrom(0, 1, 10, 250),
      ),
      connect: fc.constant(true as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      after: fc.oneof(
        fc.integer({ min: 0, max: 600 }),
        fc.constantFrom(0, 1, 10),
      ),
      fail: fc.constant("ECONNREFUSED"),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ hang: true as const }) },
);

const scriptArb: fc.Arbitrary<Script> = fc.record({
  literal: fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom(...V6_POOL, ...V4_POOL) },
  ),
  answer4: answerArb(V4_POOL),
  answer6: answerArb(V6_POOL),
  outcomes: fc.record(
    Object.fromEntries(ENDPOINTS.map((e) => [e, outcomeArb])) as Record<
      string,
      fc.Arbitrary<Outcome>
    >,
  ),
  attemptDelay: fc.option(
    fc.oneof(
      fc.integer({ min: 0, max: 9 }),
      fc.integer({ min: 10, max: 2000 }),
      fc.integer({ min: 2001, max: 10_000 }),
      fc.constant(250),
    ),
    { nil: undefined },
  ),
  resolutionDelay: fc.option(fc.integer({ min: 0, max: 500 }), {
    nil: undefined,
  }),
  firstAddressFamilyCount: fc.option(fc.integer({ min: 1, max: 3 }), {
    nil: undefined,
  }),
  preferredFamily: fc.option(fc.constantFrom(4 as const, 6 as const), {
    nil: undefined,
  }),
  network: fc.option(
    fc.constantFrom("tcp" as const, "tcp4" as const, "tcp6" as const),
    { nil: undefined },
  ),
  abort: fc.option(
    fc.oneof(
      { weight: 1, arbitrary: fc.constant("pre" as const) },
      { weight: 20, arbitrary: fc.integer({ min: 0, max: 5000 }) },
    ),
    { nil: undefined, freq: 2 },
  ),
  reason: fc.constantFrom(
    "error" as const,
    "object" as const,
    "default" as const,
  ),
  timeout: fc.option(
    fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 1, max: 5000 }) },
      { weight: 1, arbitrary: fc.constantFrom(0, Infinity) },
    ),
    { nil: undefined, freq: 2 },
  ),
  viaContext: fc.boolean(),
  sloppy: fc.boolean(),
  hookAbort: fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.record({
        hook: fc.constantFrom<HookName>(
          "dnsStart",
          "dnsDone",
          "connectStart",
          "connectDone",
        ),
        nth: fc.integer({ min: 0, max: 3 }),
      }),
    },
  ),
});

/** What the script says about the addresses the dial can learn. */
interface Model {
  net: Network;
  families: Family[];
  /** Endpoint addr → when its address becomes known. */
  known: Map<string, number>;
  /** The dial must fail synchronously (literal of the wrong family). */
  syncFail: boolean;
  /** When the first attempt must start (if the dial lasts that long). */
  firstStart: number;
  attemptDelay: number;
  /** Each family's answer: when, and its endpoints in order, deduplicated. */
  answers: { family: Family; at: number; addrs: string[] }[];
  preferred: Family;
  count: number;
}

/**
 * The endpoints that may be tried next at time `t`, after `tried` (in
 * order): RFC 8305 §4 interleaving continued from where the race is —
 * `count` of the preferred family before the first of the other, then the
 * family that did not go last — over the untried addresses that have
 * arrived, each family in answer order. An answer arriving at exactly `t`
 * may be seen or not, so every such combination is allowed.
 */
function nextCandidates(m: Model, tried: string[], t: number): Set<string> {
  const family = (addr: string): Family => addr.startsWith("[") ? 6 : 4;
  const other: Family = m.preferred === 6 ? 4 : 6;
  const done = new Set(tried);
  const preferredStarted = tried.filter((a) => family(a) === m.preferred)
    .length;
  const otherStarted = tried.some((a) => family(a) === other);
  const last = tried.length > 0 ? family(tried[tried.length - 1]!) : undefined;
  const before = m.answers.filter((a) => a.at < t);
  const now = m.answers.filter((a) => a.at === t);
  const heads = new Set<string>();
  for (let mask = 0; mask < 1 << now.length; mask++) {
    const arrived = [...before, ...now.filter((_, k) => (mask >> k) & 1)];
    const untried = (f: Family) =>
      arrived.filter((a) => a.family === f).flatMap((a) => a.addrs)
        .filter((addr) => !done.has(addr));
    const p = untried(m.preferred);
    const o = untried(other);
    let head: string | undefined;
    if (o.length === 0) head = p[0];
    else if (p.length === 0) head = o[0];
    else if (!otherStarted) head = preferredStarted < m.count ? p[0] : o[0];
    else head = last === m.preferred ? o[0] : p[0];
    if (head !== undefined) heads.add(head);
  }
  return heads;
}

function model(s: Script): Model {
  const net = s.network ?? "tcp";
  const preferred = s.preferredFamily ?? 6;
  const families: Family[] = net === "tcp4"
    ? [4]
    : net === "tcp6"
    ? [6]
    : preferred === 6
    ? [6, 4]
    : [4, 6];
  const known = new Map<string, number>();
  const answers: Model["answers"] = [];
  let syncFail = false;
  let firstStart = Infinity;
  if (s.literal !== undefined) {
    const ip = parseIP(s.literal)!;
    if (families.includes(ip.family)) {
      const addr = endpointAddr(ip.address, ip.family);
      known.set(addr, 0);
      answers.push({ family: ip.family, at: 0, addrs: [addr] });
      firstStart = 0;
    } else {
      syncFail = true;
    }
  } else {
    const answerOf = (f: Family) => f === 4 ? s.answer4 : s.answer6;
    const nonEmptyAt = (f: Family): number => {
      const a = answerOf(f);
      return "addrs" in a && a.addrs.length > 0 ? a.at : Infinity;
    };
    const settledAt = (f: Family): number => {
      const a = answerOf(f);
      return "hang" in a ? Infinity : a.at;
    };
    for (const f of families) {
      const a = answerOf(f);
      if (!("addrs" in a)) continue;
      const list: string[] = [];
      for (const text of a.addrs) {
        const addr = endpointAddr(canonical(text), f);
        if (!known.has(addr)) {
          known.set(addr, a.at);
          list.push(addr);
        }
      }
      answers.push({ family: f, at: a.at, addrs: list });
    }
    if (families.length === 1) {
      firstStart = nonEmptyAt(families[0]!);
    } else {
      const [p, o] = families as [Family, Family];
      const rd = s.resolutionDelay ?? 50;
      const ao = nonEmptyAt(o);
      firstStart = Math.min(
        nonEmptyAt(p),
        ao === Infinity
          ? Infinity
          : Math.max(ao, Math.min(ao + rd, settledAt(p))),
      );
    }
  }
  return {
    net,
    families,
    known,
    syncFail,
    firstStart,
    attemptDelay: clampDelay(s.attemptDelay ?? 250),
    answers,
    preferred,
    count: s.firstAddressFamilyCount ?? 1,
  };
}

function outcomeOf(s: Script, call: ConnectCall): Outcome {
  const outcome = s.outcomes[call.addr];
  if (outcome === undefined) throw new Error(`no outcome for ${call.addr}`);
  return outcome;
}

/** When the scripted outcome of a call would settle it (Infinity: never). */
function settlesAt(s: Script, call: ConnectCall): number {
  const o = outcomeOf(s, call);
  return "hang" in o ? Infinity : call.at + o.after;
}

function failedAt(s: Script, call: ConnectCall): number {
  const o = outcomeOf(s, call);
  return "fail" in o ? call.at + o.after : Infinity;
}

/**
 * Wraps a fake dialer so that connects with a scripted end ignore their
 * abort signal (hung ones still honour it). `abortedAt` is still recorded.
 */
function sloppyDialer(fake: FakeDialer, clock: VirtualClock): Dialer<FakeConn> {
  return {
    connect(endpoint, { signal }) {
      const outcome = fake.outcomes[formatEndpoint(endpoint)];
      if (outcome === undefined || "hang" in outcome) {
        return fake.connect(endpoint, { signal });
      }
      const promise = fake.connect(endpoint, {
        signal: new AbortController().signal,
      });
      const call = fake.calls[fake.calls.length - 1]!;
      signal.addEventListener("abort", () => {
        call.abortedAt = clock.now();
      }, { once: true });
      return promise;
    },
    close: (conn) => fake.close(conn),
  };
}

function makeReason(kind: Script["reason"]): unknown {
  return kind === "error"
    ? new Error("scripted abort")
    : kind === "object"
    ? { why: "scripted abort, not an Error" }
    : undefined;
}

async function runScript(s: Script): Promise<void> {
  const m = model(s);
  const clock = new VirtualClock();
  const resolver = new FakeResolver(clock, {
    [HOST]: { 4: s.answer4, 6: s.answer6 },
  });
  const fake = new FakeDialer(clock, s.outcomes);
  const inner = s.sloppy ? sloppyDialer(fake, clock) : fake;
  /** Sequence number of each dialer.connect call (set once rec exists). */
  const connectSeqs: number[] = [];
  const dialer: Dialer<FakeConn> = {
    connect(endpoint, options) {
      connectSeqs.push(rec.next());
      return inner.connect(endpoint, options);
    },
    close: (conn) => inner.close(conn),
  };
  const controller = new AbortController();
  const hookCalls: Record<string, number> = {};
  /** The hook call that aborted the dial, if one did. */
  let hookAbort: { hook: HookName; info: unknown } | undefined;
  const { trace, rec } = recorder(clock, (hook, info) => {
    hookCalls[hook] = (hookCalls[hook] ?? 0) + 1;
    if (
      s.hookAbort?.hook === hook && hookCalls[hook] === s.hookAbort.nth + 1 &&
      !controller.signal.aborted
    ) {
      hookAbort = { hook, info };
      abortNow();
    }
  });

  const parent = new AbortController(); // never aborted
  let context: Context | undefined;
  let signal: AbortSignal | undefined;
  let dialSignal: AbortSignal;
  if (s.viaContext) {
    context = withSignal(
      withSignal(background, parent.signal),
      controller.signal,
    );
    dialSignal = context.signal!;
  } else {
    signal = controller.signal;
    dialSignal = signal;
  }
  const probe = probeListeners(dialSignal);
  const reasonArg = makeReason(s.reason);
  let abortedWhilePending = false;
  let abortSeq = Infinity;
  const abortNow = () => {
    if (controller.signal.aborted) return;
    abortSeq = rec.next();
    if (reasonArg === undefined) controller.abort();
    else controller.abort(reasonArg);
  };
  if (s.abort === "pre") abortNow();

  const address = s.literal === undefined
    ? `${HOST}:${PORT}`
    : endpointAddr(s.literal, parseIP(s.literal)!.family);
  const promise = dial(address, {
    resolver,
    dialer,
    clock,
    trace,
    network: s.network,
    attemptDelay: s.attemptDelay,
    resolutionDelay: s.resolutionDelay,
    firstAddressFamilyCount: s.firstAddressFamilyCount,
    preferredFamily: s.preferredFamily,
    timeout: s.timeout,
    signal,
    context,
  });
  const obs = observe(promise, clock, rec);

  if (typeof s.abort === "number") {
    await clock.advanceTo(s.abort);
    if (obs.state === "pending") abortedWhilePending = true;
    else assert.equal(probe.active.size, 0, "abort listener left behind");
    abortNow();
  }
  await clock.runAll();
  const { calls } = fake;
  const n = calls.length;

  let hung = false;
  if (obs.state === "pending") {
    // Nothing is scheduled any more: something must hang forever, and
    // every address the dial learned must have been tried by now.
    hung = true;
    assert.ok(!dialSignal.aborted);
    assert.equal(n, m.known.size, "a hung dial left an address untried");
    for (const c of calls) {
      const o = outcomeOf(s, c);
      assert.ok(
        "hang" in o || "fail" in o,
        `a hung dial has a connecting attempt ${c.addr}`,
      );
    }
    const lookupHangs = s.literal === undefined &&
      m.families.some((f) => "hang" in (f === 4 ? s.answer4 : s.answer6));
    assert.ok(
      lookupHangs || calls.some((c) => "hang" in outcomeOf(s, c)),
      "the dial is pending with nothing pending",
    );
    abortedWhilePending = true;
    abortNow();
    await flush();
    await clock.runAll();
  }

  // Settled exactly once, and nothing left scheduled, then or now.
  assert.equal(obs.settlements, 1);
  assert.notEqual(obs.state, "pending");
  const S = obs.at;
  // A sloppy dialer's connects that ignored the abort still have a timer
  // (one due at exactly `S` may or may not have fired yet).
  const late = (after: (t: number) => boolean) =>
    s.sloppy
      ? calls.filter((c) =>
        after(settlesAt(s, c)) && settlesAt(s, c) < Infinity
      )
        .length
      : 0;
  assert.ok(
    obs.timersAtSettle >= late((t) => t > S) &&
      obs.timersAtSettle <= late((t) => t >= S),
    `${obs.timersAtSettle} timers outlived the dial`,
  );
  assert.equal(clock.pending, 0);

  // Abort listeners are `once` and gone once the dial is over.
  assert.ok(probe.allOnce, "an abort listener without { once: true }");
  if (!dialSignal.aborted) assert.equal(probe.active.size, 0);

  // Attempts: distinct known endpoints, in time order, none after the end.
  const addrs = calls.map((c) => c.addr);
  assert.equal(new Set(addrs).size, n, `an endpoint tried twice: ${addrs}`);
  for (const c of calls) {
    assert.ok(m.known.has(c.addr), `unexpected endpoint ${c.addr}`);
    assert.ok(c.at >= m.known.get(c.addr)!, `${c.addr} tried before known`);
    assert.ok(c.at <= S, `${c.addr} tried at ${c.at}, after the end ${S}`);
  }
  for (const cs of rec.connectStart) {
    assert.ok(cs.seq < obs.seq, "connectStart after the dial settled");
    assert.ok(cs.seq < abortSeq, "connectStart after the abort");
  }
  connectSeqs.forEach((seq, i) => {
    assert.ok(seq < abortSeq, `dialer called for ${addrs[i]} after abort`);
  });

  // RFC 8305 order: interleaved by family, late arrivals sorted in.
  for (let i = 0; i < n; i++) {
    const heads = nextCandidates(m, addrs.slice(0, i), calls[i]!.at);
    assert.ok(
      heads.has(addrs[i]!),
      `attempt ${i} to ${addrs[i]}, expected one of ${[...heads]}`,
    );
  }

  // RFC 8305 timing.
  const D = m.attemptDelay;
  if (m.firstStart < S) {
    assert.ok(n > 0, `no attempt, though one was due at ${m.firstStart}`);
    assert.equal(calls[0]!.at, m.firstStart, "first attempt time");
  } else if (m.firstStart > S) {
    assert.equal(n, 0, "an attempt before any address could be used");
  }
  for (let i = 0; i < n; i++) {
    const si = calls[i]!.at;
    const tried = new Set(addrs.slice(0, i + 1));
    let arrival = Infinity;
    for (const [addr, at] of m.known) {
      if (!tried.has(addr)) arrival = Math.min(arrival, at);
    }
    // The next attempt is due when the delay has run out, or 10 ms after
    // this start once an attempt failed, and an untried address is known.
    // A failure shortens the stagger only when it frees something: an
    // untried address was waiting, or nothing else was in flight. (Events
    // at the same time as `si` or the failure may come in either order, so
    // only failures that certainly count are used.)
    let firstFailure = Infinity;
    for (const c of calls.slice(0, i + 1)) {
      const f = failedAt(s, c);
      if (!(f > si)) continue;
      const waiting = [...m.known].some(([addr, at]) =>
        !tried.has(addr) && at < f
      );
      const alone = calls.slice(0, i + 1).every((d) =>
        d === c || settlesAt(s, d) < f
      );
      if (waiting || alone) firstFailure = Math.min(firstFailure, f);
    }
    const due = Math.max(
      Math.min(si + D, Math.max(firstFailure, si + 10)),
      arrival,
    );
    if (due < S) {
      assert.ok(i + 1 < n, `attempt ${i + 1} was due at ${due}, none came`);
      assert.ok(
        calls[i + 1]!.at <= due,
        `attempt ${i + 1} at ${calls[i + 1]!.at}, due at ${due} (delay ${D})`,
      );
    }
    if (i + 1 >= n) continue;
    const next = calls[i + 1]!.at;
    assert.ok(next - si >= 10, `attempts ${i}/${i + 1} < 10 ms apart`);
    // A failure that may have freed something (same-time events counted).
    const failureBetween = calls.slice(0, i + 1).some((c) => {
      const f = failedAt(s, c);
      if (!(f >= si && f <= next)) return false;
      const waiting = [...m.known].some(([addr, at]) =>
        !tried.has(addr) && at <= f
      );
      const alone = calls.slice(0, i + 1).every((d) =>
        d === c || settlesAt(s, d) <= f
      );
      return waiting || alone;
    });
    if (next < si + D) {
      assert.ok(failureBetween, `attempt ${i + 1} early without a failure`);
    }
    const cause = rec.connectStart[i + 1]?.cause;
    if (cause === "delay") assert.ok(next >= si + D, "cause delay too early");
    if (cause === "failure") assert.ok(failureBetween, "cause failure");
    if (cause === "answer") {
      assert.ok(
        calls.slice(0, i + 1).every((c) => failedAt(s, c) <= next),
        "cause answer while an attempt was in flight",
      );
    }
  }

  // Hooks: paired, in the dialer's order, with the user's network. A
  // connectStart hook that aborts the dial gets its connectDone, but the
  // dialer is never called for that attempt.
  const startAborted = hookAbort?.hook === "connectStart" ? 1 : 0;
  if (startAborted === 1) {
    assert.equal(
      (hookAbort!.info as ConnectStartInfo).attempt,
      n,
      "the dialer was called for the attempt whose connectStart aborted",
    );
  }
  assert.equal(rec.connectStart.length, n + startAborted);
  assert.equal(rec.connectDone.length, n + startAborted);
  rec.connectStart.forEach((cs, i) => {
    if (i === n) return;
    assert.equal(cs.addr, addrs[i]);
    assert.equal(cs.attempt, i);
    assert.equal(cs.network, m.net);
    assert.equal(cs.family, cs.addr.startsWith("[") ? 6 : 4);
    assert.equal(cs.cause === "first", i === 0);
  });
  assert.deepEqual(
    rec.connectDone.map((d) => d.attempt).sort((a, b) => a - b),
    [...Array(n + startAborted).keys()],
  );
  for (const d of rec.connectDone) {
    if (d.attempt === n) {
      assert.match(d.error?.message ?? "", /operation was canceled/);
      continue;
    }
    assert.equal(d.addr, addrs[d.attempt]);
    assert.equal(d.network, m.net);
  }
  const cleanDone = rec.connectDone.filter((d) => d.error === undefined);
  // A hook abort can come after the dial settled (dnsDone as it settles, a
  // loser's cancelled connectDone, or that of an attempt the timeout
  // ended): then it changes nothing.
  const hookInfo = hookAbort?.info as ConnectDoneInfo | undefined;
  const lateMessage = hookInfo?.error?.message ?? "";
  const lateHookAbort = hookAbort?.hook === "dnsDone" ||
    (hookAbort?.hook === "connectDone" &&
      (lateMessage.endsWith("operation was canceled") ||
        lateMessage.endsWith(": i/o timeout")));
  const isName = s.literal === undefined;
  const started = !m.syncFail && s.abort !== "pre";
  // Aborted before it began, a dial of a name still reports its lookup as
  // cancelled (dnsStart, dnsDone), as Go's does.
  assert.equal(rec.dnsStart.length, isName && !m.syncFail ? 1 : 0);
  assert.equal(rec.dnsDone.length, rec.dnsStart.length);
  for (const d of rec.dnsDone) {
    assert.equal(d.host, HOST);
    assert.ok(d.seq < obs.seq, "dnsDone after the dial settled");
    assert.equal(d.error !== undefined, d.addrs.length === 0);
    const texts = d.addrs.map((a) => a.address);
    assert.equal(new Set(texts).size, texts.length, `dnsDone dups ${texts}`);
    for (const a of d.addrs) {
      assert.ok(m.known.has(endpointAddr(a.address, a.family)));
    }
  }

  // Lookups: one per family, aborted exactly when still running at the end.
  const lookupFamilies = resolver.calls.map((c) => c.family).sort();
  // A dnsStart hook that aborts the dial stops it before any lookup.
  const lookedUp = isName && started && hookAbort?.hook !== "dnsStart";
  assert.deepEqual(lookupFamilies, lookedUp ? [...m.families].sort() : []);
  for (const call of resolver.calls) {
    const answer = call.family === 4 ? s.answer4 : s.answer6;
    const at = "hang" in answer ? Infinity : answer.at;
    if (at > S) assert.equal(call.abortedAt, S, "lookup left running");
    if (at < S) assert.equal(call.abortedAt, undefined, "lookup aborted");
  }

  // Attempts still connecting at the end were aborted, at the end only.
  for (const c of calls) {
    const end = settlesAt(s, c);
    if (end > S) assert.equal(c.abortedAt, S, `${c.addr} left running`);
    if (end < S) {
      assert.equal(c.abortedAt, undefined, `${c.addr} aborted early`);
      assert.equal(c.settledAt, end);
    }
  }

  // Connections: the winner is returned open, every other one closed.
  const winner = obs.state === "fulfilled" ? obs.value as FakeConn : undefined;
  for (const conn of fake.conns) {
    assert.equal(conn.closed, conn !== winner, `${conn.addr} closed wrongly`);
  }

  if (winner !== undefined) {
    assert.ok(fake.conns.includes(winner));
    assert.equal(cleanDone.length, 1);
    assert.equal(cleanDone[0]!.addr, winner.addr);
    for (const cs of rec.connectStart) {
      assert.ok(cs.seq < cleanDone[0]!.seq, "attempt started after the win");
    }
    const winCall = calls[cleanDone[0]!.attempt]!;
    assert.equal(winCall.settledAt, S);
    for (const c of calls) {
      const o = outcomeOf(s, c);
      if (c !== winCall && "connect" in o) {
        assert.ok(c.at + o.after >= S, `${c.addr} connected before winner`);
      }
    }
    assert.ok(!abortedWhilePending);
    if (hookAbort !== undefined) assert.ok(lateHookAbort, "abort ignored");
    if (hookAbort?.hook === "dnsDone") {
      assert.ok(rec.dnsDone[0]!.seq > cleanDone[0]!.seq, "abort ignored");
    }
    return;
  }
  // The winner's own connectDone hook may abort the dial.
  const abortedByWinner = hookAbort?.hook === "connectDone" &&
    hookInfo?.error === undefined;
  assert.equal(
    cleanDone.length,
    abortedByWinner ? 1 : 0,
    "a clean connectDone but no winner",
  );

  const error = obs.reason;
  const expectedReason = controller.signal.reason;
  if (abortedWhilePending || (s.abort === "pre" && !m.syncFail)) {
    assert.equal(error, expectedReason, "rejection is not the abort reason");
    if (hung) {
      assert.ok(
        s.timeout === undefined || s.timeout === 0 || s.timeout === Infinity,
      );
    }
    return;
  }
  if (hookAbort !== undefined && error === expectedReason) return;
  if (hookAbort !== undefined) assert.ok(lateHookAbort, "abort ignored");
  assert.notEqual(error, expectedReason);
  if (error instanceof DOMException) {
    assert.equal(error.name, "TimeoutError");
    assert.equal(S, s.timeout);
    // Go names what timed out: the first attempt still connecting, else
    // the lookup still running, else the dial. (At a tie the timeout,
    // armed first, fires before the outcome scripted for the same time.)
    const connecting = calls.find((c) => settlesAt(s, c) >= S);
    // Each attempt the timeout ended says so in Go's words.
    for (const d of rec.connectDone) {
      const c = calls[d.attempt];
      if (c === undefined || settlesAt(s, c) < S) continue;
      assert.equal(d.error?.message, `dial ${m.net} ${c.addr}: i/o timeout`);
    }
    const lookingUp = isName && m.families.some((f) => {
      const answer = f === 4 ? s.answer4 : s.answer6;
      return ("hang" in answer ? Infinity : answer.at) >= S;
    });
    assert.equal(
      error.message,
      connecting !== undefined
        ? `dial ${m.net} ${connecting.addr}: i/o timeout`
        : lookingUp
        ? `dial ${m.net}: lookup ${HOST}: i/o timeout`
        : `dial ${m.net} ${address}: i/o timeout`,
    );
    return;
  }
  assert.ok(error instanceof DialError, `unexpected rejection ${error}`);
  if (m.syncFail) {
    assert.equal(n, 0);
    assert.equal(error.errors.length, 1);
    assert.ok(error.errors[0] instanceof OpError);
    assert.ok(error.errors[0]!.cause instanceof AddrError);
    return;
  }
  if (hookAbort?.hook === "dnsDone") {
    // Only a dnsDone fired as the dial failed may ignore the abort.
    assert.ok(n > 0, "abort in dnsDone ignored");
    const lastDone = Math.max(...rec.connectDone.map((d) => d.seq));
    assert.ok(rec.dnsDone[0]!.seq > lastDone, "abort in dnsDone ignored");
  }
  if (n > 0) {
    // Every attempt failed; one error each, in start order.
    assert.equal(n, m.known.size, "failed with an address untried");
    assert.equal(error.errors.length, n);
    error.errors.forEach((e, i) => {
      assert.ok(e instanceof OpError);
      assert.equal(e.addr, addrs[i]);
      assert.equal(
        e.message,
        `dial ${m.net} ${addrs[i]}: connect: connection refused`,
      );
      assert.ok("fail" in outcomeOf(s, calls[i]!));
    });
    assert.equal(error.message, error.errors[0]!.message);
  } else {
    // No address at all: the lookup's errors.
    assert.equal(m.known.size, 0, "failed without trying a known address");
    assert.ok(error.errors.length >= 1);
    for (const e of error.errors) {
      assert.ok(e instanceof OpError);
      assert.ok(e.cause instanceof DNSError);
      assert.ok(
        e.message.startsWith(`dial ${m.net}: lookup ${HOST}`),
        e.message,
      );
    }
  }
}

test("dial() keeps its invariants over 1,000 random scripts", async () => {
  await fc.assert(fc.asyncProperty(scriptArb, runScript), { numRuns: 1000 });
});

// ── property 2: concurrent dials of one host ───────────────────────────

interface SharedScript {
  n: number;
  answer4: Answer;
  answer6: Answer;
  connectAfter: Record<string, number>;
  /** Per dial: where in [0, first answer) it starts, in thousandths. */
  startAt: number[];
  /** Per dial: undefined, or where in [last start, first win) it aborts. */
  abortAt: (number | undefined)[];
}

function sharedAnswerArb(pool: readonly string[]): fc.Arbitrary<Answer> {
  const at = fc.integer({ min: 5, max: 200 });
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        at,
        addrs: fc.array(fc.constantFrom(...pool), {
          minLength: 1,
          maxLength: 3,
        }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ at, addrs: fc.constant<string[]>([]) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ at, error: fc.constant("nxdomain" as const) }),
    },
    { weight: 1, arbitrary: fc.constant({ hang: true as const }) },
  );
}

const thousandths = fc.integer({ min: 0, max: 999 });

const sharedArb: fc.Arbitrary<SharedScript> = fc.record({
  n: fc.integer({ min: 2, max: 5 }),
  answer4: sharedAnswerArb(V4_POOL),
  answer6: sharedAnswerArb(V6_POOL),
  connectAfter: fc.record(
    Object.fromEntries(
      ENDPOINTS.map((e) => [e, fc.integer({ min: 1, max: 100 })]),
    ) as Record<string, fc.Arbitrary<number>>,
  ),
  startAt: fc.array(thousandths, { minLength: 5, maxLength: 5 }),
  abortAt: fc.array(fc.option(thousandths, { nil: undefined }), {
    minLength: 5,
    maxLength: 5,
  }),
}).map((s) => {
  // At least one family must answer with an address, so that the dials
  // nobody aborts can win.
  const has = (a: Answer) => "addrs" in a && a.addrs.length > 0;
  if (!has(s.answer4) && !has(s.answer6)) {
    const at = "hang" in s.answer6 ? 100 : s.answer6.at;
    return { ...s, answer6: { at, addrs: [V6_POOL[0]!] } };
  }
  return s;
});

async function runShared(s: SharedScript): Promise<void> {
  const clock = new VirtualClock();
  const resolver = new FakeResolver(clock, {
    [HOST]: { 4: s.answer4, 6: s.answer6 },
  });
  const outcomes: Record<string, Outcome> = {};
  for (const [addr, after] of Object.entries(s.connectAfter)) {
    outcomes[addr] = { after, connect: true };
  }
  const dialer = new FakeDialer(clock, outcomes);

  const answerAt = (a: Answer) => "hang" in a ? Infinity : a.at;
  const nonEmptyAt = (a: Answer) =>
    "addrs" in a && a.addrs.length > 0 ? a.at : Infinity;
  const firstAnswer = Math.min(answerAt(s.answer4), answerAt(s.answer6));
  const minConnect = Math.min(...Object.values(s.connectAfter));
  // No dial can win before this: its first attempt cannot start before an
  // address arrives, nor connect faster than the fastest endpoint.
  const firstWin = Math.min(nonEmptyAt(s.answer4), nonEmptyAt(s.answer6)) +
    minConnect;

  const starts = s.startAt.slice(0, s.n).map((k) =>
    Math.floor(k * firstAnswer / 1000)
  );
  const lastStart = Math.max(...starts);
  const aborts = s.abortAt.slice(0, s.n).map((k) =>
    k === undefined
      ? undefined
      : lastStart + Math.floor(k * (firstWin - lastStart) / 1000)
  );
  assert.ok(lastStart < firstAnswer && aborts.every((a) => !(a! >= firstWin)));

  type Step = { at: number; order: number; run: () => void };
  const steps: Step[] = [];
  const recs: Recording[] = [];
  const observed: Observed<FakeConn>[] = [];
  const controllers: AbortController[] = [];
  const reasons: Error[] = [];
  for (let k = 0; k < s.n; k++) {
    const { trace, rec } = recorder(clock);
    recs.push(rec);
    const controller = new AbortController();
    controllers.push(controller);
    reasons.push(new Error(`dial ${k} aborted`));
    steps.push({
      at: starts[k]!,
      order: 0,
      run: () => {
        observed[k] = observe(
          dial(`${HOST}:${PORT}`, {
            resolver,
            dialer,
            clock,
            trace,
            signal: controller.signal,
          }),
          clock,
          rec,
        );
      },
    });
    const abortAt = aborts[k];
    if (abortAt !== undefined) {
      steps.push({
        at: abortAt,
        order: 1,
        run: () => controller.abort(reasons[k]),
      });
    }
  }
  steps.sort((a, b) => a.at - b.at || a.order - b.order);
  for (const step of steps) {
    await clock.advanceTo(step.at);
    step.run();
  }
  await clock.runAll();
  await flush();

  // One lookup per family, shared by every dial.
  assert.deepEqual(resolver.calls.map((c) => c.family).sort(), [4, 6]);

  const winners: FakeConn[] = [];
  for (let k = 0; k < s.n; k++) {
    const obs = observed[k]!;
    assert.equal(obs.settlements, 1, `dial ${k} did not settle once`);
    assert.equal(recs[k]!.dnsStart.length, 1);
    assert.equal(recs[k]!.dnsDone.length, 1);
    if (aborts[k] !== undefined) {
      assert.equal(obs.state, "rejected");
      assert.equal(obs.reason, reasons[k], `dial ${k}: not its own reason`);
      assert.equal(obs.at, aborts[k]);
    } else {
      assert.equal(obs.state, "fulfilled", `dial ${k} was not aborted`);
      winners.push(obs.value!);
      const done = recs[k]!.dnsDone[0]!;
      assert.equal(done.coalesced, true, `dial ${k}: not coalesced`);
      assert.ok(done.addrs.length > 0);
    }
    for (const cs of recs[k]!.connectStart) assert.ok(cs.seq < obs.seq);
    assert.equal(
      recs[k]!.connectDone.length,
      recs[k]!.connectStart.length,
    );
  }
  assert.equal(new Set(winners).size, winners.length);
  for (const conn of dialer.conns) {
    assert.equal(conn.closed, !winners.includes(conn));
  }
  for (const call of dialer.calls) {
    assert.ok(call.settledAt !== undefined || call.abortedAt !== undefined);
  }

  // A shared lookup is aborted only once every dial has gone.
  const lastLeave = Math.max(...observed.map((o) => o.at));
  for (const call of resolver.calls) {
    const at = answerAt(call.family === 4 ? s.answer4 : s.answer6);
    if (lastLeave < at) assert.equal(call.abortedAt, lastLeave);
    if (lastLeave > at) assert.equal(call.abortedAt, undefined);
  }
  assert.equal(clock.pending, 0);
}

test("concurrent dial()s share lookups and an abort rejects only its dial", async () => {
  await fc.assert(fc.asyncProperty(sharedArb, runShared), { numRuns: 500 });
});
