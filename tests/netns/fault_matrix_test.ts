/**
 * The fault matrix of the namespace suite: every pair (IPv6 fault, IPv4
 * fault) of {ok, refused, hang, unreachable, prohibited, slow}, one `.test`
 * name per pair (`m-<v6fault>-<v4fault>.test`, served by the dnsmasq of
 * `scripts/netns.sh`), dialled through this runtime's adapter with the
 * system resolver, `attemptDelay: 100` and `timeout: 1500`; plus the DNS
 * faults with one usable family (NXDOMAIN, one family empty, a name server
 * that never answers, one that is down).
 *
 * For each: the outcome (which family wins, or `DialError`/`TimeoutError`),
 * the error texts in Go's form, the hook sequence and the causes of the
 * starts, the gaps between starts, and that nothing is left behind (no
 * SYN-SENT or ESTABLISHED socket towards the pair's port once the dial is
 * over, every accepted connection closed by the client).
 *
 * The pairs run concurrently in batches of {@linkcode BATCH} (each on its own
 * server port) to keep the matrix within ~30 s per runtime; every test
 * awaits its own pair's observation, and the first test of a batch runs the
 * whole batch, so no work outlives the test that started it (Deno's
 * sanitizers).
 *
 * Runs only inside the namespace of `scripts/netns.sh`; anywhere else it
 * registers one skipped test.
 *
 * @module
 */

