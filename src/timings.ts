/**
 * `recordTimings()`: a {@linkcode Trace} that turns one dial's hooks into a
 * breakdown like curl's `--write-out` (`time_namelookup`, `time_connect`,
 * `time_appconnect`, `time_total`) plus one record per connection attempt,
 * and `formatTimings()` to print it.
 *
 * @module
 */

import type { AttemptCause, Trace } from "./trace.ts";
import { type Clock, type Family, type Network, systemClock } from "./types.ts";

/**
 * How a dial ended: `"pending"` until its `dialDone` hook fired.
 *
 * @example Branching on the outcome
 * ```ts
 * import type { DialOutcome } from "@nettrace/nettrace";
 *
 * function ok(outcome: DialOutcome): boolean {
 *   return outcome === "connected";
 * }
 * ```
 */
export type DialOutcome = "pending" | "connected" | "failed";

/**
 * How one attempt's TCP connect, or one TLS handshake, ended.
 *
 * @example Counting attempts that lost the race
 * ```ts
 * import type { AttemptTimingOutcome, AttemptTiming } from "@nettrace/nettrace";
 *
 * function cancelled(attempts: AttemptTiming[]): number {
 *   const lost: AttemptTimingOutcome = "cancelled";
 *   return attempts.filter((a) => a.outcome === lost).length;
 * }
 * ```
 */
export type AttemptTimingOutcome =
  /** Still running (its done hook has not fired yet). */
  | "pending"
  /** TCP connected, or the handshake completed. */
  | "connected"
  /** It failed on its own (refused, unreachable, a TLS error, …). */
  | "failed"
  /**
   * The dial gave it up: another attempt won, or the dial was aborted
   * (Go's `operation was canceled`) or timed out (Go's `i/o timeout`).
   */
  | "cancelled";

/**
 * One address family's answer within {@linkcode LookupTiming}.
 *
 * @example Reading the AAAA answer
 * ```ts
 * import type { FamilyLookupTiming } from "@nettrace/nettrace";
 *
 * function describe(aaaa: FamilyLookupTiming | undefined): string {
 *   if (aaaa === undefined) return "AAAA: no answer";
 *   return `AAAA: ${aaaa.count} after ${aaaa.end} ms`;
 * }
 * ```
 */
export interface FamilyLookupTiming {
  /** When this family's answer arrived (its `dnsAnswer` hook), in ms. */
  end: number;
  /** How many addresses it carried (0 for an empty or failed answer). */
  count: number;
  /** The lookup error's message, when this family's lookup failed. */
  error?: string;
}

/**
 * The DNS phase of a dial: from `dnsStart` to `dnsDone`.
 *
 * @example How long the lookup took
 * ```ts
 * import type { LookupTiming } from "@nettrace/nettrace";
 *
 * function took(lookup: LookupTiming): number | undefined {
 *   return lookup.end === undefined ? undefined : lookup.end - lookup.start;
 * }
 * ```
 */
export interface LookupTiming {
  /** The host looked up, as dialled. */
  host: string;
  /** When the lookup started (`dnsStart`), in ms. */
  start: number;
  /**
   * When it ended (`dnsDone`): both families answered, or the dial
   * finished first (the AAAA answer of a race IPv4 won may never come).
   * Unset while it runs.
   */
  end?: number;
  /**
   * The A answer (`dnsAnswer` for family 4); unset when none arrived (not
   * asked, as for `tcp6`, or given up when the dial finished).
   */
  ipv4?: FamilyLookupTiming;
  /** The AAAA answer (`dnsAnswer` for family 6); unset as for `ipv4`. */
  ipv6?: FamilyLookupTiming;
  /** True when the lookup was shared with another concurrent dial. */
  coalesced: boolean;
  /** True when every answer came from a cache (no query was sent). */
  cached: boolean;
  /** Why no address came: `dnsDone`'s error message. */
  error?: string;
}

