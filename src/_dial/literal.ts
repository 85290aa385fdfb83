/**
 * The IP-literal fast path: a dial of an IP literal that nothing but a
 * timeout can abort and no control hook, TLS or NAT64 applies to is one
 * attempt, started at once (cause `first`), whose outcome is the dial's.
 * It does what the scheduler-driven path does for such a dial — the same
 * hooks with the same info, the same `DialError` — without the scheduler,
 * the event queue or, without a timeout, an `AbortController` (a dialer
 * that accepts it gets the shared NEVER_ABORTED signal): a loopback connect
 * takes only tens of microseconds, so that bookkeeping showed in the
 * benchmarks.
 *
 * @module
 */

import { DialError, OpError } from "../errors.ts";
import { acceptsNeverAborted, NEVER_ABORTED } from "../_shared_signal.ts";
import { literalConnectOf } from "../_literal_connect.ts";
import { callHook, type Trace } from "../trace.ts";
import type { Dialer, Endpoint, Family, Network } from "../types.ts";
import { reportConnectDone, timeoutError } from "./attempts.ts";
import { closeQuietly, toError } from "./foreign.ts";
import { type DialPlan, literalFailure, type PlainLiteral } from "./plan.ts";

/** Calls `dialer.connect`; a connect that throws is a rejection. */
function connect<C>(
  dialer: Dialer<C>,
  endpoint: Endpoint,
  signal: AbortSignal,
): Promise<C> {
  try {
    return Promise.resolve(dialer.connect(endpoint, { signal }));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The signal of an attempt nothing can cancel. */
function uncancellable(dialer: Dialer<unknown>): AbortSignal {
  return acceptsNeverAborted(dialer)
    ? NEVER_ABORTED
    : new AbortController().signal;
}

/** Fires the fast attempt's connectStart. */
function reportStart(
  trace: Trace,
  network: Network,
  addr: string,
  family: Family,
): void {
  if (trace.connectStart === undefined) return;
  callHook(trace, "connectStart", {
    network,
    addr,
    family,
    attempt: 0,
    cause: "first",
  });
}

/**
 * The fast path's one attempt with its connectStart and connectDone; a
 * failure rejects with the dial's `DialError`.
 */
function connectTraced<C>(
  dialer: Dialer<C>,
  endpoint: Endpoint,
  network: Network,
  addr: string,
  trace: Trace,
): Promise<C> {
  const family = endpoint.family;
  reportStart(trace, network, addr, family);
  return connect(dialer, endpoint, uncancellable(dialer)).then(
    (conn) => {
      reportConnectDone(trace, network, addr, family, 0);
      return conn;
    },
    (error: unknown) => {
      const err = new OpError(network, toError(error), { addr });
      reportConnectDone(trace, network, addr, family, 0, err);
      throw new DialError([err]);
    },
  );
}

/**
 * Dials `plan.fastEndpoint` (see the module doc); with a `timeout` one
 * controller and one timer stand in for the scheduler.
 */
export function dialLiteral<C>(plan: DialPlan<C>): Promise<C> {
  if (plan.timeout > 0 && plan.timeout !== Infinity) return dialTimed(plan);
  const { trace, dialer, network, fastAddr: addr } = plan;
  const endpoint = plan.fastEndpoint!;
  if (trace === undefined) {
    const fast = plan.fastFailed === undefined
      ? undefined
      : literalConnectOf<C>(dialer);
    if (fast !== undefined) return fast(endpoint, plan.fastFailed!);
    // Success passes straight through; only a failure needs the address.
    return connect(dialer, endpoint, uncancellable(dialer)).then(
      undefined,
      plan.fastFailed ?? literalFailure(network, addr),
    );
  }
  return connectTraced(dialer, endpoint, network, addr, trace);
}

/**
 * The fast path with a `timeout` (one that fits one timer). As on the
 * scheduler path, the timeout cancels the attempt and the dial rejects
 * with the `TimeoutError` at once; the attempt's `connectDone` follows
 * when the dialer lets go of it.
 */
function dialTimed<C>(plan: DialPlan<C>): Promise<C> {
  const { network, trace, dialer, clock, fastAddr: addr } = plan;
  const endpoint = plan.fastEndpoint!;
  const family = endpoint.family;
  const controller = new AbortController();
  let timedOut = false;
  return new Promise<C>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      timedOut = true;
      // Go names the attempt that timed out, in the dial's error and in
      // the attempt's own.
      controller.abort(timeoutError(network, addr));
      reject(
        new DOMException(
          `dial ${network} ${addr}: i/o timeout`,
          "TimeoutError",
        ),
      );
    }, plan.timeout);
    if (trace !== undefined) reportStart(trace, network, addr, family);
    connect(dialer, endpoint, controller.signal).then(
      (conn) => {
        if (timedOut) {
          const reason = controller.signal.reason as Error;
          reportConnectDone(trace, network, addr, family, 0, reason);
          closeQuietly(dialer, conn);
          return;
        }
        clock.clearTimeout(timer);
        reportConnectDone(trace, network, addr, family, 0);
        resolve(conn);
      },
      (error: unknown) => {
        if (timedOut) {
          const reason = controller.signal.reason as Error;
          reportConnectDone(trace, network, addr, family, 0, reason);
          return;
        }
        clock.clearTimeout(timer);
        const err = new OpError(network, toError(error), { addr });
        reportConnectDone(trace, network, addr, family, 0, err);
        reject(new DialError([err]));
      },
    );
  });
}

/**
 * The fast path of a dial with plain options (see `markPlain`: their
 * dialer accepts the NEVER_ABORTED signal) of a literal dialled before,
 * when the context has no signal: no plan, only the connect, and with a
 * trace its connectStart and connectDone.
 *
 * @param dialer The plain options' dialer.
 * @param literal The address's cached endpoint and failure.
 * @param trace The dial's trace, if it has one.
 * @returns The connection.
 */
export function dialPlain<C>(
  dialer: Dialer<C>,
  literal: PlainLiteral,
  trace?: Trace,
): Promise<C> {
  if (trace !== undefined) {
    return connectTraced(dialer, literal.endpoint, "tcp", literal.addr, trace);
  }
  const fast = literalConnectOf<C>(dialer);
  if (fast !== undefined) return fast(literal.endpoint, literal.failed.tcp);
  return connect(dialer, literal.endpoint, NEVER_ABORTED).then(
    undefined,
    literal.failed.tcp,
  );
}
