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
import { type HistoryRecord, HistoryStore } from "./history.ts";
import {
  discoverNat64Prefixes,
  IPV4ONLY_ARPA,
  nat64Embedded,
  type Nat64Prefix,
  parseNat64Prefix,
  synthesizeNat64,
} from "./nat64.ts";
import {
  comparePrepared,
  DEFAULT_POLICY_TABLE,
  type OrderRule,
  type PolicyEntry,
  PREFER_IPV4_POLICY_TABLE,
  type PreparedDestination,
  prepareDestination,
  preparedRule,
  type SourceAddress,
} from "./rfc6724.ts";
import type { Control } from "./policy.ts";
import { Singleflight } from "./singleflight.ts";
import { isCached } from "./_cached_answer.ts";
import { acceptsNeverAborted, NEVER_ABORTED } from "./_shared_signal.ts";
import {
  type AttemptCause,
  callHook,
  type ConnectStartInfo,
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
  type TLSOptions,
  type TLSResult,
} from "./types.ts";

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

// The families a dial waits for, by network and preference: shared, never
// written to.
const FAMILIES_4: readonly Family[] = [4];
const FAMILIES_6: readonly Family[] = [6];
const FAMILIES_64: readonly Family[] = [6, 4];
const FAMILIES_46: readonly Family[] = [4, 6];
const NO_SIGNALS: readonly AbortSignal[] = [];
/** Shared by every addEventListener call of a dial. */
const ONCE: AddEventListenerOptions = { once: true };

/**
 * How many entries of one resolver answer are read: more than any DNS
 * message can carry (a 64 KiB message holds about 4,000 A records), few
 * enough that a resolver returning `new Array(2 ** 32 - 1)` cannot stall a
 * dial.
 */
const MAX_ANSWER_ENTRIES = 65_536;

/**
 * What dial() made of an address it has dialled before: `splitHostPort`,
 * `parsePort`, `parseIP` and `lookupName` are pure, and a program dials the
 * same few addresses again and again, so each is worked out once. Only
 * addresses that parsed are kept (a bad one throws every time); at most
 * {@linkcode MAX_PARSED}, then the table starts over.
 */
interface ParsedAddress {
  readonly host: string;
  readonly port: number;
  /** `parseIP(host)` once asked; `null` when the host is a name. */
  ip?: IPAddr | null;
  /** `lookupName(host)` once it succeeded. */
  lookupHost?: string;
  /** `host:port` of the literal as trace hooks and errors show it. */
  addr?: string;
  /** Per network, what a failed connect to the literal rejects with. */
  failed?: Partial<Record<Network, (error: unknown) => never>>;
}

/**
 * What a dial of an IP literal on the fast path does when its one connect
 * fails: rejects with the `DialError` the scheduler-driven path makes.
 */
function literalFailure(
  network: Network,
  addr: string,
): (error: unknown) => never {
  return (error) => {
    throw new DialError([new OpError(network, toError(error), { addr })]);
  };
}

const PARSED = new Map<string, ParsedAddress>();
const MAX_PARSED = 1024;

/** The default history store of each dialer object. */
const histories = new WeakMap<object, HistoryStore>();

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
  let store = histories.get(dialer);
  if (store === undefined) {
    store = new HistoryStore();
    histories.set(dialer, store);
  }
  return store;
}

/** Key of an address in history and in the per-dial tables. */
function addrKey(ip: IPAddr): string {
  return ip.zone === undefined ? ip.address : `${ip.address}%${ip.zone}`;
}

/**
 * The family whose answer a dial waits for first: the preferred one, unless
 * history says every recent attempt to it failed and one of the other
 * family connected (RFC 8305 §4: what failed sorts after what worked).
 */
function historyFamily(
  known: ReadonlyMap<string, HistoryRecord>,
  preferred: Family,
): Family {
  let preferredSeen = false;
  let preferredWorked = false;
  let otherWorked = false;
  for (const [address, record] of known) {
    const family = address.includes(":") ? 6 : 4;
    const worked = record.outcome === "connected";
    if (family === preferred) {
      preferredSeen = true;
      if (worked) preferredWorked = true;
    } else if (worked) otherWorked = true;
  }
  return preferredSeen && !preferredWorked && otherWorked
    ? (preferred === 6 ? 4 : 6)
    : preferred;
}

/** At most this many addresses of one answer are probed for their source. */
const MAX_PROBES = 32;

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

/**
 * The longest delay the platforms' `setTimeout` takes: a longer one fires
 * at once (Node warns, Deno, Bun and browsers stay silent), so longer
 * delays are waited for in steps of this.
 */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** Text for any thrown value, also one whose `toString` throws. */
function describeValue(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return "a value that cannot be printed";
    }
  }
}

function toError(value: unknown): Error {
  return value instanceof Error
    ? value
    : new Error(describeValue(value), { cause: value });
}

/** How a wrong option value is shown in an error message. */
function shown(value: unknown): string {
  return typeof value === "string"
    ? JSON.stringify(value)
    : typeof value === "bigint"
    ? `${value}n`
    : describeValue(value);
}

