// Load: 10,000 concurrent dials on loopback with this runtime's adapter, a
// 100,000-dial soak through the core whose heap stays flat, and a
// Singleflight with 10,000 waiters of which half abort. Real sockets go to
// 127.0.0.1 only; the soak's dialer is in memory.
//
// The echo server runs in a child process (Node's `node:net`, which honours
// `backlog`), so that the 10,000 client sockets and the 10,000 accepted
// ones do not share one process's file-descriptor limit (20,000 here).

import { test, type TestContext } from "./_test.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  type Conn,
  dial,
  type Dialer,
  type Endpoint,
  type IPAddr,
  type NetAddr,
  type Resolver,
  Singleflight,
} from "../mod.ts";
import { VirtualClock } from "./_virtual_clock.ts";

// Bun's test runner stops any test after 5 s unless told otherwise; these
// take a few seconds each, more on a loaded machine. (Node and Deno set no
// limit.) The whole file stays well under 30 s on each runtime.
if ("Bun" in globalThis) {
  const specifier = "bun:test";
  const bunTest = await import(specifier) as {
    setDefaultTimeout(ms: number): void;
  };
  bunTest.setDefaultTimeout(30_000);
}

const RUNTIME = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

type RuntimeDial = (
  address: string,
  options?: { timeout?: number; signal?: AbortSignal },
) => Promise<Conn>;

async function runtimeDial(): Promise<RuntimeDial> {
  const mod = await import(`../runtimes/${RUNTIME}.ts`) as {
    dial: RuntimeDial;
  };
  return mod.dial;
}

// ── file descriptors ──────────────────────────────────────────────────

/** This process's open file descriptors (Linux), or undefined. */
function openFds(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return undefined;
  }
}

/**
 * How many of this process's file descriptors are TCP sockets connected to
 * `port` (Linux), or undefined. This counts what a test opened itself: the
 * process's other descriptors (an earlier test file's, the runtime's) may
 * close or open meanwhile, which made a check of the total flaky (Bun, a
 * fresh clone: two descriptors of earlier files closed during the test).
 */
function socketsTo(port: number): number | undefined {
  const inodes = new Set<string>();
  let read = 0;
  for (const file of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue; // no IPv6 in this kernel, or not Linux
    }
    read++;
    // sl local_address rem_address st ... inode; addresses are HEXIP:HEXPORT.
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[9] === "0") continue;
      if (parseInt(fields[2].split(":")[1], 16) === port) inodes.add(fields[9]);
    }
  }
  if (read === 0) return undefined;
  let count = 0;
  let fds: string[];
  try {
    fds = readdirSync("/proc/self/fd");
  } catch {
    return undefined;
  }
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed since the listing
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && inodes.has(inode)) count++;
  }
  return count;
}

/** The soft limit on open files (Linux), or undefined. */
function fdLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === "unlimited" ? Infinity : Number(soft);
  } catch {
    return undefined;
  }
}

/** Resolves on the next macrotask turn. */
function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Waits (bounded) until `predicate()` holds; real sockets close async. */
async function eventually(
  predicate: () => boolean,
  ms: number,
): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

// ── the echo server, in a child process ───────────────────────────────

const SERVER_SOURCE = `
import net from "node:net";
const expected = Number(process.env.NETTRACE_LOAD_EXPECTED);
let accepted = 0;
let closed = 0;
const sockets = new Set();
const say = (message) => process.stdout.write(JSON.stringify(message) + "\\n");
const server = net.createServer((socket) => {
  sockets.add(socket);
  accepted++;
  if (accepted === expected) say({ accepted });
  let seen = false;
  const gone = () => {
    if (seen) return;
    seen = true;
    closed++;
    if (closed === expected) say({ closed });
  };
  socket.on("end", gone);
  socket.on("error", gone);
  socket.on("close", () => { gone(); sockets.delete(socket); });
  socket.pipe(socket);
});
server.listen({ host: "127.0.0.1", port: 0, backlog: 65535 }, () => {
  say({ port: server.address().port });
});
process.stdin.on("data", () => {});
process.stdin.on("end", () => {
  server.close();
  for (const socket of sockets) socket.destroy();
  say({ bye: { accepted, closed } });
  process.exit(0);
});
`;