import { test, type TestContext } from "../_test.ts";
import assert from "node:assert/strict";
import process from "node:process";
import { readFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { createSocket } from "node:dgram";
import type { Conn, Family, Resolver } from "../../src/types.ts";
import {
  DialError,
  DNSError,
  OpError,
  SyscallError,
} from "../../src/errors.ts";
import type { DialOptions } from "../../src/dial.ts";
import type {
  ConnectDoneInfo,
  ConnectStartInfo,
  DNSDoneInfo,
  DNSStartInfo,
  Trace,
} from "../../src/trace.ts";

// ── the faults (the same addresses as scripts/netns.sh) ──────────────────────

/** How a connect to a fault's address ends, as seen from the dialer. */
type Kind = "connect" | "fail" | "hang" | "slow";

interface Fault {
  /** The address of the fault in each family. */
  6: string;
  4: string;
  kind: Kind;
  /** For `fail`: the errno and Go's text of the connect error. */
  code?: string;
  text?: string;
}

/**
 * The faults of the matrix; adding one is one line here and one in the
 * `faults` table of scripts/netns.sh (which serves `m-<v6>-<v4>.test`).
 */
const FAULTS = {
  ok: { 6: "2001:db8:1::1", 4: "198.18.0.1", kind: "connect" },
  refused: {
    6: "2001:db8:1::4",
    4: "198.18.0.4",
    kind: "fail",
    code: "ECONNREFUSED",
    text: "connection refused",
  },
  hang: { 6: "2001:db8:1::2", 4: "198.18.0.2", kind: "hang" },
  unreachable: {
    6: "2001:db8:ff::1",
    4: "198.18.255.1",
    kind: "fail",
    code: "EHOSTUNREACH",
    text: "no route to host",
  },
  prohibited: {
    6: "2001:db8:ff::2",
    4: "198.18.255.2",
    kind: "fail",
    code: "EACCES",
    text: "permission denied",
  },
  slow: { 6: "2001:db8:1::3", 4: "198.18.0.3", kind: "slow" },
} satisfies Record<string, Fault>;

type FaultName = keyof typeof FAULTS;
const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

const ATTEMPT_DELAY = 100;
const TIMEOUT = 1500;
/** When a `slow` connect lands: the SYN retransmitted after the 1 s RTO. */
const SLOW_MS = 1000;
/** How many pairs are dialled at once. */
const BATCH = 6;
/** The 10 ms floor between starts, less the hooks' jitter (netns_test.ts). */
const MIN_GAP = 9;
const CANCELED = "operation was canceled";

/** Bun 1.4 reports these connect errnos as ECONNREFUSED (netns_test.ts). */
const BUN_SAYS_REFUSED = new Set(["EHOSTUNREACH", "ENETUNREACH"]);

const runtime = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** Bun's `Bun.connect` cannot be cancelled (netns_test.ts). */
const cancelsPendingConnect = runtime !== "bun";
/**
 * How long after the dial its attempts may take to end and their sockets
 * to go: at once where a pending connect is cancelled; on Bun until the
 * kernel gives up on a dropped SYN (~3 s after its start, tcp_syn_retries=1)
 * or a slow connect lands and is closed.
 */
const SETTLE_LIMIT = cancelsPendingConnect ? 1000 : 4500;

// ── what each pair should do ────────────────────────────────────────────────

type Outcome = 6 | 4 | "DialError" | "TimeoutError";

interface Expected {
  outcome: Outcome;
  /** The families of the attempts, in start order. */
  families: Family[];
  /** Why the second attempt started: after a failure or after the delay. */
  secondCause?: "failure" | "delay";
  /** When the dial ends, in ms after it starts: [low, high). */
  elapsed: [number, number];
}

/** When a connect of `kind` started at `start` succeeds (Infinity: never). */
function successAt(kind: Kind, start: number): number {
  if (kind === "connect") return start;
  if (kind === "slow") return start + SLOW_MS;
  return Infinity;
}

/** RFC 8305 with IPv6 first: what the dial of (v6 fault, v4 fault) does. */
function expected(v6: FaultName, v4: FaultName): Expected {
  const k6: Kind = FAULTS[v6].kind;
  const k4: Kind = FAULTS[v4].kind;
  if (k6 === "connect") {
    return { outcome: 6, families: [6], elapsed: [0, 150] };
  }
  const secondCause: "failure" | "delay" = k6 === "fail" ? "failure" : "delay";
  const second = k6 === "fail" ? 10 : ATTEMPT_DELAY;
  const at6 = successAt(k6, 0);
  const at4 = successAt(k4, second);
  const base = { families: [6, 4] as Family[], secondCause };
  if (at6 === Infinity && at4 === Infinity) {
    if (k6 === "fail" && k4 === "fail") {
      return { ...base, outcome: "DialError", elapsed: [MIN_GAP, 150] };
    }
    return { ...base, outcome: "TimeoutError", elapsed: [TIMEOUT - 10, 1800] };
  }
  const at = Math.min(at6, at4);
  const window: [number, number] = at < SLOW_MS
    ? [at === 10 ? MIN_GAP : at - 5, at + 150]
    : [at - 100, at + 450];
  return { ...base, outcome: at6 <= at4 ? 6 : 4, elapsed: window };
}

// ── recording ───────────────────────────────────────────────────────────────

type Event =
  | { hook: "dnsStart"; t: number; info: DNSStartInfo }
  | { hook: "dnsDone"; t: number; info: DNSDoneInfo }
  | { hook: "connectStart"; t: number; info: ConnectStartInfo }
  | { hook: "connectDone"; t: number; info: ConnectDoneInfo };

interface Attempt {
  addr: string;
  address: string;
  family: Family;
  cause: string;
  start: number;
  end?: number;
  error?: Error;
}

function recorder(): { trace: Trace; events: Event[]; attempts: Attempt[] } {
  const t0 = performance.now();
  const events: Event[] = [];
  const attempts: Attempt[] = [];
  const now = () => performance.now() - t0;
  const trace: Trace = {
    dnsStart(info) {
      events.push({ hook: "dnsStart", t: now(), info });
    },
    dnsDone(info) {
      events.push({ hook: "dnsDone", t: now(), info });
    },
    connectStart(info) {
      events.push({ hook: "connectStart", t: now(), info });
      const { addr } = info;
      attempts[info.attempt] = {
        addr,
        address: addr.startsWith("[")
          ? addr.slice(1, addr.lastIndexOf("]"))
          : addr.slice(0, addr.lastIndexOf(":")),
        family: info.family,
        cause: info.cause,
        start: now(),
      };
    },
    connectDone(info) {
      events.push({ hook: "connectDone", t: now(), info });
      const attempt = attempts[info.attempt];
      if (attempt !== undefined) {
        attempt.end = now();
        attempt.error = info.error;
      }
    },
  };
  return { trace, events, attempts };
}

function timeline(events: Event[]): string {
  return events.map((e) => {
    const t = e.t.toFixed(1).padStart(7);
    switch (e.hook) {
      case "dnsStart":
        return `${t} dnsStart ${e.info.host}`;
      case "dnsDone":
        return `${t} dnsDone ${e.info.addrs.map((a) => a.address).join(",")}${
          e.info.error ? ` error: ${e.info.error.message}` : ""
        }`;
      case "connectStart":
        return `${t} connectStart #${e.info.attempt} ${e.info.addr} (${e.info.cause})`;
      case "connectDone":
        return `${t} connectDone #${e.info.attempt} ${
          e.info.error?.message ?? "connected"
        }`;
    }
  }).join("\n");
}

function inRange(value: number, low: number, high: number, what: string) {
  assert.ok(
    value >= low && value < high,
    `${what}: ${value.toFixed(1)} ms, expected ${low} <= t < ${high}`,
  );
}

// ── kernel state and fixtures ───────────────────────────────────────────────

/** Sockets towards `port` in SYN-SENT (02) or ESTABLISHED (01). */
function openTowards(port: number): number {
  let count = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4) continue;
      if (fields[3] !== "01" && fields[3] !== "02") continue;
      if (parseInt(fields[2].split(":")[1], 16) === port) count++;
    }
  }
  return count;
}