/**
 * The connect phase of a dial: from the first attempt's start to the TCP
 * connect of the attempt that won.
 *
 * @example Time spent racing
 * ```ts
 * import type { ConnectTiming } from "@nettrace/nettrace";
 *
 * function racing(connect: ConnectTiming): number | undefined {
 *   return connect.end === undefined ? undefined : connect.end - connect.start;
 * }
 * ```
 */
export interface ConnectTiming {
  /** When the first attempt started (`connectStart`), in ms. */
  start: number;
  /**
   * When the winning attempt's TCP connect completed (its `connectDone`);
   * when no attempt connected, when the dial ended. Unset while it runs.
   * Before the dial has a winner, the first attempt whose handshake
   * completed, else the first that connected, stands for it (with
   * `successPoint: "tls"` that one may still lose the race).
   */
  end?: number;
  /** Set when no attempt connected: the dial's error message. */
  error?: string;
}

/**
 * The TLS phase of a dial: the winning attempt's handshake.
 *
 * @example The negotiated protocol
 * ```ts
 * import type { TLSTiming } from "@nettrace/nettrace";
 *
 * function protocol(tls: TLSTiming | undefined): string {
 *   return tls?.alpnProtocol ?? "none";
 * }
 * ```
 */
export interface TLSTiming {
  /** The attempt whose connection the handshake ran on. */
  attempt: number;
  /** The name (or IP address) the certificate was checked against. */
  serverName: string;
  /** When the handshake started (`tlsHandshakeStart`), in ms. */
  start: number;
  /**
   * When it completed or failed (`tlsHandshakeDone`); when the dial ended
   * first, that time. Unset while it runs.
   */
  end?: number;
  /** The negotiated ALPN protocol (`null`: none); unset until it completed. */
  alpnProtocol?: string | null;
  /** The TLS version, when the runtime tells (`"TLSv1.3"`). */
  tlsVersion?: string;
  /** Set when the handshake failed or was given up: the error's message. */
  error?: string;
}

/**
 * One attempt's TLS handshake within {@linkcode AttemptTiming}.
 *
 * @example Handshake time of an attempt
 * ```ts
 * import type { AttemptTLSTiming } from "@nettrace/nettrace";
 *
 * function handshake(tls: AttemptTLSTiming): number | undefined {
 *   return tls.end === undefined ? undefined : tls.end - tls.start;
 * }
 * ```
 */
export interface AttemptTLSTiming {
  /** When the handshake started (`tlsHandshakeStart`), in ms. */
  start: number;
  /** When it ended (`tlsHandshakeDone`), in ms; unset while it runs. */
  end?: number;
  /** How it ended. */
  outcome: AttemptTimingOutcome;
  /** The negotiated ALPN protocol (`null`: none), when it completed. */
  alpnProtocol?: string | null;
  /** The TLS version, when the runtime tells. */
  tlsVersion?: string;
  /** Set when it failed or was cancelled: the error's message. */
  error?: string;
}

/**
 * One connection attempt: one endpoint the dial tried.
 *
 * @example Listing the attempts that failed
 * ```ts
 * import type { AttemptTiming } from "@nettrace/nettrace";
 *
 * function failures(attempts: AttemptTiming[]): string[] {
 *   return attempts
 *     .filter((a) => a.outcome === "failed")
 *     .map((a) => `${a.addr}: ${a.error}`);
 * }
 * ```
 */
export interface AttemptTiming {
  /** The attempt's index in the dial, from 0. */
  attempt: number;
  /** The endpoint, `ip:port` or `[ipv6%zone]:port`. */
  addr: string;
  /** The endpoint's family. */
  family: Family;
  /**
   * Why it started when it did: `"first"` (the first attempt),
   * `"delay"` (the Connection Attempt Delay timer after the previous start
   * ran out), `"failure"` (the previous attempt failed) or `"answer"`
   * (every attempt had failed and new addresses arrived).
   */
  cause: AttemptCause;
  /** When it started (`connectStart`), in ms. */
  start: number;
  /** When its TCP connect ended (`connectDone`), in ms; unset while it runs. */
  end?: number;
  /** How its TCP connect ended. */
  outcome: AttemptTimingOutcome;
  /** Set when it failed or was cancelled: the error's message. */
  error?: string;
  /**
   * Its TLS handshake, when one ran on it: the winner's, or with
   * `successPoint: "tls"` every attempt's that connected.
   */
  tls?: AttemptTLSTiming;
  /** True for the attempt whose connection the dial returned. */
  won: boolean;
}

