/**
 * A dial's plan: its options checked and its address parsed, once, into
 * what every later step reads (host, port, literal, families, the name to
 * look up) and whether the IP-literal fast path can take it.
 *
 * @module
 */

import {
  formatEndpoint,
  parseIP,
  parsePort,
  splitHostPort,
} from "../address.ts";
import { type Context, currentContext } from "../context.ts";
import { AddrError, DialError, DNSError, OpError } from "../errors.ts";
import { lookupName } from "../hostname.ts";
import { type Nat64Prefix, parseNat64Prefix } from "../nat64.ts";
import type { Control } from "../policy.ts";
import {
  contextTrace,
  LookupIPAltResolverKey,
  type Trace,
  withTrace,
} from "../trace.ts";
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
} from "../types.ts";
import { isSignal, toError } from "./foreign.ts";
import { checkOptions, type CoreDialOptions, isPlain } from "./options.ts";
import type { ServiceSpec } from "./service.ts";
import { trimDot } from "./tls.ts";
import { sharedEndpoint } from "./endpoints.ts";

/**
 * The longest delay the platforms' `setTimeout` takes: a longer one fires
 * at once (Node warns, Deno, Bun and browsers stay silent), so longer
 * delays are waited for in steps of this.
 */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

// The families a dial waits for, by network and preference: shared, never
// written to.
const FAMILIES_4: readonly Family[] = [4];
const FAMILIES_6: readonly Family[] = [6];
const FAMILIES_64: readonly Family[] = [6, 4];
const FAMILIES_46: readonly Family[] = [4, 6];

/** Everything a dial knows before it sends or looks up anything. */
export interface DialPlan<C> {
  readonly network: Network;
  /** The address as the caller gave it. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly dialer: Dialer<C>;
  /** The context's alternative resolver, else the options' one. */
  readonly resolver: Resolver;
  readonly clock: Clock;
  /** The options' trace composed with the context's. */
  readonly trace: Trace | undefined;
  /** In ms; 0 or `Infinity`: none. */
  readonly timeout: number;
  /** The signals that abort the dial (the context's, the caller's). */
  readonly signals: AbortSignal[] | undefined;
  readonly control: Control | undefined;
  /** The TLS settings; undefined for plain TCP. */
  readonly tls: TLSOptions | undefined;
  /** The name (or IP text) the certificate is checked against. */
  readonly serverName: string;
  /** The host's address when it is an IP literal (or empty: loopback). */
  readonly literal: IPAddr | undefined;
  /** The name sent to the resolver: ASCII (IDNA) form of the host. */
  readonly lookupHost: string;
  /**
   * Happy Eyeballs v3: the service records to ask for; undefined without
   * the `service` option, for a literal, or when the resolver has no
   * `lookupService`.
   */
  readonly service: ServiceSpec | undefined;
  /** The families the dial waits for, the first one preferred. */
  readonly families: readonly Family[];
  /** NAT64 when on; `prefixes` undefined while they are to be discovered. */
  readonly nat64: { prefixes: Nat64Prefix[] | undefined } | undefined;
  /**
   * The one endpoint of a dial the IP-literal fast path takes: nothing can
   * abort it but a timeout that fits one timer, and no control hook, TLS or
   * NAT64 applies (see `dialLiteral`).
   */
  readonly fastEndpoint: Endpoint | undefined;
  /** `formatEndpoint(fastEndpoint)`, kept with the parsed address. */
  readonly fastAddr: string;
  /** What a failed fast connect rejects with, kept with the parsed address. */
  readonly fastFailed: ((error: unknown) => never) | undefined;
}

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
  /** The literal's endpoint, frozen: every dial of it gets this object. */
  endpoint?: Endpoint;
}

const PARSED = new Map<string, ParsedAddress>();
const MAX_PARSED = 1024;

/**
 * What a dial of an IP literal on the fast path does when its one connect
 * fails: rejects with the `DialError` the scheduler-driven path makes.
 */
export function literalFailure(
  network: Network,
  addr: string,
): (error: unknown) => never {
  return (error) => {
    throw new DialError([new OpError(network, toError(error), { addr })]);
  };
}

/**
 * An `AddrError` as `dial()` raises it: Go's `OpError` text around it
 * (`dial tcp: address 99999: invalid port`), still the same `AddrError`
 * (`splitHostPort` alone keeps `address 99999: invalid port`).
 */
function raisedByDial(error: unknown, network: Network): unknown {
  if (error instanceof AddrError) {
    error.message = `dial ${network}: ${error.message}`;
  }
  return error;
}

