/**
 * The connection attempts of a dial, one at a time as the scheduler starts
 * them: the control hook, the connect (and with `successPoint: "tls"` the
 * handshake), `connectStart`/`connectDone`, the history record and the
 * outcome handed back to the scheduler.
 *
 * @module
 */

import { formatEndpoint } from "../address.ts";
import { CANCELED, OpError } from "../errors.ts";
import type { AttemptCause, HappyEyeballsEvent } from "../happy_eyeballs.ts";
import { callHook, type Trace } from "../trace.ts";
import type { Endpoint, Family, Network } from "../types.ts";
import { acceptsNeverAborted, NEVER_ABORTED } from "../_shared_signal.ts";
import { closeQuietly, toError } from "./foreign.ts";
import type { Order } from "./order.ts";
import type { DialPlan } from "./plan.ts";
import type { ServiceCandidate } from "../_he3/resolution.ts";
import { serviceInfo } from "./service.ts";
import { handshake, type HandshakeTarget } from "./tls.ts";

/**
 * Fires connectDone, when hooked: the one place its info is built, for the
 * fast path and the scheduler's attempts alike.
 */
export function reportConnectDone(
  trace: Trace | undefined,
  network: Network,
  addr: string,
  family: Family,
  attempt: number,
  error?: Error,
): void {
  if (trace?.connectDone === undefined) return;
  callHook(
    trace,
    "connectDone",
    error === undefined
      ? { network, addr, family, attempt }
      : { network, addr, family, attempt, error },
  );
}

/**
 * Go's error for an attempt the dial's timeout ended:
 * `dial tcp 192.0.2.1:80: i/o timeout`.
 */
export function timeoutError(network: Network, addr: string): OpError {
  return new OpError(
    network,
    new DOMException("i/o timeout", "TimeoutError"),
    { addr },
  );
}

/**
 * What a handshake on attempt `index` reports and offers: with `service`,
 * the ALPN of the record the endpoint came from.
 */
export function handshakeTarget(
  attempt: AttemptRecord<unknown>,
  index: number,
): HandshakeTarget {
  const alpn = attempt.origin?.service?.alpn;
  const target = {
    addr: attempt.addr,
    family: attempt.endpoint.family,
    attempt: index,
  };
  return alpn === undefined ? target : { ...target, alpnProtocols: alpn };
}

/** One attempt of a dial. */
export interface AttemptRecord<C> {
  readonly endpoint: Endpoint;
  readonly addr: string;
  /** Undefined when nothing can cancel the attempt (NEVER_ABORTED). */
  readonly controller: AbortController | undefined;
  /** Connected but not yet handed to the scheduler's verdict. */
  conn: C | undefined;
  /** Cancelled by the race: its outcome is reported as cancelled. */
  cancelled: boolean;
  /** Why the control hook refused it (nothing was sent). */
  refusal?: unknown;
  /** When it started (on the dial's clock), when history records it. */
  startedAt?: number;
  /** Set once it connected or failed. */
  settled?: boolean;
  /**
   * With `successPoint: "tls"`: TCP connected (connectDone has fired) and
   * the handshake is running or ran.
   */
  tcpConnected?: boolean;
  /** With `service`: where the endpoint came from. */
  origin?: ServiceCandidate;
}

/** The run the attempts report to. */
export interface AttemptSink {
  /** Whether the dial has ended. */
  readonly settled: boolean;
  /** Whether the scheduler's actions are being carried out. */
  readonly busy: boolean;
  /** The time the scheduler's current step was stamped with. */
  readonly stepNow: number;
  /** Hands an event to the scheduler. */
  dispatch(event: HappyEyeballsEvent): void;
}

/** The attempts of one dial. */
export class Attempts<C> {
  readonly #plan: DialPlan<C>;
  readonly #order: Order;
  readonly #sink: AttemptSink;
  readonly #list: AttemptRecord<C>[] = [];
  /**
   * Whether attempts take the shared NEVER_ABORTED signal: nothing can
   * cancel them (one IP literal, no signal, timeout, TLS or NAT64) and the
   * dialer accepts it.
   */
  readonly #neverAborted: boolean;

  constructor(plan: DialPlan<C>, order: Order, sink: AttemptSink) {
    this.#plan = plan;
    this.#order = order;
    this.#sink = sink;
    this.#neverAborted = plan.literal !== undefined &&
      plan.nat64 === undefined && plan.signals === undefined &&
      plan.tls === undefined &&
      !(plan.timeout > 0 && plan.timeout !== Infinity) &&
      acceptsNeverAborted(plan.dialer);
  }

