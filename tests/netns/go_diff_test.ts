/**
 * The Go differential check: Go's own `net.Dialer.DialContext` under
 * `httptrace.WithClientTrace` (tests/netns/go/trace.go, built by
 * `scripts/netns.sh`) and this runtime's `dial` run the same scenarios in
 * the namespace of `scripts/netns.sh`, and their hooks and error texts are
 * compared: `dnsStart` (host), `dnsDone` (addresses, `coalesced`, error
 * text), `connectStart`/`connectDone` (network, address, error text) and the
 * dial's own error text. Go's behaviour is the reference; what nettrace
 * does differently on purpose (`/work/shared/GO_REFERENCE.md`, "Where
 * nettrace differs on purpose") is normalised away below, and what still
 * differs until a fix lands is listed in {@linkcode KNOWN_DIFFERENCES}.
 *
 * Our side dials with a name-server resolver on the namespace's dnsmasq
 * (`createResolver({ nameServer })`), the counterpart of Go's own resolver
 * (`GODEBUG=netdns=go`, CGO_ENABLED=0), which names the server it asked.
 *
 * It runs only inside the namespace (`NETTRACE_NETNS`) with the Go program
 * built (`NETTRACE_GO_TRACE`); anywhere else it registers one skipped test.
 *
 * @module
 */

import { test, type TestContext } from "../_test.ts";
import assert from "node:assert/strict";
import process from "node:process";
import { spawn } from "node:child_process";
import { createServer, type Socket } from "node:net";
import type { Resolver } from "../../src/types.ts";
import type { DialOptions } from "../../src/dial.ts";
import type { Trace } from "../../src/trace.ts";
import { loadAdapter, runtime } from "./_adapter.ts";

// ── what may differ ──────────────────────────────────────────────────────────

/** The parts of a dial the check compares, each on its own. */
type Aspect =
  | "dnsStart"
  | "dnsDone addrs"
  | "dnsDone coalesced"
  | "dnsDone error"
  | "attempts"
  | "connectDone errors"
  | "dial error"
  | "connected to";

/**
 * Differences from Go still being fixed (issue and item first). Each row
 * tolerates exactly these aspects of one scenario, and fails once they match
 * Go: delete the row when its fix lands, and the check then demands Go's
 * text. Every other aspect of the scenario is compared as usual. Empty:
 * issue 13's items A, D, E, F, H and coalesced-on-error have landed, so
 * every scenario must match Go (declared differences aside).
 */
const KNOWN_DIFFERENCES: Record<string, { item: string; aspects: Aspect[] }> =
  {};

// ── the scenarios ────────────────────────────────────────────────────────────

interface Scenario {
  id: string;
  /** `{port}`: a server on every address; `{closed}`: a closed port. */
  address: string;
  network?: "tcp" | "tcp4" | "tcp6";
  timeoutMs?: number;
  /** Dial with a context (Go) or signal (ours) that is already aborted. */
  cancelled?: boolean;
  /** How many dials run at once (to share one lookup). */
  concurrent?: number;
}