function checkNumber(name: string, value: unknown): value is number {
  if (value === undefined) return false;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot use ${name} ${shown(value)}: it must be a number, not ${
        value === null ? "null" : `a ${typeof value}`
      }`,
    );
  }
  return true;
}

function isSignal(value: unknown): value is AbortSignal {
  const signal = value as AbortSignal | null;
  return typeof signal === "object" && signal !== null &&
    typeof signal.aborted === "boolean" &&
    typeof signal.addEventListener === "function" &&
    typeof signal.removeEventListener === "function";
}

/** The longest ALPN protocol name (RFC 7301 §3.1). */
const MAX_ALPN_BYTES = 255;

/** A fully qualified name's trailing dot is not part of the TLS name. */
function trimDot(name: string): string {
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

function checkTLS(tls: TLSOptions | undefined): void {
  if (tls === undefined) return;
  if (typeof tls !== "object" || tls === null) {
    throw new TypeError(
      `Cannot use options.tls ${shown(tls)}: it is not a TLSOptions object`,
    );
  }
  const { serverName, alpnProtocols, caCerts, successPoint } = tls;
  if (
    serverName !== undefined &&
    (typeof serverName !== "string" || serverName === "")
  ) {
    throw new TypeError(
      `Cannot use tls.serverName ${
        shown(serverName)
      }: it must be a non-empty string`,
    );
  }
  if (alpnProtocols !== undefined) {
    if (!Array.isArray(alpnProtocols)) {
      throw new TypeError(
        `Cannot use tls.alpnProtocols ${
          shown(alpnProtocols)
        }: it must be an array of strings`,
      );
    }
    for (const protocol of alpnProtocols) {
      if (
        typeof protocol !== "string" || protocol === "" ||
        new TextEncoder().encode(protocol).length > MAX_ALPN_BYTES
      ) {
        throw new TypeError(
          `Cannot use the ALPN protocol ${
            shown(protocol)
          }: it must be a string of 1–255 bytes`,
        );
      }
    }
  }
  if (
    caCerts !== undefined &&
    (!Array.isArray(caCerts) || caCerts.some((c) => typeof c !== "string"))
  ) {
    throw new TypeError(
      `Cannot use tls.caCerts ${
        shown(caCerts)
      }: it must be an array of PEM strings`,
    );
  }
  if (
    successPoint !== undefined && successPoint !== "tcp" &&
    successPoint !== "tls"
  ) {
    throw new TypeError(
      `Cannot use tls.successPoint ${
        shown(successPoint)
      }: it must be "tcp" or "tls"`,
    );
  }
}

function checkOptions(network: unknown, options: DialOptions): void {
  if (typeof network !== "string" || !NETWORKS.has(network)) {
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
  for (const name of ["attemptDelay", "resolutionDelay"] as const) {
    const value = options[name];
    if (checkNumber(name, value) && (Number.isNaN(value) || value < 0)) {
      throw new RangeError(
        `Cannot use ${name} ${value}: it must be a number of ms ≥ 0`,
      );
    }
  }
  const count = options.firstAddressFamilyCount;
  if (
    checkNumber("firstAddressFamilyCount", count) &&
    (!Number.isInteger(count) || count < 1)
  ) {
    throw new RangeError(
      `Cannot use firstAddressFamilyCount ${count}: it must be an integer ≥ 1`,
    );
  }
  for (const name of ["maxAttempts", "maxConcurrentAttempts"] as const) {
    const value = options[name];
    if (
      checkNumber(name, value) &&
      (!(Number.isInteger(value) || value === Infinity) || value < 1)
    ) {
      throw new RangeError(
        `Cannot use ${name} ${value}: it must be an integer ≥ 1`,
      );
    }
  }
  const preferred = options.preferredFamily;
  if (
    checkNumber("preferredFamily", preferred) && preferred !== 4 &&
    preferred !== 6
  ) {
    throw new RangeError(
      `Cannot use preferredFamily ${preferred}: it must be 4 or 6`,
    );
  }
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
}

/** A lookup outcome of one family, as the scheduler takes it. */
type FamilyEvent = Extract<HappyEyeballsEvent, { family: Family }>;

interface LookupRecord {
  readonly family: Family;
  readonly key: string;
  settled: boolean;
  shared: boolean;
  /** Answered (or refused) from a cache. */
  cached: boolean;
  /** Answered with addresses, not an error. */
  answered: boolean;
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
  /** The signals that abort the dial (the context's, the caller's). */
  #signals: AbortSignal[] | undefined;
  /** Undefined when the dial takes the literal fast path. */
  readonly #scheduler: HappyEyeballs | undefined;
  /**
   * The one endpoint of a dial of an IP literal that nothing can abort and
   * no control hook checks: such a dial skips the scheduler (see
   * `#dialLiteral`).
   */
  readonly #fastEndpoint: Endpoint | undefined;
  /** `formatEndpoint(#fastEndpoint)`, kept with the parsed address. */
  readonly #fastAddr: string = "";
  /** `literalFailure(network, #fastAddr)`, kept with the parsed address. */
  readonly #fastFailed: ((error: unknown) => never) | undefined;
  readonly #attempts: AttemptRecord<C>[] = [];
  readonly #literal: IPAddr | undefined;
  /** The name sent to the resolver: ASCII (IDNA) form of the host. */
  #lookupHost = "";
  readonly #control: Control | undefined;
  readonly #families: readonly Family[];
  // ── ordering (RFC 6724, RFC 8305 §4 history, §7 NAT64) ──
  /** Where attempt outcomes go; undefined when off or for a literal. */
  #history: HistoryStore | undefined;
  /** The host's history when the dial started, by address. */
  #known: ReadonlyMap<string, HistoryRecord> | undefined;
  /** The host name as history keys it. */
  #historyHost = "";
  #policyTable: readonly PolicyEntry[] = DEFAULT_POLICY_TABLE;
  /** The rule inputs of each address, computed on first comparison. */
  #prepared: Map<string, PreparedDestination> | undefined;
  /** Source(D) of the probed addresses; `null`: none. */
  #sources: Map<string, SourceAddress | null> | undefined;
  #probe: SourceAddressProbe | undefined;
  /** The family whose answer the scheduler waits for. */
  #gate: Family = 6;
  /** Set when history made `#gate` the other family (RFC 8305 §4). */
  #gateFromHistory = false;
  /** Families with an address handed to the scheduler: bit 1 IPv4, 2 IPv6. */
  #offeredFamilies = 0;
  /** Addresses handed to the scheduler, when connectStart wants `sortedBy`. */
  #offered: Map<string, IPAddr> | undefined;
  #started: Set<string> | undefined;
  /** NAT64 when on; `prefixes` undefined while the discovery runs. */
  #nat64: { prefixes: Nat64Prefix[] | undefined } | undefined;
  /** Synthesised IPv6 address → the IPv4 address it stands for. */
  #synthesized: Map<string, string> | undefined;
  /** The A answer, kept for NAT64 synthesis. */
  #answer4: IPAddr[] | undefined;
  /** The AAAA outcome held back until the synthesis can run. */
  #held6: FamilyEvent | undefined;
  #lookups: LookupRecord[] = [];
  /** Aborted when this dial no longer wants its lookups. */
  #lookupController: AbortController | undefined;
  /** Probes and NAT64 discoveries in flight under #lookupController. */
  #working = 0;
  #dnsAddrs: IPAddr[] | undefined;
  #dnsDone = false;
  #timer: unknown;
  #timeoutTimer: unknown;
  /** Events that arrived while one was being handled. */
  #queue: HappyEyeballsEvent[] | undefined;
  #busy = false;
  /** The time the scheduler's current step was stamped with. */
  #stepNow = 0;
  #settled = false;
  /** The TLS settings; undefined for plain TCP. */
  readonly #tls: TLSOptions | undefined;
  /** The name (or IP text) the certificate is checked against. */
  #serverName = "";
  /** Aborts the winner's handshake (`successPoint: "tcp"`) while it runs. */
  #handshake: AbortController | undefined;
  /** The winning attempt, once there is one. */
  #winner = -1;
  #resolve!: (conn: C) => void;
  #reject!: (error: unknown) => void;

  /**
   * The abort listener of the dial's signals: the run itself is the
   * listener object, so listening allocates no function.
   *
   * @param event The signal's `abort` event.
   */
  handleEvent(event: Event): void {
    this.#abort((event.target as AbortSignal).reason);
  }

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
    let parsed = PARSED.get(address);
    if (parsed === undefined) {
      // Go: `dial tcp: missing address`.
      if (address === "") throw new AddrError("missing address", "");
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
      // Port 0 is for listening. Go would send a SYN to port 0 (Linux
      // refuses it only on loopback) and Deno's connect rejects it with a
      // text of its own: refused here, before anything is sent.
      if (service === "") {
        throw new AddrError("missing port in address", address);
      }
      if (port === 0) throw new AddrError("invalid port", service);
      if (PARSED.size >= MAX_PARSED) PARSED.clear();
      parsed = { host, port };
      PARSED.set(address, parsed);
    }
    const { host, port } = parsed;
    this.#network = network;
    this.#address = address;
    this.#host = host;
    this.#dialer = dialer;
    this.#clock = options.clock ?? systemClock;
    this.#timeout = options.timeout ?? 0;
    this.#control = options.control;
    this.#tls = options.tls;
    if (this.#tls !== undefined && typeof dialer.startTls !== "function") {
      throw new TypeError(
        "Cannot dial TLS: options.dialer.startTls is not a function",
      );
    }

    const ctx = options.context ?? currentContext();
    // The trace of withTrace(ctx, options.trace), without making that child
    // context when the context has no trace of its own (the child's resolver
    // and signal are ctx's anyway).
    const older = contextTrace(ctx);
    this.#trace = options.trace === undefined
      ? older
      : older === undefined
      ? options.trace
      : contextTrace(withTrace(ctx, options.trace));
    this.#resolver = ctx.value(LookupIPAltResolverKey) ?? resolver;
    if (ctx.signal !== undefined) {
      if (!isSignal(ctx.signal)) {
        throw new TypeError(
          "Cannot use the context: its signal is not an AbortSignal",
        );
      }
      (this.#signals ??= []).push(ctx.signal);
    }
    if (options.signal !== undefined) {
      (this.#signals ??= []).push(options.signal);
    }

    const families = network === "tcp4"
      ? FAMILIES_4
      : network === "tcp6"
      ? FAMILIES_6
      : (options.preferredFamily ?? 6) === 6
      ? FAMILIES_64
      : FAMILIES_46;
    const nat64 = options.nat64;
    if (nat64 !== undefined && nat64 !== false) {
      const prefix = typeof nat64 === "object" ? nat64.prefix : undefined;
      this.#nat64 = {
        prefixes: prefix === undefined ? undefined : [parseNat64Prefix(prefix)],
      };
    }

    if (host === "") {
      // Go dials the local system for an empty host.
      this.#literal = families[0] === 4
        ? { address: "127.0.0.1", family: 4 }
        : { address: "::1", family: 6 };
    } else {
      if (parsed.ip === undefined) parsed.ip = parseIP(host) ?? null;
      this.#literal = parsed.ip ?? undefined;
      if (this.#literal === undefined) {
        this.#lookupHost = parsed.lookupHost ??= lookupName(host);
        if (typeof this.#resolver?.lookup !== "function") {
          throw new TypeError(
            "Cannot resolve without a resolver: options.resolver.lookup is not a function",
          );
        }
      }
    }
    if (this.#tls !== undefined) {
      this.#serverName = this.#tls.serverName ??
        (this.#literal !== undefined
          ? this.#literal.address
          : trimDot(this.#lookupHost));
    }
    // RFC 8305 §7.1: with NAT64 an IPv4 literal is dialled through its
    // synthesised IPv6 address too.
    const viaNat64 = this.#nat64 !== undefined &&
      this.#literal?.family === 4 && families.includes(6);
    if (this.#literal !== undefined && !viaNat64) {
      if (!families.includes(this.#literal.family)) {
        throw new DialError([
          new OpError(
            network,
            new AddrError("no suitable address found", host),
          ),
        ]);
      }
      this.#families = this.#literal.family === 4 ? FAMILIES_4 : FAMILIES_6;
    } else {
      this.#families = families;
    }
    if (
      !viaNat64 &&
      this.#literal !== undefined && this.#signals === undefined &&
      !(this.#timeout > MAX_TIMER_DELAY && this.#timeout !== Infinity) &&
      this.#control === undefined && this.#tls === undefined
    ) {
      // The endpoint the scheduler would make of the literal's answer.
      const { address, family, zone } = this.#literal;
      this.#fastEndpoint = zone === undefined
        ? { address, family, port }
        : { address, family, zone, port };
      if (host === "") {
        this.#fastAddr = formatEndpoint(this.#fastEndpoint);
      } else {
        // Made once per address and network, so a dial allocates no closure.
        const addr = parsed.addr ??= formatEndpoint(this.#fastEndpoint);
        this.#fastAddr = addr;
        const failed = parsed.failed ??= {};
        this.#fastFailed = failed[network] ??= literalFailure(network, addr);
      }
      return;
    }
    let gate: Family = options.preferredFamily ?? 6;
    if (options.preferredFamily === 4) {
      this.#policyTable = PREFER_IPV4_POLICY_TABLE; // RFC 6724 §10.3
    }
    this.#probe = options.sourceAddress;
    if (this.#literal === undefined && options.history !== false) {
      const history = options.history ?? dialerHistory(dialer);
      this.#history = history;
      this.#historyHost = lookupKey(this.#lookupHost);
      const known = history.host(
        this.#resolver,
        this.#historyHost,
        this.#clock.now(),
      );
      if (known.size > 0) {
        this.#known = known;
        if (this.#families.length === 2) {
          gate = historyFamily(known, gate);
          this.#gateFromHistory = gate !== (options.preferredFamily ?? 6);
        }
      }
    }
    this.#gate = gate;
    const ordered = this.#literal === undefined || viaNat64;
    this.#scheduler = new HappyEyeballs({
      port,
      families: this.#families,
      attemptDelay: options.attemptDelay,
      resolutionDelay: options.resolutionDelay,
      firstAddressFamilyCount: options.firstAddressFamilyCount,
      preferredFamily: gate,
      compare: ordered
        ? (a: Endpoint, b: Endpoint) => this.#compareEndpoints(a, b)
        : undefined,
      attemptDelayFor: this.#known === undefined
        ? undefined
        : (endpoint: Endpoint) => this.#historyDelay(endpoint),
      maxAttempts: options.maxAttempts,
      maxConcurrentAttempts: options.maxConcurrentAttempts,
    });
  }

  start(): Promise<C> {
    const trace = this.#trace;
    if (trace === undefined) return this.#start();
    if (trace.dialStart !== undefined) {
      callHook(trace, "dialStart", {
        network: this.#network,
        address: this.#address,
      });
    }
    const promise = this.#start();
    if (trace.dialDone === undefined) return promise;
    return promise.then(
      (conn) => {
        const winner = this.#attempts[this.#winner];
        const endpoint = winner?.endpoint ?? this.#fastEndpoint;
        callHook(trace, "dialDone", {
          network: this.#network,
          address: this.#address,
          addr: winner?.addr ?? this.#fastAddr,
          family: endpoint!.family,
          attempt: Math.max(this.#winner, 0),
        });
        return conn;
      },
      (error: unknown) => {
        callHook(trace, "dialDone", {
          network: this.#network,
          address: this.#address,
          error: toError(error),
        });
        throw error;
      },
    );
  }

  #start(): Promise<C> {
    if (this.#fastEndpoint !== undefined) {
      return this.#dialLiteral(this.#fastEndpoint);
    }
    const signals = this.#signals;
    if (signals !== undefined) {
      for (const signal of signals) {
        if (signal.aborted) return Promise.reject(signal.reason);
      }
    }
    const promise = new Promise<C>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (signals !== undefined) {
      for (const signal of signals) {
        signal.addEventListener("abort", this, ONCE);
      }
    }
    if (this.#timeout > 0 && this.#timeout !== Infinity) {
      this.#armTimeout(this.#clock.now() + this.#timeout);
    }
    if (this.#literal !== undefined) {
      this.#dnsDone = true;
      if (this.#families.includes(this.#literal.family === 4 ? 6 : 4)) {
        this.#startNat64Literal();
      } else {
        this.#dispatch({
          type: "answer",
          family: this.#literal.family,
          addrs: [this.#literal],
        });
      }
    } else {
      this.#startLookups();
    }
    return promise;
  }

  /**
   * The fast path of a dial of an IP literal with no signal, no timeout and
   * no control hook: one attempt that nothing can cancel, started at once
   * (cause `first`), whose outcome is the dial's. It does what the
   * scheduler-driven path does for such a dial — the same hooks with the
   * same info, the same `DialError` — without the scheduler, the event
   * queue or an `AbortController` (a dialer that accepts it gets the shared
   * NEVER_ABORTED signal): a loopback connect takes only tens of
   * microseconds, so this bookkeeping showed in the benchmarks.
   */
  #dialLiteral(endpoint: Endpoint): Promise<C> {
    if (this.#timeout > 0 && this.#timeout !== Infinity) {
      return this.#dialLiteralTimed(endpoint);
    }
    const network = this.#network;
    const trace = this.#trace;
    const dialer = this.#dialer;
    const addr = this.#fastAddr;
    let promise: Promise<C>;
    if (trace === undefined) {
      try {
        promise = dialer.connect(endpoint, {
          signal: acceptsNeverAborted(dialer)
            ? NEVER_ABORTED
            : new AbortController().signal,
        });
      } catch (error) {
        promise = Promise.reject(error);
      }
      // Success passes straight through; only a failure needs the address.
      return Promise.resolve(promise).then(
        undefined,
        this.#fastFailed ?? literalFailure(network, addr),
      );
    }
    const family = endpoint.family;
    if (trace.connectStart !== undefined) {
      callHook(trace, "connectStart", {
        network,
        addr,
        family,
        attempt: 0,
        cause: "first",
      });
    }
    try {
      promise = dialer.connect(endpoint, {
        signal: acceptsNeverAborted(dialer)
          ? NEVER_ABORTED
          : new AbortController().signal,
      });
    } catch (error) {
      promise = Promise.reject(error);
    }
    return Promise.resolve(promise).then(
      (conn) => {
        if (trace.connectDone !== undefined) {
          callHook(trace, "connectDone", {
            network,
            addr,
            family,
            attempt: 0,
          });
        }
        return conn;
      },
      (error: unknown) => {
        const err = new OpError(network, toError(error), { addr });
        if (trace.connectDone !== undefined) {
          callHook(trace, "connectDone", {
            network,
            addr,
            family,
            attempt: 0,
            error: err,
          });
        }
        throw new DialError([err]);
      },
    );
  }

  /**
   * The fast path with a `timeout` (one that fits one timer): the same one
   * attempt, with one controller and one timer instead of the scheduler.
   * As on the scheduler path, the timeout cancels the attempt and the dial
   * rejects with the `TimeoutError` at once; the attempt's `connectDone`
   * follows when the dialer lets go of it.
   */
  #dialLiteralTimed(endpoint: Endpoint): Promise<C> {
    const network = this.#network;
    const trace = this.#trace;
    const dialer = this.#dialer;
    const clock = this.#clock;
    const addr = this.#fastAddr;
    const family = endpoint.family;
    const controller = new AbortController();
    let timedOut = false;
    return new Promise<C>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        timedOut = true;
        controller.abort(
          new OpError(network, new Error(CANCELED), { addr }),
        );
        reject(
          new DOMException(
            `dial ${network} ${this.#address}: i/o timeout`,
            "TimeoutError",
          ),
        );
      }, this.#timeout);
      if (trace?.connectStart !== undefined) {
        callHook(trace, "connectStart", {
          network,
          addr,
          family,
          attempt: 0,
          cause: "first",
        });
      }
      const done = (error?: Error) => {
        if (trace?.connectDone === undefined) return;
        const info = { network, addr, family, attempt: 0 };
        callHook(
          trace,
          "connectDone",
          error === undefined ? info : { ...info, error },
        );
      };
      let promise: Promise<C>;
      try {
        promise = dialer.connect(endpoint, { signal: controller.signal });
      } catch (error) {
        promise = Promise.reject(error);
      }
      Promise.resolve(promise).then(
        (conn) => {
          if (timedOut) {
            done(controller.signal.reason as Error);
            this.#close(conn);
            return;
          }
          clock.clearTimeout(timer);
          done();
          resolve(conn);
        },
        (error: unknown) => {
          if (timedOut) {
            done(controller.signal.reason as Error);
            return;
          }
          clock.clearTimeout(timer);
          const err = new OpError(network, toError(error), { addr });
          done(err);
          reject(new DialError([err]));
        },
      );
    });
  }

  /** Arms the timeout for `deadline`, in steps the platform's timers take. */
  #armTimeout(deadline: number): void {
    const left = deadline - this.#clock.now();
    const step = Math.min(left, MAX_TIMER_DELAY);
    this.#timeoutTimer = this.#clock.setTimeout(() => {
      this.#timeoutTimer = undefined;
      if (step < left) {
        this.#armTimeout(deadline);
        return;
      }
      this.#abort(
        new DOMException(
          `dial ${this.#network} ${this.#address}: i/o timeout`,
          "TimeoutError",
        ),
      );
    }, step);
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
    if (
      this.#nat64 !== undefined && this.#nat64.prefixes === undefined &&
      this.#families.length === 2
    ) {
      this.#discoverNat64();
    }
    const name = this.#lookupHost;
    const key = lookupKey(name);
    for (const family of this.#families) {
      const record: LookupRecord = {
        family,
        key: `${family} ${key}`,
        settled: false,
        shared: false,
        cached: false,
        answered: false,
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
          record.answered = true;
          record.cached = isCached(value);
          if (this.#settled) return;
          const addrs = this.#acceptAddrs(value, family);
          for (const a of addrs) this.#dnsAddrs!.push(a);
          if (this.#trace?.dnsAnswer !== undefined) {
            callHook(this.#trace, "dnsAnswer", {
              host,
              family,
              addrs: addrs.slice(),
              coalesced: shared,
              cached: record.cached,
            });
            if (this.#settled) return;
          }
          this.#maybeDNSDone();
          this.#deliver({ type: "answer", family, addrs });
        },
        (error: unknown) => {
          record.settled = true;
          record.cached = isCached(error);
          if (this.#settled) return;
          const err = error instanceof DNSError
            ? error
            : new DNSError(toError(error).message, host, { cause: error });
          this.#lookupErrorValue ??= err;
          if (this.#trace?.dnsAnswer !== undefined) {
            callHook(this.#trace, "dnsAnswer", {
              host,
              family,
              addrs: [],
              coalesced: sf.waiters(record.key) > 1,
              cached: record.cached,
              error: err,
            });
            if (this.#settled) return;
          }
          this.#maybeDNSDone();
          this.#deliver({ type: "lookupFailed", family, error: err });
        },
      );
    }
  }

  /**
   * Keeps the resolver's answers that are IP addresses of `family`, each
   * once (also in other spellings: `::0001` is `::1`). Anything else — not
   * an address, the other family, a bad zone, an entry whose getters throw —
   * is dropped, so a resolver returning garbage cannot crash a dial. An
   * IPv4-mapped address in an AAAA answer is an IPv4 address, as in Go.
   * At most the first {@linkcode MAX_ANSWER_ENTRIES} entries are read.
   */
  #acceptAddrs(value: unknown, family: Family): IPAddr[] {
    const out: IPAddr[] = [];
    let length: number;
    try {
      if (!Array.isArray(value)) return out;
      length = Math.min(value.length, MAX_ANSWER_ENTRIES);
    } catch {
      return out; // a revoked Proxy
    }
    const seen = new Set<string>();
    for (let i = 0; i < length; i++) {
      let ip: IPAddr | undefined;
      let text: string | undefined;
      try {
        const item: unknown = (value as unknown[])[i];
        const record = item as { address?: unknown; zone?: unknown } | null;
        const address = typeof item === "string" ? item : record?.address;
        if (typeof address !== "string") continue;
        text = address;
        ip = parseIP(text);
        if (ip === undefined) continue;
        const zone = typeof item === "string" ? undefined : record?.zone;
        if (
          ip.family === 6 && ip.zone === undefined &&
          typeof zone === "string" && zone !== ""
        ) {
          ip = parseIP(`${ip.address}%${zone}`);
          if (ip === undefined) continue;
        }
      } catch {
        continue; // a getter that throws
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
    let cached = false;
    for (const lookup of this.#lookups) {
      if (!lookup.settled) continue;
      if (!lookup.cached) {
        cached = false;
        break;
      }
      cached = true;
    }
    const addrs = this.#dnsAddrs!.slice();
    let error: Error | undefined;
    if (addrs.length === 0) {
      error = endReason ?? this.#lookupError();
    }
    callHook(
      trace,
      "dnsDone",
      error === undefined
        ? { host: this.#host, addrs, coalesced, cached }
        : { host: this.#host, addrs, coalesced, cached, error },
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
    if (this.#busy) {
      // A hook or an abort while an event is handled: handled after it.
      (this.#queue ??= []).push(event);
      return;
    }
    let next: HappyEyeballsEvent | undefined = event;
    const queue = this.#queue;
    if (queue !== undefined && queue.length > 0) {
      // Left over from a handler that threw: first come, first handled.
      queue.push(event);
      next = queue.shift()!;
    }
    this.#busy = true;
    try {
      do {
        const now = this.#clock.now();
        this.#stepNow = now;
        const actions = this.#scheduler!.step(now, next);
        // step() is not re-entered while this runs (#busy queues events),
        // so the action array it reuses is read in place.
        for (let i = 0; i < actions.length; i++) this.#carryOut(actions[i]!);
        next = this.#queue?.shift();
      } while (next !== undefined);
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
        // Without a controller (cannot happen: such an attempt is never
        // cancelled), the connection is closed when it lands.
        attempt.controller?.abort(
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
        this.#winner = action.attempt;
        if (this.#history !== undefined) this.#rememberOutpaced(action.attempt);
        if (this.#tls !== undefined && this.#tls.successPoint !== "tls") {
          // The signals and the timeout keep watching the handshake.
          this.#finish(true);
          this.#fireDNSDone(undefined);
          this.#handshakeWinner(action.attempt, conn);
          break;
        }
        this.#finish();
        this.#fireDNSDone(undefined);
        this.#resolve(conn);
        break;
      }
      case "failed": {
        this.#finish();
        this.#fireDNSDone(undefined);
        let errors: Error[];
        if (this.#scheduler!.attempts > 0) {
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
    // A wake-up beyond the longest timer comes early; the scheduler then
    // asks for it again.
    const delay = Math.min(
      MAX_TIMER_DELAY,
      Math.max(0, at - this.#clock.now()),
    );
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#dispatch({ type: "timer" });
    }, delay);
  }

  /**
   * Whether nothing can ever cancel an attempt of this dial: it dials an IP
   * literal (one endpoint, so the race never cancels it) and has no signal
   * and no timeout (so nothing aborts the dial).
   */
  #uncancellable(): boolean {
    return this.#literal !== undefined && this.#nat64 === undefined &&
      this.#signals === undefined && this.#tls === undefined &&
      !(this.#timeout > 0 && this.#timeout !== Infinity);
  }

  #startAttempt(index: number, endpoint: Endpoint, cause: AttemptCause): void {
    const addr = formatEndpoint(endpoint);
    // An attempt nothing can cancel needs no controller of its own: a dialer
    // that accepts it gets the shared NEVER_ABORTED signal instead.
    const controller =
      this.#uncancellable() && acceptsNeverAborted(this.#dialer)
        ? undefined
        : new AbortController();
    const attempt: AttemptRecord<C> = {
      endpoint,
      addr,
      controller,
      conn: undefined,
      cancelled: false,
    };
    this.#attempts[index] = attempt;
    if (this.#history !== undefined) attempt.startedAt = this.#clock.now();
    const trace = this.#trace;
    if (trace?.connectStart !== undefined) {
      callHook(
        trace,
        "connectStart",
        this.#startInfo(index, endpoint, addr, cause),
      );
    }
    let promise: Promise<C>;
    if (this.#settled) {
      // The connectStart hook gave the dial up: open nothing.
      attempt.cancelled = true;
      promise = Promise.reject(this.#cancelled(attempt));
    } else if (this.#control !== undefined && !this.#allowed(attempt)) {
      promise = Promise.reject(attempt.refusal);
    } else {
      if (this.#busy && this.#clock.now() > this.#stepNow) {
        // The hooks or the first run of this code took time since the
        // scheduler decided: tell it when the connect really begins.
        this.#dispatch({ type: "started", attempt: index });
      }
      try {
        promise = this.#dialer.connect(endpoint, {
          signal: controller?.signal ?? NEVER_ABORTED,
        });
      } catch (error) {
        promise = Promise.reject(error);
      }
      if (this.#tls?.successPoint === "tls") {
        promise = Promise.resolve(promise).then((conn) =>
          this.#attemptTls(index, conn)
        );
      }
    }
    Promise.resolve(promise).then(
      (conn) => this.#onConnected(index, conn),
      (error: unknown) => this.#onAttemptFailed(index, error),
    );
  }

  /**
   * Asks the control hook; a throw refuses the endpoint. A hook that returns
   * a promise (an `async` function) refuses it too: its verdict would come
   * after the connect, so it fails closed instead of being ignored.
   */
  #allowed(attempt: AttemptRecord<C>): boolean {
    let async = false;
    try {
      const ipv4 = this.#nat64 === undefined && this.#synthesized === undefined
        ? undefined
        : this.#nat64Of(attempt.endpoint);
      const result: unknown = this.#control!(
        ipv4 === undefined
          ? {
            network: this.#network,
            host: this.#host,
            addr: attempt.addr,
            endpoint: attempt.endpoint,
          }
          : {
            network: this.#network,
            host: this.#host,
            addr: attempt.addr,
            endpoint: attempt.endpoint,
            ipv4,
          },
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
  #attemptTls(index: number, conn: C): Promise<C> {
    const attempt = this.#attempts[index]!;
    // Lost while connecting: #onConnected closes it and says cancelled.
    if (attempt.cancelled || this.#settled) return Promise.resolve(conn);
    attempt.tcpConnected = true;
    if (attempt.startedAt !== undefined) this.#remember(attempt, "connected");
    this.#connectDone(index, undefined);
    return this.#runHandshake(index, conn, attempt.controller!.signal);
  }

  /** Runs one handshake with its hooks; rejects as `startTls` did. */
  #runHandshake(index: number, conn: C, signal: AbortSignal): Promise<C> {
    const attempt = this.#attempts[index]!;
    const trace = this.#trace;
    const info = {
      serverName: this.#serverName,
      addr: attempt.addr,
      family: attempt.endpoint.family,
      attempt: index,
    };
    if (trace?.tlsHandshakeStart !== undefined) {
      callHook(trace, "tlsHandshakeStart", info);
    }
    const tls = this.#tls!;
    let promise: Promise<TLSResult<C>>;
    try {
      promise = this.#dialer.startTls!(conn, {
        serverName: this.#serverName,
        alpnProtocols: tls.alpnProtocols,
        caCerts: tls.caCerts,
        signal,
      });
    } catch (error) {
      this.#close(conn);
      promise = Promise.reject(error);
    }
    return Promise.resolve(promise).then(
      (result) => {
        if (typeof result !== "object" || result === null) {
          throw new TypeError(
            `Cannot use the TLS connection: startTls resolved ${
              shown(result)
            }, not a TLSResult`,
          );
        }
        if (trace?.tlsHandshakeDone !== undefined) {
          const alpnProtocol = result.alpnProtocol ?? null;
          callHook(
            trace,
            "tlsHandshakeDone",
            result.tlsVersion === undefined
              ? { ...info, alpnProtocol }
              : { ...info, alpnProtocol, tlsVersion: result.tlsVersion },
          );
        }
        return result.conn;
      },
      (error: unknown) => {
        if (trace?.tlsHandshakeDone !== undefined) {
          callHook(trace, "tlsHandshakeDone", {
            ...info,
            error: toError(error),
          });
        }
        throw error;
      },
    );
  }

  /**
   * `successPoint: "tcp"`: the race is won; one handshake on the winner,
   * still under the dial's signals and timeout.
   */
  #handshakeWinner(index: number, conn: C): void {
    const controller = new AbortController();
    this.#handshake = controller;
    this.#runHandshake(index, conn, controller.signal).then(
      (tlsConn) => {
        if (this.#handshake !== controller) {
          // Aborted as the handshake completed: the dial has rejected.
          this.#close(tlsConn);
          return;
        }
        this.#handshake = undefined;
        this.#release();
        this.#resolve(tlsConn);
      },
      (error: unknown) => {
        if (this.#handshake !== controller) return; // #abort rejected
        this.#handshake = undefined;
        this.#release();
        this.#reject(
          new DialError([
            new OpError(this.#network, toError(error), {
              addr: this.#attempts[index]!.addr,
            }),
          ]),
        );
      },
    );
  }

  #onConnected(index: number, conn: C): void {
    const attempt = this.#attempts[index]!;
    attempt.settled = true;
    const tcpReported = attempt.tcpConnected === true;
    // Also a loser's: it connected, and how fast counts.
    if (attempt.startedAt !== undefined && !tcpReported) {
      this.#remember(attempt, "connected");
    }
    if (attempt.cancelled || this.#settled) {
      // Lost the race (or the dial was given up) while connecting.
      if (!tcpReported) this.#connectDone(index, this.#cancelled(attempt));
      this.#close(conn);
      this.#dispatch({ type: "connected", attempt: index });
      return;
    }
    attempt.conn = conn;
    if (!tcpReported) this.#connectDone(index, undefined);
    this.#dispatch({ type: "connected", attempt: index });
  }

  #onAttemptFailed(index: number, error: unknown): void {
    const attempt = this.#attempts[index]!;
    attempt.settled = true;
    let err: Error;
    if (attempt.cancelled || this.#settled) {
      err = this.#cancelled(attempt);
    } else {
      err = new OpError(this.#network, toError(error), { addr: attempt.addr });
      // A refusal by the control hook says nothing about the network, nor
      // does a failed handshake after TCP connected.
      if (attempt.refusal === undefined && !attempt.tcpConnected) {
        if (attempt.startedAt !== undefined) this.#remember(attempt, "failed");
        if (this.#literal === undefined) this.#tellResolver(attempt.endpoint);
      }
    }
    if (!attempt.tcpConnected) this.#connectDone(index, err);
    this.#dispatch({
      type: "failed",
      attempt: index,
      error: err,
      free: attempt.refusal !== undefined,
    });
  }

  /** Tells a resolver that keeps answers (a cache) that a connect failed. */
  #tellResolver(endpoint: Endpoint): void {
    const resolver = this.#resolver;
    if (typeof resolver.connectFailed !== "function") return;
    if (this.#synthesized?.has(addrKey(endpoint))) return; // not its answer
    try {
      const { address, family, zone } = endpoint;
      resolver.connectFailed(
        this.#lookupHost,
        zone === undefined ? { address, family } : { address, family, zone },
      );
    } catch {
      // A resolver's bookkeeping never changes the dial.
    }
  }

  // ── RFC 6724 ordering, RFC 8305 §4 history, §7 NAT64 ──────────────────

  /** Orders two endpoints for the scheduler (RFC 6724 §6 + history). */
  #compareEndpoints(a: IPAddr, b: IPAddr): number {
    return comparePrepared(this.#prepare(a), this.#prepare(b));
  }

  /** The rule inputs of an address, computed once per dial. */
  #prepare(ip: IPAddr): PreparedDestination {
    const key = addrKey(ip);
    const table = this.#prepared ??= new Map();
    let prepared = table.get(key);
    if (prepared === undefined) {
      const record = this.#known?.get(key);
      const sources = this.#sources;
      prepared = prepareDestination({
        address: ip.address,
        family: ip.family,
        source: sources?.has(key) ? sources.get(key) : undefined,
        failed: record !== undefined && record.outcome !== "connected",
        rtt: record?.outcome === "connected" ? record.connectTime : undefined,
        used: record?.used === true,
        ipv4: this.#nat64Of(ip),
      }, { policyTable: this.#policyTable });
      table.set(key, prepared);
    }
    return prepared;
  }

  /** The IPv4 address a NAT64 address stands for, if it is one. */
  #nat64Of(ip: IPAddr): string | undefined {
    if (ip.family !== 6) return undefined;
    return this.#synthesized?.get(ip.address) ??
      nat64Embedded(ip.address, this.#nat64?.prefixes);
  }

  /** The attempt delay history derives for an endpoint, if any (§5). */
  #historyDelay(endpoint: Endpoint): number | undefined {
    const record = this.#known?.get(addrKey(endpoint));
    if (record?.outcome !== "connected" || record.connectTime === undefined) {
      return undefined;
    }
    try {
      return this.#history!.attemptDelay(record.connectTime);
    } catch {
      return undefined;
    }
  }

  /** Records how an attempt ended in the history store. */
  #remember(attempt: AttemptRecord<C>, outcome: "connected" | "failed"): void {
    const now = this.#clock.now();
    try {
      this.#history!.record(
        {
          scope: this.#resolver,
          host: this.#historyHost,
          address: addrKey(attempt.endpoint),
        },
        outcome === "connected"
          ? {
            outcome,
            connectTime: Math.max(0, now - attempt.startedAt!),
            now,
          }
          : { outcome, now },
      );
    } catch {
      // A store that throws changes nothing about the dial.
    }
  }

  /**
   * Records as outpaced every attempt still connecting that started before
   * the winner: one started after it connected first.
   */
  #rememberOutpaced(winner: number): void {
    const now = this.#clock.now();
    for (let i = 0; i < winner; i++) {
      const attempt = this.#attempts[i];
      if (
        attempt === undefined || attempt.settled ||
        attempt.startedAt === undefined || attempt.refusal !== undefined
      ) continue;
      try {
        this.#history!.record(
          {
            scope: this.#resolver,
            host: this.#historyHost,
            address: addrKey(attempt.endpoint),
          },
          { outcome: "outpaced", now },
        );
      } catch {
        // As in #remember.
      }
    }
  }

  /** What connectStart receives: the required fields and why (RFC 6724, §4). */
  #startInfo(
    index: number,
    endpoint: Endpoint,
    addr: string,
    cause: AttemptCause,
  ): ConnectStartInfo {
    const info: ConnectStartInfo = {
      network: this.#network,
      addr,
      family: endpoint.family,
      attempt: index,
      cause,
    };
    const key = addrKey(endpoint);
    const offered = this.#offered;
    if (offered !== undefined) {
      const started = this.#started ??= new Set();
      started.add(key);
      let best: IPAddr | undefined;
      for (const [k, ip] of offered) {
        if (started.has(k)) continue;
        if (best === undefined || this.#compareEndpoints(ip, best) < 0) {
          best = ip;
        }
      }
      if (best !== undefined) {
        const mine = this.#prepare(endpoint);
        const theirs = this.#prepare(best);
        let rule: OrderRule | "family";
        if (best.family === endpoint.family) rule = preparedRule(mine, theirs);
        else if (index > 0 || comparePrepared(mine, theirs) > 0) {
          rule = "family"; // §4 interleaving
        } else {
          // The first attempt: its family led because its best address
          // sorted first, or (on a tie) because it is the preferred one.
          rule = preparedRule(mine, theirs);
          if (rule === "order") rule = "family";
        }
        info.sortedBy = rule;
      } else if (
        index === 0 && this.#gateFromHistory &&
        endpoint.family === this.#gate
      ) {
        // Nothing else known yet: its family went first because every
        // recent attempt to the other one failed.
        info.sortedBy = "avoid-failed";
      }
    }
    const record = this.#known?.get(key);
    if (record !== undefined) info.history = record;
    const delay = this.#historyDelay(endpoint);
    if (delay !== undefined) info.historyDelay = delay;
    if (this.#sources?.has(key)) info.source = this.#sources.get(key)!;
    const v4 = this.#nat64Of(endpoint);
    if (v4 !== undefined) info.nat64 = v4;
    return info;
  }

  /**
   * Hands one family's lookup outcome to the scheduler, after the NAT64
   * synthesis (§7: an empty or failed AAAA answer waits for the A answer
   * and the prefix) and the source probes, where they apply.
   */
  #deliver(event: FamilyEvent): void {
    const nat64 = this.#nat64;
    if (nat64 !== undefined && this.#families.length === 2) {
      if (event.family === 4) {
        this.#answer4 = event.type === "answer" ? event.addrs.slice() : [];
      } else if (event.type === "lookupFailed" || event.addrs.length === 0) {
        this.#held6 = event;
        this.#maybeSynthesize();
        return;
      }
    }
    this.#probeAndDispatch(event);
    if (nat64 !== undefined && event.family === 4) this.#maybeSynthesize();
  }

  /** A dial of an IPv4 literal with NAT64: the literal, and its IPv6 form. */
  #startNat64Literal(): void {
    const literal = this.#literal!;
    this.#answer4 = [literal];
    this.#held6 = { type: "answer", family: 6, addrs: [] };
    if (this.#families.includes(4)) {
      this.#offer({ type: "answer", family: 4, addrs: [literal] });
      this.#dispatch({ type: "answer", family: 4, addrs: [literal] });
    }
    if (this.#nat64!.prefixes === undefined) this.#discoverNat64();
    this.#maybeSynthesize();
  }

  /** RFC 7050: the NAT64 prefixes from the AAAA answers for ipv4only.arpa. */
  #discoverNat64(): void {
    const nat64 = this.#nat64!;
    const resolver = this.#resolver;
    if (typeof resolver?.lookup !== "function") {
      nat64.prefixes = [];
      return;
    }
    const controller = this.#lookupController ??= new AbortController();
    this.#working++;
    flightsOf(resolver).do(
      `6 ${IPV4ONLY_ARPA}`,
      (signal) => resolver.lookup(IPV4ONLY_ARPA, 6, { signal }),
      { signal: controller.signal },
    ).then(
      ({ value }) => discoverNat64Prefixes(this.#acceptAddrs(value, 6)),
      () => [] as Nat64Prefix[],
    ).then((prefixes) => {
      this.#working--;
      nat64.prefixes = prefixes;
      this.#maybeSynthesize();
    });
  }

  /**
   * Once the AAAA outcome is held, the A answer is in and the prefixes are
   * known: hands the scheduler the synthesised IPv6 addresses in place of
   * the empty AAAA answer (or the held outcome when none can be made).
   */
  #maybeSynthesize(): void {
    const held = this.#held6;
    const answer4 = this.#answer4;
    const prefixes = this.#nat64?.prefixes;
    if (
      held === undefined || answer4 === undefined || prefixes === undefined ||
      this.#settled
    ) return;
    this.#held6 = undefined;
    const synthesized: IPAddr[] = [];
    for (const prefix of prefixes) {
      for (const ip of answer4) {
        if (ip.family !== 4) continue;
        const six = synthesizeNat64(ip.address, prefix);
        if (six === undefined || this.#synthesized?.has(six.address)) continue;
        (this.#synthesized ??= new Map()).set(six.address, ip.address);
        synthesized.push(six);
      }
    }
    let event: FamilyEvent = held;
    if (synthesized.length > 0) {
      event = { type: "answer", family: 6, addrs: synthesized };
    } else if (this.#literal !== undefined && !this.#families.includes(4)) {
      event = {
        type: "lookupFailed",
        family: 6,
        error: new AddrError("no suitable address found", this.#host),
      };
    }
    this.#probeAndDispatch(event);
  }

  /**
   * Dispatches an answer, first probing the source address of its
   * addresses when that can change the order: an answer of two or more,
   * or one that arrives before any attempt while another family's is in
   * or awaited first.
   */
  #probeAndDispatch(event: FamilyEvent): void {
    const probe = this.#probe;
    if (
      probe === undefined || event.type !== "answer" ||
      event.addrs.length === 0 ||
      !(event.addrs.length > 1 ||
        (this.#scheduler!.attempts === 0 &&
          (event.family !== this.#gate || this.#offeredFamilies !== 0)))
    ) {
      this.#offer(event);
      this.#dispatch(event);
      return;
    }
    const addrs = event.addrs.length > MAX_PROBES
      ? event.addrs.slice(0, MAX_PROBES)
      : event.addrs;
    const signal = (this.#lookupController ??= new AbortController()).signal;
    const probes = addrs.map((ip) => {
      try {
        return Promise.resolve(probe(ip, { signal })).then(
          undefined,
          () => undefined,
        );
      } catch {
        return undefined;
      }
    });
    this.#working++;
    Promise.all(probes).then((sources) => {
      this.#working--;
      if (this.#settled) return;
      const table = this.#sources ??= new Map();
      for (let i = 0; i < addrs.length; i++) {
        const source = sources[i];
        const key = addrKey(addrs[i]!);
        if (source === null) table.set(key, null);
        else if (
          typeof source === "object" && typeof source.address === "string" &&
          parseIP(source.address) !== undefined
        ) table.set(key, source);
      }
      this.#offer(event);
      this.#dispatch(event);
    });
  }

  /** Notes what an answer hands the scheduler. */
  #offer(event: FamilyEvent): void {
    if (event.type !== "answer") return;
    const wantOffered = this.#trace?.connectStart !== undefined;
    for (const ip of event.addrs) {
      if (!this.#families.includes(ip.family)) continue;
      this.#offeredFamilies |= ip.family === 4 ? 1 : 2;
      if (wantOffered) (this.#offered ??= new Map()).set(addrKey(ip), ip);
    }
  }

  /** Stops listening to the dial's signals and disarms its timeout. */
  #release(): void {
    for (const signal of this.#signals ?? NO_SIGNALS) {
      signal.removeEventListener("abort", this);
    }
    if (this.#timeoutTimer !== undefined) {
      this.#clock.clearTimeout(this.#timeoutTimer);
      this.#timeoutTimer = undefined;
    }
  }

  #cancelled(attempt: AttemptRecord<C>): Error {
    const reason = attempt.controller?.signal.reason;
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
    if (this.#settled) {
      const handshake = this.#handshake;
      if (handshake === undefined) return;
      // The winner's handshake was running: it closes its connection.
      this.#handshake = undefined;
      this.#release();
      handshake.abort(reason);
      this.#reject(reason);
      return;
    }
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

  /**
   * Releases everything the dial holds; attempts are cancelled by the
   * scheduler. With `keepWatching` the signals and the timeout stay armed
   * (for the winner's handshake; {@linkcode #release} disarms them).
   */
  #finish(keepWatching = false): void {
    this.#settled = true;
    if (!keepWatching) this.#release();
    this.#setWake(undefined);
    if (!this.#dnsDone && this.#trace?.dnsDone !== undefined) {
      // Leaving the lookups below drops this dial from their waiters.
      this.#endCoalesced = this.#isCoalesced();
    }
    // Aborting takes a fresh DNSError, whose stack capture alone costs
    // microseconds (3–13 µs on V8): skipped when nothing is left to hear it,
    // as every lookup, probe and NAT64 discovery has settled and removed
    // its listener.
    if (this.#working > 0 || this.#lookups.some((lookup) => !lookup.settled)) {
      this.#lookupController?.abort(new DNSError(CANCELED, this.#host));
    }
  }
}