  /** Attempt `index`; it has started. */
  get(index: number): AttemptRecord<C> {
    return this.#list[index]!;
  }

  /** Starts attempt `index` to `endpoint`, as the scheduler asked. */
  start(
    index: number,
    endpoint: Endpoint,
    cause: AttemptCause,
    origin?: ServiceCandidate,
  ): void {
    const plan = this.#plan;
    const addr = formatEndpoint(endpoint);
    const controller = this.#neverAborted ? undefined : new AbortController();
    const attempt: AttemptRecord<C> = {
      endpoint,
      addr,
      controller,
      conn: undefined,
      cancelled: false,
    };
    if (origin !== undefined) attempt.origin = origin;
    this.#list[index] = attempt;
    if (this.#order.records) attempt.startedAt = plan.clock.now();
    const trace = plan.trace;
    if (trace?.connectStart !== undefined) {
      const info = this.#order.startInfo(
        plan.network,
        index,
        endpoint,
        addr,
        cause,
      );
      if (origin !== undefined) {
        if (origin.service !== undefined) {
          info.service = serviceInfo(origin.service);
        }
        info.hint = origin.hint;
      }
      callHook(trace, "connectStart", info);
    }
    let promise: Promise<C>;
    if (this.#sink.settled) {
      // The connectStart hook gave the dial up: open nothing.
      attempt.cancelled = true;
      promise = Promise.reject(this.#cancelled(attempt));
    } else if (plan.control !== undefined && !this.#allowed(attempt)) {
      promise = Promise.reject(attempt.refusal);
    } else {
      if (this.#sink.busy && plan.clock.now() > this.#sink.stepNow) {
        // The hooks or the first run of this code took time since the
        // scheduler decided: tell it when the connect really begins.
        this.#sink.dispatch({ type: "started", attempt: index });
      }
      try {
        promise = plan.dialer.connect(endpoint, {
          signal: controller?.signal ?? NEVER_ABORTED,
        });
      } catch (error) {
        promise = Promise.reject(error);
      }
      if (plan.tls?.successPoint === "tls") {
        promise = Promise.resolve(promise).then((conn) =>
          this.#handshake(index, conn)
        );
      }
    }
    Promise.resolve(promise).then(
      (conn) => this.#onConnected(index, conn),
      (error: unknown) => this.#onFailed(index, error),
    );
  }

  /**
   * Cancels a connecting attempt: it lost the race, the dial was aborted
   * (`operation was canceled`) or timed out (`i/o timeout`, as in Go).
   */
  cancel(index: number, timeout: boolean): void {
    const attempt = this.#list[index]!;
    attempt.cancelled = true;
    const { network } = this.#plan;
    // Without a controller (cannot happen: such an attempt is never
    // cancelled), the connection is closed when it lands.
    attempt.controller?.abort(
      timeout
        ? timeoutError(network, attempt.addr)
        : new OpError(network, new Error(CANCELED), { addr: attempt.addr }),
    );
  }

  /** The address of the first attempt still connecting, if any. */
  connecting(): string | undefined {
    for (const attempt of this.#list) {
      if (
        attempt !== undefined && !attempt.settled && !attempt.cancelled &&
        attempt.refusal === undefined
      ) return attempt.addr;
    }
    return undefined;
  }

  /** Closes the connection of an attempt that connected but lost. */
  close(index: number): void {
    const attempt = this.#list[index]!;
    const conn = attempt.conn;
    attempt.conn = undefined;
    if (conn !== undefined) closeQuietly(this.#plan.dialer, conn);
  }

  /** Takes the winner's connection out of its attempt. */
  take(index: number): C {
    const attempt = this.#list[index]!;
    const conn = attempt.conn as C;
    attempt.conn = undefined;
    return conn;
  }

  /**
   * Records as outpaced every attempt still connecting that started before
   * the winner: one started after it connected first.
   */
  rememberOutpaced(winner: number): void {
    for (let i = 0; i < winner; i++) {
      const attempt = this.#list[i];
      if (
        attempt === undefined || attempt.settled ||
        attempt.startedAt === undefined || attempt.refusal !== undefined
      ) continue;
      this.#order.remember(attempt.endpoint, attempt.startedAt, "outpaced");
    }
  }

  /**
   * Asks the control hook; a throw refuses the endpoint. A hook that returns
   * a promise (an `async` function) refuses it too: its verdict would come
   * after the connect, so it fails closed instead of being ignored.
   */
  #allowed(attempt: AttemptRecord<C>): boolean {
    const { network, host } = this.#plan;
    const { addr, endpoint } = attempt;
    let async = false;
    try {
      const ipv4 = this.#order.usesNat64
        ? this.#order.nat64Of(endpoint)
        : undefined;
      const result: unknown = this.#plan.control!(
        ipv4 === undefined
          ? { network, host, addr, endpoint }
          : { network, host, addr, endpoint, ipv4 },
      );
      if (
        typeof result === "object" && result !== null &&
        typeof (result as PromiseLike<unknown>).then === "function"
      ) {
        async = true;
        // Its outcome no longer matters; keep a rejection from going
        // unhandled.
        Promise.resolve(result).catch(() => {});
      }
    } catch (error) {
      attempt.refusal = error ?? new Error("refused by the control hook");
      return false;
    }
    if (async) {
      attempt.refusal = new TypeError(
        "Cannot use the control hook: it returned a promise; it must decide " +
          "synchronously (throw to refuse)",
      );
      return false;
    }
    return true;
  }

