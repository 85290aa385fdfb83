/**
 * The data of a dial's timing breakdown ({@linkcode DialTimings} and its
 * parts) and the recorder's interface; `src/timings.ts` re-exports them.
 *
 * @module
 */

import type { AttemptCause, Trace } from "../trace.ts";
import type { Clock, Family, Network } from "../types.ts";

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