const SCENARIOS: Scenario[] = [
  { id: "connects over IPv6", address: "dual.test:{port}" },
  { id: "IPv4 literal", address: "198.18.0.1:{port}" },
  { id: "IPv6 refused, IPv4 connects", address: "v6reset.test:{port}" },
  { id: "refused, IPv4 literal", address: "198.18.0.4:{port}" },
  { id: "refused, loopback IPv6", address: "[::1]:{closed}" },
  { id: "unreachable route", address: "198.18.255.1:{port}" },
  { id: "prohibited route", address: "[2001:db8:ff::2]:{port}" },
  { id: "no route at all", address: "[2001:db8:ff::9]:{port}" },
  { id: "every attempt fails", address: "allfail.test:{port}" },
  { id: "NXDOMAIN", address: "nx.test:{port}" },
  { id: "shared NXDOMAIN", address: "nx.test:{port}", concurrent: 2 },
  { id: "NODATA", address: "nodata.test:{port}" },
  { id: "NODATA, tcp6", address: "v4only.test:{port}", network: "tcp6" },
  {
    id: "tcp4 keeps its network",
    address: "dual.test:{port}",
    network: "tcp4",
  },
  {
    id: "connect timeout, literal",
    address: "198.18.0.2:{port}",
    timeoutMs: 400,
  },
  {
    id: "connect timeout, name",
    address: "m-hang-hang.test:{port}",
    timeoutMs: 700,
  },
  { id: "DNS timeout", address: "slowdns.test:{port}", timeoutMs: 400 },
  { id: "cancelled, name", address: "dual.test:{port}", cancelled: true },
  { id: "cancelled, literal", address: "198.18.0.1:{port}", cancelled: true },
  { id: "port 99999", address: "198.18.0.1:99999" },
  { id: "port -1", address: "198.18.0.1:-1" },
  { id: "missing port", address: "198.18.0.1" },
  { id: "missing ]", address: "[::1:9101" },
  { id: "stray ]", address: "127.0.0.1]:9101" },
  { id: "double brackets", address: "[[::1]]:9101" },
  { id: "too many colons", address: "::1:9101" },
  { id: "unknown service", address: "127.0.0.1:nosuchservice" },
];

/**
 * Where nettrace differs from Go on purpose (GO_REFERENCE.md, "Where
 * nettrace differs on purpose"): each side is checked against what that
 * document says it does, not against the other.
 */
const DECLARED: (Scenario & {
  says: string;
  check(go: Normalised, ours: Normalised, port: number): void;
})[] = [
  {
    id: "empty port",
    address: "198.18.0.1:",
    says: "Go dials port 0; nettrace refuses before any packet",
    check(go, ours) {
      assert.deepEqual(go.attempts, ["tcp 198.18.0.1:0"], "Go dials port 0");
      assert.deepEqual(ours.attempts, [], "ours sends nothing");
      assert.notEqual(ours["dial error"], null, "ours refuses");
    },
  },
  {
    id: "empty host",
    address: ":{port}",
    says: "Go dials the unspecified address and its hooks say :port; " +
      "nettrace dials loopback by Happy Eyeballs and names the address",
    check(go, ours, port) {
      assert.deepEqual(go.attempts, [`tcp :${port}`], "Go's hooks say :port");
      assert.equal(go["dial error"], null, "Go connects");
      const loopback = [`tcp [::1]:${port}`, `tcp 127.0.0.1:${port}`];
      const attempts = ours.attempts as string[];
      assert.ok(
        attempts.length > 0 && attempts.every((a) => loopback.includes(a)),
        `ours names loopback addresses: ${attempts}`,
      );
      assert.equal(ours["dial error"], null, "ours connects");
      assert.ok(loopback.includes(`tcp ${ours["connected to"]}`));
    },
  },
];

// ── one side's record of a dial ──────────────────────────────────────────────

/** One hook call or the dial's outcome, as trace.go prints it. */
interface HookEvent {
  dial: number;
  hook: "dnsStart" | "dnsDone" | "connectStart" | "connectDone" | "result";
  host?: string;
  addrs?: string[];
  coalesced?: boolean;
  network?: string;
  addr?: string;
  err: string | null;
}

/** What the check compares: one dial, in comparable form. */
type Normalised = Record<Aspect, unknown>;

/**
 * Brings one dial's events into the form the aspects compare. Attempt order
 * is not compared (RFC 8305 vs Go's two RFC 6555 racers), only which
 * attempts ran and how each ended.
 */