async function eventually(
  predicate: () => boolean,
  limitMs: number,
): Promise<boolean> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > limitMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

interface TestServer {
  readonly port: number;
  readonly accepted: string[];
  readonly closedByPeer: number;
  close(): Promise<void>;
}

/** A server on `::` (dual-stack): every address of the namespace. */
async function startServer(): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const accepted: string[] = [];
  let closedByPeer = 0;
  let closing = false;
  const server = createServer((socket) => {
    sockets.add(socket);
    accepted.push((socket.localAddress ?? "?").replace(/^::ffff:/, ""));
    socket.on("error", () => {});
    socket.on("close", () => {
      sockets.delete(socket);
      if (!closing) closedByPeer++;
    });
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "::", port: 0, ipv6Only: false }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return {
    port: address.port,
    accepted,
    get closedByPeer() {
      return closedByPeer;
    },
    close() {
      closing = true;
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A UDP port on 127.0.0.1: silent (reads and drops) or closed. */
async function udpPort(
  silent: boolean,
): Promise<{ port: number; close(): Promise<void> }> {
  const socket = createSocket("udp4");
  socket.on("message", () => {});
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  const close = () =>
    new Promise<void>((resolve) => socket.close(() => resolve()));
  if (!silent) await close();
  return { port, close: silent ? close : () => Promise.resolve() };
}

// ── the adapter ─────────────────────────────────────────────────────────────

interface Adapter {
  dial(
    address: string,
    options?: DialOptions & { resolver?: Resolver },
  ): Promise<Conn>;
  createResolver(options?: {
    nameServer?: { address: string; port: number };
    timeout?: number;
  }): Resolver;
}

async function loadAdapter(): Promise<Adapter> {
  if (runtime === "deno") return await import("../../runtimes/deno.ts");
  if (runtime === "bun") return await import("../../runtimes/bun.ts");
  return await import("../../runtimes/node.ts");
}

/** A dial's record: what it returned, what the hooks saw, what was left. */
interface Observation {
  host: string;
  port: number;
  elapsed: number;
  /** The longest the event loop was late during the dial, in ms. */
  lag: number;
  peer?: string;
  error?: unknown;
  events: Event[];
  attempts: Attempt[];
  /** Whether everything ended within SETTLE_LIMIT after the dial. */
  settled: boolean;
  settleMs: number;
  accepted: string[];
  closedByPeer: number;
}

/** The options every dial of the matrix uses. */
const MATRIX_OPTIONS: DialOptions = {
  attemptDelay: ATTEMPT_DELAY,
  timeout: TIMEOUT,
  // Deterministic order (IPv6 first): no history from earlier dials, no
  // source probe (it sorts an IPv6 address without a route after IPv4).
  history: false,
  sourceAddress: () => undefined,
};

/**
 * Measures how late the event loop runs (the longest a 5 ms interval was
 * overdue) while a dial is in flight: the upper bounds of the timings
 * allow for it, since a loaded machine (2 cores, other suites running)
 * delays timers and I/O callbacks alike. The lower bounds do not.
 */
function lagMonitor(): { stop(): number } {
  const period = 5;
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last - period);
    last = now;
  }, period);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, performance.now() - last - period, 0);
    },
  };
}

