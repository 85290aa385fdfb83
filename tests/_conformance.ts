/**
 * The conformance suite every runtime adapter passes, end to end: the
 * adapter's own `dial()` with its system resolver, a name-server resolver
 * against the DNS fixture of `_dns_server.ts`, and its dialer, on real
 * loopback sockets only. Hooks in Go's order and format, Go's errors, the
 * RFC 8305 race (a hanging endpoint, the Resolution Delay, two racers that
 * both connect), aborts at every phase, timeouts, byte streams, and the
 * ambient context. Each `conformance_<runtime>_test.ts` runs it on its own
 * runtime.
 *
 * Every test closes its fixtures and then checks that the process has as
 * many sockets open as before it started (`/proc/self/fd`, every runtime)
 * and, on Node, as many handles and timers (`getActiveResourcesInfo`). On
 * Deno the thin file also registers the tests with Deno's op and resource
 * sanitizers on.
 *
 * @module
 */

import { test as nodeTest } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { readdirSync, readlinkSync } from "node:fs";
import {
  background,
  type Context,
  dial as coreDial,
  type Dialer,
  dialerHistory,
  DialError,
  type DialOptions,
  DNSError,
  type Endpoint,
  type IPAddr,
  OpError,
  type Resolver,
  type Trace,
  withTrace,
} from "../mod.ts";
import type { ResolverOptions } from "../runtimes/_dns_common.ts";
import { type DnsServer, type DnsZone, startDnsServer } from "./_dns_server.ts";
import {
  closedPort,
  type LoopbackHost,
  startEchoServer,
  startHangingListener,
  startServer,
  synSentTo,
  type TcpServer,
} from "./_tcp_fixtures.ts";
import type { ConnUnderTest } from "./_dialer_conformance.ts";

export type { ConnUnderTest };

/** What a test can report besides passing or failing. */
export interface TestLog {
  /**
   * Prints a note about the run (a runtime's known exception).
   *
   * @param message The note.
   */
  diagnostic(message: string): void;
}

/** Registers one test. */
export type RegisterTest = (
  name: string,
  fn: (t: TestLog) => Promise<void>,
) => void;

/** Options of the adapter's `dial()`: the core's, plus the resolver. */
export interface AdapterDialOptions extends DialOptions {
  /**
   * The resolver to use instead of the system one.
   * @default {the adapter's resolver}
   */
  resolver?: Resolver;
}

/** The runtime adapter under test and what differs on its runtime. */
export interface RuntimeUnderTest {
  /** Prefix of every test name: the runtime. */
  name: string;
  /** The adapter's `dial()`. */
  dial: (
    address: string,
    options?: AdapterDialOptions,
  ) => Promise<ConnUnderTest>;
  /** The adapter's system resolver. */
  resolver: Resolver;
  /** The adapter's resolver factory. */
  createResolver: (options?: ResolverOptions) => Resolver;
  /** The adapter's dialer. */
  dialer: Dialer<ConnUnderTest>;
  /** `runWithContext` as the adapter exports it. */
  runWithContext: <R>(ctx: Context, fn: () => R) => R;
  /**
   * Whether an abort also closes the kernel socket of a connect still in
   * progress. Bun's `Bun.connect` cannot be cancelled: its socket stays in
   * SYN-SENT until the connect fails or lands.
   * @default {true}
   */
  cancelsPendingConnect?: boolean;
  /**
   * Sends `bytes` through the native `conn.socket` and resolves with as many
   * bytes read back through it; absent when there is no native socket.
   * @default {undefined}
   */
  socketRoundTrip?: (
    conn: ConnUnderTest,
    bytes: Uint8Array,
  ) => Promise<Uint8Array>;
  /**
   * How to register a test.
   * @default {node:test's test()}
   */
  test?: RegisterTest;
}

// ── helpers ──────────────────────────────────────────────────────────────

/** One hook call as the suite records it. */
interface HookEvent {
  /** `"connectStart tcp 127.0.0.1:80"`, `"dnsDone dual.test [::1]"`… */
  text: string;
  hook: keyof Trace;
  /** `performance.now()` when it fired. */
  at: number;
  info: {
    host?: string;
    network?: string;
    addr?: string;
    addrs?: IPAddr[];
    coalesced?: boolean;
    error?: Error;
  };
}

/** A trace that records every hook call, in order. */
function recorder(): { trace: Trace; events: HookEvent[]; texts(): string[] } {
  const events: HookEvent[] = [];
  const push = (hook: keyof Trace, text: string, info: HookEvent["info"]) =>
    events.push({ hook, text, at: performance.now(), info });
  const suffix = (error: Error | undefined) =>
    error === undefined ? "" : ` error=${error.message}`;
  const trace: Trace = {
    dnsStart: (info) => push("dnsStart", `dnsStart ${info.host}`, info),
    dnsDone: (info) =>
      push(
        "dnsDone",
        `dnsDone ${info.host} [${info.addrs.map((a) => a.address).join(",")}]${
          suffix(info.error)
        }`,
        info,
      ),
    connectStart: (info) =>
      push("connectStart", `connectStart ${info.network} ${info.addr}`, info),
    connectDone: (info) =>
      push(
        "connectDone",
        `connectDone ${info.network} ${info.addr}${suffix(info.error)}`,
        info,
      ),
  };
  return { trace, events, texts: () => events.map((e) => e.text) };
}