interface ChildServer {
  port: number;
  /** Resolves with the message once it arrives. */
  next(key: "accepted" | "closed"): Promise<number>;
  /** Ends the child and waits for it to exit with its pipes closed. */
  stop(): Promise<{ accepted: number; closed: number }>;
}

async function startChildServer(expected: number): Promise<ChildServer> {
  const node = fileURLToPath(
    new URL("../node_modules/.bin/node", import.meta.url),
  );
  const child = spawn(node, ["--input-type=module", "-e", SERVER_SOURCE], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, NETTRACE_LOAD_EXPECTED: String(expected) },
  });
  const exited = new Promise<void>((resolve) =>
    child.once("close", () => resolve())
  );
  const seen = new Map<string, unknown>();
  const waiting = new Map<string, (value: unknown) => void>();
  let buffer = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const message = JSON.parse(line) as Record<string, unknown>;
      for (const [key, value] of Object.entries(message)) {
        seen.set(key, value);
        waiting.get(key)?.(value);
      }
    }
  });
  const next = (key: string) =>
    seen.has(key)
      ? Promise.resolve(seen.get(key))
      : new Promise<unknown>((resolve) => waiting.set(key, resolve));
  const port = await Promise.race([
    next("port") as Promise<number>,
    exited.then(() => {
      throw new Error("the echo server exited before listening");
    }),
  ]);
  return {
    port,
    next: (key) => next(key) as Promise<number>,
    async stop() {
      const bye = next("bye") as Promise<{ accepted: number; closed: number }>;
      child.stdin!.end();
      await exited;
      return await bye;
    },
  };
}

// ── 10,000 concurrent dials ───────────────────────────────────────────

/** Sends `text` and reads it back. */
async function echo(conn: Conn, text: string): Promise<string> {
  const writer = conn.writable.getWriter();
  const reader = conn.readable.getReader();
  try {
    await writer.write(new TextEncoder().encode(text));
    let got = "";
    const decoder = new TextDecoder();
    while (got.length < text.length) {
      const { value, done } = await reader.read();
      if (done) break;
      got += decoder.decode(value, { stream: true });
    }
    return got;
  } finally {
    reader.releaseLock();
    writer.releaseLock();
  }
}

const WANTED_DIALS = 10_000;
/** fds this process needs besides one per connection. */
const FD_MARGIN = 200;

function concurrentDials(): { n: number; why: string } {
  const limit = fdLimit();
  if (limit === undefined) {
    return { n: WANTED_DIALS, why: "fd limit unknown (not Linux)" };
  }
  if (limit - FD_MARGIN >= WANTED_DIALS) {
    return { n: WANTED_DIALS, why: `fd limit ${limit}` };
  }
  return {
    n: Math.max(1, limit - FD_MARGIN),
    why: `scaled down from ${WANTED_DIALS}: fd limit ${limit} − ${FD_MARGIN}`,
  };
}

const PLAN = concurrentDials();

