/**
 * `recordTimings()`: a `Trace` that turns one dial's hooks into a
 * breakdown like curl's `--write-out` (`time_namelookup`, `time_connect`,
 * `time_appconnect`, `time_total`) plus one record per connection attempt,
 * and `formatTimings()` to print it.
 *
 * @module
 */

import { systemClock } from "./types.ts";
import { format } from "./_timings/format.ts";
import { TimingLog } from "./_timings/record.ts";
import type {
  DialTimings,
  RecordTimingsOptions,
  TimingRecorder,
} from "./_timings/types.ts";

export type {
  AttemptTiming,
  AttemptTimingOutcome,
  AttemptTLSTiming,
  ConnectTiming,
  CurlTimings,
  DialOutcome,
  DialTimings,
  FamilyLookupTiming,
  LookupTiming,
  RecordTimingsOptions,
  TimingRecorder,
  TLSTiming,
} from "./_timings/types.ts";

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
  return new TimingLog(options.clock ?? systemClock);
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
  return format(t);
}