/**
 * The cumulative times curl's `--write-out` reports, in ms from the dial's
 * start (curl's are in seconds from the transfer's start). Each is unset
 * when its phase did not happen — never a faked 0.
 *
 * @example Logging the numbers in curl's units
 * ```ts
 * import type { CurlTimings } from "@nettrace/nettrace";
 *
 * function seconds(curl: CurlTimings): string {
 *   const s = (ms: number | undefined) =>
 *     ms === undefined ? "-" : (ms / 1000).toFixed(6);
 *   return `connect ${s(curl.connect)} total ${s(curl.total)}`;
 * }
 * ```
 */
export interface CurlTimings {
  /**
   * `time_namelookup`: until the lookup had given the address the dial
   * connected to — the `dnsAnswer` of the winner's family. Happy Eyeballs
   * connects before the lookup ends (an AAAA answer may never come), so
   * this can be before `lookup.end`. Without a winner yet (or at all):
   * until the first answer with addresses, when connecting could begin.
   * Unset while (or when) no address came, and for an IP literal (curl
   * reports about 0 there).
   */
  namelookup?: number;
  /**
   * `time_connect`: until the winning TCP connect completed. As curl's, it
   * includes the lookup — and here every attempt before the winner too.
   * With `successPoint: "tcp"` it is set even when the handshake then
   * failed, as curl's is.
   */
  connect?: number;
  /**
   * `time_appconnect`: until the TLS handshake completed (includes lookup
   * and connect). Unset without TLS or when the handshake failed (curl
   * reports 0 for both).
   */
  appconnect?: number;
  /**
   * `time_total`: until the dial returned or failed (`dialDone`). curl's
   * also covers the transfer; this covers the dial only.
   */
  total?: number;
}

/**
 * The timing breakdown of one dial, as {@linkcode TimingRecorder.timings}
 * returns it. Every time is in ms since the dial started (its `dialStart`
 * hook) on the recorder's clock, to the microsecond. Plain data:
 * `JSON.stringify` keeps all of it (errors are their messages).
 *
 * @example Reporting a dial's phases
 * ```ts
 * import type { DialTimings } from "@nettrace/nettrace";
 *
 * function phases(t: DialTimings): string {
 *   const dns = t.lookup?.end ?? "-";
 *   return `dns ${dns} connect ${t.curl.connect ?? "-"} (${t.outcome})`;
 * }
 * ```
 */
export interface DialTimings {
  /** The address as dialled (`dialStart`); unset if it never fired. */
  address?: string;
  /** The network as given (`dialStart`). */
  network?: Network;
  /** `"pending"` until `dialDone`, then `"connected"` or `"failed"`. */
  outcome: DialOutcome;
  /** The dial's error message, when it failed. */
  error?: string;
  /** The endpoint the dial returned a connection to. */
  addr?: string;
  /** That endpoint's family. */
  family?: Family;
  /**
   * The DNS phase; unset for an IP literal (no lookup, never faked as a
   * 0 ms one).
   */
  lookup?: LookupTiming;
  /** The connect phase; unset when no attempt started (a failed lookup). */
  connect?: ConnectTiming;
  /** The winner's TLS handshake; unset without TLS. */
  tls?: TLSTiming;
  /** When the dial returned or failed (`dialDone`); unset while it runs. */
  total?: number;
  /** curl's cumulative `--write-out` times. */
  curl: CurlTimings;
  /** Every attempt, in start order. */
  attempts: AttemptTiming[];
}

/**
 * Options for {@linkcode recordTimings}.
 *
 * @example Recording on the dial's clock
 * ```ts
 * import { type RecordTimingsOptions, systemClock } from "@nettrace/nettrace";
 *
 * const options: RecordTimingsOptions = { clock: systemClock };
 * ```
 */
