/**
 * Dial events on `node:diagnostics_channel`, so that an APM (or any other
 * observer) sees every dial of every adapter without a code change: one
 * channel per trace hook, named in undici's `library:subject:event` style
 * (`nettrace:dial:start`, `nettrace:connect:done`, …; the whole list is
 * {@linkcode DIAGNOSTICS_CHANNELS}). Shared by the three adapters, whose
 * `dial()` starts with `options = withDiagnostics(address, options)`
 * ({@linkcode withDiagnostics}: {@linkcode diagnosticTrace} composed before
 * the user's trace with {@linkcode composeTraces}).
 *
 * Each message is the hook's info plus what ties the events of one dial
 * together: a `dialId` (a process-wide counter), the `network` and
 * `address` as dialled, the dial's `startTime` and the event's `time`
 * (`performance.now()`).
 *
 * When no channel has a subscriber, {@linkcode diagnosticTrace} reads nine
 * `hasSubscribers` properties and returns `undefined` (1–2 ns in a hot
 * loop on each runtime): no trace, no allocation, no message. With
 * subscribers, only the hooks whose channel has one are set, so the core
 * skips the work of the others (a `connectStart` hook makes it explain the
 * order of every attempt).
 *
 * Plain channels, not a `TracingChannel`: Deno, Bun and Node all have
 * `tracingChannel()`, but Bun's has no `hasSubscribers`, its
 * `start`/`asyncEnd` pair would wrap the adapter's call (firing before the
 * arguments are checked, unlike `dialStart`) and it covers the dial only:
 * the DNS, connect and TLS events would still need channels of their own.
 *
 * A subscriber that throws changes nothing about the dial:
 * `diagnostics_channel` itself calls the other subscribers and rethrows the
 * error on a later tick, where it reaches `process.on("uncaughtException")`
 * on all three runtimes. With no such listener, Node and Bun then end the
 * process (as for any uncaught exception) and Deno drops the error
 * (Deno 2.9, Bun 1.4, Node 24).
 *
 * @module
 */

import { type Channel, channel } from "node:diagnostics_channel";
import type {
  ConnectDoneInfo,
  ConnectStartInfo,
  DialDoneInfo,
  DialStartInfo,
  DNSAnswerInfo,
  DNSDoneInfo,
  DNSStartInfo,
  HookName,
  TLSHandshakeDoneInfo,
  TLSHandshakeStartInfo,
  Trace,
} from "../src/trace.ts";
import { HOOK_NAMES } from "../src/trace.ts";
import type { Network } from "../src/types.ts";

/**
 * The channel each trace hook publishes on. Subscribe with
 * `diagnostics_channel.subscribe(name, fn)` (or
 * `diagnostics_channel.channel(name).subscribe(fn)`).
 *
 * | hook                | channel                  |
 * | ------------------- | ------------------------ |
 * | `dialStart`         | `nettrace:dial:start`    |
 * | `dnsStart`          | `nettrace:dns:start`     |
 * | `dnsAnswer`         | `nettrace:dns:answer`    |
 * | `dnsDone`           | `nettrace:dns:done`      |
 * | `connectStart`      | `nettrace:connect:start` |
 * | `connectDone`       | `nettrace:connect:done`  |
 * | `tlsHandshakeStart` | `nettrace:tls:start`     |
 * | `tlsHandshakeDone`  | `nettrace:tls:done`      |
 * | `dialDone`          | `nettrace:dial:done`     |
 *
 * @example Logging every failed attempt in the process
 * ```ts
 * import { subscribe } from "node:diagnostics_channel";
 *
 * subscribe("nettrace:connect:done", (message) => {
 *   const { dialId, addr, error } = message as {
 *     dialId: number;
 *     addr: string;
 *     error?: Error;
 *   };
 *   if (error !== undefined) console.log(`dial #${dialId}: ${addr}`, error);
 * });
 * ```
 */
export const DIAGNOSTICS_CHANNELS: Readonly<Record<HookName, string>> = Object
  .freeze({
    dialStart: "nettrace:dial:start",
    dnsStart: "nettrace:dns:start",
    dnsAnswer: "nettrace:dns:answer",
    dnsDone: "nettrace:dns:done",
    connectStart: "nettrace:connect:start",
    connectDone: "nettrace:connect:done",
    tlsHandshakeStart: "nettrace:tls:start",
    tlsHandshakeDone: "nettrace:tls:done",
    dialDone: "nettrace:dial:done",
  });

/**
 * What every diagnostics message carries, besides the hook's info.
 *
 * @example Measuring how long each dial took
 * ```ts
 * import { subscribe } from "node:diagnostics_channel";
 *
 * subscribe("nettrace:dial:done", (message) => {
 *   const { dialId, address, startTime, time } = message as {
 *     dialId: number;
 *     address: string;
 *     startTime: number;
 *     time: number;
 *   };
 *   console.log(`dial #${dialId} of ${address}: ${time - startTime} ms`);
 * });
 * ```
 */
