/**
 * One dial of the demo: it reads what the connection history knows,
 * dials with the core's recorder (`recordTimings()`) and the demo's
 * {@linkcode NoteTaker} on its hooks, waits for the losers to report, and
 * turns it all into a {@linkcode DialRun}.
 *
 * @module
 */

import {
  background,
  type Conn,
  type DialTimings,
  type Family,
  type Network,
  recordTimings,
  type Resolver,
  withTrace,
} from "../mod.ts";
import type { RuntimeDialOptions } from "../runtimes/node.ts";
import type { Adapter } from "./adapter.ts";
import {
  type DemoEvent,
  type DialEnd,
  eventsOf,
  type KnownAddress,
  knownOf,
} from "./events.ts";
import { NoteTaker } from "./notes.ts";

/** One dial: what history knew as it started, what happened, the end. */
export interface DialRun {
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

/** The host name as the history keys it (lower case, no final dot). */
export function historyHost(adapter: Adapter, target: string): string {
  const host = adapter.splitHostPort(target)[0].toLowerCase();
  return host.endsWith(".") ? host.slice(0, -1) : host;
}

function fmtAddr(addr: { hostname: string; port: number }): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function historyOf(
  adapter: Adapter,
  resolver: Resolver,
  host: string,
): KnownAddress[] {
  const now = performance.now();
  const history: KnownAddress[] = [];
  for (const [address, record] of adapter.history.host(resolver, host, now)) {
    history.push({ address, ...knownOf(record, now) });
  }
  return history;
}

/**
 * Dials `target` once and waits until every attempt of it has reported
 * its end. Every time in the run is the recorder's: the timeline and the
 * breakdown read the same numbers.
 */
export async function dialOnce(
  adapter: Adapter,
  target: string,
  options: RuntimeDialOptions & { network: Network },
): Promise<{ run: DialRun; conn: Conn | undefined }> {
  const host = historyHost(adapter, target);
  const history = historyOf(adapter, options.resolver!, host);
  const recorder = recordTimings();
  const taker = new NoteTaker();
  const started = performance.now();
  let conn: Conn | undefined;
  let failure: unknown;
  try {
    conn = await adapter.dial(target, {
      ...options,
      context: withTrace(background, recorder.trace),
      trace: taker.trace(),
    });
  } catch (error) {
    failure = error;
  }
  const returned = Math.round((performance.now() - started) * 1000) / 1000;
  // The loser's connectDone (and handshake) land just after.
  await taker.settled(1_000);
  const timings = recorder.timings();
  const total = timings.total ?? returned;
  const run: DialRun = { history, events: [], total };
  let end: DialEnd;
  if (conn !== undefined) {
    end = { type: "won", t: total };
    const won = timings.attempts.find((a) => a.won);
    if (won !== undefined && won.end !== undefined) {
      const { attempt, addr, family } = won;
      run.winner = { attempt, addr, family, at: won.end };
    }
    run.localAddr = fmtAddr(conn.localAddr);
    run.remoteAddr = fmtAddr(conn.remoteAddr);
  } else {
    const error = run.error = messageOf(failure);
    const errors = failure instanceof AggregateError
      ? failure.errors.map(messageOf)
      : [];
    end = { type: "failed", t: total, error, errors };
    if (timings.outcome === "pending") {
      // It failed before its first hook (a bad address): the breakdown
      // says so instead of "dial ?: pending".
      Object.assign(timings, {
        address: target,
        network: options.network,
        outcome: "failed",
        error,
      });
    }
  }
  run.events = eventsOf(timings, taker.notes, end);
  run.timings = timings;
  return { run, conn };
}
