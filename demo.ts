/**
 * The demo: `npm run demo`, `deno task demo`, `bun run demo`.
 *
 * With no target it stages a real Happy Eyeballs race on loopback: a DNS
 * server (the test fixture) answers `race.test` with AAAA `::1` (20 ms late)
 * and A `127.0.0.1`; `[::1]:P` is a listener whose accept queue is full, so
 * the IPv6 attempt hangs, and `127.0.0.1:P` is an echo server. The dial
 * tries IPv6 first, starts IPv4 when the attempt delay runs out, IPv4 wins
 * and IPv6 is cancelled. It prints the timeline and a waterfall, then sends
 * a line through the connection and reads the echo. Then it dials the same
 * name again through the same resolver and dialer: the connection history
 * (RFC 8305 §4) now knows IPv6 was outpaced, so IPv4 goes first and
 * connects at once. Each attempt shows why it was ordered where it was.
 *
 * With `--tls` the race is dialled over TLS: `127.0.0.1:P` is a TLS echo
 * server whose certificate (for race.test) the test CA in
 * `tests/fixtures/tls/` signed, and the dial trusts that CA and offers
 * ALPN h2 and http/1.1; the timeline shows the winner's handshake.
 *
 * After each dial's timeline it prints the curl-style breakdown that
 * `recordTimings()` / `formatTimings()` give: namelookup, connect,
 * appconnect and total, and one row per attempt.
 *
 * With a target (`npm run demo -- localhost:8080`) it dials that with the
 * system resolver and prints the same timeline (nothing is sent; with
 * `--tls`, a TLS handshake against the system's roots); with `--repeat` it
 * dials it a second time, as the staged race does.
 *
 * The adapter is picked by runtime here — a script may; the library never
 * does. Exit status: 0 connected, 1 the dial failed, 2 bad arguments.
 *
 * @module
 */

import process from "node:process";
import {
  type AttemptCause,
  background,
  type Conn,
  type DialTimings,
  type Family,
  formatTimings,
  type HistoryRecord,
  type HistoryStore,
  type IPAddr,
  type Network,
  type OrderRule,
  recordTimings,
  type Resolver,
  type Trace,
  withTrace,
} from "./mod.ts";
import type { RuntimeDialOptions } from "./runtimes/node.ts";
import { startDnsServer } from "./tests/_dns_server.ts";
import {
  startEchoServer,
  startHangingListener,
} from "./tests/_tcp_fixtures.ts";
import { startTlsServer, TEST_CA } from "./tests/_tls_fixtures.ts";

/** The slice of a runtime adapter the demo uses. */
interface Adapter {
  dial(address: string, options?: RuntimeDialOptions): Promise<Conn>;
  createResolver(options: {
    nameServer: { address: string; port: number };
  }): Resolver;
  resolver: Resolver;
  history: HistoryStore;
  splitHostPort(hostport: string): [string, string];
  DialError: new (errors: Error[]) => AggregateError;
  DEFAULT_ATTEMPT_DELAY: number;
  DEFAULT_RESOLUTION_DELAY: number;
}

const USAGE = `Usage: demo [options] [host:port]

Dials host:port with nettrace (RFC 8305 Happy Eyeballs) and prints the
timeline: each DNS answer, each connection attempt, the winner. With no
host:port, stages a race on loopback: race.test has AAAA ::1 (hangs) and
A 127.0.0.1 (echoes); IPv4 wins after the attempt delay. Then it dials
race.test again: the connection history now puts IPv4 first.

Options:
  --attempt-delay MS      RFC 8305 Connection Attempt Delay (default 250;
                          the dial clamps it to 10..2000)
  --resolution-delay MS   RFC 8305 Resolution Delay (default 50)
  --family 4|6            dial over IPv4 only (tcp4) or IPv6 only (tcp6)
  --timeout MS            give up the whole dial after MS (default 10000
                          with a target, 3000 for the staged race)
  --repeat                dial host:port a second time, to show what the
                          connection history changes (the staged race
                          always does)
  --tls                   dial over TLS (ALPN h2, http/1.1): the staged
                          race's IPv4 server speaks TLS with a certificate
                          of the test CA (tests/fixtures/tls), which the
                          dial trusts; a target is checked against the
                          system's roots
  --json                  print one JSON document instead of text
  -h, --help              show this help

Examples:
  npm run demo
  npm run demo -- --attempt-delay 100
  npm run demo -- --json
  npm run demo -- --tls
  npm run demo -- localhost:8080
  npm run demo -- --repeat localhost:8080
  deno task demo -- --family 4
  bun run demo -- localhost:8080`;

