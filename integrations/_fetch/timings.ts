/**
 * Request timings in curl's terms, recorded from an `HTTPTrace`: the
 * request half of `recordTimings` (the dial half is the core's
 * `recordTimings`, run for the dial of each attempt and kept for the
 * final one).
 *
 * @module
 */

import {
  type Clock,
  type DialTimings,
  formatTimings,
  recordTimings,
  systemClock,
  type TimingRecorder,
  type Trace,
} from "../../runtimes/node.ts";
import type { HTTPTrace } from "./http_trace.ts";

/**
 * curl's `--write-out` times of a request, ms since the `fetch` call's
 * first `getConn` (curl's start), cumulative as curl's.
 *
 * @example Printing time to first byte
 * ```ts
 * import type { RequestCurlTimings } from "@nettrace/nettrace/fetch";
 *
 * function ttfb(t: RequestCurlTimings): string {
 *   return t.starttransfer === undefined ? "-" : `${t.starttransfer} ms`;
 * }
 * ```
 */
export interface RequestCurlTimings {
  /** `time_namelookup` of the final attempt's dial; unset without one. */
  namelookup?: number;
  /** `time_connect` of the final attempt's dial; unset without one. */
  connect?: number;
  /** `time_appconnect` (TLS done) of the final attempt's dial. */
  appconnect?: number;
  /**
   * `time_pretransfer`: until the final attempt had its connection and
   * was about to send (`gotConn`).
   */
  pretransfer?: number;
  /** `time_starttransfer`: until the final response's first byte. */
  starttransfer?: number;
  /** `time_total`: until {@linkcode RequestTimingRecorder.done}. */
  total?: number;
  /**
   * `time_redirect`: every redirect hop (and retry) before the final
   * attempt started; 0 when there was none.
   */
  redirect: number;
}

/**
 * What {@linkcode RequestTimingRecorder.timings} returns.
 *
 * @example Was the connection reused?
 * ```ts
 * import type { RequestTimings } from "@nettrace/nettrace/fetch";
 *
 * function describe(t: RequestTimings): string {
 *   return t.reused ? "reused" : `${t.numConnects} new connection(s)`;
 * }
 * ```
 */
export interface RequestTimings {
  /** The final attempt's method and URL (`getConn`). */
  method?: string;
  /** The final attempt's URL. */
  url?: string;
  /** Attempts (redirect hops, retries) so far. */
  attempts: number;
  /** The final attempt's `gotConn.reused` (curl's connection reuse). */
  reused: boolean;
  /** curl's `num_connects`: connections dialled for the request. */
  numConnects: number;
  /** curl's times. */
  curl: RequestCurlTimings;
  /**
   * The final attempt's dial, times since its own `dialStart` (add
   * `dialStart` for the request's clock); unset when it reused one.
   */
  dial?: DialTimings;
  /** When the final attempt's dial started, ms since the request did. */
  dialStart?: number;
}

/**
 * Records one request's timings: give `trace` to one `fetch` call, call
 * `done()` when its body is read, then read `timings()`.
 *
 * @example Timing one request
 * ```ts ignore
 * import {
 *   createFetch,
 *   formatRequestTimings,
 *   recordRequestTimings,
 * } from "@nettrace/nettrace/fetch";
 *
 * const fetch = createFetch();
 * const recorder = recordRequestTimings();
 * const response = await fetch("http://localhost:8080/", {
 *   trace: recorder.trace,
 * });
 * await response.text();
 * recorder.done();
 * console.log(formatRequestTimings(recorder.timings()));
 * await fetch.close();
 * ```
 */
export interface RequestTimingRecorder {
  /** The hooks to give one `fetch` call. */
  readonly trace: HTTPTrace;
  /** Marks the end of the request (the body read): `time_total`. */
  done(): void;
  /** A snapshot of what was recorded so far. */
  timings(): RequestTimings;
}

type DialHook = keyof Trace;

interface AttemptState {
  start: number;
  method: string;
  url: string;
  reused: boolean;
  dialStart?: number;
  dial?: TimingRecorder;
  gotConn?: number;
  firstByte?: number;
}

/** The dial hooks, forwarded to the core recorder of the attempt's dial. */
const DIAL_HOOKS = Object.keys(recordTimings().trace) as DialHook[];

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function plus(base: number, ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : round(base + ms);
}

class RequestRecorder implements RequestTimingRecorder {
  readonly trace: HTTPTrace;
  readonly #clock: Clock;
  #start: number | undefined;
  #end: number | undefined;
  #numConnects = 0;
  readonly #attempts: AttemptState[] = [];

  constructor(clock: Clock) {
    this.#clock = clock;
    const trace: HTTPTrace = {
      getConn: ({ method, url }) => {
        const now = clock.now();
        this.#start ??= now;
        this.#attempts.push({ start: now, method, url, reused: false });
      },
      gotConn: ({ reused }) => {
        const attempt = this.#current();
        if (attempt === undefined) return;
        attempt.reused = reused;
        attempt.gotConn = clock.now();
      },
      gotFirstResponseByte: () => {
        const attempt = this.#current();
        if (attempt !== undefined) attempt.firstByte ??= clock.now();
      },
    };
    for (const hook of DIAL_HOOKS) {
      (trace as Record<string, unknown>)[hook] = (info: unknown) =>
        this.#dialHook(hook, info);
    }
    this.trace = trace;
    this.done = this.done.bind(this);
    this.timings = this.timings.bind(this);
  }