function connectDones(rec: { events: HookEvent[] }): number {
  return rec.events.filter((e) => e.hook === "connectDone").length;
}

function pattern(size: number, seed = 7): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed + (i >> 12)) & 0xff;
  return bytes;
}

function assertSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(actual.byteLength, expected.byteLength, "byte count");
  for (let i = 0; i < expected.byteLength; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(
        `bytes differ at offset ${i}: ${actual[i]} != ${expected[i]}`,
      );
    }
  }
}

/** Writes `bytes` and reads as many back, at the same time. */
async function echo(
  conn: ConnUnderTest,
  bytes: Uint8Array,
): Promise<Uint8Array> {
  const writer = conn.writable.getWriter();
  const reader = conn.readable.getReader();
  try {
    const reading = (async () => {
      const out = new Uint8Array(bytes.byteLength);
      let got = 0;
      while (got < out.byteLength) {
        const { value, done } = await reader.read();
        if (done) assert.fail(`EOF after ${got} of ${out.byteLength} bytes`);
        out.set(value, got);
        got += value.byteLength;
      }
      return out;
    })();
    const [, back] = await Promise.all([writer.write(bytes), reading]);
    return back;
  } finally {
    writer.releaseLock();
    reader.releaseLock();
  }
}

/** Re-checks `predicate` every few ms, for at most `limitMs`. */
async function eventually(
  predicate: () => boolean,
  limitMs: number,
): Promise<boolean> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > limitMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The host part of a `Conn` address, for Go's `[::1]:80` form. */
function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Addresses without the resolver's extras (`ttl`). */
function plain(addrs: readonly IPAddr[] | undefined): string[] {
  return (addrs ?? []).map((a) => a.address);
}

/**
 * Starts two fixtures on one port (the first picks it, the second takes the
 * same port on its own address); retries when the port is taken there.
 */
async function onSharedPort<A extends { port: number; close(): unknown }, B>(
  first: () => Promise<A>,
  second: (port: number) => Promise<B>,
): Promise<[A, B]> {
  for (let tries = 0;; tries++) {
    const a = await first();
    try {
      return [a, await second(a.port)];
    } catch (err) {
      await a.close();
      const code = (err as { code?: string }).code;
      if (code !== "EADDRINUSE" || tries >= 20) throw err;
    }
  }
}

// ── open-handle checks ───────────────────────────────────────────────────

/** What the process holds: socket descriptors and (Node) handle kinds. */
interface Holdings {
  /** Open socket file descriptors; undefined without `/proc/self/fd`. */
  sockets: number | undefined;
  /** `process.getActiveResourcesInfo()`, sorted (only Node fills it). */
  resources: string[];
}

function socketFds(): number | undefined {
  let names: string[];
  try {
    names = readdirSync("/proc/self/fd");
  } catch {
    return undefined;
  }
  let count = 0;
  for (const fd of names) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith("socket:")) count++;
    } catch {
      // Closed between the listing and here (the listing's own descriptor).
    }
  }
  return count;
}

function holdings(): Holdings {
  const info = (process as { getActiveResourcesInfo?: () => string[] })
    .getActiveResourcesInfo?.() ?? [];
  return {
    sockets: socketFds(),
    resources: info.filter((kind) => kind !== "TTYWrap").sort(),
  };
}

function sameHoldings(a: Holdings, b: Holdings): boolean {
  return a.sockets === b.sockets && a.resources.join() === b.resources.join();
}

/**
 * Whether `now` holds no more than `before`: no more sockets and no more of
 * any kind of handle. Fewer is fine — a previous test's socket (say, a Bun
 * connect that could not be cancelled) may close meanwhile.
 */
function holdsNoMore(now: Holdings, before: Holdings): boolean {
  if (
    now.sockets !== before.sockets &&
    (now.sockets === undefined || before.sockets === undefined ||
      now.sockets > before.sockets)
  ) return false;
  const left = new Map<string, number>();
  for (const kind of before.resources) {
    left.set(kind, (left.get(kind) ?? 0) + 1);
  }
  for (const kind of now.resources) {
    const n = left.get(kind) ?? 0;
    if (n === 0) return false;
    left.set(kind, n - 1);
  }
  return true;
}

/**
 * Takes the baseline of {@linkcode assertNothingLeft}: what the process
 * holds once the previous test's closed sockets are gone.
 */
async function baseline(): Promise<Holdings> {
  let last = holdings();
  // Settled when two looks 10 ms apart agree.
  for (let i = 0; i < 50; i++) {
    await sleep(10);
    const now = holdings();
    if (sameHoldings(now, last)) return now;
    last = now;
  }
  return last;
}