async function observe(
  adapter: Adapter,
  host: string,
  options: DialOptions & { resolver?: Resolver },
): Promise<Observation> {
  const server = await startServer();
  try {
    const rec = recorder();
    const lag = lagMonitor();
    const start = performance.now();
    let peer: string | undefined;
    let error: unknown;
    try {
      const conn = await adapter.dial(`${host}:${server.port}`, {
        ...options,
        trace: rec.trace,
      });
      peer = conn.remoteAddr.hostname;
      conn.close();
    } catch (err) {
      error = err;
    }
    const elapsed = performance.now() - start;
    const lagMs = lag.stop();
    const settleStart = performance.now();
    const settled = await eventually(
      () =>
        rec.attempts.every((a) => a.end !== undefined) &&
        // The winner's connection reaches the server's accept callback
        // (it may come after the dial resolved), and is closed.
        server.accepted.length >= (peer === undefined ? 0 : 1) &&
        openTowards(server.port) === 0 &&
        server.closedByPeer === server.accepted.length,
      SETTLE_LIMIT,
    );
    return {
      host,
      port: server.port,
      elapsed,
      lag: lagMs,
      peer,
      error,
      events: rec.events,
      attempts: rec.attempts,
      settled,
      settleMs: performance.now() - settleStart,
      accepted: [...server.accepted],
      closedByPeer: server.closedByPeer,
    };
  } finally {
    await server.close();
  }
}

/**
 * Asserts that `error` is Go's error for a connect to `addr` failing with
 * `fault`; returns a note when Bun mislabelled the errno.
 */
function assertConnectError(
  error: unknown,
  addr: string,
  fault: Fault,
): string | undefined {
  assert.ok(error instanceof OpError, `${addr}: ${error}`);
  assert.ok(error.cause instanceof SyscallError, `${addr}: ${error.cause}`);
  if (
    runtime === "bun" && BUN_SAYS_REFUSED.has(fault.code!) &&
    error.cause.code === "ECONNREFUSED"
  ) {
    assert.equal(
      error.message,
      `dial tcp ${addr}: connect: connection refused`,
    );
    return `bun reports ${fault.code} (${addr}) as ECONNREFUSED`;
  }
  assert.equal(error.cause.code, fault.code, addr);
  assert.equal(error.message, `dial tcp ${addr}: connect: ${fault.text}`);
  return undefined;
}

/**
 * The hook sequence every dial of a name has: one dnsStart first, exactly
 * one dnsDone after it, connectStart for attempts 0, 1, … in order, each
 * with one connectDone after it.
 */
function assertHookSequence(obs: Observation, log: string): void {
  const { events } = obs;
  assert.equal(events[0]?.hook, "dnsStart", log);
  assert.equal((events[0].info as DNSStartInfo).host, obs.host, log);
  assert.equal(events.filter((e) => e.hook === "dnsStart").length, 1, log);
  assert.equal(events.filter((e) => e.hook === "dnsDone").length, 1, log);
  const starts = events.filter((e) => e.hook === "connectStart");
  assert.deepEqual(
    starts.map((e) => (e.info as ConnectStartInfo).attempt),
    starts.map((_, i) => i),
    `attempts start in order\n${log}`,
  );
  starts.forEach((s, i) => {
    const doneAt = events.findIndex((e) =>
      e.hook === "connectDone" && e.info.attempt === i
    );
    const startAt = events.indexOf(s);
    assert.ok(doneAt > startAt, `connectDone #${i} after its start\n${log}`);
    assert.equal(
      events.filter((e) => e.hook === "connectDone" && e.info.attempt === i)
        .length,
      1,
      `one connectDone for #${i}\n${log}`,
    );
  });
  assert.equal(
    events.filter((e) => e.hook === "connectDone").length,
    starts.length,
    log,
  );
}

function isTimeoutError(err: unknown): err is DOMException {
  return err instanceof DOMException && err.name === "TimeoutError";
}

