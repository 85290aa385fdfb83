/**
 * `dial()`: the driver that runs the {@linkcode HappyEyeballs} scheduler with
 * a {@linkcode Resolver}, a {@linkcode Dialer} and a {@linkcode Clock}, and
 * reports every step to the context's {@linkcode Trace}.
 *
 * @module
 */

import {
  formatEndpoint,
  parseIP,
  parsePort,
  splitHostPort,
} from "./address.ts";
import { type Context, currentContext } from "./context.ts";
import { AddrError, CANCELED, DialError, DNSError, OpError } from "./errors.ts";
import {
  HappyEyeballs,
  type HappyEyeballsAction,
  type HappyEyeballsEvent,
} from "./happy_eyeballs.ts";
import { lookupKey, lookupName } from "./hostname.ts";
import type { Control } from "./policy.ts";
import { Singleflight } from "./singleflight.ts";
import {
  type AttemptCause,
  callHook,
  contextTrace,
  LookupIPAltResolverKey,
  type Trace,
  withTrace,
} from "./trace.ts";
import {
  type Clock,
  type Dialer,
  type Endpoint,
  type Family,
  type IPAddr,
  type Network,
  type Resolver,
  systemClock,
} from "./types.ts";

/** Options for {@linkcode dial} that every runtime adapter takes too. */
export interface DialOptions {
  /**
   * `"tcp"` dials both families, `"tcp4"` and `"tcp6"` only one.
   * @default {"tcp"}
   */
  network?: Network;
  /**
   * The context: its signal aborts the dial, its trace sees it.
   * @default {currentContext()}
   */
  context?: Context;
  /**
   * Aborts the dial: everything in flight stops, whatever connected is
   * closed, and the dial rejects with `signal.reason`.
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Milliseconds for the whole dial, DNS and connects, on `clock`. When it
   * runs out the dial rejects with a `TimeoutError` `DOMException` whose
   * message is Go's (`dial tcp host:80: i/o timeout`). 0 or `Infinity`: none.
   * @default {0}
   */
  timeout?: number;
  /**
   * Hooks for this dial; shorthand for `withTrace(context, trace)`.
   * @default {undefined}
   */
  trace?: Trace;
  /**
   * RFC 8305 Connection Attempt Delay in ms; clamped to [10, 2000].
   * @default {250}
   */
  attemptDelay?: number;
  /**
   * RFC 8305 Resolution Delay in ms.
   * @default {50}
   */
  resolutionDelay?: number;
  /**
   * RFC 8305 First Address Family Count.
   * @default {1}
   */
  firstAddressFamilyCount?: number;
  /**
   * The family tried first.
   * @default {6}
   */
  preferredFamily?: Family;
  /**
   * The clock every delay and the timeout run on.
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * Sees every endpoint after resolution and right before its connect, and
   * refuses it by throwing (Go's `Dialer.Control`); `publicAddressesOnly()`
   * is a ready one against SSRF.
   * @default {undefined}
   */
  control?: Control;
  /**
   * At most this many endpoints are tried in one dial.
   * @default {32}
   */
  maxAttempts?: number;
  /**
   * At most this many attempts are connecting at once.
   * @default {8}
   */
  maxConcurrentAttempts?: number;
}

/** Options for the core {@linkcode dial}: what to resolve and connect with. */
export interface CoreDialOptions<C> extends DialOptions {
  /**
   * Resolves host names; a resolver under `LookupIPAltResolverKey` on the
   * context replaces it.
   */
  resolver: Resolver;
  /** Opens single connections. */
  dialer: Dialer<C>;
}

const NETWORKS: ReadonlySet<string> = new Set(["tcp", "tcp4", "tcp6"]);

/** One flight group per resolver: lookups are shared per (resolver, host, family). */
const flights = new WeakMap<Resolver, Singleflight<IPAddr[]>>();