test(`${RUNTIME} dial() opens ${PLAN.n} concurrent loopback connections (${PLAN.why}), closes them all and leaves no fd open`, async (t: TestContext) => {
  const { n } = PLAN;
  const dialRuntime = await runtimeDial();
  const server = await startChildServer(n);
  const fdsBefore = openFds();
  const socketsBefore = socketsTo(server.port);
  if (socketsBefore !== undefined) {
    assert.equal(socketsBefore, 0, "no socket to the fresh server yet");
  }
  const began = performance.now();
  let conns: Conn[] = [];
  try {
    const settled = await Promise.allSettled(
      Array.from(
        { length: n },
        () => dialRuntime(`127.0.0.1:${server.port}`, { timeout: 20_000 }),
      ),
    );
    const failures = settled.filter((s) => s.status === "rejected");
    conns = settled.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
    const connected = performance.now();
    assert.equal(
      failures.length,
      0,
      `every dial connects; first failure: ${
        String((failures[0] as PromiseRejectedResult | undefined)?.reason)
      }`,
    );
    assert.equal(conns.length, n);
    assert.equal(await server.next("accepted"), n, "the server accepted all");
    const remote: NetAddr[] = conns.map((c) => c.remoteAddr);
    assert.ok(remote.every((a) => a.port === server.port));
    assert.equal(
      new Set(conns.map((c) => c.localAddr.port)).size,
      n,
      "n distinct local ports",
    );
    const fdsOpen = openFds();
    const socketsOpen = socketsTo(server.port);
    if (socketsOpen !== undefined) {
      assert.equal(
        socketsOpen,
        n,
        `one fd per connection to the server (process total ${fdsOpen}, ` +
          `before: ${fdsBefore})`,
      );
    }
    // Every 100th connection carries bytes both ways.
    for (let i = 0; i < n; i += 100) {
      assert.equal(await echo(conns[i]!, `ping ${i}\n`), `ping ${i}\n`);
    }
    for (const conn of conns) conn.close();
    conns = [];
    assert.equal(await server.next("closed"), n, "the server saw all close");
    // The runtime releases a closed socket's fd on a later turn.
    if (socketsBefore !== undefined) {
      assert.ok(
        await eventually(() => socketsTo(server.port) === 0, 10_000),
        `no fd left to the server after closing, still ${
          socketsTo(server.port)
        }`,
      );
    }
    // Nor any other kind of fd per connection: the process holds no more
    // than before (others' descriptors closing meanwhile only lower it).
    if (fdsBefore !== undefined) {
      assert.ok(
        await eventually(() => openFds()! <= fdsBefore, 10_000),
        `fds back to at most ${fdsBefore} after closing, still ${openFds()}`,
      );
    }
    t.diagnostic(
      `${RUNTIME}: ${n} dials connected in ${
        (connected - began).toFixed(0)
      } ms, all closed after ${(performance.now() - began).toFixed(0)} ms; ` +
        `fds ${fdsBefore} → ${fdsOpen} → ${openFds()}`,
    );
  } finally {
    for (const conn of conns) conn.close();
    const bye = await server.stop();
    assert.equal(bye.accepted, n);
  }
  await tick();
});

// ── 100,000 dials through the core: the heap stays flat ───────────────

type GC = () => void;

/** A full garbage collection, where the runtime lets us ask for one. */
async function findGC(): Promise<{ gc: GC | undefined; how: string }> {
  const global = globalThis as {
    gc?: GC;
    Bun?: { gc(force: boolean): void };
  };
  if (typeof global.gc === "function") {
    return { gc: global.gc, how: "globalThis.gc" };
  }
  if (global.Bun !== undefined) {
    const bun = global.Bun;
    return { gc: () => bun.gc(true), how: "Bun.gc(true)" };
  }
  try {
    // V8 (Node, Deno): expose gc now and fetch it from a fresh context.
    const v8 = await import("node:v8");
    const vm = await import("node:vm");
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as unknown;
    if (typeof gc === "function") {
      return { gc: gc as GC, how: "v8 --expose-gc set at run time" };
    }
  } catch {
    // No way to collect: a generous bound is used instead.
  }
  return { gc: undefined, how: "no gc available" };
}

interface MemConn {
  readonly endpoint: Endpoint;
  closed: boolean;
}

const SOAK_DIALS = 100_000;
const SAMPLE_EVERY = 10_000;
const BATCH = 500;