export interface DiagnosticsBase {
  /**
   * The dial's number: the same on every message of one dial, unique in
   * the process (counted from 1 over the dials that had a subscriber).
   */
  dialId: number;
  /** The network as dialled (`"tcp"`, `"tcp4"`, `"tcp6"`). */
  network: Network;
  /** The address as dialled (`host:port`). */
  address: string;
  /** When the dial started (`performance.now()`, ms). */
  startTime: number;
  /** When this event happened (`performance.now()`, ms). */
  time: number;
}

/**
 * The message of each channel: the hook's info and
 * {@linkcode DiagnosticsBase}, by hook name.
 *
 * @example Typing a subscriber
 * ```ts
 * import { subscribe } from "node:diagnostics_channel";
 *
 * type ConnectStart = {
 *   dialId: number;
 *   addr: string;
 *   cause: string;
 * };
 * subscribe("nettrace:connect:start", (message) => {
 *   const { dialId, addr, cause } = message as ConnectStart;
 *   console.log(dialId, addr, cause);
 * });
 * ```
 */
export interface DiagnosticsMessages {
  /** On `nettrace:dial:start`. */
  dialStart: DiagnosticsBase & DialStartInfo;
  /** On `nettrace:dns:start`. */
  dnsStart: DiagnosticsBase & DNSStartInfo;
  /** On `nettrace:dns:answer`. */
  dnsAnswer: DiagnosticsBase & DNSAnswerInfo;
  /** On `nettrace:dns:done`. */
  dnsDone: DiagnosticsBase & DNSDoneInfo;
  /** On `nettrace:connect:start`. */
  connectStart: DiagnosticsBase & ConnectStartInfo;
  /** On `nettrace:connect:done`. */
  connectDone: DiagnosticsBase & ConnectDoneInfo;
  /** On `nettrace:tls:start`. */
  tlsHandshakeStart: DiagnosticsBase & TLSHandshakeStartInfo;
  /** On `nettrace:tls:done`. */
  tlsHandshakeDone: DiagnosticsBase & TLSHandshakeDoneInfo;
  /** On `nettrace:dial:done`. */
  dialDone: DiagnosticsBase & DialDoneInfo;
}

// The channels, held: Node keeps channels weakly, and a held channel makes
// `hasSubscribers` one read.
const dialStartChannel = channel(DIAGNOSTICS_CHANNELS.dialStart);
const dnsStartChannel = channel(DIAGNOSTICS_CHANNELS.dnsStart);
const dnsAnswerChannel = channel(DIAGNOSTICS_CHANNELS.dnsAnswer);
const dnsDoneChannel = channel(DIAGNOSTICS_CHANNELS.dnsDone);
const connectStartChannel = channel(DIAGNOSTICS_CHANNELS.connectStart);
const connectDoneChannel = channel(DIAGNOSTICS_CHANNELS.connectDone);
const tlsStartChannel = channel(DIAGNOSTICS_CHANNELS.tlsHandshakeStart);
const tlsDoneChannel = channel(DIAGNOSTICS_CHANNELS.tlsHandshakeDone);
const dialDoneChannel = channel(DIAGNOSTICS_CHANNELS.dialDone);

// By the core's hook list; `channel(name)` gives the very objects held above.
const CHANNELS: readonly Channel[] = HOOK_NAMES.map((hook) =>
  channel(DIAGNOSTICS_CHANNELS[hook])
);

let lastDialId = 0;

/**
 * Options for {@linkcode diagnosticTrace}.
 *
 * @example A clock of one's own
 * ```ts ignore
 * import type { DiagnosticTraceOptions } from "./_diagnostics.ts";
 *
 * const options: DiagnosticTraceOptions = { now: () => Date.now() };
 * ```
 */
export interface DiagnosticTraceOptions {
  /**
   * The clock of `startTime` and `time` (tests pass a virtual clock's).
   * @default {() => performance.now()}
   */
  now?: () => number;
}

/**
 * The trace that publishes one dial's events on the
 * {@linkcode DIAGNOSTICS_CHANNELS}, or `undefined` when no channel has a
 * subscriber (nine property reads; nothing is allocated). Call it once per
 * dial, as the dial starts: it takes the next `dialId` and the
 * `startTime`. Only the hooks whose channel has a subscriber are set; a
 * subscriber added during a dial hears from the next one.
 *
 * @param network The network as dialled (`options.network ?? "tcp"`).
 * @param address The address as dialled.
 * @param options The clock.
 * @returns The trace, or `undefined` when nobody listens.
 *
 * @example Inside an adapter's dial
 * ```ts ignore
 * import { composeTraces, diagnosticTrace } from "./_diagnostics.ts";
 *
 * const diag = diagnosticTrace(options.network ?? "tcp", address);
 * if (diag !== undefined) {
 *   options = {
 *     ...options,
 *     trace: options.trace === undefined
 *       ? diag
 *       : composeTraces(diag, options.trace),
 *   };
 * }
 * ```
 */