/** The parsed command line. */
interface Args {
  target: string | undefined;
  attemptDelay: number | undefined;
  resolutionDelay: number | undefined;
  family: Family | undefined;
  timeout: number | undefined;
  json: boolean;
  repeat: boolean;
  tls: boolean;
  help: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    target: undefined,
    attemptDelay: undefined,
    resolutionDelay: undefined,
    family: undefined,
    timeout: undefined,
    json: false,
    repeat: false,
    tls: false,
    help: false,
  };
  const valued = new Set([
    "--attempt-delay",
    "--resolution-delay",
    "--family",
    "--timeout",
  ]);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    if (arg === "--") {
      // npm passes its own "--" on when scripts forward arguments.
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (args.target !== undefined) {
        throw new UsageError(
          `one target only: got "${args.target}" and "${arg}"`,
        );
      }
      args.target = arg;
      continue;
    }
    let value: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (
      arg === "--json" || arg === "--repeat" || arg === "--tls" ||
      arg === "--help" || arg === "-h"
    ) {
      if (value !== undefined) {
        throw new UsageError(`${arg} takes no value (got "${value}")`);
      }
      if (arg === "--json") args.json = true;
      else if (arg === "--repeat") args.repeat = true;
      else if (arg === "--tls") args.tls = true;
      else args.help = true;
      continue;
    }
    if (!valued.has(arg)) throw new UsageError(`unknown option "${arg}"`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
    }
    switch (arg) {
      case "--attempt-delay":
        args.attemptDelay = milliseconds(arg, value);
        break;
      case "--resolution-delay":
        args.resolutionDelay = milliseconds(arg, value);
        break;
      case "--timeout":
        args.timeout = milliseconds(arg, value);
        if (args.timeout === 0) {
          throw new UsageError(`--timeout must be more than 0 ms`);
        }
        break;
      case "--family":
        if (value !== "4" && value !== "6") {
          throw new UsageError(`--family must be 4 or 6, not "${value}"`);
        }
        args.family = value === "4" ? 4 : 6;
        break;
    }
  }
  return args;
}

function milliseconds(flag: string, text: string): number {
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n)) {
    throw new UsageError(
      `${flag} must be a number of milliseconds (>= 0), not "${text}"`,
    );
  }
  return n;
}

// ── recording ───────────────────────────────────────────────────────────

type Outcome =
  | "connected"
  | "cancelled"
  | "refused"
  | "reset"
  | "timed out"
  | "unreachable"
  | "failed";

/**
 * What the connection history knew of an address, `age` ms before the
 * moment it was read (`connectTime`: the latest measured connect, in ms).
 */
interface Known {
  outcome: HistoryRecord["outcome"];
  connectTime?: number;
  used: boolean;
  age: number;
}

/** One address in the history snapshot taken as a dial starts. */
interface KnownAddress extends Known {
  address: string;
}

/** One thing that happened, `t` ms after the dial started. */
type DemoEvent =
  | { t: number; type: "dnsStart"; host: string }
  | { t: number; type: "dnsQuery"; family: Family }
  | {
    t: number;
    type: "dnsAnswer";
    family: Family;
    addrs: string[];
    error?: string;
  }
  | {
    t: number;
    type: "dnsDone";
    addrs: string[];
    coalesced: boolean;
    error?: string;
  }
  | {
    t: number;
    type: "connectStart";
    attempt: number;
    addr: string;
    family: Family;
    cause: AttemptCause;
    /** The RFC 6724 / RFC 8305 §4 rule that put it before the next one. */
    sortedBy?: OrderRule | "family";
    /** What the connection history knew of this address. */
    history?: Known;
    /** The attempt delay after this start, when history derived it. */
    historyDelay?: number;
    /** The probed source address; null: no route. */
    source?: string | null;
    /** The IPv4 address this NAT64 address stands for. */
    nat64?: string;
  }
  | {
    t: number;
    type: "connectDone";
    attempt: number;
    addr: string;
    family: Family;
    outcome: Outcome;
    error?: string;
  }
  | {
    t: number;
    type: "tlsStart";
    attempt: number;
    addr: string;
    serverName: string;
  }
  | {
    t: number;
    type: "tlsDone";
    attempt: number;
    addr: string;
    outcome: Outcome;
    alpnProtocol?: string | null;
    tlsVersion?: string;
    error?: string;
  }
  | { t: number; type: "won"; attempt: number; addr: string; family: Family }
  | { t: number; type: "failed"; error: string; errors: string[] };

/** Collects the events of one dial and knows when everything has settled. */
class Recorder {
  readonly events: DemoEvent[] = [];
  #t0 = 0;
  #open = 0;
  #idle: (() => void) | undefined;

  start(): void {
    this.#t0 = performance.now();
  }

