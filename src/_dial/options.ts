/**
 * What a dial can be asked to do ({@linkcode DialOptions}), and the one
 * place those options are checked.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { acceptsNeverAborted } from "../_shared_signal.ts";
import { checkNumber, checkSchedulerOptions } from "../happy_eyeballs.ts";
import type { HistoryStore } from "../history.ts";
import type { Control } from "../policy.ts";
import type { SourceAddress } from "../rfc6724.ts";
import type { Trace } from "../trace.ts";
import type {
  Clock,
  Dialer,
  Family,
  IPAddr,
  Network,
  Resolver,
  TLSOptions,
} from "../types.ts";
import { isSignal, shown } from "./foreign.ts";
import { checkTLS } from "./tls.ts";

/**
 * Options for {@linkcode dial} that every runtime adapter takes too.
 *
 * @example Options shared by every adapter
 * ```ts
 * import type { DialOptions } from "@nettrace/nettrace";
 *
 * const options: DialOptions = {
 *   network: "tcp4",
 *   timeout: 5_000,
 *   attemptDelay: 100,
 *   trace: { connectStart: ({ addr }) => console.log("connect", addr) },
 * };
 * ```
 */
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
   * Milliseconds for the whole dial, DNS, connects and a TLS handshake, on
   * `clock`. When it runs out the dial rejects with a `TimeoutError`
   * `DOMException` whose message names what timed out, as Go's does: the
   * attempt still connecting (`dial tcp 192.0.2.1:80: i/o timeout`, the
   * first one if several are), else the lookup (`dial tcp: lookup h.test:
   * i/o timeout`); each attempt it ends reports the same `i/o timeout` in
   * its `connectDone`. 0 or `Infinity`: none.
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
   * is a ready one against SSRF. It must decide synchronously: one that
   * returns a promise (an `async` function) refuses every endpoint.
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
  /**
   * Connection history (RFC 8305 §4): how recent attempts to each address
   * of a host ended, and how long their connects took. A dial of a host
   * name sorts addresses that failed (or were outpaced) in the last `ttl`
   * after the others, prefers lower connect times and addresses used
   * before, lets the family that worked lead, and derives the attempt
   * delay from the measured connect time (RFC 8305 §5: twice it, 100 ms to
   * 2 s). Records are kept per resolver, host name and address. `false`:
   * none is read or written.
   * @default {one HistoryStore per dialer object (see dialerHistory)}
   */
  history?: HistoryStore | false;
  /**
   * NAT64 (RFC 8305 §7), for IPv6-only networks: an IPv4 literal, or a name
   * with A records only, is dialled through the IPv6 address synthesised
   * under the NAT64 prefix (RFC 6052) as well. `true` discovers the prefix
   * from the AAAA answers for `ipv4only.arpa` (RFC 7050) through the
   * dial's resolver; `{ prefix: "64:ff9b::/96" }` gives it. 0/8, 127/8,
   * 169.254/16 and 255.255.255.255 are never synthesised. Answers under
   * the Well-Known Prefix `64:ff9b::/96` (or a known prefix) are sorted as
   * the IPv4 address they carry either way.
   * @default {false}
   */
  nat64?: { prefix?: string } | boolean;
  /**
   * Tells which source address the system would use for a destination
   * (RFC 6724's Source(D)): `null` when it has none (no route), undefined
   * when it cannot tell. With it the RFC 6724 rules that need the source
   * (1: unusable, 2: matching scope, 3: deprecated, 4: home address, 5:
   * matching label, 7: native transport, 9: longest matching prefix) sort
   * the answers too. The runtime adapters pass a `node:dgram` probe that
   * connects a UDP socket to the destination and reads its local address
   * (nothing is sent).
   * @default {undefined in the core; the UDP probe in the runtime adapters}
   */
  sourceAddress?: SourceAddressProbe;
  /**
   * Dial TLS: after the TCP race (or, with `successPoint: "tls"`, inside
   * each attempt) the dialer's `startTls` runs one handshake, reported by
   * the `tlsHandshakeStart`/`tlsHandshakeDone` hooks; a failed handshake
   * is a `DialError` whose `OpError` holds a `TLSError`. The `timeout`,
   * `signal` and context cover the handshake too.
   * @default {undefined (plain TCP)}
   */
  tls?: TLSOptions;
  /**
   * Happy Eyeballs v3 (draft-ietf-happy-happyeyeballs-v3): ask for the
   * host's service records with the addresses — `"https"` (HTTPS records;
   * `_PORT._https` on a port other than 443), or `{ scheme }` (SVCB records
   * of `_PORT._scheme`) — when the resolver has `lookupService`. The service
   * query goes out just before AAAA and A; the race starts by the draft's
   * move-on rule (a failed or slow service query never holds it past the
   * Resolution Delay); endpoints are grouped by service priority (equal
   * priorities in random order: `random` replaces `Math.random`), with the
   * host's own addresses last; each record's `port` is dialled and its ALPN
   * (intersected with `tls.alpnProtocols`) offered; records whose ALPN
   * shares nothing with the caller's are not tried; address hints stand in
   * until the target's own answers arrive. Without it (or with a resolver
   * that has no `lookupService`, or an IP literal) the dial is RFC 8305's,
   * unchanged.
   * @default {false}
   */
  service?: "https" | { scheme: string; random?: () => number } | false;
}