  #current(): AttemptState | undefined {
    return this.#attempts[this.#attempts.length - 1];
  }

  #dialHook(hook: DialHook, info: unknown): void {
    const attempt = this.#current();
    if (attempt === undefined) return;
    if (hook === "dialStart" && attempt.dial === undefined) {
      attempt.dialStart = this.#clock.now();
      attempt.dial = recordTimings({ clock: this.#clock });
    }
    if (
      hook === "dialDone" && (info as { error?: Error }).error === undefined
    ) {
      this.#numConnects++;
    }
    const fn = attempt.dial?.trace[hook] as ((i: unknown) => void) | undefined;
    fn?.(info);
  }

  done(): void {
    this.#end ??= this.#clock.now();
  }

  timings(): RequestTimings {
    const start = this.#start ?? 0;
    const since = (t: number | undefined) =>
      t === undefined ? undefined : round(t - start);
    const final = this.#current();
    const result: RequestTimings = {
      attempts: this.#attempts.length,
      reused: final?.reused ?? false,
      numConnects: this.#numConnects,
      curl: {
        redirect: final === undefined ? 0 : round(final.start - start),
        pretransfer: since(final?.gotConn),
        starttransfer: since(final?.firstByte),
        total: since(this.#end),
      },
    };
    if (final === undefined) return result;
    result.method = final.method;
    result.url = final.url;
    if (final.dial !== undefined && final.dialStart !== undefined) {
      const dial = final.dial.timings();
      const offset = final.dialStart - start;
      result.dial = dial;
      result.dialStart = round(offset);
      result.curl.namelookup = plus(offset, dial.curl.namelookup);
      result.curl.connect = plus(offset, dial.curl.connect);
      result.curl.appconnect = plus(offset, dial.curl.appconnect);
    }
    return result;
  }
}

/**
 * Options for {@linkcode recordRequestTimings}.
 *
 * @example On the system clock
 * ```ts
 * import { systemClock } from "@nettrace/nettrace";
 * import type { RecordRequestTimingsOptions } from "@nettrace/nettrace/fetch";
 *
 * const options: RecordRequestTimingsOptions = { clock: systemClock };
 * ```
 */
export interface RecordRequestTimingsOptions {
  /**
   * The clock the times are read from (the dials' own, when they run on
   * another).
   * @default {systemClock}
   */
  clock?: Clock;
}

/**
 * Makes a recorder of one request's timings in curl's terms
 * (`time_namelookup` … `time_total`, `time_redirect`, `num_connects`,
 * reuse), from the hooks of one `fetch` call. The dial of the final attempt
 * is recorded by the core's `recordTimings` and kept as `dial`.
 *
 * @param options The clock.
 * @returns The recorder.
 *
 * @example Recording from hooks (no network)
 * ```ts
 * import { recordRequestTimings } from "@nettrace/nettrace/fetch";
 *
 * const recorder = recordRequestTimings();
 * recorder.trace.getConn?.({
 *   attempt: 0,
 *   hostPort: "app.test:80",
 *   method: "GET",
 *   url: "http://app.test/",
 * });
 * recorder.done();
 * console.log(recorder.timings().curl.total !== undefined); // true
 * ```
 */
export function recordRequestTimings(
  options: RecordRequestTimingsOptions = {},
): RequestTimingRecorder {
  return new RequestRecorder(options.clock ?? systemClock);
}

function fmtMs(ms: number | undefined): string {
  return ms === undefined ? "—" : `${ms.toFixed(1)} ms`;
}

/**
 * Formats {@linkcode RequestTimings} like `curl --write-out`: the request
 * line, curl's cumulative times (ms, one decimal; `—` for what did not
 * happen), reuse and connection count, then the final attempt's dial as
 * the core's `formatTimings` prints it. Lines end with `\n`.
 *
 * @param t The timings.
 * @returns The text.
 *
 * @example Printing a breakdown
 * ```ts
 * import { formatRequestTimings } from "@nettrace/nettrace/fetch";
 *
 * console.log(formatRequestTimings({
 *   method: "GET",
 *   url: "http://app.test/",
 *   attempts: 1,
 *   reused: true,
 *   numConnects: 0,
 *   curl: { pretransfer: 0.2, starttransfer: 1.4, total: 1.6, redirect: 0 },
 * }));
 * ```
 */
export function formatRequestTimings(t: RequestTimings): string {
  const c = t.curl;
  const lines = [
    `${t.method ?? "?"} ${t.url ?? "?"}: ${t.attempts} attempt(s), ${
      t.reused ? "reused connection" : `${t.numConnects} new connection(s)`
    }`,
    `  namelookup    ${fmtMs(c.namelookup)}`,
    `  connect       ${fmtMs(c.connect)}`,
    `  appconnect    ${fmtMs(c.appconnect)}`,
    `  pretransfer   ${fmtMs(c.pretransfer)}`,
    `  redirect      ${fmtMs(c.redirect)}`,
    `  starttransfer ${fmtMs(c.starttransfer)}`,
    `  total         ${fmtMs(c.total)}`,
  ];
  let text = lines.join("\n") + "\n";
  if (t.dial !== undefined) {
    text += `dial (from ${fmtMs(t.dialStart)}):\n${formatTimings(t.dial)}`;
  }
  return text;
}
