/**
 * `dial()`: the driver that runs the {@linkcode HappyEyeballs} scheduler with
 * a {@linkcode Resolver}, a {@linkcode Dialer} and a {@linkcode Clock}, and
 * reports every step to the context's {@linkcode Trace}.
 *
 * The steps live in `./_dial/`, in the order a dial takes them: `plan.ts`
 * (options checked, address parsed), `literal.ts` (the IP-literal fast
 * path) or `run.ts` (the scheduler's driver) with `lookups.ts`,
 * `answers.ts`, `order.ts` and `attempts.ts` (`tls.ts` for the handshake).
 *
 * @module
 */

import type { HistoryStore } from "./history.ts";
import { callHook, type ServiceEndpointInfo, type Trace } from "./trace.ts";
import type { Dialer, Family, Network } from "./types.ts";
import { toError } from "./_dial/foreign.ts";
import { currentContext } from "./context.ts";
import { dialLiteral, dialPlain } from "./_dial/literal.ts";
import { type CoreDialOptions, isPlain } from "./_dial/options.ts";
import { historyOf } from "./_dial/order.ts";
import {
  composedTrace,
  type DialPlan,
  plainLiteral,
  planDial,
} from "./_dial/plan.ts";
import { DialRun } from "./_dial/run.ts";

export type {
  CoreDialOptions,
  DialOptions,
  SourceAddressProbe,
} from "./_dial/options.ts";

/**
 * The history store `dial()` uses for a dialer when `options.history` is
 * not given: one per dialer object, made on first use. The runtime
 * adapters export theirs as `history`.
 *
 * @param dialer The dialer.
 * @returns Its store.
 * @throws {TypeError} If `dialer` is not an object.
 *
 * @example Forgetting what a dialer learned
 * ```ts
 * import { type Dialer, dialerHistory } from "@nettrace/nettrace";
 *
 * const dialer: Dialer<string> = {
 *   connect: () => Promise.resolve("conn"),
 *   close: () => {},
 * };
 * dialerHistory(dialer).clear();
 * ```
 */
export function dialerHistory(dialer: Dialer<unknown>): HistoryStore {
  if (
    dialer === null ||
    (typeof dialer !== "object" && typeof dialer !== "function")
  ) {
    throw new TypeError(
      "Cannot find the history of a dialer that is not an object",
    );
  }
  return historyOf(dialer);
}

/**
 * Dials `address` (`host:port`) with RFC 8305 Happy Eyeballs, reporting to
 * the context's trace, like Go's `net.Dialer.DialContext`.
 *
 * Host names are resolved per family (AAAA and A at once), lookups are
 * shared with concurrent dials of the same host through the same resolver,
 * and endpoints are raced: staggered by `attemptDelay`, interleaved by
 * family, the first to connect wins and every other is cancelled or closed.
 *
 * This is the runtime-neutral core: the runtime adapters
 * (`@nettrace/nettrace/deno`, `/bun`, `/node`) export a `dial` with their
 * own resolver and dialer bound.
 *
 * @typeParam C The connection type of the dialer.
 * @param address `host:port`, `[ipv6]:port` or `[ipv6%zone]:port`; the port
 * may be a service name Go knows (`http`, `https`, …).
 * @param options The resolver, the dialer, and how to dial.
 * @returns The winning connection.
 * @throws {AddrError} If `address` cannot be parsed, names no valid host,
 * or has no port or port 0 (nothing is looked up or sent then).
 * @throws {TypeError} If the network is unknown, `address` is not a string,
 * or an option has the wrong type (`attemptDelay: "10"`, a `signal` that is
 * no `AbortSignal`, a `clock` without `setTimeout`…).
 * @throws {RangeError} If an option is out of range.
 * @throws {DialError} If every attempt failed or the lookup did; `errors`
 * has one `OpError` per attempt, in start order.
 * @throws The signal's reason, unchanged, when `signal`, the context or
 * `timeout` aborts the dial.
 *
 * @example Dialing with a fixed resolver and a recording dialer
 * ```ts
 * import { dial, type Dialer, type Endpoint, type Resolver } from "@nettrace/nettrace";
 *
 * const resolver: Resolver = {
 *   lookup: (_host, family) =>
 *     Promise.resolve(family === 4 ? [{ address: "127.0.0.1", family: 4 }] : []),
 * };
 * const dialer: Dialer<Endpoint> = {
 *   connect: (endpoint) => Promise.resolve(endpoint),
 *   close: () => {},
 * };
 * const conn = await dial("db.test:5432", { resolver, dialer });
 * console.log(conn.address); // "127.0.0.1"
 * ```
 */