function normalise(events: HookEvent[]): Normalised {
  const dnsDone = events.filter((e) => e.hook === "dnsDone");
  const attempts = events.filter((e) => e.hook === "connectStart")
    .map((e) => `${e.network} ${e.addr}`).sort();
  const ends = events.filter((e) => e.hook === "connectDone")
    .map((e) => `${e.network} ${e.addr}: ${e.err ?? "connected"}`).sort();
  const result = events.find((e) => e.hook === "result");
  return {
    "dnsStart": events.filter((e) => e.hook === "dnsStart").map((e) => e.host),
    "dnsDone addrs": dnsDone.map((e) => [...(e.addrs ?? [])].sort()),
    "dnsDone coalesced": dnsDone.map((e) => e.coalesced),
    "dnsDone error": dnsDone.map((e) => e.err),
    "attempts": attempts,
    "connectDone errors": ends,
    "dial error": result?.err ?? null,
    "connected to": result?.addr ?? null,
  };
}

/** Whether each of `ours` lists is non-empty and part of `go`'s list. */
function partOf(ours: string[][], go: string[][]): boolean {
  return ours.length === go.length &&
    ours.every((list, i) =>
      list.length > 0 && list.every((a) => go[i].includes(a))
    );
}

/**
 * The error of the first attempt a dial started, as `dial tcp …` (the text
 * a dial whose attempts all failed reports first), or undefined when it
 * made fewer than two attempts.
 */
function firstFailure(events: HookEvent[]): string | null | undefined {
  const starts = events.filter((e) => e.hook === "connectStart");
  if (starts.length < 2) return undefined;
  return events.find((e) =>
    e.hook === "connectDone" && e.addr === starts[0].addr
  )?.err;
}

/** `ip:port`, with brackets for IPv6, as Go prints an address. */
function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

// ── the runtime's adapter ────────────────────────────────────────────────────

type AnyConn = {
  close(): void;
  remoteAddr: { hostname: string; port: number };
};

interface Adapter {
  dial(
    address: string,
    options?: DialOptions & { resolver?: Resolver },
  ): Promise<AnyConn>;
  createResolver(options?: {
    nameServer?: { address: string; port: number };
  }): Resolver;
}

/** Waits until `predicate()` holds, for at most `ms` (real sockets). */
async function eventually(predicate: () => boolean, ms: number) {
  const deadline = performance.now() + ms;
  while (!predicate() && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One dial with our adapter, recorded like trace.go records Go's. */
async function dialOurs(
  adapter: Adapter,
  resolver: Resolver,
  scenario: Scenario,
  address: string,
  index: number,
): Promise<HookEvent[]> {
  const events: HookEvent[] = [];
  let open = 0;
  const dial = index;
  const text = (error: Error | undefined) => error?.message ?? null;
  const trace: Trace = {
    dnsStart: ({ host }) =>
      events.push({ dial, hook: "dnsStart", host, err: null }),
    dnsDone: ({ addrs, coalesced, error }) =>
      events.push({
        dial,
        hook: "dnsDone",
        addrs: addrs.map((a) =>
          a.zone === undefined ? a.address : `${a.address}%${a.zone}`
        ),
        coalesced,
        err: text(error),
      }),
    connectStart: ({ network, addr }) => {
      open++;
      events.push({ dial, hook: "connectStart", network, addr, err: null });
    },
    connectDone: ({ network, addr, error }) => {
      open--;
      events.push({
        dial,
        hook: "connectDone",
        network,
        addr,
        err: text(error),
      });
    },
  };
  const reason = new Error("cancelled before the dial");
  const result: HookEvent = { dial, hook: "result", err: null };
  try {
    const conn = await adapter.dial(address, {
      network: scenario.network ?? "tcp",
      timeout: scenario.timeoutMs,
      signal: scenario.cancelled ? AbortSignal.abort(reason) : undefined,
      resolver,
      trace,
    });
    result.addr = joinHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port);
    conn.close();
  } catch (error) {
    // An aborted signal's dial rejects with signal.reason (DESIGN.md), Go
    // with its own text: compared as Go's when it is that reason.
    result.err = error === reason
      ? "(signal.reason)"
      : (error as Error).message;
  }
  // Go reports a loser's connectDone after the dial returned; so do we.
  await eventually(() => open === 0, 3000);
  events.push(result);
  return events;
}

// ── Go's side ────────────────────────────────────────────────────────────────

/** Runs trace.go on one scenario and returns its events per dial. */
function dialGo(
  program: string,
  scenario: Scenario,
  address: string,
): Promise<HookEvent[][]> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => out += chunk);
    child.stderr!.on("data", (chunk: string) => err += chunk);
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) {
        reject(new Error(`${program} exited with ${code}: ${err}`));
        return;
      }
      const dials: HookEvent[][] = [];
      for (const line of out.split("\n")) {
        if (line === "") continue;
        const event = JSON.parse(line) as HookEvent;
        (dials[event.dial] ??= []).push(event);
      }
      resolve(dials);
    });
    child.stdin!.end(JSON.stringify([{
      id: scenario.id,
      network: scenario.network ?? "tcp",
      address,
      timeoutMs: scenario.timeoutMs ?? 0,
      cancelled: scenario.cancelled ?? false,
      concurrent: scenario.concurrent ?? 1,
    }]));
  });
}