test(`${RUNTIME} core dial() keeps the heap flat over ${SOAK_DIALS} dials with an in-memory dialer`, async (t: TestContext) => {
  const { gc, how } = await findGC();
  // In a batch of 500 dials: 400 names whose IPv6 attempt connects at
  // once (lookups shared within the batch), 50 literals, and 50 races whose
  // IPv6 endpoint the control refuses, so IPv4 goes next at once (a refusal
  // sends nothing: no 10 ms spacing). On a virtual clock that never
  // advances: nothing here waits for time, and on the real clock a loaded
  // machine (event loop > 250 ms late) let the Connection Attempt Delay
  // fire before an in-memory connect settled, starting IPv4 too (110118
  // attempts for 110000 seen). The dials still arm and clear their timers.
  const clock = new VirtualClock();
  const answers: Record<string, Record<4 | 6, IPAddr[]>> = {
    race: {
      6: [{ address: "2001:db8::dead", family: 6 }],
      4: [{ address: "192.0.2.1", family: 4 }],
    },
    plain: {
      6: [{ address: "2001:db8::1", family: 6 }],
      4: [{ address: "192.0.2.1", family: 4 }],
    },
  };
  const resolver: Resolver = {
    lookup: (host, family) =>
      Promise.resolve(
        answers[host.startsWith("race") ? "race" : "plain"]![
          family
        ],
      ),
  };
  let open = 0;
  const refused = new Error("refused by the soak's control");
  const control = ({ endpoint }: { endpoint: Endpoint }) => {
    if (endpoint.address === "2001:db8::dead") throw refused;
  };
  const dialer: Dialer<MemConn> = {
    connect(endpoint) {
      open++;
      return Promise.resolve({ endpoint, closed: false });
    },
    close(conn) {
      if (!conn.closed) open--;
      conn.closed = true;
    },
  };
  const hooks = { dnsStart: 0, dnsDone: 0, connectStart: 0, connectDone: 0 };
  const trace = {
    dnsStart: () => void hooks.dnsStart++,
    dnsDone: () => void hooks.dnsDone++,
    connectStart: () => void hooks.connectStart++,
    connectDone: () => void hooks.connectDone++,
  };
  const address = (i: number) =>
    i % 10 === 0
      ? `race${i % 7}.test:80`
      : i % 10 === 5
      ? "192.0.2.1:80"
      : `soak${i % 10}.test:80`;
  let races = 0;
  let literals = 0;

  async function batch(): Promise<number> {
    const conns = await Promise.all(
      Array.from({ length: BATCH }, (_, i) => {
        if (i % 10 === 0) races++;
        if (i % 10 === 5) literals++;
        return dial<MemConn>(address(i), {
          resolver,
          dialer,
          trace,
          control,
          clock,
        });
      }),
    );
    for (const conn of conns) dialer.close(conn);
    return BATCH;
  }

  const samples: number[] = [];
  const sample = async () => {
    await tick();
    gc?.();
    samples.push(process.memoryUsage().heapUsed);
  };
  const began = performance.now();
  let dials = 0;
  // The first sample after 10,000 dials (JIT and caches warm), then one
  // every 10,000.
  while (dials < SOAK_DIALS) {
    dials += await batch();
    if (dials % SAMPLE_EVERY === 0) await sample();
  }
  const elapsed = performance.now() - began;

  assert.equal(open, 0, "every connection closed");
  assert.equal(hooks.dnsStart, dials - literals);
  assert.equal(hooks.dnsDone, hooks.dnsStart);
  assert.equal(hooks.connectStart, dials + races, "a race makes 2 attempts");
  assert.equal(hooks.connectDone, hooks.connectStart);
  assert.equal(clock.pending, 0, "every dial cleared its timers");
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  // Compare the median of the first three samples with the median of the
  // last three: the trend, not one noisy sample. A leak of 100 bytes per
  // dial would add 10 MB over the soak; with a GC the heap moves by far
  // less. Without one, young garbage can be tens of MB at any sample, hence
  // the generous bound.
  const median3 = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
  const early = median3(samples.slice(0, 3));
  const late = median3(samples.slice(-3));
  const bound = gc === undefined ? 64 * 2 ** 20 : 4 * 2 ** 20;
  t.diagnostic(
    `${RUNTIME}: ${dials} dials in ${elapsed.toFixed(0)} ms (${how}); ` +
      `heap every ${SAMPLE_EVERY}: ${samples.map(mb).join(", ")} MB; ` +
      `early ${mb(early)}, late ${mb(late)}, bound ${mb(bound)} MB`,
  );
  assert.ok(
    late - early < bound,
    `heap grew from ${mb(early)} to ${mb(late)} MB over ${SOAK_DIALS} dials`,
  );
});

// ── Singleflight: 10,000 waiters, half abort ──────────────────────────

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