/**
 * Finds Source(D) for {@linkcode DialOptions.sourceAddress}.
 *
 * @param destination The address to be dialled.
 * @param options A signal aborted when the dial no longer needs the answer.
 * @returns The source address, `null` for none, undefined for unknown.
 *
 * @example A probe for a host with only IPv4 loopback
 * ```ts
 * import type { DialOptions, SourceAddressProbe } from "@nettrace/nettrace";
 *
 * const sourceAddress: SourceAddressProbe = (destination) =>
 *   destination.family === 4 ? { address: "127.0.0.1", family: 4 } : null;
 * const options: DialOptions = { sourceAddress };
 * ```
 */
export type SourceAddressProbe = (
  destination: IPAddr,
  options: { signal: AbortSignal },
) =>
  | SourceAddress
  | null
  | undefined
  | Promise<SourceAddress | null | undefined>;

/**
 * Options for the core {@linkcode dial}: what to resolve and connect with.
 *
 * @example Dialling with an in-memory resolver and dialer
 * ```ts
 * import { type CoreDialOptions, dial, type Endpoint } from "@nettrace/nettrace";
 *
 * const options: CoreDialOptions<Endpoint> = {
 *   network: "tcp4",
 *   resolver: { lookup: () => Promise.resolve([]) },
 *   dialer: { connect: (endpoint) => Promise.resolve(endpoint), close() {} },
 * };
 * const endpoint = await dial("127.0.0.1:80", options);
 * console.log(endpoint.port); // 80
 * ```
 */
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

/**
 * Checks `network` and every option of a dial, first to last, so the first
 * wrong one is the one reported.
 *
 * @throws {TypeError} If the network is unknown or an option has the wrong
 * type.
 * @throws {RangeError} If an option is out of range.
 */
export function checkOptions(network: unknown, options: DialOptions): void {
  if (
    network !== "tcp" && network !== "tcp4" && network !== "tcp6" &&
    (typeof network !== "string" || !NETWORKS.has(network))
  ) {
    throw new TypeError(
      `Cannot dial on network ${
        shown(network)
      }: unknown network (use "tcp", "tcp4" or "tcp6")`,
    );
  }
  const { timeout } = options;
  if (
    checkNumber("timeout", timeout) && (Number.isNaN(timeout) || timeout < 0)
  ) {
    throw new RangeError(
      `Cannot use timeout ${timeout}: it must be a number of ms ≥ 0`,
    );
  }
  checkSchedulerOptions(options);
  if (options.signal !== undefined && !isSignal(options.signal)) {
    throw new TypeError(
      `Cannot use options.signal ${
        shown(options.signal)
      }: it is not an AbortSignal`,
    );
  }
  const { clock } = options;
  if (
    clock !== undefined && clock !== null &&
    (typeof clock.now !== "function" ||
      typeof clock.setTimeout !== "function" ||
      typeof clock.clearTimeout !== "function")
  ) {
    throw new TypeError(
      "Cannot use options.clock: it needs now(), setTimeout() and clearTimeout()",
    );
  }
  const { context } = options;
  if (
    context !== undefined &&
    (typeof context !== "object" || context === null ||
      typeof context.value !== "function")
  ) {
    throw new TypeError(
      `Cannot use options.context ${shown(context)}: it is not a Context`,
    );
  }
  const { trace } = options;
  if (trace !== undefined && (typeof trace !== "object" || trace === null)) {
    throw new TypeError(
      `Cannot use options.trace ${shown(trace)}: it is not a Trace object`,
    );
  }
  if (
    options.control !== undefined && typeof options.control !== "function"
  ) {
    throw new TypeError("Cannot use options.control: it is not a function");
  }
  const { history } = options;
  if (
    history !== undefined && history !== false &&
    (typeof history !== "object" || history === null ||
      typeof history.record !== "function" ||
      typeof history.host !== "function" ||
      typeof history.attemptDelay !== "function")
  ) {
    throw new TypeError(
      `Cannot use options.history ${
        shown(history)
      }: it is not a HistoryStore or false`,
    );
  }
  checkTLS(options.tls);
  const { nat64 } = options;
  if (
    nat64 !== undefined && typeof nat64 !== "boolean" &&
    (typeof nat64 !== "object" || nat64 === null ||
      (nat64.prefix !== undefined && typeof nat64.prefix !== "string"))
  ) {
    throw new TypeError(
      `Cannot use options.nat64 ${
        shown(nat64)
      }: use true, false or { prefix: "64:ff9b::/96" }`,
    );
  }
  if (
    options.sourceAddress !== undefined &&
    typeof options.sourceAddress !== "function"
  ) {
    throw new TypeError(
      "Cannot use options.sourceAddress: it is not a function",
    );
  }
  checkService(options.service);
}