// ── comparing ────────────────────────────────────────────────────────────────

/**
 * Bun 1.4 reports EHOSTUNREACH and ENETUNREACH as ECONNREFUSED (a declared
 * runtime difference): on Bun, Go's texts for them become "connection
 * refused" before comparing.
 */
function bunRefused(value: unknown): unknown {
  if (runtime !== "bun") return value;
  const fix = (s: unknown) =>
    typeof s === "string"
      ? s.replace(
        /connect: (no route to host|network is unreachable)/,
        "connect: connection refused",
      )
      : s;
  return Array.isArray(value) ? value.map(fix) : fix(value);
}

/**
 * Go 1.19 (Debian 12's golang-go) reports an unknown service as
 * `address tcp/x: unknown port` (an AddrError); Go 1.20 and later as
 * `lookup tcp/x: unknown port` (a DNSError), the text GO_REFERENCE.md and
 * nettrace use. The check wants the newer text.
 */
function newerGoText(value: unknown): unknown {
  return typeof value === "string"
    ? value.replace(
      /: address (tcp[46]?\/[^:]*): unknown port$/,
      ": lookup $1: unknown port",
    )
    : value;
}

/** The aspects on which `ours` differs from `go`, with both values. */
function differences(
  goEvents: HookEvent[],
  oursEvents: HookEvent[],
): Map<Aspect, string> {
  const go = normalise(goEvents);
  const ours = normalise(oursEvents);
  const found = new Map<Aspect, string>();
  for (const aspect of Object.keys(go) as Aspect[]) {
    let want = go[aspect];
    if (aspect === "dial error" || aspect === "connectDone errors") {
      want = bunRefused(want);
    }
    if (aspect === "dial error") want = newerGoText(want);
    if (ours[aspect] === "(signal.reason)" && aspect === "dial error") {
      continue; // rejects with the signal's reason, by design
    }
    if (
      aspect === "dnsDone addrs" && ours["connected to"] !== null &&
      partOf(ours[aspect] as string[][], want as string[][])
    ) {
      // RFC 8305 resolves per family and connects on the first answer;
      // dnsDone reports what had arrived when the dial was won, which may
      // be one family only (DESIGN.md). Go waits for both.
      continue;
    }
    if (
      aspect === "dial error" && ours[aspect] !== want &&
      firstFailure(goEvents) === go[aspect] &&
      firstFailure(oursEvents) === ours[aspect] &&
      !found.has("connectDone errors")
    ) {
      // Every attempt failed the same way on both sides, and each reports
      // the failure of the first attempt it made: only the order differs
      // (RFC 8305 vs Go's two racers, source-address probing).
      continue;
    }
    try {
      assert.deepEqual(ours[aspect], want);
    } catch {
      found.set(
        aspect,
        `go ${JSON.stringify(want)}\n     ours ${JSON.stringify(ours[aspect])}`,
      );
    }
  }
  return found;
}