  /**
   * `successPoint: "tls"`: the attempt's TCP connect succeeded; its
   * handshake decides whether it connected.
   */
  #handshake(index: number, conn: C): Promise<C> {
    const attempt = this.#list[index]!;
    // Lost while connecting: #onConnected closes it and says cancelled.
    if (attempt.cancelled || this.#sink.settled) return Promise.resolve(conn);
    attempt.tcpConnected = true;
    if (attempt.startedAt !== undefined) {
      this.#order.remember(attempt.endpoint, attempt.startedAt, "connected");
    }
    this.#connectDone(index, undefined);
    return handshake(
      this.#plan,
      handshakeTarget(attempt, index),
      conn,
      attempt.controller!.signal,
    );
  }

  #onConnected(index: number, conn: C): void {
    const attempt = this.#list[index]!;
    attempt.settled = true;
    const tcpReported = attempt.tcpConnected === true;
    // Also a loser's: it connected, and how fast counts.
    if (attempt.startedAt !== undefined && !tcpReported) {
      this.#order.remember(attempt.endpoint, attempt.startedAt, "connected");
    }
    if (attempt.cancelled || this.#sink.settled) {
      // Lost the race (or the dial was given up) while connecting.
      if (!tcpReported) this.#connectDone(index, this.#cancelled(attempt));
      closeQuietly(this.#plan.dialer, conn);
      this.#sink.dispatch({ type: "connected", attempt: index });
      return;
    }
    attempt.conn = conn;
    if (!tcpReported) this.#connectDone(index, undefined);
    this.#sink.dispatch({ type: "connected", attempt: index });
  }

  #onFailed(index: number, error: unknown): void {
    const attempt = this.#list[index]!;
    attempt.settled = true;
    let err: Error;
    if (attempt.cancelled || this.#sink.settled) {
      err = this.#cancelled(attempt);
    } else {
      err = new OpError(this.#plan.network, toError(error), {
        addr: attempt.addr,
      });
      // A refusal by the control hook says nothing about the network, nor
      // does a failed handshake after TCP connected.
      if (attempt.refusal === undefined && !attempt.tcpConnected) {
        if (attempt.startedAt !== undefined) {
          this.#order.remember(attempt.endpoint, attempt.startedAt, "failed");
        }
        if (this.#plan.literal === undefined) {
          this.#tellResolver(attempt.endpoint);
        }
      }
    }
    if (!attempt.tcpConnected) this.#connectDone(index, err);
    this.#sink.dispatch({
      type: "failed",
      attempt: index,
      error: err,
      free: attempt.refusal !== undefined,
    });
  }

  /** Tells a resolver that keeps answers (a cache) that a connect failed. */
  #tellResolver(endpoint: Endpoint): void {
    const resolver = this.#plan.resolver;
    if (typeof resolver.connectFailed !== "function") return;
    if (this.#order.isSynthesized(endpoint)) return; // not its answer
    try {
      const { address, family, zone } = endpoint;
      resolver.connectFailed(
        this.#plan.lookupHost,
        zone === undefined ? { address, family } : { address, family, zone },
      );
    } catch {
      // A resolver's bookkeeping never changes the dial.
    }
  }

  #cancelled(attempt: AttemptRecord<C>): Error {
    const reason = attempt.controller?.signal.reason;
    return reason instanceof OpError ? reason : new OpError(
      this.#plan.network,
      new Error(CANCELED),
      { addr: attempt.addr },
    );
  }

  #connectDone(index: number, error: Error | undefined): void {
    const attempt = this.#list[index]!;
    reportConnectDone(
      this.#plan.trace,
      this.#plan.network,
      attempt.addr,
      attempt.endpoint.family,
      index,
      error,
    );
  }
}