/** Asserts everything the matrix knows about the dial of (v6, v4). */
function assertPair(
  t: TestContext,
  obs: Observation,
  v6: FaultName,
  v4: FaultName,
): void {
  const want = expected(v6, v4);
  const f6: Fault = FAULTS[v6];
  const f4: Fault = FAULTS[v4];
  const log = `${obs.host} (event loop up to ${obs.lag.toFixed(0)} ms late)\n${
    timeline(obs.events)
  }`;
  const notes: string[] = [];

  // The outcome.
  if (want.outcome === 6 || want.outcome === 4) {
    assert.equal(obs.error, undefined, `connects\n${log}\n${obs.error}`);
    assert.equal(obs.peer, want.outcome === 6 ? f6[6] : f4[4], log);
  } else if (want.outcome === "DialError") {
    assert.ok(obs.error instanceof DialError, `${obs.error}\n${log}`);
    assert.equal(obs.error.errors.length, 2, log);
    assert.equal(obs.error.message, obs.error.errors[0].message, log);
  } else {
    assert.ok(isTimeoutError(obs.error), `${obs.error}\n${log}`);
    // Go names the attempt that timed out: the first still connecting.
    const connecting = obs.attempts.find((a) =>
      (a.family === 6 ? f6 : f4).kind !== "fail"
    );
    assert.equal(
      obs.error.message,
      `dial tcp ${connecting?.addr}: i/o timeout`,
      log,
    );
  }
  inRange(
    obs.elapsed,
    want.elapsed[0],
    want.elapsed[1] + obs.lag,
    `dial took\n${log}`,
  );

  // The hooks.
  assertHookSequence(obs, log);
  const dnsDone = obs.events.find((e) => e.hook === "dnsDone")!
    .info as DNSDoneInfo;
  assert.equal(dnsDone.error, undefined, log);
  assert.equal(dnsDone.host, obs.host, log);
  const answered = dnsDone.addrs.map((a) => a.address);
  for (const a of obs.attempts) {
    assert.ok(answered.includes(a.address), `dnsDone has ${a.address}\n${log}`);
  }
  assert.deepEqual(obs.attempts.map((a) => a.family), want.families, log);
  assert.deepEqual(
    obs.attempts.map((a) => a.address),
    want.families.map((f) => f === 6 ? f6[6] : f4[4]),
    log,
  );
  assert.equal(obs.attempts[0].cause, "first", log);
  if (want.secondCause !== undefined) {
    // A failure before the other family's answer is in: the next attempt
    // starts when it arrives (still >= 10 ms after the last start).
    const causes = want.secondCause === "failure"
      ? ["failure", "answer"]
      : ["delay"];
    assert.ok(causes.includes(obs.attempts[1].cause), `cause\n${log}`);
    const gap = obs.attempts[1].start - obs.attempts[0].start;
    if (want.secondCause === "failure") {
      inRange(
        gap,
        MIN_GAP,
        ATTEMPT_DELAY + obs.lag,
        `IPv4 starts at once (>= 10 ms)\n${log}`,
      );
    } else {
      inRange(
        gap,
        ATTEMPT_DELAY - 5,
        ATTEMPT_DELAY + 100 + obs.lag,
        `IPv4 starts at attemptDelay\n${log}`,
      );
    }
  }

  // Each attempt's end: connected, failed in Go's form, or cancelled.
  const winner = want.outcome === 6 ? 0 : want.outcome === 4 ? 1 : -1;
  obs.attempts.forEach((a, i) => {
    const fault = a.family === 6 ? f6 : f4;
    if (i === winner) {
      assert.equal(a.error, undefined, `#${i} connected\n${log}`);
    } else if (fault.kind === "fail") {
      const note = assertConnectError(a.error, a.addr, fault);
      if (note !== undefined) notes.push(note);
      if (obs.error instanceof DialError) {
        assert.equal(obs.error.errors[i], a.error, `DialError #${i}\n${log}`);
      }
    } else {
      // Lost the race (Go: operation was canceled) or ended by the
      // timeout (Go: i/o timeout).
      const ended = want.outcome === "TimeoutError" ? "i/o timeout" : CANCELED;
      assert.equal(
        a.error?.message,
        `dial tcp ${a.addr}: ${ended}`,
        `#${i} cancelled\n${log}`,
      );
    }
  });

  // Nothing left behind.
  assert.ok(
    obs.settled,
    `no SYN-SENT/ESTABLISHED socket towards ${obs.port}, every attempt ended ` +
      `and every accepted connection closed within ${SETTLE_LIMIT} ms\n${log}`,
  );
  assert.equal(obs.closedByPeer, obs.accepted.length, log);
  if (want.outcome === 6 || want.outcome === 4) {
    assert.equal(
      obs.accepted[0],
      obs.peer,
      `the winner was accepted first (${obs.accepted})\n${log}`,
    );
  } else {
    assert.deepEqual(obs.accepted, [], log);
  }
  if (!cancelsPendingConnect && obs.settleMs > 50) {
    notes.push(
      `${runtime} cannot cancel a pending connect: settled after ` +
        `${obs.settleMs.toFixed(0)} ms`,
    );
  }
  t.diagnostic(
    `${obs.host}: ${
      want.outcome === 6 || want.outcome === 4
        ? `IPv${want.outcome} wins`
        : want.outcome
    } in ${obs.elapsed.toFixed(1)} ms${
      notes.length > 0 ? `; ${notes.join("; ")}` : ""
    }`,
  );
}

