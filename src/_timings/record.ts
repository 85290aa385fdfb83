/**
 * Recording: the hooks that note one dial's events as they happen
 * ({@linkcode TimingLog}); `snapshot.ts` turns what it noted into a
 * {@linkcode DialTimings}. `recordTimings()` in `src/timings.ts` is the
 * public face.
 *
 * @module
 */

import type {
  ConnectDoneInfo,
  ConnectStartInfo,
  DialDoneInfo,
  DialStartInfo,
  DNSAnswerInfo,
  DNSDoneInfo,
  DNSStartInfo,
  TLSHandshakeDoneInfo,
  TLSHandshakeStartInfo,
  Trace,
} from "../trace.ts";
import type { Clock } from "../types.ts";
import type {
  AttemptTimingOutcome,
  DialTimings,
  FamilyLookupTiming,
  TimingRecorder,
} from "./types.ts";
import { type LogState, snapshot } from "./snapshot.ts";

const CANCELED = "operation was canceled";

/** An error's message; anything else as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A given-up attempt or handshake: Go's text, what a signal aborts with
 * by default (an `AbortError` or a `TimeoutError`), or an attempt the
 * dial's timeout ended (an `OpError` around a `TimeoutError`).
 */
function isCancellation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.message.endsWith(CANCELED) || error.name === "AbortError" ||
    error.name === "TimeoutError" ||
    (error.cause instanceof Error && error.cause.name === "TimeoutError");
}

function outcomeOf(error: Error | undefined): AttemptTimingOutcome {
  if (error === undefined) return "connected";
  return isCancellation(error) ? "cancelled" : "failed";
}

/** To the microsecond: strips floating-point noise from differences. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Notes one dial's hooks on its clock; one method per hook. */
export class TimingLog implements TimingRecorder {
  readonly #clock: Clock;
  #t0: number | undefined;
  #started = false;
  readonly #state: LogState = { done: false, attempts: [] };
  readonly trace: Trace;
  /** Bound, so that `const { trace, timings } = recordTimings()` works. */
  readonly timings: () => DialTimings;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.timings = () => snapshot(this.#state);
    this.trace = {
      dialStart: (info) => this.#dialStart(info),
      dnsStart: (info) => this.#dnsStart(info),
      dnsAnswer: (info) => this.#dnsAnswer(info),
      dnsDone: (info) => this.#dnsDone(info),
      connectStart: (info) => this.#connectStart(info),
      connectDone: (info) => this.#connectDone(info),
      tlsHandshakeStart: (info) => this.#tlsHandshakeStart(info),
      tlsHandshakeDone: (info) => this.#tlsHandshakeDone(info),
      dialDone: (info) => this.#dialDone(info),
    };
  }

  /** Milliseconds since the dial started; the first hook fixes the start. */
  #now(): number {
    const now = this.#clock.now();
    this.#t0 ??= now;
    return round(now - this.#t0);
  }

  #dialStart(info: DialStartInfo): void {
    const state = this.#state;
    if (this.#started || state.done) return;
    this.#started = true;
    // A hook before dialStart (a driver without it) fixed t0 already.
    this.#t0 ??= this.#clock.now();
    state.address = info.address;
    state.network = info.network;
  }

  #dnsStart(info: DNSStartInfo): void {
    const state = this.#state;
    if (state.done || state.lookup !== undefined) return;
    state.lookup = {
      host: info.host,
      start: this.#now(),
      coalesced: false,
      cached: false,
    };
  }

  #dnsAnswer(info: DNSAnswerInfo): void {
    const lookup = this.#state.lookup;
    if (lookup === undefined || lookup.end !== undefined) return;
    // The service (HTTPS/SVCB) answer of Happy Eyeballs v3 is no family's,
    // and a service target's addresses (`name` set) are not the host's.
    if (info.family === "service" || info.name !== undefined) return;
    const key = info.family === 4 ? "ipv4" : "ipv6";
    if (lookup[key] !== undefined) return;
    const answer: FamilyLookupTiming = {
      end: this.#now(),
      count: info.addrs.length,
    };
    if (info.error !== undefined) answer.error = messageOf(info.error);
    lookup[key] = answer;
    lookup.coalesced ||= info.coalesced;
    lookup.cached = info.cached;
  }

  #dnsDone(info: DNSDoneInfo): void {
    const state = this.#state;
    let lookup = state.lookup;
    if (lookup === undefined) {
      if (state.done) return;
      // A dnsDone without its dnsStart: a lookup seen only as it ends.
      lookup = state.lookup = {
        host: info.host,
        start: this.#now(),
        coalesced: false,
        cached: false,
      };
    }
    if (lookup.end !== undefined) return;
    lookup.end = this.#now();
    lookup.coalesced = info.coalesced;
    lookup.cached = info.cached;
    if (info.error !== undefined) lookup.error = messageOf(info.error);
  }

  #connectStart(info: ConnectStartInfo): void {
    const state = this.#state;
    if (state.done || state.attempts[info.attempt] !== undefined) return;
    state.attempts[info.attempt] = {
      attempt: info.attempt,
      addr: info.addr,
      family: info.family,
      cause: info.cause,
      start: this.#now(),
      outcome: "pending",
    };
  }

  #connectDone(info: ConnectDoneInfo): void {
    const attempt = this.#state.attempts[info.attempt];
    if (
      attempt === undefined || attempt.addr !== info.addr ||
      attempt.end !== undefined
    ) return;
    attempt.end = this.#now();
    attempt.outcome = outcomeOf(info.error);
    if (info.error !== undefined) {
      attempt.error = messageOf(info.error);
      attempt.raw = info.error;
    }
  }

  #tlsHandshakeStart(info: TLSHandshakeStartInfo): void {
    const attempt = this.#state.attempts[info.attempt];
    if (
      this.#state.done || attempt === undefined || attempt.tls !== undefined
    ) {
      return;
    }
    attempt.tls = {
      serverName: info.serverName,
      start: this.#now(),
      outcome: "pending",
    };
  }

  #tlsHandshakeDone(info: TLSHandshakeDoneInfo): void {
    const tls = this.#state.attempts[info.attempt]?.tls;
    if (tls === undefined || tls.end !== undefined) return;
    tls.end = this.#now();
    tls.outcome = outcomeOf(info.error);
    if (info.error !== undefined) {
      tls.error = messageOf(info.error);
      tls.raw = info.error;
    } else {
      tls.alpnProtocol = info.alpnProtocol ?? null;
    }
    if (info.tlsVersion !== undefined) tls.tlsVersion = info.tlsVersion;
  }

  #dialDone(info: DialDoneInfo): void {
    const state = this.#state;
    if (state.done) return;
    state.done = true;
    const total = state.total = this.#now();
    const error = info.error;
    const lookup = state.lookup;
    if (lookup !== undefined && lookup.end === undefined) {
      // dialDone without dnsDone: the lookup ended with the dial, and a
      // late dnsDone changes nothing.
      lookup.end = total;
      if (error !== undefined) lookup.error = messageOf(error);
    }
    if (error !== undefined) {
      state.error = messageOf(error);
      state.dialError = error;
      return;
    }
    if (info.attempt !== undefined) state.winner = info.attempt;
    if (info.addr !== undefined) state.addr = info.addr;
    if (info.family !== undefined) state.family = info.family;
  }
}