/** Splits and checks `host:port`, or finds it parsed before. */
function parseAddress(address: string, network: Network): ParsedAddress {
  const parsed = PARSED.get(address);
  if (parsed !== undefined) return parsed;
  try {
    return parseNew(address, network);
  } catch (error) {
    throw raisedByDial(error, network);
  }
}

/** {@linkcode parseAddress} of an address not parsed before. */
function parseNew(address: string, network: Network): ParsedAddress {
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
  // Port 0 is for listening. Go would send a SYN to port 0 (Linux refuses
  // it only on loopback) and Deno's connect rejects it with a text of its
  // own: refused here, before anything is sent.
  if (service === "") throw new AddrError("missing port in address", address);
  if (port === 0) throw new AddrError("invalid port", service);
  if (PARSED.size >= MAX_PARSED) PARSED.clear();
  const parsed = { host, port };
  PARSED.set(address, parsed);
  return parsed;
}

/** Checks the arguments of `dial()` that are not options. */
function checkArguments<C>(address: string, options: CoreDialOptions<C>) {
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
}

/** `lookupName(host)`; a bad name is an `AddrError` raised by dial(). */
function nameToLookUp(host: string, network: Network): string {
  try {
    return lookupName(host);
  } catch (error) {
    throw raisedByDial(error, network);
  }
}

/** The families of `network`, the preferred one first. */
function familiesOf(network: Network, preferred: Family | undefined) {
  return network === "tcp4"
    ? FAMILIES_4
    : network === "tcp6"
    ? FAMILIES_6
    : (preferred ?? 6) === 6
    ? FAMILIES_64
    : FAMILIES_46;
}

/**
 * The trace of `withTrace(ctx, trace)`, without making that child context
 * when the context has no trace of its own (the child's resolver and
 * signal are ctx's anyway).
 */
export function composedTrace(
  ctx: Context,
  trace: Trace | undefined,
): Trace | undefined {
  const older = contextTrace(ctx);
  return trace === undefined
    ? older
    : older === undefined
    ? trace
    : contextTrace(withTrace(ctx, trace));
}

/** The signals that abort a dial: the context's, the caller's. */
function signalsOf(ctx: Context, signal: AbortSignal | undefined) {
  let signals: AbortSignal[] | undefined;
  if (ctx.signal !== undefined) {
    if (!isSignal(ctx.signal)) {
      throw new TypeError(
        "Cannot use the context: its signal is not an AbortSignal",
      );
    }
    signals = [ctx.signal];
  }
  if (signal !== undefined) (signals ??= []).push(signal);
  return signals;
}

/** NAT64 as `options.nat64` asks for it; prefixes undefined: discover them. */
function nat64Of(
  option: CoreDialOptions<unknown>["nat64"],
): { prefixes: Nat64Prefix[] | undefined } | undefined {
  if (option === undefined || option === false) return undefined;
  const prefix = typeof option === "object" ? option.prefix : undefined;
  return {
    prefixes: prefix === undefined ? undefined : [parseNat64Prefix(prefix)],
  };
}

/** The host's IP address, or loopback for an empty host; undefined: a name. */
function literalOf(
  parsed: ParsedAddress,
  families: readonly Family[],
): IPAddr | undefined {
  if (parsed.host === "") {
    // Go dials the local system for an empty host.
    return families[0] === 4
      ? { address: "127.0.0.1", family: 4 }
      : { address: "::1", family: 6 };
  }
  if (parsed.ip === undefined) parsed.ip = parseIP(parsed.host) ?? null;
  return parsed.ip ?? undefined;
}

/** The service side of a dial, when it has one. */
function serviceOf(
  service: CoreDialOptions<unknown>["service"],
  literal: IPAddr | undefined,
  resolver: Resolver,
): ServiceSpec | undefined {
  if (
    service === undefined || service === false || literal !== undefined ||
    typeof resolver?.lookupService !== "function"
  ) return undefined;
  return service === "https"
    ? { scheme: "https", random: undefined }
    : { scheme: service.scheme.toLowerCase(), random: service.random };
}

/**
 * Checks a dial's arguments and plans it; what is wrong throws here,
 * before anything is looked up or sent.
 *
 * @throws {TypeError} For a wrong argument or option type.
 * @throws {RangeError} For an option out of range.
 * @throws {AddrError} For an address that does not parse.
 * @throws {DialError} For an unknown service, or a literal of a family the
 * network excludes.
 */