// ── the server both sides dial ───────────────────────────────────────────────

async function listen(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "::", port: 0, ipv6Only: false }, () => resolve());
  });
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return {
    port: address.port,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (inside the namespace: nothing else runs). */
async function closedPort(): Promise<number> {
  const server = await listen();
  await server.close();
  return server.port;
}

// ── the suite ────────────────────────────────────────────────────────────────

const netns = process.env.NETTRACE_NETNS;
const dnsServer = process.env.NETTRACE_NETNS_DNS;
const goTrace = process.env.NETTRACE_GO_TRACE;

if (!netns || dnsServer === undefined || !goTrace) {
  test("dial matches Go's net.Dialer in a network namespace", {
    skip: !netns
      ? "runs only inside the namespace of scripts/netns.sh (root)"
      : "needs Go's reference program (NETTRACE_GO_TRACE; scripts/netns.sh builds it)",
  }, () => {});
} else {
  const adapter = await loadAdapter<Adapter>();
  const sep = dnsServer.lastIndexOf(":");
  const resolver = adapter.createResolver({
    nameServer: {
      address: dnsServer.slice(0, sep),
      port: Number(dnsServer.slice(sep + 1)),
    },
  });

  /** Starts the server, dials `scenario` with Go and with ours. */
  const run = async (scenario: Scenario, port: number) => {
    const address = scenario.address
      .replace("{port}", String(port))
      .replace("{closed}", String(await closedPort()));
    const go = await dialGo(goTrace, scenario, address);
    const n = scenario.concurrent ?? 1;
    const ours = await Promise.all(
      Array.from(
        { length: n },
        (_, i) => dialOurs(adapter, resolver, scenario, address, i),
      ),
    );
    assert.equal(go.length, n, `Go ran ${n} dial(s)`);
    return { address, go, ours };
  };

  for (const scenario of SCENARIOS) {
    const known = KNOWN_DIFFERENCES[scenario.id];
    const label = known === undefined
      ? ""
      : ` (known difference ${known.item})`;
    test(`dial (${runtime}) matches Go: ${scenario.id}${label}`, async (t: TestContext) => {
      const server = await listen();
      try {
        const { address, go, ours } = await run(scenario, server.port);
        const failures: string[] = [];
        const tolerated = new Set<Aspect>();
        // Go shares a lookup only while it is in flight; when its dials did
        // not overlap (a loaded machine), this run cannot show sharing.
        const unshared = go.length > 1 &&
          !go.flat().some((e) => e.hook === "dnsDone" && e.coalesced);
        if (unshared) {
          t.diagnostic("Go's dials did not overlap: coalesced not compared");
        }
        go.forEach((goDial, i) => {
          for (const [aspect, text] of differences(goDial, ours[i])) {
            if (unshared && aspect === "dnsDone coalesced") continue;
            if (known?.aspects.includes(aspect)) {
              tolerated.add(aspect);
              t.diagnostic(`known (${known.item}): ${aspect}\n     ${text}`);
            } else {
              failures.push(`dial #${i} ${aspect}:\n     ${text}`);
            }
          }
        });
        assert.deepEqual(failures, [], `${address}: differs from Go`);
        for (const aspect of known?.aspects ?? []) {
          if (unshared && aspect === "dnsDone coalesced") continue;
          assert.ok(
            tolerated.has(aspect),
            `${address}: "${aspect}" now matches Go; delete the row ` +
              `"${scenario.id}" from KNOWN_DIFFERENCES`,
          );
        }
      } finally {
        await server.close();
      }
    });
  }

  for (const declared of DECLARED) {
    test(`dial (${runtime}) differs from Go as declared: ${declared.id} (${declared.says})`, async () => {
      const server = await listen();
      try {
        const { go, ours } = await run(declared, server.port);
        declared.check(normalise(go[0]), normalise(ours[0]), server.port);
      } finally {
        await server.close();
      }
    });
  }
}