/**
 * Asserts that the process holds no more sockets (and, on Node, handles
 * and timers) than `before`, waiting up to `limitMs` for closed ones to go
 * (closing is asynchronous on every runtime; a Bun connect that could not
 * be cancelled goes when its next SYN is refused).
 */
async function assertNothingLeft(
  before: Holdings,
  limitMs = 2000,
): Promise<void> {
  let now = holdings();
  const start = performance.now();
  while (!holdsNoMore(now, before) && performance.now() - start < limitMs) {
    await sleep(10);
    now = holdings();
  }
  assert.ok(
    holdsNoMore(now, before),
    `sockets and handles left behind: ${JSON.stringify(now)} after ${
      JSON.stringify(before)
    }`,
  );
}

// ── the suite ────────────────────────────────────────────────────────────

const ZONE: DnsZone = {
  "dual.test": { A: ["127.0.0.1"], AAAA: ["::1"] },
  // AAAA answers after A: the dial sees both before it connects.
  "ordered.test": { A: ["127.0.0.1"], AAAA: ["::1"], delay: { AAAA: 30 } },
  "slow6.test": { A: ["127.0.0.1"], AAAA: ["::1"], delay: { AAAA: 2000 } },
  "slow.test": {
    A: ["127.0.0.1"],
    AAAA: ["::1"],
    delay: { A: 5000, AAAA: 5000 },
  },
};

/**
 * Registers the conformance tests, flat, each named `"<name> dial() …"`.
 *
 * @param runtime The adapter and its runtime's differences.
 */