export interface RecordTimingsOptions {
  /**
   * The clock times are read from: the dial's own (`DialOptions.clock`),
   * or the times mean nothing.
   * @default {systemClock}
   */
  clock?: Clock;
}

/**
 * Records one dial's timings; made by {@linkcode recordTimings}.
 *
 * @example Passing the trace to a dial
 * ```ts ignore
 * import { dial } from "@nettrace/nettrace/node";
 * import { recordTimings } from "@nettrace/nettrace";
 *
 * const recorder = recordTimings();
 * const conn = await dial("localhost:8080", { trace: recorder.trace });
 * console.log(recorder.timings().curl);
 * conn.close();
 * ```
 */
export interface TimingRecorder {
  /**
   * The hooks to give one dial (`options.trace`, or `withTrace` on a
   * context that only one dial uses). One recorder records one dial: a
   * second `dialStart` is ignored, and hooks of a dial that overlaps are
   * mixed in. Make a recorder per dial.
   */
  readonly trace: Trace;
  /**
   * A snapshot of what was recorded so far: callable during the dial
   * (open phases have no `end`, `outcome` is `"pending"`) and after it.
   * Each call returns new objects. Bound to the recorder: it may be
   * destructured.
   *
   * @returns The breakdown.
   */
  timings(): DialTimings;
}

interface AttemptRecord {
  attempt: number;
  addr: string;
  family: Family;
  cause: AttemptCause;
  start: number;
  end?: number;
  outcome: AttemptTimingOutcome;
  error?: string;
  /** The error itself, to tell the dial's own abort reason. */
  raw?: Error;
  tls?: HandshakeRecord;
}

interface HandshakeRecord {
  serverName: string;
  start: number;
  end?: number;
  outcome: AttemptTimingOutcome;
  alpnProtocol?: string | null;
  tlsVersion?: string;
  error?: string;
  raw?: Error;
}

const CANCELED = "operation was canceled";