// ── the suite ───────────────────────────────────────────────────────────────

const netns = process.env.NETTRACE_NETNS;
const dnsServer = process.env.NETTRACE_NETNS_DNS;

if (netns === undefined || netns === "" || dnsServer === undefined) {
  test("dial fault matrix in a network namespace", {
    skip: "runs only inside the namespace of scripts/netns.sh " +
      "(root; NETTRACE_NETNS unset)",
  }, () => {});
} else {
  const adapter = await loadAdapter();
  const unit = `dial (${runtime}, in the netns, system resolver)`;

  const pairs: [FaultName, FaultName][] = FAULT_NAMES.flatMap((v6) =>
    FAULT_NAMES.map((v4) => [v6, v4] as [FaultName, FaultName])
  );
  const batches = new Map<number, Promise<Observation[]>>();
  /** The observation of pair `index`; the first request runs its batch. */
  const observation = (index: number): Promise<Observation> => {
    const b = Math.floor(index / BATCH);
    let batch = batches.get(b);
    if (batch === undefined) {
      batch = Promise.all(
        pairs.slice(b * BATCH, (b + 1) * BATCH).map(([v6, v4]) =>
          observe(adapter, `m-${v6}-${v4}.test`, MATRIX_OPTIONS)
        ),
      );
      batches.set(b, batch);
    }
    return batch.then((list) => list[index % BATCH]);
  };

  pairs.forEach(([v6, v4], index) => {
    const want = expected(v6, v4);
    const outcome = want.outcome === 6 || want.outcome === 4
      ? `connects over IPv${want.outcome}`
      : `rejects with ${want.outcome}`;
    test(`${unit}: IPv6 ${v6}, IPv4 ${v4} (m-${v6}-${v4}.test) ${outcome}, with Go's errors and nothing left behind`, async (t) => {
      assertPair(t, await observation(index), v6, v4);
    });
  });

  // ── DNS faults with one usable family ─────────────────────────────────

  const dnsFailure = (obs: Observation, log: string): DNSError => {
    assert.ok(obs.error instanceof DialError, `${obs.error}\n${log}`);
    assert.equal(obs.error.errors.length, 1, log);
    const op = obs.error.errors[0];
    assert.ok(op instanceof OpError, log);
    assert.ok(op.cause instanceof DNSError, `${op.cause}\n${log}`);
    assert.equal(obs.error.message, op.message);
    assert.deepEqual(
      obs.events.map((e) => e.hook),
      ["dnsStart", "dnsDone"],
      `no connect\n${log}`,
    );
    const done = obs.events[1].info as DNSDoneInfo;
    assert.deepEqual(done.addrs, [], log);
    assert.ok(done.error instanceof DNSError, log);
    assert.ok(obs.settled, log);
    return op.cause;
  };

  test(`${unit}: NXDOMAIN rejects with "dial tcp: lookup nx.test: no such host" and no connect`, async (t) => {
    const obs = await observe(adapter, "nx.test", MATRIX_OPTIONS);
    const log = timeline(obs.events);
    const cause = dnsFailure(obs, log);
    assert.ok(cause.isNotFound, log);
    assert.equal(
      (obs.error as Error).message,
      "dial tcp: lookup nx.test: no such host",
    );
    inRange(obs.elapsed, 0, 500 + obs.lag, `dial took\n${log}`);
    t.diagnostic(
      `nx.test: ${(obs.error as Error).message} in ${
        obs.elapsed.toFixed(1)
      } ms`,
    );
  });

  for (
    const [host, family, address] of [
      ["m-empty6.test", 4, FAULTS.ok[4]],
      ["m-empty4.test", 6, FAULTS.ok[6]],
    ] as const
  ) {
    test(`${unit}: ${host} (no ${family === 4 ? "AAAA" : "A"} records) connects over IPv${family} at once, without waiting out the resolution delay`, async (t) => {
      const obs = await observe(adapter, host, {
        ...MATRIX_OPTIONS,
        // A negative answer ends the wait (RFC 8305 §3): a long delay shows
        // it is not waited out.
        resolutionDelay: 1000,
      });
      const log = timeline(obs.events);
      assert.equal(obs.error, undefined, `${obs.error}\n${log}`);
      assert.equal(obs.peer, address, log);
      assertHookSequence(obs, log);
      assert.deepEqual(obs.attempts.map((a) => a.address), [address], log);
      assert.equal(obs.attempts[0].cause, "first", log);
      const done = obs.events.find((e) => e.hook === "dnsDone")!
        .info as DNSDoneInfo;
      assert.deepEqual(done.addrs.map((a) => a.address), [address], log);
      assert.equal(done.error, undefined, log);
      inRange(obs.elapsed, 0, 300 + obs.lag, `dial took\n${log}`);
      assert.ok(obs.settled, log);
      t.diagnostic(`${host}: IPv${family} in ${obs.elapsed.toFixed(1)} ms`);
    });
  }

  test(`${unit.replace("system", "name-server")}: a name server that never answers times out the lookup (dnsDone i/o timeout) and the dial rejects`, async (t) => {
    const silent = await udpPort(true);
    try {
      const resolver = adapter.createResolver({
        nameServer: { address: "127.0.0.1", port: silent.port },
        timeout: 300,
      });
      const obs = await observe(adapter, "m-ok-ok.test", {
        ...MATRIX_OPTIONS,
        resolver,
      });
      const log = timeline(obs.events);
      const cause = dnsFailure(obs, log);
      assert.ok(cause.isTimeout, log);
      const done = obs.events[1].info as DNSDoneInfo;
      assert.match(done.error!.message, /i\/o timeout$/, log);
      assert.equal(
        (obs.error as Error).message,
        `dial tcp: lookup m-ok-ok.test on 127.0.0.1:${silent.port}: i/o timeout`,
      );
      inRange(obs.elapsed, 290, 1000 + obs.lag, `dial took\n${log}`);
      t.diagnostic(
        `${(obs.error as Error).message} in ${obs.elapsed.toFixed(1)} ms`,
      );
    } finally {
      await silent.close();
    }
  });

  /**
   * Deno's `node:dgram` does not connect the socket in the kernel (as the
   * source probe test of netns_test.ts notes), so the ICMP port unreachable
   * of a closed port never reaches it: there a name server that is down
   * looks like one that does not answer, and the lookup times out.
   */
  const hearsPortUnreachable = runtime !== "deno";

  test(`${unit.replace("system", "name-server")}: a name server that is down (closed port) fails the lookup with a DNSError, at once where the runtime hears the ICMP port unreachable`, async (t) => {
    const closed = await udpPort(false);
    const dnsTimeout = 500;
    const resolver = adapter.createResolver({
      nameServer: { address: "127.0.0.1", port: closed.port },
      timeout: dnsTimeout,
    });
    const obs = await observe(adapter, "m-ok-ok.test", {
      ...MATRIX_OPTIONS,
      resolver,
    });
    const log = timeline(obs.events);
    const cause = dnsFailure(obs, log);
    assert.ok(!cause.isNotFound, log);
    const message = (obs.error as Error).message;
    const prefix = `dial tcp: lookup m-ok-ok.test on 127.0.0.1:${closed.port}`;
    if (hearsPortUnreachable) {
      assert.equal(message, `${prefix}: read: connection refused`);
      inRange(
        obs.elapsed,
        0,
        250 + obs.lag,
        `dial took (no timeout waited)\n${log}`,
      );
    } else {
      assert.equal(message, `${prefix}: i/o timeout`);
      assert.ok(cause.isTimeout, log);
      inRange(
        obs.elapsed,
        dnsTimeout - 10,
        dnsTimeout + 500 + obs.lag,
        `dial took\n${log}`,
      );
      t.diagnostic(
        `${runtime}: node:dgram does not hear ICMP port unreachable ` +
          `(no kernel connect): a closed name-server port times out`,
      );
    }
    t.diagnostic(`${message} in ${obs.elapsed.toFixed(1)} ms`);
  });
}