export function dial<C>(
  address: string,
  options: CoreDialOptions<C>,
): Promise<C> {
  if (isPlain(options)) {
    // The adapters' defaults (checked once, frozen) and a literal dialled
    // before: nothing to plan unless the context brings a signal.
    const fast = dialPlainLiteral(address, options.dialer, undefined);
    if (fast !== undefined) return fast;
  }
  let plan: DialPlan<C>;
  let run: DialRun<C> | undefined;
  try {
    plan = planDial(address, options);
    if (plan.fastEndpoint === undefined) run = new DialRun(plan, options);
  } catch (error) {
    return Promise.reject(error);
  }
  const trace = plan.trace;
  if (trace === undefined) {
    return run === undefined ? dialLiteral(plan) : run.start();
  }
  if (run !== undefined) {
    return traced(
      plan.network,
      address,
      trace,
      () => run.start(),
      () => run.winner,
    );
  }
  const winner = {
    addr: plan.fastAddr,
    family: plan.fastEndpoint!.family,
    attempt: 0,
  };
  return traced(
    plan.network,
    address,
    trace,
    () => dialLiteral(plan),
    () => winner,
  );
}

/**
 * `dial(address, { ...plain, trace })` for the runtime adapters, whose
 * defaults are `plain` (see `markPlain`): an IP literal dialled before
 * with no context signal needs no plan, only the connect and the hooks.
 * Not part of the public API.
 *
 * @param address What dial() was given.
 * @param plain The adapter's plain options.
 * @param trace The caller's trace (`options.trace`, checked by the caller
 * to be an object).
 * @returns The connection.
 *
 * @example An adapter's `dial(address, { trace })`
 * ```ts ignore
 * if (isTraceOnly(options)) return dialTraced(address, defaults, options.trace);
 * ```
 */
export function dialTraced<C>(
  address: string,
  plain: CoreDialOptions<C>,
  trace: Trace | undefined,
): Promise<C> {
  return dialPlainLiteral(address, plain.dialer, trace) ??
    dial(address, { ...plain, trace });
}

/** The plain literal fast path (see dialPlain), or undefined when it does not apply. */
function dialPlainLiteral<C>(
  address: string,
  dialer: Dialer<C>,
  trace: Trace | undefined,
): Promise<C> | undefined {
  const literal = plainLiteral(address);
  if (literal === undefined) return undefined;
  const ctx = currentContext();
  if (ctx.signal !== undefined) return undefined;
  const composed = composedTrace(ctx, trace);
  if (composed === undefined) return dialPlain(dialer, literal);
  const winner = {
    addr: literal.addr,
    family: literal.endpoint.family,
    attempt: 0,
  };
  return traced(
    "tcp",
    address,
    composed,
    () => dialPlain(dialer, literal, composed),
    () => winner,
  );
}

/** What dialDone says of the attempt that won. */
interface Winner {
  readonly addr: string;
  readonly family: Family;
  readonly attempt: number;
  readonly service?: ServiceEndpointInfo;
}

/** A dial between its dialStart and dialDone hooks. */
function traced<C>(
  network: Network,
  address: string,
  trace: Trace,
  start: () => Promise<C>,
  winner: () => Winner,
): Promise<C> {
  if (trace.dialStart !== undefined) {
    callHook(trace, "dialStart", { network, address });
  }
  const promise = start();
  if (trace.dialDone === undefined) return promise;
  return promise.then(
    (conn) => {
      const { addr, family, attempt, service } = winner();
      const info = { network, address, addr, family, attempt };
      callHook(
        trace,
        "dialDone",
        service === undefined ? info : { ...info, service },
      );
      return conn;
    },
    (error: unknown) => {
      callHook(trace, "dialDone", { network, address, error: toError(error) });
      throw error;
    },
  );
}