function messageOf(error: unknown): string {
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

class Recorder implements TimingRecorder {
  readonly #clock: Clock;
  #t0: number | undefined;
  #started = false;
  #done = false;
  #address: string | undefined;
  #network: Network | undefined;
  #lookup: LookupTiming | undefined;
  #attempts: AttemptRecord[] = [];
  #total: number | undefined;
  #error: string | undefined;
  #dialError: Error | undefined;
  #winner: number | undefined;
  #addr: string | undefined;
  #family: Family | undefined;
  readonly trace: Trace;
  /** Bound, so that `const { trace, timings } = recordTimings()` works. */
  readonly timings: () => DialTimings;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.timings = () => this.#snapshot();
    this.trace = {
      dialStart: (info) => {
        if (this.#started || this.#done) return;
        this.#started = true;
        // A hook before dialStart (a driver without it) fixed t0 already.
        this.#t0 ??= this.#clock.now();
        this.#address = info.address;
        this.#network = info.network;
      },
      dnsStart: (info) => {
        if (this.#done || this.#lookup !== undefined) return;
        this.#lookup = {
          host: info.host,
          start: this.#now(),
          coalesced: false,
          cached: false,
        };
      },
      dnsAnswer: (info) => {
        const lookup = this.#lookup;
        if (lookup === undefined || lookup.end !== undefined) return;
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
      },
      dnsDone: (info) => {
        let lookup = this.#lookup;
        if (lookup === undefined) {
          if (this.#done) return;
          // A dnsDone without its dnsStart: a lookup seen only as it ends.
          lookup = this.#lookup = {
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
      },
      connectStart: (info) => {
        if (this.#done || this.#attempts[info.attempt] !== undefined) return;
        this.#attempts[info.attempt] = {
          attempt: info.attempt,
          addr: info.addr,
          family: info.family,
          cause: info.cause,
          start: this.#now(),
          outcome: "pending",
        };
      },
      connectDone: (info) => {
        const attempt = this.#attempts[info.attempt];
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
      },
      tlsHandshakeStart: (info) => {
        const attempt = this.#attempts[info.attempt];
        if (this.#done || attempt === undefined || attempt.tls !== undefined) {
          return;
        }
        attempt.tls = {
          serverName: info.serverName,
          start: this.#now(),
          outcome: "pending",
        };
      },
      tlsHandshakeDone: (info) => {
        const tls = this.#attempts[info.attempt]?.tls;
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
      },
      dialDone: (info) => {
        if (this.#done) return;
        this.#done = true;
        const total = this.#total = this.#now();
        const error = info.error;
        const lookup = this.#lookup;
        if (lookup !== undefined && lookup.end === undefined) {
          // dialDone without dnsDone: the lookup ended with the dial, and a
          // late dnsDone changes nothing.
          lookup.end = total;
          if (error !== undefined) lookup.error = messageOf(error);
        }
        if (error !== undefined) {
          this.#error = messageOf(error);
          this.#dialError = error;
          return;
        }
        if (info.attempt !== undefined) this.#winner = info.attempt;
        if (info.addr !== undefined) this.#addr = info.addr;
        if (info.family !== undefined) this.#family = info.family;
      },
    };
  }

  /** Milliseconds since the dial started; the first hook fixes the start. */
  #now(): number {
    const now = this.#clock.now();
    this.#t0 ??= now;
    return round(now - this.#t0);
  }

  /**
   * The attempt the connect and TLS phases describe: the dial's winner;
   * before the dial says (or when it failed), the first attempt whose
   * handshake completed, else the first whose TCP connect did (with
   * `successPoint: "tcp"`, the race's winner even when its handshake then
   * failed).
   */
  #lead(): AttemptRecord | undefined {
    const attempts = this.#attempts.filter((a) => a !== undefined);
    if (this.#winner !== undefined) {
      const won = this.#attempts[this.#winner];
      if (won !== undefined) return won;
    }
    let lead: AttemptRecord | undefined;
    for (const a of attempts) {
      if (a.tls?.outcome !== "connected") continue;
      if (lead === undefined || a.tls.end! < lead.tls!.end!) lead = a;
    }
    if (lead !== undefined) return lead;
    for (const a of attempts) {
      if (a.outcome !== "connected") continue;
      if (lead === undefined || a.end! < lead.end!) lead = a;
    }
    return lead;
  }

  #snapshot(): DialTimings {
    const done = this.#done;
    const total = this.#total;
    const error = this.#error;
    const failed = done && error !== undefined;
    const result: DialTimings = {
      outcome: !done ? "pending" : failed ? "failed" : "connected",
      curl: {},
      attempts: [],
    };
    if (this.#address !== undefined) result.address = this.#address;
    if (this.#network !== undefined) result.network = this.#network;
    if (error !== undefined) result.error = error;
    if (this.#addr !== undefined) result.addr = this.#addr;
    if (this.#family !== undefined) result.family = this.#family;

    const lead = this.#lead();
    const lookup = this.#lookup;
    if (lookup !== undefined) {
      const copy: LookupTiming = { ...lookup };
      if (lookup.ipv4 !== undefined) copy.ipv4 = { ...lookup.ipv4 };
      if (lookup.ipv6 !== undefined) copy.ipv6 = { ...lookup.ipv6 };
      result.lookup = copy;
    }

    const attempts = this.#attempts.filter((a) => a !== undefined);
    if (attempts.length > 0) {
      const start = Math.min(...attempts.map((a) => a.start));
      const connect: ConnectTiming = { start };
      if (lead !== undefined && lead.outcome === "connected") {
        connect.end = lead.end!;
      } else if (done) {
        connect.end = total;
        if (failed) connect.error = error;
      }
      result.connect = connect;
    }

    const handshake = lead?.tls;
    if (lead !== undefined && handshake !== undefined) {
      const tls: TLSTiming = {
        attempt: lead.attempt,
        serverName: handshake.serverName,
        start: handshake.start,
      };
      if (handshake.end !== undefined) tls.end = handshake.end;
      else if (done) tls.end = total;
      if (handshake.alpnProtocol !== undefined) {
        tls.alpnProtocol = handshake.alpnProtocol;
      }
      if (handshake.tlsVersion !== undefined) {
        tls.tlsVersion = handshake.tlsVersion;
      }
      if (handshake.error !== undefined) tls.error = handshake.error;
      else if (handshake.end === undefined && failed) tls.error = error;
      result.tls = tls;
    }

    if (total !== undefined) result.total = total;

    // curl's cumulative numbers.
    const curl = result.curl;
    if (lookup !== undefined) {
      const namelookup = this.#namelookup(lookup, lead);
      if (namelookup !== undefined) curl.namelookup = namelookup;
    }
    if (lead !== undefined && lead.outcome === "connected") {
      curl.connect = lead.end!;
    }
    if (handshake?.outcome === "connected") curl.appconnect = handshake.end!;
    if (total !== undefined) curl.total = total;

    for (const a of attempts) {
      const copy: AttemptTiming = {
        attempt: a.attempt,
        addr: a.addr,
        family: a.family,
        cause: a.cause,
        start: a.start,
        outcome: this.#outcome(a),
        won: this.#winner === a.attempt,
      };
      if (a.end !== undefined) copy.end = a.end;
      if (a.error !== undefined) copy.error = a.error;
      if (a.tls !== undefined) {
        const tls: AttemptTLSTiming = {
          start: a.tls.start,
          outcome: this.#outcome(a.tls),
        };
        if (a.tls.end !== undefined) tls.end = a.tls.end;
        if (a.tls.alpnProtocol !== undefined) {
          tls.alpnProtocol = a.tls.alpnProtocol;
        }
        if (a.tls.tlsVersion !== undefined) tls.tlsVersion = a.tls.tlsVersion;
        if (a.tls.error !== undefined) tls.error = a.tls.error;
        copy.tls = tls;
      }
      result.attempts.push(copy);
    }
    return result;
  }

  /**
   * A record's outcome; one that ended with the very error the dial
   * rejected with (the abort reason given to its signal) was cancelled.
   */
  #outcome(record: AttemptRecord | HandshakeRecord): AttemptTimingOutcome {
    if (
      record.outcome === "failed" && record.raw !== undefined &&
      record.raw === this.#dialError
    ) return "cancelled";
    return record.outcome;
  }

  /**
   * When the address the dial connected to was known: the winner's
   * family's answer (no later than the winner's start); else (a NAT64
   * address made from the other family's, or no winner) the first answer
   * that carried addresses; else, when attempts started on addresses no
   * `dnsAnswer` brought, the lookup's end.
   */
  #namelookup(
    lookup: LookupTiming,
    lead: AttemptRecord | undefined,
  ): number | undefined {
    const connected = lead?.outcome === "connected" ? lead : undefined;
    if (connected !== undefined) {
      const own = connected.family === 4 ? lookup.ipv4 : lookup.ipv6;
      if (own !== undefined && own.count > 0 && own.end <= connected.start) {
        return own.end;
      }
    }
    const ends = [lookup.ipv4, lookup.ipv6]
      .filter((a) => a !== undefined && a.count > 0)
      .map((a) => a!.end);
    if (ends.length > 0) return Math.min(...ends);
    // Attempts started: addresses came, through dnsDone only.
    return this.#attempts.length > 0 ? lookup.end : undefined;
  }
}

/**
 * Makes a trace that records one dial's timing breakdown, like curl's
 * `--write-out` (`time_namelookup`, `time_connect`, `time_appconnect`,
 * `time_total`), with one record per connection attempt: when it started
 * and why (first, the attempt-delay timer, a previous failure, new
 * answers), when and how it ended, its TLS handshake, and whether it won.
 *
 * Give `recorder.trace` to one dial and read `recorder.timings()` during
 * or after it. Times are in ms since the dial's `dialStart` hook, on
 * `options.clock` — which must be the dial's clock.
 *
 * @param options The clock to read.
 * @returns The recorder: its `trace` and `timings()`.
 *
 * @example Where a dial spent its time
 * ```ts ignore
 * import { formatTimings, recordTimings } from "@nettrace/nettrace";
 * import { dial } from "@nettrace/nettrace/deno";
 *
 * const recorder = recordTimings();
 * const conn = await dial("example.test:443", {
 *   trace: recorder.trace,
 *   tls: { alpnProtocols: ["h2"] },
 * });
 * console.log(formatTimings(recorder.timings()));
 * conn.close();
 * ```
 *
 * @example On a dial's own clock
 * ```ts
 * import {
 *   dial,
 *   type Endpoint,
 *   recordTimings,
 *   systemClock,
 * } from "@nettrace/nettrace";
 *
 * const recorder = recordTimings({ clock: systemClock });
 * await dial("127.0.0.1:80", {
 *   clock: systemClock,
 *   trace: recorder.trace,
 *   resolver: { lookup: () => Promise.resolve([]) },
 *   dialer: {
 *     connect: (endpoint: Endpoint) => Promise.resolve(endpoint),
 *     close() {},
 *   },
 * });
 * console.log(recorder.timings().lookup); // undefined: an IP literal
 * ```
 */
export function recordTimings(
  options: RecordTimingsOptions = {},
): TimingRecorder {
  return new Recorder(options.clock ?? systemClock);
}

// ── formatting ──────────────────────────────────────────────────────────

const DASH = "—";

function fmt(ms: number | undefined): string {
  return ms === undefined ? DASH : ms.toFixed(1);
}

function fmtMs(ms: number | undefined): string {
  return ms === undefined ? DASH : `${ms.toFixed(1)} ms`;
}

function familyNote(
  name: string,
  answer: FamilyLookupTiming | undefined,
): string | undefined {
  if (answer === undefined) return undefined;
  if (answer.error !== undefined) {
    return `${name} failed at ${fmtMs(answer.end)}`;
  }
  return `${name} ${answer.count} at ${fmtMs(answer.end)}`;
}

/**
 * Formats a {@linkcode DialTimings} as a small text block in the manner of
 * `curl --write-out`: a line saying how the dial ended (with its error),
 * curl's four cumulative times (ms, one decimal; `—` for a phase that did
 * not happen) with what each phase found (when each DNS family answered
 * and with how many addresses, how many attempts, the TLS version and
 * ALPN protocol), then one row per attempt: its index (`*`: the winner),
 * endpoint, why it started, its start, TCP end and outcome, and — when any
 * attempt ran TLS — its handshake's end and outcome. A failed attempt's
 * error follows its row. Lines end with `\n`.
 *
 * @param t The timings, from {@linkcode TimingRecorder.timings}.
 * @returns The text.
 *
 * @example Printing a breakdown
 * ```ts
 * import { type DialTimings, formatTimings } from "@nettrace/nettrace";
 *
 * const t: DialTimings = {
 *   address: "127.0.0.1:80",
 *   network: "tcp",
 *   outcome: "connected",
 *   addr: "127.0.0.1:80",
 *   family: 4,
 *   connect: { start: 0, end: 1.5 },
 *   total: 1.5,
 *   curl: { connect: 1.5, total: 1.5 },
 *   attempts: [{
 *     attempt: 0,
 *     addr: "127.0.0.1:80",
 *     family: 4,
 *     cause: "first",
 *     start: 0,
 *     end: 1.5,
 *     outcome: "connected",
 *     won: true,
 *   }],
 * };
 * console.log(formatTimings(t));
 * ```
 */
export function formatTimings(t: DialTimings): string {
  const lines: string[] = [];
  const what = `dial ${t.address ?? "?"}${
    t.network === undefined ? "" : ` (${t.network})`
  }`;
  if (t.outcome === "connected") {
    const winner = t.attempts.find((a) => a.won);
    lines.push(
      `${what}: connected to ${t.addr ?? "?"}${
        winner === undefined ? "" : ` (attempt #${winner.attempt})`
      }`,
    );
  } else if (t.outcome === "failed") {
    lines.push(`${what}: failed: ${t.error ?? "unknown error"}`);
  } else {
    lines.push(`${what}: pending`);
  }

  const rows: [string, number | undefined, string][] = [];
  const lookup = t.lookup;
  let dnsNote = "";
  if (lookup !== undefined) {
    const notes = [
      familyNote("AAAA", lookup.ipv6),
      familyNote("A", lookup.ipv4),
    ].filter((n) => n !== undefined);
    // Fewer answers than families asked for: given up as the dial ended.
    const asked = t.network === "tcp4" || t.network === "tcp6" ? 1 : 2;
    if (lookup.end !== undefined && notes.length < asked) {
      notes.push(
        `${lookup.error === undefined ? "ended" : "failed"} at ${
          fmtMs(lookup.end)
        }`,
      );
    }
    if (lookup.coalesced) notes.push("shared");
    if (lookup.cached) notes.push("cached");
    dnsNote = notes.join(", ");
  } else if (t.total !== undefined || t.connect !== undefined) {
    dnsNote = "no lookup (IP literal)";
  }
  rows.push(["namelookup", t.curl.namelookup, dnsNote]);
  const connectNote = t.connect === undefined
    ? ""
    : `${t.attempts.length} attempt${t.attempts.length === 1 ? "" : "s"}`;
  rows.push(["connect", t.curl.connect, connectNote]);
  let tlsNote = "";
  if (t.tls !== undefined) {
    if (t.tls.error !== undefined) {
      const own = t.attempts.find((a) => a.attempt === t.tls!.attempt)?.tls;
      tlsNote = `handshake ${
        own?.outcome === "cancelled" ? "cancelled" : "failed"
      }`;
    } else if (t.tls.end !== undefined) {
      tlsNote = [
        t.tls.tlsVersion,
        `ALPN ${t.tls.alpnProtocol ?? "none"}`,
      ].filter((n) => n !== undefined).join(", ");
    }
  } else if (t.outcome !== "pending") {
    tlsNote = "no TLS";
  }
  rows.push(["appconnect", t.curl.appconnect, tlsNote]);
  rows.push(["total", t.curl.total, ""]);
  const valueWidth = Math.max(...rows.map(([, v]) => fmtMs(v).length));
  for (const [label, value, note] of rows) {
    const line = `  ${(label + ":").padEnd(12)} ${
      fmtMs(value).padStart(valueWidth)
    }${note === "" ? "" : `   ${note}`}`;
    lines.push(line);
  }

  if (t.attempts.length > 0) {
    const withTls = t.attempts.some((a) => a.tls !== undefined);
    const header = ["#", "address", "cause", "start", "tcp end", "tcp"];
    if (withTls) header.push("tls end", "tls");
    const table: string[][] = [header];
    const errors: (string | undefined)[] = [undefined];
    for (const a of t.attempts) {
      const row = [
        `${a.won ? "*" : " "}${a.attempt}`,
        a.addr,
        a.cause,
        fmt(a.start),
        fmt(a.end),
        a.outcome,
      ];
      if (withTls) {
        row.push(fmt(a.tls?.end), a.tls?.outcome ?? DASH);
      }
      table.push(row);
      const failure = a.outcome === "failed"
        ? a.error
        : a.tls?.outcome === "failed"
        ? a.tls.error
        : undefined;
      errors.push(failure);
    }
    const numeric = new Set([3, 4, 6]);
    const widths = header.map((_, i) =>
      Math.max(...table.map((row) => row[i]!.length))
    );
    lines.push("  attempts (ms):");
    table.forEach((row, r) => {
      const cells = row.map((cell, i) =>
        numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)
      );
      lines.push(`   ${cells.join("  ")}`.trimEnd());
      const error = errors[r];
      // Under the address column.
      const indent = " ".repeat(3 + widths[0]! + 2);
      if (error !== undefined) lines.push(`${indent}${error}`);
    });
  }
  return lines.join("\n") + "\n";
}