test("Singleflight.do() with 10,000 waiters of which half abort at random times runs fn once and answers the rest", async (t: TestContext) => {
  const WAITERS = 10_000;
  const seed = Number(process.env.NETTRACE_SEED ?? Date.now() % 2 ** 31);
  const rand = random(seed);
  const sf = new Singleflight<string>();
  let runs = 0;
  let fnSignal: AbortSignal | undefined;
  let release!: (value: string) => void;
  const fn = (signal: AbortSignal) => {
    runs++;
    fnSignal = signal;
    return new Promise<string>((resolve) => (release = resolve));
  };
  // Waiter 0 stays, so the flight never loses every caller; of the others,
  // half are picked at random to abort.
  const aborts = new Set<number>();
  const order = Array.from({ length: WAITERS - 1 }, (_, i) => i + 1);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (const i of order.slice(0, WAITERS / 2)) aborts.add(i);

  const controllers: AbortController[] = [];
  const outcomes: { state: string; value?: unknown; reason?: unknown }[] = [];
  const join = (i: number) => {
    const controller = new AbortController();
    controllers[i] = controller;
    const outcome: { state: string; value?: unknown; reason?: unknown } = {
      state: "pending",
    };
    outcomes[i] = outcome;
    sf.do("key", fn, { signal: controller.signal }).then(
      (result) => Object.assign(outcome, { state: "resolved", value: result }),
      (reason) => Object.assign(outcome, { state: "rejected", reason }),
    );
  };
  // Joins and aborts interleave: each step joins the next waiter or aborts
  // one that has joined, at random, with a macrotask turn now and then.
  const joinable = Array.from({ length: WAITERS }, (_, i) => i);
  let nextJoin = 0;
  const abortable: number[] = [];
  const reasons = new Map<number, Error>();
  let steps = 0;
  while (nextJoin < WAITERS || abortable.length > 0) {
    const doJoin = nextJoin < WAITERS &&
      (abortable.length === 0 || rand() < 0.6);
    if (doJoin) {
      const i = joinable[nextJoin++]!;
      join(i);
      if (aborts.has(i)) abortable.push(i);
    } else {
      const k = Math.floor(rand() * abortable.length);
      const i = abortable[k]!;
      abortable[k] = abortable[abortable.length - 1]!;
      abortable.pop();
      const reason = new Error(`abort ${i}`);
      reasons.set(i, reason);
      controllers[i]!.abort(reason);
    }
    if (++steps % 997 === 0) await tick();
  }
  assert.equal(sf.waiters("key"), WAITERS / 2);
  release("value");
  await tick();

  assert.equal(runs, 1, "fn ran once");
  assert.equal(fnSignal!.aborted, false, "the work was never aborted");
  assert.equal(sf.waiters("key"), 0);
  let got = 0;
  for (let i = 0; i < WAITERS; i++) {
    const outcome = outcomes[i]!;
    if (aborts.has(i)) {
      assert.equal(outcome.state, "rejected", `waiter ${i} aborted`);
      assert.equal(outcome.reason, reasons.get(i), `waiter ${i}'s own reason`);
    } else {
      assert.equal(outcome.state, "resolved", `waiter ${i} got the value`);
      assert.deepEqual(outcome.value, { value: "value", shared: true });
      got++;
    }
  }
  assert.equal(got, WAITERS / 2);
  t.diagnostic(`seed ${seed} (set NETTRACE_SEED to replay)`);
});

test("Singleflight.do() with 10,000 waiters that all abort aborts the work once and starts afresh after", async () => {
  const WAITERS = 10_000;
  const sf = new Singleflight<number>();
  let runs = 0;
  const signals: AbortSignal[] = [];
  const fn = (signal: AbortSignal) => {
    runs++;
    signals.push(signal);
    return new Promise<number>((resolve, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason), {
        once: true,
      });
      if (runs > 1) resolve(runs);
    });
  };
  const controllers = Array.from(
    { length: WAITERS },
    () => new AbortController(),
  );
  const pending = controllers.map((c) =>
    sf.do("key", fn, { signal: c.signal }).then(
      () => "resolved",
      (reason) => reason,
    )
  );
  const reasons = controllers.map((c, i) => {
    const reason = new Error(`abort ${i}`);
    c.abort(reason);
    return reason;
  });
  const results = await Promise.all(pending);
  assert.deepEqual(results, reasons);
  assert.equal(runs, 1);
  assert.equal(signals[0]!.aborted, true);
  assert.equal(signals[0]!.reason, reasons[WAITERS - 1], "the last to leave");
  assert.equal(sf.waiters("key"), 0);
  // The key is free again: a new caller starts new work.
  assert.deepEqual(await sf.do("key", fn), { value: 2, shared: false });
  assert.equal(runs, 2);
});