function flightsOf(resolver: Resolver): Singleflight<IPAddr[]> {
  let sf = flights.get(resolver);
  if (sf === undefined) {
    sf = new Singleflight<IPAddr[]>();
    flights.set(resolver, sf);
  }
  return sf;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function checkOptions(network: unknown, options: DialOptions): void {
  if (typeof network !== "string" || !NETWORKS.has(network)) {
    throw new TypeError(
      `Cannot dial on network ${
        JSON.stringify(network)
      }: unknown network (use "tcp", "tcp4" or "tcp6")`,
    );
  }
  const { timeout } = options;
  if (
    timeout !== undefined &&
    (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0)
  ) {
    throw new RangeError(
      `Cannot use timeout ${timeout}: it must be a number of ms ≥ 0`,
    );
  }
  for (const name of ["attemptDelay", "resolutionDelay"] as const) {
    const value = options[name];
    if (
      value !== undefined &&
      (typeof value !== "number" || Number.isNaN(value) || value < 0)
    ) {
      throw new RangeError(
        `Cannot use ${name} ${value}: it must be a number of ms ≥ 0`,
      );
    }
  }
  const count = options.firstAddressFamilyCount;
  if (count !== undefined && (!Number.isInteger(count) || count < 1)) {
    throw new RangeError(
      `Cannot use firstAddressFamilyCount ${count}: it must be an integer ≥ 1`,
    );
  }
  const preferred = options.preferredFamily;
  if (preferred !== undefined && preferred !== 4 && preferred !== 6) {
    throw new RangeError(
      `Cannot use preferredFamily ${preferred}: it must be 4 or 6`,
    );
  }
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
 * @throws {AddrError} If `address` cannot be parsed or the port is invalid.
 * @throws {TypeError} If the network is unknown or `address` not a string.
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
  let run: DialRun<C>;
  try {
    run = new DialRun(address, options);
  } catch (error) {
    return Promise.reject(error);
  }
  return run.start();
}

interface AttemptRecord<C> {
  readonly endpoint: Endpoint;
  readonly addr: string;
  readonly controller: AbortController;
  /** Connected but not yet handed to the scheduler's verdict. */
  conn: C | undefined;
  /** Cancelled by the race: its outcome is reported as cancelled. */
  cancelled: boolean;
  /** Why the control hook refused it (nothing was sent). */
  refusal?: unknown;
}

interface LookupRecord {
  readonly family: Family;
  readonly key: string;
  settled: boolean;
  shared: boolean;
}

/** One dial in progress. */
class DialRun<C> {
  readonly #network: Network;
  readonly #address: string;
  readonly #host: string;
  readonly #resolver: Resolver;
  readonly #dialer: Dialer<C>;
  readonly #clock: Clock;
  readonly #trace: Trace | undefined;
  readonly #timeout: number;
  readonly #signals: AbortSignal[] = [];
  readonly #scheduler: HappyEyeballs;
  readonly #attempts: AttemptRecord<C>[] = [];
  readonly #literal: IPAddr | undefined;
  /** The name sent to the resolver: ASCII (IDNA) form of the host. */
  #lookupHost = "";
  readonly #control: Control | undefined;
  readonly #families: readonly Family[];
  #lookups: LookupRecord[] = [];
  /** Aborted when this dial no longer wants its lookups. */
  #lookupController: AbortController | undefined;
  #dnsAddrs: IPAddr[] | undefined;
  #dnsDone = false;
  #timer: unknown;
  #timeoutTimer: unknown;
  #queue: HappyEyeballsEvent[] = [];
  #busy = false;
  #settled = false;
  #resolve!: (conn: C) => void;
  #reject!: (error: unknown) => void;
  readonly #onAbort = (event: Event): void => {
    this.#abort((event.target as AbortSignal).reason);
  };

  constructor(address: string, options: CoreDialOptions<C>) {
    if (typeof address !== "string") {
      throw new TypeError(
        `Cannot dial ${String(address)}: the address must be a string`,
      );
    }
    if (options === null || typeof options !== "object") {
      throw new TypeError(
        "Cannot dial without options: pass a resolver and a dialer",
      );
    }
    const network = options.network ?? "tcp";
    checkOptions(network, options);
    const { resolver, dialer } = options;
    if (typeof dialer?.connect !== "function") {
      throw new TypeError(
        "Cannot dial without a dialer: options.dialer.connect is not a function",
      );
    }
    const [host, service] = splitHostPort(address);
    let port: number;
    try {
      port = parsePort(service, "tcp");
    } catch (error) {
      if (error instanceof DNSError) {
        throw new DialError([new OpError(network, error)]);
      }
      throw error;
    }
    this.#network = network;
    this.#address = address;
    this.#host = host;
    this.#dialer = dialer;
    this.#clock = options.clock ?? systemClock;
    this.#timeout = options.timeout ?? 0;
    if (
      options.control !== undefined && typeof options.control !== "function"
    ) {
      throw new TypeError("Cannot use options.control: it is not a function");
    }
    this.#control = options.control;

    let ctx = options.context ?? currentContext();
    if (options.trace !== undefined) ctx = withTrace(ctx, options.trace);
    this.#trace = contextTrace(ctx);
    this.#resolver = ctx.value(LookupIPAltResolverKey) ?? resolver;
    if (ctx.signal !== undefined) this.#signals.push(ctx.signal);
    if (options.signal !== undefined) this.#signals.push(options.signal);

    const families: Family[] = network === "tcp4"
      ? [4]
      : network === "tcp6"
      ? [6]
      : (options.preferredFamily ?? 6) === 6
      ? [6, 4]
      : [4, 6];

    if (host === "") {
      // Go dials the local system for an empty host.
      this.#literal = families[0] === 4
        ? { address: "127.0.0.1", family: 4 }
        : { address: "::1", family: 6 };
    } else {
      this.#literal = parseIP(host);
      if (this.#literal === undefined) {
        this.#lookupHost = lookupName(host);
        if (typeof this.#resolver?.lookup !== "function") {
          throw new TypeError(
            "Cannot resolve without a resolver: options.resolver.lookup is not a function",
          );
        }
      }
    }
    if (this.#literal !== undefined) {
      if (!families.includes(this.#literal.family)) {
        throw new DialError([
          new OpError(
            network,
            new AddrError("no suitable address found", host),
          ),
        ]);
      }
      this.#families = [this.#literal.family];
    } else {
      this.#families = families;
    }
    this.#scheduler = new HappyEyeballs({
      port,
      families: this.#families,
      attemptDelay: options.attemptDelay,
      resolutionDelay: options.resolutionDelay,
      firstAddressFamilyCount: options.firstAddressFamilyCount,
      preferredFamily: options.preferredFamily,
      maxAttempts: options.maxAttempts,
      maxConcurrentAttempts: options.maxConcurrentAttempts,
    });
  }

  start(): Promise<C> {
    for (const signal of this.#signals) {
      if (signal.aborted) return Promise.reject(signal.reason);
    }
    const promise = new Promise<C>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    for (const signal of this.#signals) {
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    if (this.#timeout > 0 && this.#timeout !== Infinity) {
      this.#timeoutTimer = this.#clock.setTimeout(() => {
        this.#timeoutTimer = undefined;
        this.#abort(
          new DOMException(
            `dial ${this.#network} ${this.#address}: i/o timeout`,
            "TimeoutError",
          ),
        );
      }, this.#timeout);
    }
    if (this.#literal !== undefined) {
      this.#dnsDone = true;
      this.#dispatch({
        type: "answer",
        family: this.#literal.family,
        addrs: [this.#literal],
      });
    } else {
      this.#startLookups();
    }
    return promise;
  }

  #startLookups(): void {
    const host = this.#host;
    this.#dnsAddrs = [];
    if (this.#trace?.dnsStart !== undefined) {
      callHook(this.#trace, "dnsStart", { host });
      // The hook may have aborted the dial (dnsDone has fired then).
      if (this.#settled) return;
    }
    const sf = flightsOf(this.#resolver);
    const controller = new AbortController();
    this.#lookupController = controller;
    const name = this.#lookupHost;
    const key = lookupKey(name);
    for (const family of this.#families) {
      const record: LookupRecord = {
        family,
        key: `${family} ${key}`,
        settled: false,
        shared: false,
      };
      this.#lookups.push(record);
      const resolver = this.#resolver;
      sf.do(
        record.key,
        (signal) => resolver.lookup(name, family, { signal }),
        { signal: controller.signal },
      ).then(
        ({ value, shared }) => {
          record.settled = true;
          record.shared = shared;
          if (this.#settled) return;
          const addrs = this.#acceptAddrs(value, family);
          this.#dnsAddrs!.push(...addrs);
          this.#maybeDNSDone();
          this.#dispatch({ type: "answer", family, addrs });
        },
        (error: unknown) => {
          record.settled = true;
          if (this.#settled) return;
          const err = error instanceof DNSError
            ? error
            : new DNSError(toError(error).message, host, { cause: error });
          this.#lookupErrorValue ??= err;
          this.#maybeDNSDone();
          this.#dispatch({ type: "lookupFailed", family, error: err });
        },
      );
    }
  }

  /** Keeps the resolver's answers that are IP addresses of `family`. */
  /**
   * Keeps the resolver's answers that are IP addresses of `family`, each
   * once (also in other spellings: `::0001` is `::1`). Anything else — not
   * an address, the other family, a bad zone — is dropped, so a resolver
   * returning garbage cannot crash a dial. An IPv4-mapped address in an
   * AAAA answer is an IPv4 address, as in Go.
   */
  #acceptAddrs(value: unknown, family: Family): IPAddr[] {
    const out: IPAddr[] = [];
    if (!Array.isArray(value)) return out;
    const seen = new Set<string>();
    for (const item of value as unknown[]) {
      const record = item as { address?: unknown; zone?: unknown } | null;
      const text = typeof item === "string"
        ? item
        : typeof record?.address === "string"
        ? record.address
        : undefined;
      if (text === undefined) continue;
      let ip = parseIP(text);
      if (ip === undefined) continue;
      if (
        ip.family === 6 && ip.zone === undefined &&
        typeof record?.zone === "string" && record.zone !== ""
      ) {
        ip = parseIP(`${ip.address}%${record.zone}`);
        if (ip === undefined) continue;
      }
      if (
        ip.family !== family &&
        !(family === 6 && ip.family === 4 && text.includes(":"))
      ) continue;
      const key = ip.zone === undefined
        ? ip.address
        : `${ip.address}%${ip.zone}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(ip);
    }
    return out;
  }

  #maybeDNSDone(): void {
    if (this.#dnsDone) return;
    for (const lookup of this.#lookups) if (!lookup.settled) return;
    this.#fireDNSDone(undefined);
  }

  /** Fires dnsDone once; `endReason` set when the dial ended first. */
  #fireDNSDone(endReason: Error | undefined): void {
    if (this.#dnsDone) return;
    this.#dnsDone = true;
    const trace = this.#trace;
    if (trace?.dnsDone === undefined) return;
    const coalesced = this.#endCoalesced ?? this.#isCoalesced();
    const addrs = this.#dnsAddrs!.slice();
    let error: Error | undefined;
    if (addrs.length === 0) {
      error = endReason ?? this.#lookupError();
    }
    callHook(
      trace,
      "dnsDone",
      error === undefined
        ? { host: this.#host, addrs, coalesced }
        : { host: this.#host, addrs, coalesced, error },
    );
  }

  #lookupErrorValue: DNSError | undefined;
  /** `coalesced` as it was when the dial ended, before it left its lookups. */
  #endCoalesced: boolean | undefined;

  /** Whether a lookup of this dial was (or still is) shared with another caller. */
  #isCoalesced(): boolean {
    const sf = flightsOf(this.#resolver);
    for (const lookup of this.#lookups) {
      if (lookup.settled ? lookup.shared : sf.waiters(lookup.key) > 1) {
        return true;
      }
    }
    return false;
  }

  /** The error of a lookup that found nothing, as Go reports it. */
  #lookupError(): DNSError {
    return this.#lookupErrorValue ??
      new DNSError("no such host", this.#host, { isNotFound: true });
  }

  #dispatch(event: HappyEyeballsEvent): void {
    this.#queue.push(event);
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#queue.length > 0) {
        const next = this.#queue.shift()!;
        const actions = this.#scheduler.step(this.#clock.now(), next);
        // Copy: carrying out an action may re-enter step() through a hook.
        for (const action of actions.slice()) this.#carryOut(action);
      }
    } finally {
      this.#busy = false;
    }
  }

  #carryOut(action: HappyEyeballsAction): void {
    switch (action.type) {
      case "start":
        this.#startAttempt(action.attempt, action.endpoint, action.cause);
        break;
      case "cancel": {
        const attempt = this.#attempts[action.attempt]!;
        attempt.cancelled = true;
        attempt.controller.abort(
          new OpError(
            this.#network,
            new Error(CANCELED),
            { addr: attempt.addr },
          ),
        );
        break;
      }
      case "close": {
        const attempt = this.#attempts[action.attempt]!;
        const conn = attempt.conn;
        attempt.conn = undefined;
        if (conn !== undefined) this.#close(conn);
        break;
      }
      case "wake":
        this.#setWake(action.at);
        break;
      case "won": {
        const attempt = this.#attempts[action.attempt]!;
        const conn = attempt.conn as C;
        attempt.conn = undefined;
        this.#finish();
        this.#fireDNSDone(undefined);
        this.#resolve(conn);
        break;
      }
      case "failed": {
        this.#finish();
        this.#fireDNSDone(undefined);
        let errors: Error[];
        if (this.#scheduler.attempts > 0) {
          errors = action.errors;
        } else {
          // No attempt: the lookup failed. One error per distinct text, so
          // NXDOMAIN on both families reads once, as in Go.
          const seen = new Set<string>();
          errors = [];
          for (
            const e of action.errors.length > 0
              ? action.errors
              : [this.#lookupError()]
          ) {
            const op = new OpError(this.#network, e);
            if (!seen.has(op.message)) {
              seen.add(op.message);
              errors.push(op);
            }
          }
        }
        this.#reject(new DialError(errors));
        break;
      }
    }
  }

  #setWake(at: number | undefined): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (at === undefined) return;
    const delay = Math.max(0, at - this.#clock.now());
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#dispatch({ type: "timer" });
    }, delay);
  }

  #startAttempt(index: number, endpoint: Endpoint, cause: AttemptCause): void {
    const addr = formatEndpoint(endpoint);
    const controller = new AbortController();
    const attempt: AttemptRecord<C> = {
      endpoint,
      addr,
      controller,
      conn: undefined,
      cancelled: false,
    };
    this.#attempts[index] = attempt;
    const trace = this.#trace;
    if (trace?.connectStart !== undefined) {
      callHook(trace, "connectStart", {
        network: this.#network,
        addr,
        family: endpoint.family,
        attempt: index,
        cause,
      });
    }
    let promise: Promise<C>;
    if (this.#settled) {
      // The connectStart hook gave the dial up: open nothing.
      attempt.cancelled = true;
      promise = Promise.reject(this.#cancelled(attempt));
    } else if (this.#control !== undefined && !this.#allowed(attempt)) {
      promise = Promise.reject(attempt.refusal);
    } else {
      try {
        promise = this.#dialer.connect(endpoint, { signal: controller.signal });
      } catch (error) {
        promise = Promise.reject(error);
      }
    }
    Promise.resolve(promise).then(
      (conn) => this.#onConnected(index, conn),
      (error: unknown) => this.#onAttemptFailed(index, error),
    );
  }

  /** Asks the control hook; a throw refuses the endpoint. */
  #allowed(attempt: AttemptRecord<C>): boolean {
    try {
      this.#control!({
        network: this.#network,
        host: this.#host,
        addr: attempt.addr,
        endpoint: attempt.endpoint,
      });
      return true;
    } catch (error) {
      attempt.refusal = error;
      return false;
    }
  }

  #onConnected(index: number, conn: C): void {
    const attempt = this.#attempts[index]!;
    if (attempt.cancelled || this.#settled) {
      // Lost the race (or the dial was given up) while connecting.
      this.#connectDone(index, this.#cancelled(attempt));
      this.#close(conn);
      this.#dispatch({ type: "connected", attempt: index });
      return;
    }
    attempt.conn = conn;
    this.#connectDone(index, undefined);
    this.#dispatch({ type: "connected", attempt: index });
  }

  #onAttemptFailed(index: number, error: unknown): void {
    const attempt = this.#attempts[index]!;
    let err: Error;
    if (attempt.cancelled || this.#settled) {
      err = this.#cancelled(attempt);
    } else {
      err = new OpError(this.#network, toError(error), { addr: attempt.addr });
    }
    this.#connectDone(index, err);
    this.#dispatch({
      type: "failed",
      attempt: index,
      error: err,
      free: attempt.refusal !== undefined,
    });
  }

  #cancelled(attempt: AttemptRecord<C>): Error {
    const reason = attempt.controller.signal.reason;
    return reason instanceof OpError
      ? reason
      : new OpError(this.#network, new Error(CANCELED), { addr: attempt.addr });
  }

  #connectDone(index: number, error: Error | undefined): void {
    const trace = this.#trace;
    if (trace?.connectDone === undefined) return;
    const attempt = this.#attempts[index]!;
    const info = {
      network: this.#network,
      addr: attempt.addr,
      family: attempt.endpoint.family,
      attempt: index,
    };
    callHook(
      trace,
      "connectDone",
      error === undefined ? info : { ...info, error },
    );
  }

  #close(conn: C): void {
    try {
      this.#dialer.close(conn);
    } catch {
      // A close that throws has nothing left to release.
    }
  }

  #abort(reason: unknown): void {
    if (this.#settled) return;
    this.#dispatch({ type: "abort" });
    this.#finish();
    const isTimeout = reason instanceof DOMException &&
      reason.name === "TimeoutError";
    this.#fireDNSDone(
      isTimeout
        ? new DNSError("i/o timeout", this.#host, {
          isTimeout: true,
          cause: reason,
        })
        : new DNSError(CANCELED, this.#host, { cause: reason }),
    );
    this.#reject(reason);
  }

  /** Releases everything the dial holds; attempts are cancelled by the scheduler. */
  #finish(): void {
    this.#settled = true;
    for (const signal of this.#signals) {
      signal.removeEventListener("abort", this.#onAbort);
    }
    if (this.#timeoutTimer !== undefined) {
      this.#clock.clearTimeout(this.#timeoutTimer);
      this.#timeoutTimer = undefined;
    }
    this.#setWake(undefined);
    if (!this.#dnsDone && this.#trace?.dnsDone !== undefined) {
      // Leaving the lookups below drops this dial from their waiters.
      this.#endCoalesced = this.#isCoalesced();
    }
    this.#lookupController?.abort(new DNSError(CANCELED, this.#host));
  }
}