export function conformance(runtime: RuntimeUnderTest): void {
  const { dial, dialer, createResolver, runWithContext } = runtime;
  const name = `${runtime.name} dial()`;
  const cancels = runtime.cancelsPendingConnect ?? true;
  const registerTest: RegisterTest = runtime.test ??
    ((testName, fn) => nodeTest(testName, (t) => fn(t)));
  // Each test starts with the adapter's connection history empty: the tests
  // dial the same names (localhost) with other behaviours on other ports,
  // and history is kept per address, not per port.
  const register: RegisterTest = (testName, fn) =>
    registerTest(testName, (t) => {
      dialerHistory(dialer).clear();
      return fn(t);
    });

  /** Runs `fn` with a DNS fixture and a resolver asking it. */
  async function withDns(
    fn: (dns: DnsServer, resolver: Resolver) => Promise<void>,
  ): Promise<void> {
    const dns = await startDnsServer({ zone: ZONE });
    try {
      await fn(dns, createResolver({ nameServer: dns.nameServer }));
    } finally {
      await dns.close();
    }
  }

  /** Checks the `Conn` address shapes against the accepting server. */
  async function checkAddrs(
    conn: ConnUnderTest,
    host: LoopbackHost,
    server: TcpServer,
  ): Promise<void> {
    assert.equal(conn.remoteAddr.hostname, host);
    assert.equal(conn.remoteAddr.port, server.port);
    assert.equal(conn.localAddr.hostname, host);
    assert.ok(
      Number.isInteger(conn.localAddr.port) && conn.localAddr.port > 0 &&
        conn.localAddr.port < 65536,
      `local port ${conn.localAddr.port}`,
    );
    await server.until(() => server.connections === 1);
    assert.equal(server.sockets[0].remotePort, conn.localAddr.port);
  }

  /** Closes `conn` and waits until `server` has seen every client go. */
  async function closeAndSeeEOF(
    conn: ConnUnderTest,
    server: TcpServer,
  ): Promise<void> {
    dialer.close(conn);
    await server.until(() => server.eofs === server.connections);
  }

  // ── connecting, hooks and addresses ────────────────────────────────────

  for (const host of ["127.0.0.1", "::1"] as const) {
    const shown = host === "::1" ? "[::1]" : host;
    register(
      `${name} connects to ${shown} with connect hooks in Go's form and no DNS hooks`,
      async () => {
        const before = await baseline();
        const server = await startEchoServer({ host });
        try {
          const rec = recorder();
          const addr = hostPort(host, server.port);
          const conn = await dial(addr, { trace: rec.trace });
          assert.deepEqual(rec.texts(), [
            `connectStart tcp ${addr}`,
            `connectDone tcp ${addr}`,
          ]);
          for (const e of rec.events) {
            assert.equal(e.info.network, "tcp");
            assert.equal(e.info.addr, addr);
          }
          assert.equal(rec.events[1].info.error, undefined);
          await checkAddrs(conn, host, server);
          await closeAndSeeEOF(conn, server);
        } finally {
          await server.close();
        }
        await assertNothingLeft(before);
      },
    );
  }

  register(
    `${name} connects to localhost through the system resolver, dnsStart first, dnsDone once with ::1 and 127.0.0.1`,
    async () => {
      const before = await baseline();
      const server = await startEchoServer({ host: "::1" });
      try {
        const rec = recorder();
        const conn = await dial(`localhost:${server.port}`, {
          trace: rec.trace,
        });
        const addr = `[::1]:${server.port}`;
        const texts = rec.texts();
        // The resolver answers localhost without a query, so both answers
        // arrive in one turn: the AAAA answer starts IPv6 at once (RFC 8305)
        // and the A answer, handled right after, completes dnsDone. Unlike
        // Go, connectStart may thus come before dnsDone; the rest is Go's
        // order: dnsStart first, dnsDone once, before the connect is done.
        assert.equal(texts[0], "dnsStart localhost");
        assert.deepEqual(
          texts.filter((t) => t.startsWith("connect")),
          [`connectStart tcp ${addr}`, `connectDone tcp ${addr}`],
        );
        assert.ok(
          texts.indexOf(`connectDone tcp ${addr}`) >
            texts.findIndex((t) => t.startsWith("dnsDone")),
          `dnsDone before connectDone: ${texts.join(" | ")}`,
        );
        const done = rec.events.filter((e) => e.hook === "dnsDone");
        assert.equal(done.length, 1);
        assert.deepEqual(plain(done[0].info.addrs).sort(), [
          "127.0.0.1",
          "::1",
        ]);
        assert.equal(done[0].info.coalesced, false);
        assert.equal(done[0].info.error, undefined);
        await checkAddrs(conn, "::1", server);
        await closeAndSeeEOF(conn, server);
      } finally {
        await server.close();
      }
      await assertNothingLeft(before);
    },
  );

  register(
    `${name} connects to a name served by a DNS fixture with hooks in Go's order`,
    async () => {
      const before = await baseline();
      await withDns(async (dns, resolver) => {
        const server = await startEchoServer({ host: "::1" });
        try {
          const rec = recorder();
          // AAAA answers 30 ms after A; the Resolution Delay (500 ms here,
          // so that a slow machine keeps the order) waits for it.
          const conn = await dial(`ordered.test:${server.port}`, {
            trace: rec.trace,
            resolver,
            resolutionDelay: 500,
          });
          const addr = `[::1]:${server.port}`;
          assert.deepEqual(rec.texts(), [
            "dnsStart ordered.test",
            "dnsDone ordered.test [127.0.0.1,::1]",
            `connectStart tcp ${addr}`,
            `connectDone tcp ${addr}`,
          ]);
          assert.equal(rec.events[1].info.coalesced, false);
          assert.deepEqual(
            dns.queries.map((q) => `${q.name} ${q.type}`).sort(),
            ["ordered.test A", "ordered.test AAAA"],
          );
          await checkAddrs(conn, "::1", server);
          await closeAndSeeEOF(conn, server);
        } finally {
          await server.close();
        }
      });
      await assertNothingLeft(before);
    },
  );

  register(
    `${name} shares one A and one AAAA query among concurrent dials of a name, each told coalesced`,
    async () => {
      const before = await baseline();
      await withDns(async (dns, resolver) => {
        const server = await startEchoServer({ host: "::1" });
        try {
          const recs = [recorder(), recorder()];
          const conns = await Promise.all(
            recs.map((rec) =>
              dial(`ordered.test:${server.port}`, {
                trace: rec.trace,
                resolver,
                resolutionDelay: 500,
              })
            ),
          );
          for (const rec of recs) {
            assert.deepEqual(rec.texts(), [
              "dnsStart ordered.test",
              "dnsDone ordered.test [127.0.0.1,::1]",
              `connectStart tcp [::1]:${server.port}`,
              `connectDone tcp [::1]:${server.port}`,
            ]);
            assert.equal(rec.events[1].info.coalesced, true);
          }
          assert.equal(dns.queries.length, 2, "one A and one AAAA query");
          assert.notEqual(conns[0], conns[1]);
          for (const conn of conns) dialer.close(conn);
          await server.until(() =>
            server.connections === 2 && server.eofs === 2
          );
        } finally {
          await server.close();
        }
      });
      await assertNothingLeft(before);
    },
  );

  // ── Go's errors ────────────────────────────────────────────────────────

  register(
    `${name} to a refused 127.0.0.1 port rejects with Go's DialError`,
    async () => {
      const before = await baseline();
      const port = await closedPort("127.0.0.1");
      const rec = recorder();
      const expected =
        `dial tcp 127.0.0.1:${port}: connect: connection refused`;
      await assert.rejects(
        dial(`127.0.0.1:${port}`, { trace: rec.trace }),
        (err: unknown) => {
          assert.ok(err instanceof DialError, `got ${err}`);
          assert.equal(err.message, expected);
          assert.equal(err.errors.length, 1);
          assert.ok(err.errors[0] instanceof OpError);
          assert.equal(err.errors[0].message, expected);
          return true;
        },
      );
      assert.deepEqual(rec.texts(), [
        `connectStart tcp 127.0.0.1:${port}`,
        `connectDone tcp 127.0.0.1:${port} error=${expected}`,
      ]);
      await assertNothingLeft(before);
    },
  );

  register(
    `${name} to a refused localhost port lists the [::1] error first, then 127.0.0.1`,
    async () => {
      const before = await baseline();
      const port = await closedPort("::1");
      await assert.rejects(dial(`localhost:${port}`), (err: unknown) => {
        assert.ok(err instanceof DialError, `got ${err}`);
        const v6 = `dial tcp [::1]:${port}: connect: connection refused`;
        const v4 = `dial tcp 127.0.0.1:${port}: connect: connection refused`;
        assert.equal(err.message, v6);
        assert.deepEqual(err.errors.map((e) => e.message), [v6, v4]);
        return true;
      });
      await assertNothingLeft(before);
    },
  );

  register(
    `${name} to a name the DNS fixture does not know rejects with no such host, naming the server`,
    async () => {
      const before = await baseline();
      await withDns(async (dns, resolver) => {
        const rec = recorder();
        const expected =
          `dial tcp: lookup nosuch.test on 127.0.0.1:${dns.port}: no such host`;
        await assert.rejects(
          dial("nosuch.test:80", { resolver, trace: rec.trace }),
          (err: unknown) => {
            assert.ok(err instanceof DialError, `got ${err}`);
            assert.equal(err.message, expected);
            assert.deepEqual(err.errors.map((e) => e.message), [expected]);
            const cause = (err.errors[0] as OpError).cause;
            assert.ok(cause instanceof DNSError);
            assert.equal(cause.isNotFound, true);
            return true;
          },
        );
        assert.deepEqual(rec.texts(), [
          "dnsStart nosuch.test",
          `dnsDone nosuch.test [] error=lookup nosuch.test on 127.0.0.1:${dns.port}: no such host`,
        ]);
      });
      await assertNothingLeft(before);
    },
  );

  // ── the RFC 8305 race on real sockets ──────────────────────────────────

  register(
    `${name} starts 127.0.0.1 attemptDelay after a hanging [::1], connects over IPv4 and cancels the hung attempt`,
    async (t) => {
      const before = await baseline();
      const [hanging, server] = await onSharedPort(
        () => startHangingListener("::1"),
        (port) => startEchoServer({ host: "127.0.0.1", port }),
      );
      const port = server.port;
      try {
        await withDns(async (_dns, resolver) => {
          const rec = recorder();
          const started = performance.now();
          const conn = await dial(`dual.test:${port}`, {
            resolver,
            trace: rec.trace,
            attemptDelay: 100,
          });
          const elapsed = performance.now() - started;
          try {
            assert.equal(conn.remoteAddr.hostname, "127.0.0.1");
            const starts = rec.events.filter((e) => e.hook === "connectStart");
            assert.deepEqual(starts.map((e) => e.info.addr), [
              `[::1]:${port}`,
              `127.0.0.1:${port}`,
            ]);
            const gap = starts[1].at - starts[0].at;
            assert.ok(
              gap >= 99,
              `IPv4 started ${gap.toFixed(1)} ms after IPv6`,
            );
            assert.ok(elapsed < 1000, `dial took ${elapsed.toFixed(0)} ms`);
            // The hung attempt is reported cancelled, once the winner is in.
            assert.ok(
              await eventually(() => connectDones(rec) === 2, 1000),
              "both attempts reported connectDone",
            );
            const dones = rec.events.filter((e) => e.hook === "connectDone");
            const byAddr = new Map(dones.map((e) => [e.info.addr, e.info]));
            assert.equal(byAddr.get(`127.0.0.1:${port}`)?.error, undefined);
            assert.equal(
              byAddr.get(`[::1]:${port}`)?.error?.message,
              `dial tcp [::1]:${port}: operation was canceled`,
            );
            if (synSentTo(port) === undefined) {
              t.diagnostic("no /proc/net/tcp: cannot check the kernel socket");
            } else if (cancels) {
              assert.ok(
                await eventually(() => synSentTo(port) === 0, 1000),
                "the hung attempt's socket is gone",
              );
            } else {
              t.diagnostic(
                "this runtime cannot cancel a pending connect: the hung " +
                  "attempt's socket stays in SYN-SENT until the listener goes",
              );
            }
            const ping = new TextEncoder().encode("ping");
            assertSameBytes(await echo(conn, ping), ping);
          } finally {
            await closeAndSeeEOF(conn, server);
          }
        });
      } finally {
        await server.close();
        await hanging.close();
      }
      await assertNothingLeft(before, 5000);
    },
  );

  register(
    `${name} connects over IPv4 after the Resolution Delay while AAAA takes 2 s`,
    async () => {
      const before = await baseline();
      await withDns(async (dns, resolver) => {
        const server = await startEchoServer({ host: "127.0.0.1" });
        try {
          const rec = recorder();
          const resolutionDelay = 150;
          const started = performance.now();
          const conn = await dial(`slow6.test:${server.port}`, {
            resolver,
            trace: rec.trace,
            resolutionDelay,
          });
          const elapsed = performance.now() - started;
          try {
            assert.ok(
              elapsed >= resolutionDelay - 5 && elapsed < 1000,
              `connected after ${elapsed.toFixed(1)} ms`,
            );
            assert.equal(conn.remoteAddr.hostname, "127.0.0.1");
            const addr = `127.0.0.1:${server.port}`;
            assert.deepEqual(rec.texts(), [
              "dnsStart slow6.test",
              `connectStart tcp ${addr}`,
              `connectDone tcp ${addr}`,
              "dnsDone slow6.test [127.0.0.1]",
            ]);
            const aAnswered = dns.queries.find((q) => q.type === "A")!.at;
            const waited = rec.events[1].at - aAnswered;
            assert.ok(
              waited >= resolutionDelay - 5,
              `IPv4 started ${waited.toFixed(1)} ms after the A query`,
            );
          } finally {
            await closeAndSeeEOF(conn, server);
          }
        } finally {
          await server.close();
        }
      });
      await assertNothingLeft(before);
    },
  );

  register(
    `${name} returns exactly one connection when both racers connect and closes the other (the server reads EOF)`,
    async () => {
      const before = await baseline();
      const [six, four] = await onSharedPort(
        () => startEchoServer({ host: "::1" }),
        (port) => startEchoServer({ host: "127.0.0.1", port }),
      );
      const port = six.port;
      // Holds each connected attempt until both have connected, then hands
      // both to dial() in the same tick: IPv6 (started first) wins and the
      // IPv4 connection arrives after the win.
      const closed: ConnUnderTest[] = [];
      const held: (() => void)[] = [];
      const gated: Dialer<ConnUnderTest> = {
        async connect(endpoint: Endpoint, options) {
          const conn = await dialer.connect(endpoint, options);
          await new Promise<void>((resolve) => {
            held.push(resolve);
            if (held.length === 2) { for (const release of held) release(); }
          });
          return conn;
        },
        close(conn) {
          closed.push(conn);
          dialer.close(conn);
        },
      };
      try {
        const rec = recorder();
        // The adapter's dial() has its dialer bound, so the core's dial runs
        // the race here, with the adapter's resolver and a gated dialer.
        const conn = await coreDial(`localhost:${port}`, {
          resolver: runtime.resolver,
          dialer: gated,
          trace: rec.trace,
          attemptDelay: 10,
        });
        try {
          assert.equal(conn.remoteAddr.hostname, "::1");
          assert.equal(closed.length, 1, "the loser was closed");
          assert.equal(closed[0].remoteAddr.hostname, "127.0.0.1");
          assert.notEqual(closed[0], conn);
          await four.until(() => four.connections === 1 && four.eofs === 1);
          assert.equal(six.connections, 1);
          assert.equal(six.eofs, 0, "the winner is open");
          const ping = new TextEncoder().encode("winner");
          assertSameBytes(await echo(conn, ping), ping);
          const dones = rec.events.filter((e) => e.hook === "connectDone");
          assert.deepEqual(dones.map((e) => e.text), [
            `connectDone tcp [::1]:${port}`,
            `connectDone tcp 127.0.0.1:${port} error=dial tcp 127.0.0.1:${port}: operation was canceled`,
          ]);
        } finally {
          await closeAndSeeEOF(conn, six);
        }
      } finally {
        await six.close();
        await four.close();
      }
      await assertNothingLeft(before);
    },
  );

  // ── aborts ─────────────────────────────────────────────────────────────

  register(
    `${name} with an already aborted signal rejects with its reason and opens nothing`,
    async () => {
      const before = await baseline();
      await withDns(async (dns, resolver) => {
        const server = await startEchoServer();
        try {
          const reason = new Error("given up before");
          const rec = recorder();
          for (
            const address of [
              `dual.test:${server.port}`,
              `127.0.0.1:${server.port}`,
            ]
          ) {
            await assert.rejects(
              dial(address, {
                resolver,
                trace: rec.trace,
                signal: AbortSignal.abort(reason),
              }),
              (err: unknown) => err === reason,
            );
          }
          // The name's lookup is reported cancelled, as Go does; nothing
          // is asked or sent, and the literal fires no hook.
          assert.deepEqual(rec.texts(), [
            "dnsStart dual.test",
            "dnsDone dual.test [] error=lookup dual.test: operation was canceled",
          ]);
          assert.equal(dns.queries.length, 0);
          assert.equal(server.connections, 0);
        } finally {
          await server.close();
        }
      });
      await assertNothingLeft(before);
    },
  );

  register(
    `${name} aborted during DNS rejects with the reason and stops both queries`,
    async () => {
      const before = await baseline();
      await withDns(async (dns, resolver) => {
        const controller = new AbortController();
        const reason = new Error("given up during DNS");
        const rec = recorder();
        const dialing = dial("slow.test:80", {
          resolver,
          trace: rec.trace,
          signal: controller.signal,
        });
        dialing.catch(() => {});
        while (dns.queries.length < 2) await dns.nextQuery();
        controller.abort(reason);
        await assert.rejects(dialing, (err: unknown) => err === reason);
        assert.deepEqual(rec.texts(), [
          "dnsStart slow.test",
          "dnsDone slow.test [] error=lookup slow.test: operation was canceled",
        ]);
      });
      await assertNothingLeft(before);
    },
  );

  register(
    `${name} aborted during two hanging attempts rejects with the reason and cancels both`,
    async (t) => {
      const before = await baseline();
      const [six, four] = await onSharedPort(
        () => startHangingListener("::1"),
        (port) => startHangingListener("127.0.0.1", { port }),
      );
      const port = six.port;
      try {
        const controller = new AbortController();
        const reason = new Error("given up during the attempts");
        const rec = recorder();
        const dialing = dial(`localhost:${port}`, {
          trace: rec.trace,
          signal: controller.signal,
          attemptDelay: 10,
        });
        dialing.catch(() => {});
        assert.ok(
          await eventually(
            () =>
              rec.events.filter((e) => e.hook === "connectStart").length === 2,
            2000,
          ),
          "both attempts started",
        );
        if (synSentTo(port) !== undefined) {
          assert.ok(
            await eventually(() => synSentTo(port) === 2, 2000),
            "both SYNs went out",
          );
        }
        controller.abort(reason);
        await assert.rejects(dialing, (err: unknown) => err === reason);
        // As in Go, a cancelled attempt's connectDone may come after the dial
        // has returned (on Deno the connect op settles a turn later).
        assert.ok(await eventually(() => connectDones(rec) === 2, 1000));
        const canceled = (addr: string) =>
          `connectDone tcp ${addr} error=dial tcp ${addr}: operation was canceled`;
        assert.deepEqual(
          rec.texts().filter((text) => text.startsWith("connectDone")).sort(),
          [canceled(`127.0.0.1:${port}`), canceled(`[::1]:${port}`)].sort(),
        );
        if (synSentTo(port) === undefined) {
          t.diagnostic("no /proc/net/tcp: cannot check the kernel sockets");
        } else if (cancels) {
          assert.ok(
            await eventually(() => synSentTo(port) === 0, 1000),
            "the cancelled attempts' sockets are gone",
          );
        } else {
          t.diagnostic(
            "this runtime cannot cancel a pending connect: the sockets stay in " +
              "SYN-SENT until the listeners go",
          );
        }
      } finally {
        await six.close();
        await four.close();
      }
      await assertNothingLeft(before, 5000);
    },
  );

  register(
    `${name} aborted after the win changes nothing and leaves no listener on the signal`,
    async () => {
      const before = await baseline();
      const server = await startEchoServer();
      try {
        const controller = new AbortController();
        const signal = controller.signal;
        const listeners = new Set<unknown>();
        const add = signal.addEventListener.bind(signal);
        const remove = signal.removeEventListener.bind(signal);
        signal.addEventListener = ((type: string, l: never, o?: never) => {
          if (type === "abort") listeners.add(l);
          add(type, l, o);
        }) as typeof signal.addEventListener;
        signal.removeEventListener = ((type: string, l: never, o?: never) => {
          if (type === "abort") listeners.delete(l);
          remove(type, l, o);
        }) as typeof signal.removeEventListener;
        const rec = recorder();
        const conn = await dial(`localhost:${server.port}`, {
          signal,
          trace: rec.trace,
          network: "tcp4",
        });
        try {
          assert.equal(listeners.size, 0, "no abort listener left");
          const seen = rec.texts();
          controller.abort(new Error("too late"));
          const ping = new TextEncoder().encode("still here");
          assertSameBytes(await echo(conn, ping), ping);
          assert.deepEqual(rec.texts(), seen, "no hook fired after the win");
          assert.equal(server.eofs, 0);
        } finally {
          await closeAndSeeEOF(conn, server);
        }
      } finally {
        await server.close();
      }
      await assertNothingLeft(before);
    },
  );

  register(
    `${name} with timeout rejects with a TimeoutError in Go's words`,
    async (t) => {
      const before = await baseline();
      const hanging = await startHangingListener("::1");
      const port = hanging.port;
      try {
        for (const host of [`[::1]:${port}`, `localhost:${port}`]) {
          const rec = recorder();
          const started = performance.now();
          await assert.rejects(
            // attemptDelay 250 > timeout: 127.0.0.1 is never tried.
            dial(host, { timeout: 200, trace: rec.trace }),
            (err: unknown) => {
              assert.ok(err instanceof DOMException, `got ${err}`);
              assert.equal(err.name, "TimeoutError");
              // Go names the attempt that timed out.
              assert.equal(err.message, `dial tcp [::1]:${port}: i/o timeout`);
              return true;
            },
          );
          const elapsed = performance.now() - started;
          assert.ok(await eventually(() => connectDones(rec) === 1, 1000));
          assert.ok(
            elapsed >= 195 && elapsed < 1000,
            `timed out after ${elapsed.toFixed(0)} ms`,
          );
          assert.deepEqual(
            rec.texts().filter((text) => text.startsWith("connect")),
            [
              `connectStart tcp [::1]:${port}`,
              `connectDone tcp [::1]:${port} error=dial tcp [::1]:${port}: i/o timeout`,
            ],
          );
        }
        if (synSentTo(port) !== undefined && cancels) {
          assert.ok(
            await eventually(() => synSentTo(port) === 0, 1000),
            "the timed-out attempts' sockets are gone",
          );
        } else if (!cancels) {
          t.diagnostic(
            "this runtime cannot cancel a pending connect: the sockets stay in " +
              "SYN-SENT until the listener goes",
          );
        }
      } finally {
        await hanging.close();
      }
      await assertNothingLeft(before, 5000);
    },
  );

  register(
    `${name} with timeout during DNS rejects with a TimeoutError and reports the lookup timed out`,
    async () => {
      const before = await baseline();
      await withDns(async (dns, resolver) => {
        const rec = recorder();
        await assert.rejects(
          dial("slow.test:80", { resolver, timeout: 200, trace: rec.trace }),
          (err: unknown) => {
            assert.ok(err instanceof DOMException, `got ${err}`);
            assert.equal(err.name, "TimeoutError");
            // Go names the lookup that timed out.
            assert.equal(
              err.message,
              "dial tcp: lookup slow.test: i/o timeout",
            );
            return true;
          },
        );
        assert.deepEqual(rec.texts(), [
          "dnsStart slow.test",
          "dnsDone slow.test [] error=lookup slow.test: i/o timeout",
        ]);
        assert.equal(dns.queries.length, 2);
      });
      await assertNothingLeft(before);
    },
  );

  // ── bytes ──────────────────────────────────────────────────────────────

  register(
    `${name} round-trips bytes through readable and writable`,
    async () => {
      const before = await baseline();
      const server = await startEchoServer();
      try {
        const conn = await dial(`127.0.0.1:${server.port}`);
        try {
          const hello = new TextEncoder().encode("hello");
          assertSameBytes(await echo(conn, hello), hello);
          const big = pattern(1024 * 1024);
          assertSameBytes(await echo(conn, big), big);
        } finally {
          await closeAndSeeEOF(conn, server);
        }
      } finally {
        await server.close();
      }
      await assertNothingLeft(before);
    },
  );

  if (runtime.socketRoundTrip !== undefined) {
    const roundTrip = runtime.socketRoundTrip;
    register(
      `${name} round-trips bytes through the native conn.socket`,
      async () => {
        const before = await baseline();
        const server = await startEchoServer({ host: "::1" });
        try {
          const conn = await dial(`localhost:${server.port}`);
          try {
            assert.ok(conn.socket !== undefined, "conn.socket is set");
            const bytes = pattern(300_000, 3);
            assertSameBytes(await roundTrip(conn, bytes), bytes);
          } finally {
            await closeAndSeeEOF(conn, server);
          }
        } finally {
          await server.close();
        }
        await assertNothingLeft(before);
      },
    );
  }

  // ── the ambient context ────────────────────────────────────────────────

  register(
    `${name} sees the trace of runWithContext() across awaits, timers and I/O`,
    async () => {
      const before = await baseline();
      const server = await startServer({
        onConnection: (socket) => socket.pipe(socket),
      });
      try {
        // A library that dials without a context of its own.
        const library = {
          async connect(): Promise<ConnUnderTest> {
            await Promise.resolve();
            return await dial(`localhost:${server.port}`, { network: "tcp4" });
          },
        };
        const a = recorder();
        const b = recorder();
        const inContext = (trace: Trace, ms: number) =>
          runWithContext(withTrace(background, trace), async () => {
            await sleep(ms);
            const first = await library.connect();
            // Real I/O in between: a round trip on the first connection.
            const ping = new TextEncoder().encode("ping");
            assertSameBytes(await echo(first, ping), ping);
            dialer.close(first);
            await sleep(1);
            return await library.connect();
          });
        // Two contexts at once: each sees its own dials only.
        const [connA, connB] = await Promise.all([
          inContext(a.trace, 5),
          inContext(b.trace, 1),
        ]);
        const outside = await library.connect();
        const expected = [
          "dnsStart localhost",
          "dnsDone localhost [127.0.0.1]",
          `connectStart tcp4 127.0.0.1:${server.port}`,
          `connectDone tcp4 127.0.0.1:${server.port}`,
        ];
        assert.deepEqual(a.texts(), [...expected, ...expected]);
        assert.deepEqual(b.texts(), [...expected, ...expected]);
        for (const conn of [connA, connB, outside]) dialer.close(conn);
        await server.until(() => server.connections === 5 && server.eofs === 5);
      } finally {
        await server.close();
      }
      await assertNothingLeft(before);
    },
  );
}