export function diagnosticTrace(
  network: Network,
  address: string,
  options?: DiagnosticTraceOptions,
): Trace | undefined {
  if (
    !dialStartChannel.hasSubscribers && !dnsStartChannel.hasSubscribers &&
    !dnsAnswerChannel.hasSubscribers && !dnsDoneChannel.hasSubscribers &&
    !connectStartChannel.hasSubscribers &&
    !connectDoneChannel.hasSubscribers && !tlsStartChannel.hasSubscribers &&
    !tlsDoneChannel.hasSubscribers && !dialDoneChannel.hasSubscribers
  ) return undefined;
  const now = options?.now ?? performanceNow;
  const dialId = ++lastDialId;
  const startTime = now();
  const trace: Trace = {};
  for (let i = 0; i < HOOK_NAMES.length; i++) {
    const ch = CHANNELS[i]!;
    if (!ch.hasSubscribers) continue;
    (trace as Record<HookName, (info: object) => void>)[HOOK_NAMES[i]!] = (
      info,
    ) => {
      // Checked again: the subscriber may have left since the dial began.
      if (!ch.hasSubscribers) return;
      ch.publish({
        ...info,
        dialId,
        network,
        address,
        startTime,
        time: now(),
      });
    };
  }
  return trace;
}

function performanceNow(): number {
  return performance.now();
}

/**
 * What {@linkcode withDiagnostics} reads and sets of a dial's options.
 *
 * @example Any adapter's options fit
 * ```ts ignore
 * import type { DiagnosticsDialOptions } from "./_diagnostics.ts";
 *
 * const options: DiagnosticsDialOptions = { network: "tcp4" };
 * ```
 */
export interface DiagnosticsDialOptions {
  /**
   * The network as dialled.
   * @default {"tcp"}
   */
  network?: Network;
  /**
   * The user's hooks for this dial.
   * @default {undefined}
   */
  trace?: Trace;
}

/**
 * An adapter's `dial()` options with the diagnostics trace added: the
 * very `options` given (also `undefined`) when no channel has a
 * subscriber; otherwise a copy whose `trace` is the
 * {@linkcode diagnosticTrace}, composed before the user's `trace` when
 * there is one. A `trace` that is not an object is left as it is, for the
 * core to reject as ever (no messages then: the dial never starts).
 *
 * @param address The address as dialled.
 * @param options The adapter's options.
 * @returns The options to dial with.
 *
 * @example The first line of an adapter's dial
 * ```ts ignore
 * import { withDiagnostics } from "./_diagnostics.ts";
 *
 * export function dial(address: string, options?: RuntimeDialOptions) {
 *   options = withDiagnostics(address, options);
 *   if (options === undefined) return coreDial(address, defaults);
 *   // …as before
 * }
 * ```
 */
export function withDiagnostics<O extends DiagnosticsDialOptions>(
  address: string,
  options: O | undefined,
): O | undefined {
  const diag = diagnosticTrace(options?.network ?? "tcp", address);
  if (diag === undefined) return options;
  const trace = options?.trace;
  if (trace === undefined) return { ...options, trace: diag } as O;
  if (typeof trace !== "object" || trace === null) return options;
  return { ...options, trace: composeTraces(diag, trace) } as O;
}

/**
 * One trace that calls `first`'s hook, then `second`'s, with the same
 * info; each hook is called on its own trace object. Only the hooks that
 * either has are set. An error thrown by `first`'s hook skips nothing:
 * `second`'s still runs, and the error is thrown on once it has (the core
 * reports it as a hook error). A promise returned by `second`'s hook is
 * returned, so that the core reports its rejection.
 *
 * The adapters put the diagnostics trace first, so that its `time` is not
 * delayed by the user's hooks.
 *
 * @param first The hooks that run first.
 * @param second The hooks that run next.
 * @returns The composed trace.
 *
 * @example Diagnostics and a user trace on one dial
 * ```ts ignore
 * import { composeTraces, diagnosticTrace } from "./_diagnostics.ts";
 *
 * const diag = diagnosticTrace("tcp", "db.test:5432");
 * const mine = { connectStart: () => console.log("connecting") };
 * const trace = diag === undefined ? mine : composeTraces(diag, mine);
 * ```
 */
export function composeTraces(first: Trace, second: Trace): Trace {
  const composed: Trace = {};
  for (const hook of HOOK_NAMES) {
    const a = first[hook] as ((info: unknown) => unknown) | undefined;
    const b = second[hook] as ((info: unknown) => unknown) | undefined;
    if (a === undefined && b === undefined) continue;
    let fn: (info: unknown) => unknown;
    if (b === undefined) fn = (info) => a!.call(first, info);
    else if (a === undefined) fn = (info) => b.call(second, info);
    else {
      fn = (info) => {
        let failed = false;
        let error: unknown;
        try {
          a.call(first, info);
        } catch (e) {
          failed = true;
          error = e;
        }
        const result = b.call(second, info);
        if (failed) throw error;
        return result;
      };
    }
    (composed as Record<HookName, unknown>)[hook] = fn;
  }
  return composed;
}