/** Checks `options.service`, if given. */
function checkService(service: DialOptions["service"]): void {
  if (service === undefined || service === false || service === "https") {
    return;
  }
  if (
    typeof service !== "object" || service === null ||
    typeof service.scheme !== "string" ||
    !/^[a-z][a-z0-9+.-]*$/i.test(service.scheme) ||
    (service.random !== undefined && typeof service.random !== "function")
  ) {
    throw new TypeError(
      `Cannot use options.service ${
        shown(service)
      }: use "https", false or { scheme: "https", random?: () => number }`,
    );
  }
}

// Options objects checked once and frozen (markPlain): a dial with one of
// them skips the checks.
const PLAIN = new WeakSet<object>();

/**
 * Checks `options` once and freezes it, so that every dial given this very
 * object skips the checks (they cannot change: it is frozen and holds only
 * a resolver, a dialer and a source-address probe): the runtime adapters'
 * defaults. Not part of the public API.
 *
 * @param options A resolver, a dialer and a source-address probe.
 * @returns The same object, frozen.
 * @throws {TypeError} If it holds anything else or a part has the wrong type.
 *
 * @example The adapter's defaults
 * ```ts ignore
 * const defaults = markPlain({ resolver, dialer, sourceAddress });
 * ```
 */
export function markPlain<O extends CoreDialOptions<unknown>>(options: O): O {
  for (const key of Object.keys(options)) {
    if (key !== "resolver" && key !== "dialer" && key !== "sourceAddress") {
      throw new TypeError(`Cannot mark options with ${key} as plain`);
    }
  }
  checkOptions("tcp", options);
  if (!acceptsNeverAborted(options.dialer ?? {})) {
    throw new TypeError(
      "Cannot mark options as plain: the dialer must accept NEVER_ABORTED",
    );
  }
  PLAIN.add(Object.freeze(options));
  return options;
}

/**
 * Whether `options` went through {@linkcode markPlain}.
 *
 * @param options What dial() was given.
 * @returns `true` for a plain options object.
 *
 * @example Skipping the checks
 * ```ts ignore
 * if (!isPlain(options)) checkOptions(network, options);
 * ```
 */
export function isPlain(options: object): boolean {
  return PLAIN.has(options);
}

/**
 * Whether `options` sets nothing but a trace object (or nothing at all):
 * the adapters then dial with their plain defaults and that trace
 * (`dialTraced`). Not part of the public API.
 *
 * @param options What an adapter's dial() was given.
 * @returns `true` when `options.trace` is the only key and is an object or
 * undefined; a wrong trace is left to the checks of the full path.
 *
 * @example Taking the short way
 * ```ts ignore
 * if (isTraceOnly(options)) return dialTraced(address, defaults, options.trace);
 * ```
 */
export function isTraceOnly(options: DialOptions): boolean {
  for (const key in options) if (key !== "trace") return false;
  const { trace } = options;
  return trace === undefined || (typeof trace === "object" && trace !== null);
}