export function planDial<C>(
  address: string,
  options: CoreDialOptions<C>,
): DialPlan<C> {
  checkArguments(address, options);
  const network = options.network ?? "tcp";
  if (!isPlain(options)) checkOptions(network, options);
  const { resolver: given, dialer, tls, control } = options;
  if (typeof dialer?.connect !== "function") {
    throw new TypeError(
      "Cannot dial without a dialer: options.dialer.connect is not a function",
    );
  }
  const parsed = parseAddress(address, network);
  const { host, port } = parsed;
  if (tls !== undefined && typeof dialer.startTls !== "function") {
    throw new TypeError(
      "Cannot dial TLS: options.dialer.startTls is not a function",
    );
  }
  const ctx = options.context ?? currentContext();
  const trace = composedTrace(ctx, options.trace);
  const resolver = ctx.value(LookupIPAltResolverKey) ?? given;
  const signals = signalsOf(ctx, options.signal);
  let families: readonly Family[] = familiesOf(
    network,
    options.preferredFamily,
  );
  const nat64 = nat64Of(options.nat64);
  const literal = literalOf(parsed, families);
  const lookupHost = literal === undefined
    ? parsed.lookupHost ??= nameToLookUp(host, network)
    : "";
  if (literal === undefined && typeof resolver?.lookup !== "function") {
    throw new TypeError(
      "Cannot resolve without a resolver: options.resolver.lookup is not a function",
    );
  }
  const serverName = tls === undefined ? "" : tls.serverName ??
    (literal !== undefined ? literal.address : trimDot(lookupHost));
  // RFC 8305 §7.1: with NAT64 an IPv4 literal is dialled through its
  // synthesised IPv6 address too.
  const viaNat64 = nat64 !== undefined && literal?.family === 4 &&
    families.includes(6);
  if (literal !== undefined && !viaNat64) {
    if (!families.includes(literal.family)) {
      throw new DialError([
        new OpError(network, new AddrError("no suitable address found", host)),
      ]);
    }
    families = literal.family === 4 ? FAMILIES_4 : FAMILIES_6;
  }
  const timeout = options.timeout ?? 0;
  let fastEndpoint: Endpoint | undefined;
  let fastAddr = "";
  let fastFailed: ((error: unknown) => never) | undefined;
  if (
    !viaNat64 && literal !== undefined && signals === undefined &&
    !(timeout > MAX_TIMER_DELAY && timeout !== Infinity) &&
    control === undefined && tls === undefined
  ) {
    // The endpoint the scheduler would make of the literal's answer.
    const { address, family, zone } = literal;
    const endpoint = () =>
      zone === undefined
        ? sharedEndpoint(address, family, port)
        : Object.freeze({ address, family, zone, port });
    if (host === "") {
      fastEndpoint = endpoint();
      fastAddr = formatEndpoint(fastEndpoint);
    } else {
      // Made once per address and network, so a dial allocates no closure
      // and the dialer sees the same endpoint object each time.
      fastEndpoint = parsed.endpoint ??= endpoint();
      fastAddr = parsed.addr ??= formatEndpoint(fastEndpoint);
      const failed = parsed.failed ??= {};
      fastFailed = failed[network] ??= literalFailure(network, fastAddr);
    }
  }
  return {
    network,
    address,
    host,
    port,
    service: serviceOf(options.service, literal, resolver),
    dialer,
    resolver,
    clock: options.clock ?? systemClock,
    trace,
    timeout,
    signals,
    control,
    tls,
    serverName,
    literal,
    lookupHost,
    families,
    nat64,
    fastEndpoint,
    fastAddr,
    fastFailed,
  };
}

/** An IP-literal address dialled before on network `tcp`. */
export interface PlainLiteral {
  /** Its endpoint (frozen, the same object each dial). */
  readonly endpoint: Endpoint;
  /** The endpoint as trace hooks and errors show it (`host:port`). */
  readonly addr: string;
  /** What a failed connect rejects with, per network. */
  readonly failed: { readonly tcp: (error: unknown) => never };
}

/**
 * An IP-literal address dialled before on network `tcp` with nothing but
 * a timeout-free, signal-free plain dial in mind (see `markPlain`), which
 * then needs no plan: `undefined` when the address is not such a literal
 * or was not dialled that way yet.
 *
 * @param address What dial() was given.
 * @returns Its cached endpoint and failure.
 */
export function plainLiteral(address: string): PlainLiteral | undefined {
  const parsed = PARSED.get(address);
  if (
    parsed?.endpoint === undefined || parsed.addr === undefined ||
    parsed.failed?.tcp === undefined
  ) {
    return undefined;
  }
  return parsed as PlainLiteral;
}