  now(): number {
    return Math.round((performance.now() - this.#t0) * 10) / 10;
  }

  add(event: DemoEvent): void {
    this.events.push(event);
  }

  /** Something (a lookup, an attempt) began that will report its end. */
  opened(): void {
    this.#open++;
  }

  closed(): void {
    this.#open--;
    if (this.#open === 0) this.#idle?.();
  }

  /**
   * Waits until every lookup and attempt has reported its end (the loser's
   * `connectDone` arrives just after the dial returns), at most `ms`.
   */
  settled(ms: number): Promise<void> {
    if (this.#open <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#idle = done;
    });
  }

  trace(): Trace {
    return {
      // The timeline counts from here, as recordTimings() does.
      dialStart: () => this.start(),
      dnsStart: ({ host }) => {
        this.add({ t: this.now(), type: "dnsStart", host });
      },
      dnsDone: ({ addrs, coalesced, error }) => {
        this.add({
          t: this.now(),
          type: "dnsDone",
          addrs: addrs.map((a) => a.address),
          coalesced,
          ...(error === undefined ? {} : { error: error.message }),
        });
      },
      connectStart: (info) => {
        const { addr, family, attempt, cause } = info;
        this.opened();
        this.add({
          t: this.now(),
          type: "connectStart",
          attempt,
          addr,
          family,
          cause,
          ...(info.sortedBy === undefined ? {} : { sortedBy: info.sortedBy }),
          ...(info.history === undefined
            ? {}
            : { history: knownOf(info.history, performance.now()) }),
          ...(info.historyDelay === undefined
            ? {}
            : { historyDelay: info.historyDelay }),
          ...(info.source === undefined
            ? {}
            : { source: info.source?.address ?? null }),
          ...(info.nat64 === undefined ? {} : { nat64: info.nat64 }),
        });
      },
      connectDone: ({ addr, family, attempt, error }) => {
        this.add({
          t: this.now(),
          type: "connectDone",
          attempt,
          addr,
          family,
          outcome: outcomeOf(error),
          ...(error === undefined ? {} : { error: error.message }),
        });
        this.closed();
      },
      tlsHandshakeStart: ({ attempt, addr, serverName }) => {
        this.opened();
        this.add({
          t: this.now(),
          type: "tlsStart",
          attempt,
          addr,
          serverName,
        });
      },
      tlsHandshakeDone: (info) => {
        this.add({
          t: this.now(),
          type: "tlsDone",
          attempt: info.attempt,
          addr: info.addr,
          outcome: outcomeOf(info.error),
          ...(info.error === undefined
            ? { alpnProtocol: info.alpnProtocol ?? null }
            : { error: info.error.message }),
          ...(info.tlsVersion === undefined
            ? {}
            : { tlsVersion: info.tlsVersion }),
        });
        this.closed();
      },
    };
  }
}

/**
 * Wraps a resolver to stamp each family's query and answer on the current
 * dial's recorder. One wrapper serves every dial of a run: the connection
 * history is kept per resolver object, so a second dial through the same
 * wrapper sees what the first one learnt.
 */
function tracedResolver(inner: Resolver, current: () => Recorder): Resolver {
  return {
    lookup: (host, family, options) => {
      const recorder = current();
      recorder.opened();
      recorder.add({ t: recorder.now(), type: "dnsQuery", family });
      const answered = (addrs: IPAddr[], error?: unknown) => {
        recorder.add({
          t: recorder.now(),
          type: "dnsAnswer",
          family,
          addrs: addrs.map((a) => a.address),
          ...(error === undefined ? {} : { error: messageOf(error) }),
        });
        recorder.closed();
      };
      return inner.lookup(host, family, options).then(
        (addrs) => {
          answered(addrs);
          return addrs;
        },
        (error: unknown) => {
          answered([], error);
          throw error;
        },
      );
    },
  };
}

/** A history record as the demo shows it; `now` on the dial's clock. */
function knownOf(record: HistoryRecord, now: number): Known {
  return {
    outcome: record.outcome,
    ...(record.connectTime === undefined
      ? {}
      : { connectTime: Math.round(record.connectTime * 10) / 10 }),
    used: record.used,
    age: Math.max(0, Math.round(now - record.at)),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function outcomeOf(error: Error | undefined): Outcome {
  if (error === undefined) return "connected";
  const text = error.message;
  if (text.endsWith("operation was canceled")) return "cancelled";
  if (text.includes("connection refused")) return "refused";
  if (text.includes("connection reset")) return "reset";
  if (text.includes("timed out") || text.includes("timeout")) {
    return "timed out";
  }
  if (text.includes("unreachable") || text.includes("no route")) {
    return "unreachable";
  }
  return "failed";
}

// ── the race on loopback ────────────────────────────────────────────────

const RACE_HOST = "race.test";
const AAAA_DELAY = 20;

/** The staged race: DNS server, hanging [::1]:P, echoing 127.0.0.1:P. */
interface Stage {
  port: number;
  nameServer: { address: string; port: number };
  close(): Promise<void>;
}

/** The ALPN protocols the TLS race offers and its server accepts. */
const ALPN = ["h2", "http/1.1"];

async function stageRace(tls: boolean): Promise<Stage> {
  const dns = await startDnsServer({
    zone: {
      [RACE_HOST]: {
        AAAA: ["::1"],
        A: ["127.0.0.1"],
        delay: { AAAA: AAAA_DELAY },
      },
    },
  });
  try {
    // The same port on both addresses, so one name:port races the two.
    for (let tries = 1;; tries++) {
      const hanging = await startHangingListener("::1");
      try {
        const echo = tls
          ? await startTlsServer({
            host: "127.0.0.1",
            port: hanging.port,
            alpnProtocols: ALPN,
          })
          : await startEchoServer({ host: "127.0.0.1", port: hanging.port });
        return {
          port: hanging.port,
          nameServer: dns.nameServer,
          async close() {
            await Promise.all([echo.close(), hanging.close(), dns.close()]);
          },
        };
      } catch (error) {
        await hanging.close();
        const code = (error as { code?: unknown }).code;
        if (code !== "EADDRINUSE" || tries === 10) throw error;
      }
    }
  } catch (error) {
    await dns.close();
    throw error;
  }
}

async function echo(
  conn: Conn,
  line: string,
): Promise<{ sent: string; received: string; ms: number }> {
  const bytes = new TextEncoder().encode(line);
  const started = performance.now();
  const writer = conn.writable.getWriter();
  const reader = conn.readable.getReader();
  try {
    await writer.write(bytes);
    const decoder = new TextDecoder();
    let received = "";
    let length = 0;
    while (length < bytes.length) {
      const { value, done } = await reader.read();
      if (done) break;
      length += value.length;
      received += decoder.decode(value, { stream: true });
    }
    received += decoder.decode();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    return { sent: line, received, ms };
  } finally {
    writer.releaseLock();
    reader.releaseLock();
  }
}

// ── output ──────────────────────────────────────────────────────────────

const useColor = process.stdout.isTTY === true &&
  (process.env.NO_COLOR ?? "") === "";

function paint(codes: string, text: string): string {
  return useColor ? `\x1b[${codes}m${text}\x1b[0m` : text;
}
const bold = (s: string) => paint("1", s);
const dim = (s: string) => paint("2", s);
const green = (s: string) => paint("32", s);
const red = (s: string) => paint("31", s);
const yellow = (s: string) => paint("33", s);
const cyan = (s: string) => paint("36", s);

function colorOutcome(outcome: Outcome, text: string): string {
  if (outcome === "connected") return green(text);
  if (outcome === "cancelled") return yellow(text);
  return red(text);
}

function ms(t: number): string {
  return `${t.toFixed(1)} ms`;
}

function familyName(family: Family): string {
  return family === 6 ? "IPv6" : "IPv4";
}

function recordName(family: Family): string {
  return family === 6 ? "AAAA" : "A";
}

function causeText(cause: AttemptCause, attempt: number): string {
  switch (cause) {
    case "first":
      return "first attempt";
    case "delay":
      return "attempt delay ran out";
    case "failure":
      return `#${attempt - 1} failed`;
    case "answer":
      return "new addresses arrived";
  }
}

/** A bar on the waterfall: a DNS query or a connection attempt. */
interface Span {
  label: string;
  start: number;
  end: number;
  char: string;
  color: (s: string) => string;
  note: string;
}

function spansOf(events: DemoEvent[], total: number): Span[] {
  const spans: Span[] = [];
  const queries = new Map<Family, number>();
  const attempts = new Map<
    number,
    Extract<DemoEvent, { type: "connectStart" }>
  >();
  const handshakes = new Map<number, number>();
  const ended = new Set<string>();
  for (const e of events) {
    if (e.type === "dnsQuery") queries.set(e.family, e.t);
    if (e.type === "dnsAnswer") {
      const cancelled = e.error?.endsWith("operation was canceled") ?? false;
      spans.push({
        label: `DNS ${recordName(e.family)}`,
        start: queries.get(e.family) ?? 0,
        end: e.t,
        char: "▒",
        color: e.error === undefined ? cyan : cancelled ? yellow : red,
        note: e.error === undefined
          ? `${e.addrs.length} addr${e.addrs.length === 1 ? "" : "s"}`
          : cancelled
          ? "cancelled"
          : "failed",
      });
      ended.add(`q${e.family}`);
    }
    if (e.type === "connectStart") attempts.set(e.attempt, e);
    if (e.type === "tlsStart") handshakes.set(e.attempt, e.t);
    if (e.type === "tlsDone") {
      spans.push({
        label: `#${e.attempt} TLS`,
        start: handshakes.get(e.attempt) ?? 0,
        end: e.t,
        char: e.outcome === "connected" ? "▓" : "░",
        color: (s) => colorOutcome(e.outcome, s),
        note: e.outcome === "connected"
          ? `${e.alpnProtocol ?? "no ALPN"} ✓`
          : e.outcome,
      });
      ended.add(`t${e.attempt}`);
    }
    if (e.type === "connectDone") {
      const start = attempts.get(e.attempt)?.t ?? 0;
      spans.push({
        label: `#${e.attempt} ${e.addr}`,
        start,
        end: e.t,
        char: e.outcome === "connected" ? "█" : "░",
        color: (s) => colorOutcome(e.outcome, s),
        note: e.outcome === "connected" ? "connected ✓" : e.outcome,
      });
      ended.add(`a${e.attempt}`);
    }
  }
  // Whatever never reported its end runs to the end of the axis.
  for (const [family, t] of queries) {
    if (!ended.has(`q${family}`)) {
      spans.push({
        label: `DNS ${recordName(family)}`,
        start: t,
        end: total,
        char: "▒",
        color: dim,
        note: "pending",
      });
    }
  }
  for (const [attempt, e] of attempts) {
    if (!ended.has(`a${attempt}`)) {
      spans.push({
        label: `#${attempt} ${e.addr}`,
        start: e.t,
        end: total,
        char: "░",
        color: dim,
        note: "pending",
      });
    }
  }
  for (const [attempt, t] of handshakes) {
    if (!ended.has(`t${attempt}`)) {
      spans.push({
        label: `#${attempt} TLS`,
        start: t,
        end: total,
        char: "░",
        color: dim,
        note: "pending",
      });
    }
  }
  // DNS rows first (AAAA before A), then attempts in order, each one's
  // handshake under it.
  const rank = (s: Span) =>
    s.label === "DNS AAAA" ? -2 : s.label === "DNS A" ? -1 : Number(
      s.label.slice(1, s.label.indexOf(" ")),
    ) + (s.label.endsWith(" TLS") ? 0.5 : 0);
  return spans.sort((a, b) => rank(a) - rank(b));
}

const WIDTH = 80;

function waterfall(events: DemoEvent[], total: number): string[] {
  const end = Math.max(
    total,
    ...events.map((e) => e.t),
    1,
  );
  const spans = spansOf(events, end);
  if (spans.length === 0) return [];
  const labelWidth = Math.min(
    26,
    Math.max(...spans.map((s) => s.label.length)),
  );
  const noteWidth = Math.max(...spans.map((s) => s.note.length));
  // "  label │bar│ note" within WIDTH columns.
  const barWidth = WIDTH - 2 - labelWidth - 2 - 2 - noteWidth;
  const scale = end / barWidth;
  const column = (t: number) => Math.min(barWidth - 1, Math.floor(t / scale));
  const lines: string[] = [];
  for (const span of spans) {
    const from = column(span.start);
    const to = Math.max(from, column(span.end));
    const label = span.label.length > labelWidth
      ? span.label.slice(0, labelWidth - 1) + "…"
      : span.label.padEnd(labelWidth);
    const bar = " ".repeat(from) +
      span.color(span.char.repeat(to - from + 1)) +
      " ".repeat(barWidth - to - 1);
    lines.push(`  ${label} │${bar}│ ${span.color(span.note)}`);
  }
  const left = "0";
  const right = ms(end);
  const axis = left +
    " ".repeat(Math.max(1, barWidth - left.length - right.length)) +
    right;
  lines.push(`  ${" ".repeat(labelWidth)}  ${dim(axis)}`);
  lines.push(
    `  ${" ".repeat(labelWidth)}  ${
      dim(`one column ≈ ${scale.toFixed(1)} ms`)
    }`,
  );
  return lines;
}

/** How each ordering rule reads after "sorted first by". */
const RULE_TEXT: Record<OrderRule | "family", string> = {
  "avoid-unusable": "avoid-unusable (RFC 6724 rule 1)",
  "avoid-failed": "avoid-failed (RFC 8305 §4 history)",
  "matching-scope": "matching-scope (RFC 6724 rule 2)",
  "avoid-deprecated": "avoid-deprecated (RFC 6724 rule 3)",
  "home-address": "home-address (RFC 6724 rule 4)",
  "matching-label": "matching-label (RFC 6724 rule 5)",
  precedence: "precedence (RFC 6724 rule 6)",
  "native-transport": "native-transport (RFC 6724 rule 7)",
  "smaller-scope": "smaller-scope (RFC 6724 rule 8)",
  "lower-rtt": "lower-rtt (RFC 8305 §4 history)",
  "used-before": "used-before (RFC 8305 §4 history)",
  "longest-prefix": "longest-prefix (RFC 6724 rule 9)",
  order: "order (the answer's, RFC 6724 rule 10)",
  family: "family (RFC 8305 §4 interleaving)",
};

function ago(age: number): string {
  if (age < 1000) return `${Math.round(age)} ms ago`;
  return age < 60_000
    ? `${(age / 1000).toFixed(1)} s ago`
    : `${Math.round(age / 60_000)} min ago`;
}

function bracketed(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

/** "outpaced 0.3 s ago", "connected in 1.2 ms, 0.3 s ago". */
function knownText(known: Known): string {
  return known.connectTime === undefined || known.outcome !== "connected"
    ? `${known.outcome} ${ago(known.age)}`
    : `${known.outcome} in ${ms(known.connectTime)}, ${ago(known.age)}`;
}

/** The address of an `ip:port` / `[ip%zone]:port` endpoint. */
function addressOf(addr: string): string {
  return addr.startsWith("[")
    ? addr.slice(1, addr.indexOf("]"))
    : addr.slice(0, addr.lastIndexOf(":"));
}

/**
 * Why an attempt went where it did, one note each: the ordering rule (with
 * what history knew of the addresses it went before), its own history, a
 * delay history derived, its source address and NAT64 origin.
 */
function attemptNotes(
  e: Extract<DemoEvent, { type: "connectStart" }>,
  known: KnownAddress[],
): string[] {
  const notes: string[] = [];
  const where = e.attempt === 0 ? "sorted first by" : "sorted next by";
  if (e.sortedBy === "avoid-failed") {
    const self = addressOf(e.addr);
    const failed = known.filter((k) =>
      k.outcome !== "connected" && k.address !== self
    );
    notes.push(
      failed.length === 0
        ? `${where} history: the other family failed`
        : `${where} history: ${
          failed.map((k) => `${bracketed(k.address)} ${knownText(k)}`)
            .join(", ")
        }`,
    );
  } else if (e.sortedBy === "lower-rtt") {
    notes.push(`${where} history: a faster connect (lower-rtt)`);
  } else if (e.sortedBy === "used-before") {
    notes.push(`${where} history: used before (used-before)`);
  } else if (e.sortedBy !== undefined) {
    notes.push(`${where} ${RULE_TEXT[e.sortedBy]}`);
  }
  if (e.history !== undefined) notes.push(`history: ${knownText(e.history)}`);
  if (e.historyDelay !== undefined) {
    notes.push(`next attempt after ${e.historyDelay} ms, from history`);
  }
  if (e.source === null) notes.push("no source address (no route)");
  else if (e.source !== undefined) notes.push(`source ${e.source}`);
  if (e.nat64 !== undefined) notes.push(`NAT64 for ${e.nat64}`);
  return notes;
}

/**
 * Packs notes into lines of at most `width` columns: notes joined by "; "
 * while they fit, a note longer than a line wrapped at its spaces.
 */
function packNotes(notes: string[], width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const note of notes) {
    if (line !== "" && line.length + 2 + note.length <= width) {
      line += `; ${note}`;
      continue;
    }
    if (line !== "") lines.push(line);
    line = "";
    for (const word of note.split(" ")) {
      if (line === "") line = word;
      else if (line.length + 1 + word.length <= width) line += ` ${word}`;
      else {
        lines.push(line);
        line = `  ${word}`;
      }
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

function timelineLines(events: DemoEvent[], known: KnownAddress[]): string[] {
  const lines: string[] = [];
  const paintKind = {
    dns: cyan,
    connect: (s: string) => s,
    tls: (s: string) => s,
    dial: bold,
  };
  const row = (t: number, kind: keyof typeof paintKind, text: string) =>
    lines.push(
      `  ${dim(ms(t).padStart(10))}  ${
        paintKind[kind](kind.padEnd(8))
      } ${text}`,
    );
  const starts = new Map<number, number>();
  const tlsStarts = new Map<number, number>();
  for (const e of events) {
    switch (e.type) {
      case "dnsStart":
        row(e.t, "dns", `lookup ${e.host} starts (dnsStart)`);
        break;
      case "dnsQuery":
        row(e.t, "dns", `${recordName(e.family)} query sent`);
        break;
      case "dnsAnswer":
        if (e.error !== undefined) {
          row(
            e.t,
            "dns",
            `${recordName(e.family).padEnd(4)}  ${
              e.error.endsWith("operation was canceled")
                ? yellow("cancelled (not needed any more)")
                : red(e.error)
            }`,
          );
        } else {
          row(
            e.t,
            "dns",
            `${recordName(e.family).padEnd(4)}  ${
              e.addrs.length === 0 ? dim("no records") : e.addrs.join(", ")
            }`,
          );
        }
        break;
      case "dnsDone":
        row(
          e.t,
          "dns",
          `lookup done (dnsDone): ${e.addrs.length} address${
            e.addrs.length === 1 ? "" : "es"
          }${e.coalesced ? ", shared" : ""}${
            e.error === undefined ? "" : `, ${e.error}`
          }`,
        );
        break;
      case "connectStart":
        starts.set(e.attempt, e.t);
        row(
          e.t,
          "connect",
          `#${e.attempt} ${e.addr} starts ${
            dim(`(${causeText(e.cause, e.attempt)})`)
          }`,
        );
        // Under the row's text column (23): "· " and the notes.
        for (const line of packNotes(attemptNotes(e, known), WIDTH - 25)) {
          const bullet = line.startsWith("  ") ? "" : "· ";
          lines.push(`${" ".repeat(23)}${dim(bullet + line)}`);
        }
        break;
      case "connectDone": {
        const took = e.t - (starts.get(e.attempt) ?? e.t);
        const why = e.outcome === "failed" && e.error !== undefined
          ? `: ${e.error}`
          : "";
        row(
          e.t,
          "connect",
          `#${e.attempt} ${e.addr} ${
            colorOutcome(e.outcome, e.outcome)
          }${why} ${dim(`after ${ms(took)}`)}`,
        );
        break;
      }
      case "tlsStart":
        tlsStarts.set(e.attempt, e.t);
        row(
          e.t,
          "tls",
          `#${e.attempt} handshake starts ${dim(`(as ${e.serverName})`)}`,
        );
        break;
      case "tlsDone": {
        const took = e.t - (tlsStarts.get(e.attempt) ?? e.t);
        const what = e.outcome === "connected"
          ? [e.tlsVersion, `ALPN ${e.alpnProtocol ?? "none"}`]
            .filter((x) => x !== undefined).join(", ")
          : e.outcome === "failed" && e.error !== undefined
          ? `: ${e.error}`
          : "";
        row(
          e.t,
          "tls",
          `#${e.attempt} ${
            colorOutcome(
              e.outcome,
              e.outcome === "connected"
                ? "handshake done"
                : `handshake ${e.outcome}`,
            )
          }${e.outcome === "connected" ? ` (${what})` : what} ${
            dim(`after ${ms(took)}`)
          }`,
        );
        break;
      }
      case "won":
        row(
          e.t,
          "dial",
          bold(`returns #${e.attempt} ${e.addr} (${familyName(e.family)})`),
        );
        break;
      case "failed":
        row(e.t, "dial", red(`failed: ${e.error}`));
        break;
    }
  }
  return lines;
}

/** One dial: what history knew as it started, what happened, the end. */
interface DialRun {
  /** What the connection history knew of the host as the dial started. */
  history: KnownAddress[];
  events: DemoEvent[];
  winner?: { attempt: number; addr: string; family: Family; at: number };
  total: number;
  localAddr?: string;
  remoteAddr?: string;
  error?: string;
  /** The curl-style breakdown (recordTimings()): phases and attempts. */
  timings?: DialTimings;
}

/** Everything one run found out: the first dial's fields at the top. */
interface Report extends DialRun {
  runtime: string;
  mode: "race" | "target";
  target: string;
  network: Network;
  /** Dialled over TLS (`--tls`). */
  tls: boolean;
  attemptDelay: number;
  resolutionDelay: number;
  resolver: string;
  setup?: string[];
  echo?: { sent: string; received: string; ms: number };
  /** The second dial of the same name (the staged race, or --repeat). */
  repeat?: DialRun;
}

/**
 * The curl-style breakdown of one dial (formatTimings), under a heading,
 * and a blank line.
 */
function breakdownLines(run: DialRun): string[] {
  if (run.timings === undefined) return [];
  const text = formatTimings(run.timings).trimEnd().split("\n");
  return [
    bold("breakdown") + dim("  (curl --write-out style, ms since the dial)"),
    ...text.map((line) => `  ${line}`),
    "",
  ];
}

/** The winner, total, connection and error lines of one dial. */
function outcomeLines(run: DialRun, totalNote = ""): string[] {
  const out: string[] = [];
  if (run.winner !== undefined) {
    const w = run.winner;
    out.push(
      `${bold("winner")}    #${w.attempt} ${w.addr} (${familyName(w.family)}) ${
        green("connected")
      } at ${ms(w.at)}`,
    );
  } else {
    out.push(`${bold("winner")}    ${red("none")}`);
  }
  // The winner's handshake (or, when the dial failed in TLS, the last one).
  const handshakes = run.events.filter((e) => e.type === "tlsDone");
  const tls = handshakes.find((e) => e.attempt === run.winner?.attempt) ??
    handshakes.at(-1);
  if (tls !== undefined) {
    out.push(
      `${bold("tls")}       ${
        tls.outcome === "connected"
          ? `${
            [tls.tlsVersion, `ALPN ${tls.alpnProtocol ?? "none"}`]
              .filter((x) => x !== undefined).join(", ")
          }, ${green("handshake done")} at ${ms(tls.t)}`
          : red(`handshake ${tls.outcome} at ${ms(tls.t)}`)
      }`,
    );
  }
  out.push(`${bold("total")}     ${ms(run.total)}${dim(totalNote)}`);
  if (run.localAddr !== undefined) {
    out.push(`${bold("conn")}      ${run.localAddr} → ${run.remoteAddr}`);
  }
  return out;
}

function printText(report: Report): void {
  const out: string[] = [];
  out.push(
    `${bold("nettrace demo")} ${dim(`(${report.runtime})`)}: dial ${
      bold(report.target)
    } over ${report.network}${report.tls ? " + TLS" : ""}`,
  );
  out.push(
    dim(
      `  attempt delay ${report.attemptDelay} ms, resolution delay ${report.resolutionDelay} ms`,
    ),
  );
  out.push(dim(`  resolver: ${report.resolver}`));
  for (const line of report.setup ?? []) out.push(dim(`  ${line}`));
  out.push("");
  out.push(bold("timeline") + dim("  (ms since the dial started)"));
  out.push(...timelineLines(report.events, report.history));
  out.push("");
  const fall = waterfall(report.events, report.total);
  if (fall.length > 0) {
    out.push(bold("waterfall"));
    out.push(...fall);
    out.push("");
  }
  out.push(...breakdownLines(report));
  out.push(...outcomeLines(report));
  if (report.echo !== undefined) {
    const ok = report.echo.received === report.echo.sent;
    out.push(
      `${bold("echo")}      wrote ${JSON.stringify(report.echo.sent)}, ${
        ok
          ? `read it back in ${ms(report.echo.ms)} ${green("✓")}`
          : red(`read ${JSON.stringify(report.echo.received)} back ✗`)
      }`,
    );
  }
  if (report.error !== undefined) {
    out.push(`${bold("error")}     ${red(report.error)}`);
  }
  const again = report.repeat;
  if (again !== undefined) {
    out.push("");
    out.push(
      `${
        bold("again")
      }     ${report.target}, through the same resolver and dialer`,
    );
    if (again.history.length === 0) {
      out.push(`${bold("history")}   ${dim("nothing known of this host")}`);
    }
    again.history.forEach((k, i) => {
      out.push(
        `${i === 0 ? bold("history") : "       "}   ${bracketed(k.address)} ${
          knownText(k)
        }`,
      );
    });
    out.push("");
    out.push(bold("timeline") + dim("  (ms since the second dial started)"));
    out.push(...timelineLines(again.events, again.history));
    out.push("");
    out.push(...breakdownLines(again));
    out.push(...outcomeLines(again, ` (the first dial: ${ms(report.total)})`));
    if (again.error !== undefined) {
      out.push(`${bold("error")}     ${red(again.error)}`);
    }
  }
  process.stdout.write(out.join("\n") + "\n");
}

// ── main ────────────────────────────────────────────────────────────────

async function loadAdapter(): Promise<{ adapter: Adapter; runtime: string }> {
  const g = globalThis as Record<string, unknown>;
  if ("Deno" in g) {
    const version = (g.Deno as { version: { deno: string } }).version.deno;
    return {
      adapter: await import("./runtimes/deno.ts") as unknown as Adapter,
      runtime: `deno ${version}`,
    };
  }
  if ("Bun" in g) {
    const version = (g.Bun as { version: string }).version;
    return {
      adapter: await import("./runtimes/bun.ts") as unknown as Adapter,
      runtime: `bun ${version}`,
    };
  }
  return {
    adapter: await import("./runtimes/node.ts") as unknown as Adapter,
    runtime: `node ${process.versions.node}`,
  };
}

function fmtAddr(addr: { hostname: string; port: number }): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(
      `demo: ${error.message}\nRun with --help for the options.\n`,
    );
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const { adapter, runtime } = await loadAdapter();
  if (args.target !== undefined) {
    try {
      const [host, port] = adapter.splitHostPort(args.target);
      if (host === "" || port === "") throw new Error("empty host or port");
    } catch (error) {
      process.stderr.write(
        `demo: the target must be host:port (like localhost:8080 or [::1]:8080), not "${args.target}": ${
          messageOf(error)
        }\n`,
      );
      return 2;
    }
  }

  const network: Network = args.family === 4
    ? "tcp4"
    : args.family === 6
    ? "tcp6"
    : "tcp";
  let target = args.target ?? "";
  let resolverText = "system (/etc/hosts, then DNS)";
  let setup: string[] | undefined;
  let stage: Stage | undefined;
  let conn: Conn | undefined;
  let first: DialRun | undefined;
  let repeat: DialRun | undefined;
  let echoed: Report["echo"];
  try {
    let resolver: Resolver;
    if (args.target === undefined) {
      stage = await stageRace(args.tls);
      target = `${RACE_HOST}:${stage.port}`;
      const ns = stage.nameServer;
      resolverText = `DNS server ${ns.address}:${ns.port}`;
      setup = [
        `${RACE_HOST}: AAAA ::1 (answered after ${AAAA_DELAY} ms), A 127.0.0.1`,
        `[::1]:${stage.port} never accepts (accept queue full)`,
        args.tls
          ? `127.0.0.1:${stage.port} echoes over TLS (${RACE_HOST}, test CA)`
          : `127.0.0.1:${stage.port} echoes`,
      ];
      resolver = adapter.createResolver({ nameServer: ns });
    } else {
      resolver = adapter.resolver;
    }
    // One wrapped resolver for every dial: history is kept per resolver.
    let recorder = new Recorder();
    const traced = tracedResolver(resolver, () => recorder);
    const options: RuntimeDialOptions = {
      network,
      resolver: traced,
      timeout: args.timeout ?? (stage === undefined ? 10_000 : 3_000),
      ...(args.attemptDelay === undefined
        ? {}
        : { attemptDelay: args.attemptDelay }),
      ...(args.resolutionDelay === undefined
        ? {}
        : { resolutionDelay: args.resolutionDelay }),
      // The staged race trusts the test CA; a target, the system's roots.
      ...(!args.tls ? {} : {
        tls: stage === undefined
          ? { alpnProtocols: ALPN }
          : { alpnProtocols: ALPN, caCerts: [TEST_CA] },
      }),
    };
    const host = historyHost(adapter, target);
    const once = await dialOnce(adapter, recorder, target, host, options);
    first = once.run;
    conn = once.conn;
    if (conn !== undefined && stage !== undefined) {
      echoed = await echo(conn, "hello from nettrace\n");
    }
    conn?.close();
    conn = undefined;
    if (stage !== undefined || args.repeat) {
      recorder = new Recorder();
      const again = await dialOnce(adapter, recorder, target, host, options);
      repeat = again.run;
      again.conn?.close();
    }
  } finally {
    conn?.close();
    await stage?.close();
  }
  const report: Report = {
    runtime,
    mode: args.target === undefined ? "race" : "target",
    target,
    network,
    tls: args.tls,
    attemptDelay: args.attemptDelay ?? adapter.DEFAULT_ATTEMPT_DELAY,
    resolutionDelay: args.resolutionDelay ?? adapter.DEFAULT_RESOLUTION_DELAY,
    resolver: resolverText,
    ...(setup === undefined ? {} : { setup }),
    ...first,
    ...(echoed === undefined ? {} : { echo: echoed }),
    ...(repeat === undefined ? {} : { repeat }),
  };
  if (args.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  } else {
    printText(report);
  }
  return report.error === undefined && repeat?.error === undefined ? 0 : 1;
}

/** The host name as the history keys it (lower case, no final dot). */
function historyHost(adapter: Adapter, target: string): string {
  const host = adapter.splitHostPort(target)[0].toLowerCase();
  return host.endsWith(".") ? host.slice(0, -1) : host;
}

/**
 * Dials `target` once, recording on `recorder`, and waits until every
 * lookup and attempt of it has reported its end.
 */
async function dialOnce(
  adapter: Adapter,
  recorder: Recorder,
  target: string,
  host: string,
  options: RuntimeDialOptions,
): Promise<{ run: DialRun; conn: Conn | undefined }> {
  const now = performance.now();
  const history: KnownAddress[] = [];
  for (
    const [address, record] of adapter.history.host(
      options.resolver!,
      host,
      now,
    )
  ) {
    history.push({ address, ...knownOf(record, now) });
  }
  const run: DialRun = { history, events: recorder.events, total: 0 };
  let conn: Conn | undefined;
  // The breakdown is recorded alongside the demo's own timeline.
  const timing = recordTimings();
  recorder.start();
  try {
    conn = await adapter.dial(target, {
      ...options,
      context: withTrace(background, timing.trace),
      trace: recorder.trace(),
    });
    run.total = recorder.now();
    const won = recorder.events.find((e) =>
      e.type === "connectDone" && e.outcome === "connected"
    ) as Extract<DemoEvent, { type: "connectDone" }> | undefined;
    if (won !== undefined) {
      run.winner = {
        attempt: won.attempt,
        addr: won.addr,
        family: won.family,
        at: won.t,
      };
      recorder.add({
        t: run.total,
        type: "won",
        attempt: won.attempt,
        addr: won.addr,
        family: won.family,
      });
    }
    run.localAddr = fmtAddr(conn.localAddr);
    run.remoteAddr = fmtAddr(conn.remoteAddr);
  } catch (error) {
    run.total = recorder.now();
    run.error = messageOf(error);
    const errors = error instanceof AggregateError
      ? error.errors.map(messageOf)
      : [];
    recorder.add({
      t: run.total,
      type: "failed",
      error: run.error,
      errors,
    });
  }
  // The loser's connectDone (and a cancelled lookup) land just after.
  await recorder.settled(1_000);
  recorder.events.sort((a, b) => a.t - b.t);
  run.timings = timing.timings();
  return { run, conn };
}

const argv = "Deno" in globalThis
  ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args
  : process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `demo: ${
        error instanceof Error ? error.stack ?? error.message : error
      }\n`,
    );
    process.exitCode = 1;
  },
);
