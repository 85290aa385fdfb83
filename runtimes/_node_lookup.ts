/**
 * `lookup()`: a `dns.lookup`-compatible function that runs nettrace's
 * traced, coalesced lookup, for anything that takes one (`net.connect`,
 * `http.request`, undici's `connect.lookup`, node-redis).
 *
 * @module
 */

import { isIP } from "node:net";
import { DNSError } from "../src/errors.ts";
import { lookupKey, lookupName } from "../src/hostname.ts";
import { isCached } from "../src/_cached_answer.ts";
import { Singleflight } from "../src/singleflight.ts";
import { callHook, contextTrace, type Trace } from "../src/trace.ts";
import { currentContext } from "../src/context.ts";
import type { Family, IPAddr, Resolver } from "../src/types.ts";
import { resolver as systemResolver } from "./_node_resolver.ts";

/** `dns.ADDRCONFIG`, `dns.V4MAPPED` and `dns.ALL`, as Node numbers them. */
const V4MAPPED = 0x08;
const ALL = 0x10;

/**
 * `dns.lookup`'s options, as this lookup reads them.
 *
 * @example Every address, IPv4 first
 * ```ts
 * import type { NodeLookupOptions } from "@nettrace/nettrace/node";
 *
 * const options: NodeLookupOptions = { all: true, order: "ipv4first" };
 * ```
 */
export interface NodeLookupOptions {
  /**
   * `4`, `6` (or `"IPv4"`, `"IPv6"`) for one family, `0` for both.
   * @default {0}
   */
  family?: number | "IPv4" | "IPv6";
  /**
   * Every address (an array) instead of the first.
   * @default {false}
   */
  all?: boolean;
  /**
   * `dns.V4MAPPED` (with `family: 6`: IPv4 addresses as `::ffff:a.b.c.d`
   * when there is no IPv6 one; with `dns.ALL` always added);
   * `dns.ADDRCONFIG` is accepted and has no effect.
   * @default {0}
   */
  hints?: number;
  /**
   * `"verbatim"`: IPv6 addresses first, as getaddrinfo's RFC 6724 sort
   * orders them on a dual-stack host; `"ipv4first"` / `"ipv6first"`.
   * @default {"verbatim"}
   */
  order?: "verbatim" | "ipv4first" | "ipv6first";
  /**
   * Node's older spelling: `false` is `order: "ipv4first"`.
   * @default {true}
   */
  verbatim?: boolean;
}

/**
 * One address, as `dns.lookup` gives it.
 *
 * @example The shape
 * ```ts
 * import type { LookupAddress } from "@nettrace/nettrace/node";
 *
 * const one: LookupAddress = { address: "127.0.0.1", family: 4 };
 * ```
 */
export interface LookupAddress {
  /** The address text. */
  address: string;
  /** `4` or `6`. */
  family: 4 | 6;
}

/**
 * The callback of a lookup: `(err, address, family)`, or `(err,
 * addresses)` with `all: true`.
 *
 * @example A callback for both forms
 * ```ts
 * import type { LookupCallback } from "@nettrace/nettrace/node";
 *
 * const callback: LookupCallback = (err, address, family) => {
 *   console.log(err?.code, address, family);
 * };
 * ```
 */
export type LookupCallback = (
  err: (Error & { code?: string }) | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `dns.lookup`-compatible function, with a promise form (as
 * `dns.promises.lookup`) as `.promise`, which `util.promisify` also gives.
 *
 * @example Passing it to net.connect
 * ```ts ignore
 * import { connect } from "node:net";
 * import { lookup } from "@nettrace/nettrace/node";
 *
 * const socket = connect({ host: "db.test", port: 5432, lookup });
 * ```
 */
export interface NodeLookup {
  /** Looks `hostname` up; `options` may be a family number. */
  (
    hostname: string,
    options: NodeLookupOptions | number,
    callback: LookupCallback,
  ): void;
  /** Looks `hostname` up, both families, the first address. */
  (hostname: string, callback: LookupCallback): void;
  /**
   * The promise form, as `dns.promises.lookup`.
   *
   * @param hostname The name.
   * @param options As for the callback form.
   * @returns `{ address, family }`, or every address with `all: true`.
   */
  promise(
    hostname: string,
    options?: NodeLookupOptions | number,
  ): Promise<LookupAddress | LookupAddress[]>;
}

/**
 * Options for {@linkcode createLookup}.
 *
 * @example A lookup through a given name server, traced
 * ```ts ignore
 * import { createLookup, createResolver } from "@nettrace/nettrace/node";
 *
 * const lookup = createLookup({
 *   resolver: createResolver({ nameServer: { address: "127.0.0.1", port: 5353 } }),
 *   trace: { dnsDone: ({ host, addrs }) => console.log(host, addrs) },
 * });
 * ```
 */
export interface CreateLookupOptions {
  /**
   * The resolver.
   * @default {resolver}
   */
  resolver?: Resolver;
  /**
   * The hooks told of each lookup (`dnsStart`, `dnsAnswer`, `dnsDone`);
   * without it the current context's trace.
   * @default {undefined}
   */
  trace?: Trace;
}

const FLIGHTS = new WeakMap<Resolver, Singleflight<IPAddr[]>>();
const NEVER = new AbortController().signal;
const PROMISIFY = Symbol.for("nodejs.util.promisify.custom");

/**
 * Makes a `dns.lookup`-compatible function that asks `resolver` (both
 * families at once, as nettrace's dial does), shares a lookup already in
 * flight for the same name and family (concurrent callers: `coalesced`),
 * and reports to the trace's DNS hooks. An IP literal is returned as it is,
 * without a lookup. A failure is the {@linkcode DNSError} with Node's `code`
 * (`ENOTFOUND`, `EAI_AGAIN`…) and `syscall` `"getaddrinfo"`.
 *
 * @param options The resolver and the trace.
 * @returns The lookup function.
 *
 * @example For undici's connector
 * ```ts ignore
 * import { Agent } from "undici";
 * import { createLookup } from "@nettrace/nettrace/node";
 *
 * const lookup = createLookup({ trace: { dnsStart: console.log } });
 * const dispatcher = new Agent({ connect: { lookup } });
 * ```
 */
export function createLookup(options: CreateLookupOptions = {}): NodeLookup {
  const resolver = options.resolver ?? systemResolver;
  const fixedTrace = options.trace;
  const promise = (
    hostname: string,
    opts?: NodeLookupOptions | number,
  ): Promise<LookupAddress | LookupAddress[]> => {
    const o = typeof opts === "number" ? { family: opts } : opts ?? {};
    const trace = fixedTrace ?? contextTrace(currentContext());
    return resolve(resolver, hostname, o, trace);
  };
  const fn = ((
    hostname: string,
    optionsOrCallback: NodeLookupOptions | number | LookupCallback,
    maybeCallback?: LookupCallback,
  ): void => {
    const callback = typeof optionsOrCallback === "function"
      ? optionsOrCallback
      : maybeCallback;
    if (typeof callback !== "function") {
      throw new TypeError('The "callback" argument must be of type function');
    }
    const opts = typeof optionsOrCallback === "function"
      ? undefined
      : optionsOrCallback;
    promise(hostname, opts).then(
      (result) => {
        if (Array.isArray(result)) callback(null, result);
        else callback(null, result.address, result.family);
      },
      (err: Error) => callback(err, "", undefined),
    );
  }) as NodeLookup;
  fn.promise = promise;
  // util.promisify(lookup) resolves to `{ address, family }`, as for
  // dns.lookup.
  Object.defineProperty(fn, PROMISIFY, { value: promise });
  return fn;
}

function familyOf(family: NodeLookupOptions["family"]): 0 | 4 | 6 {
  if (family === 4 || family === "IPv4") return 4;
  if (family === 6 || family === "IPv6") return 6;
  if (family === undefined || family === 0) return 0;
  throw new TypeError(
    `The property 'options.family' must be one of: 0, 4, 6. Received ${
      String(family)
    }`,
  );
}

async function resolve(
  resolver: Resolver,
  hostname: string,
  options: NodeLookupOptions,
  trace: Trace | undefined,
): Promise<LookupAddress | LookupAddress[]> {
  const family = familyOf(options.family);
  const hints = options.hints ?? 0;
  const literal = isIP(hostname);
  let found: LookupAddress[];
  if (literal !== 0) {
    found = [{ address: hostname, family: literal as 4 | 6 }];
  } else if (hostname === "" || typeof hostname !== "string") {
    throw new DNSError("no such host", String(hostname), { isNotFound: true });
  } else {
    const mapped = family === 6 && (hints & V4MAPPED) !== 0;
    const families: Family[] = family === 4
      ? [4]
      : family === 6 && !mapped
      ? [6]
      : [6, 4];
    found = await traced(resolver, hostname, families, trace);
    if (mapped) found = mapV4(found, (hints & ALL) !== 0);
  }
  const order = options.order ??
    (options.verbatim === false ? "ipv4first" : "verbatim");
  if (order === "ipv4first") found.sort((a, b) => a.family - b.family);
  else if (order === "ipv6first") found.sort((a, b) => b.family - a.family);
  return options.all === true ? found : found[0]!;
}

function mapV4(found: LookupAddress[], all: boolean): LookupAddress[] {
  const v6 = found.filter((a) => a.family === 6);
  if (v6.length > 0 && !all) return v6;
  const v4 = found.filter((a) => a.family === 4).map((a) => ({
    address: `::ffff:${a.address}`,
    family: 6 as const,
  }));
  return [...v6, ...v4];
}

async function traced(
  resolver: Resolver,
  host: string,
  families: Family[],
  trace: Trace | undefined,
): Promise<LookupAddress[]> {
  const name = lookupName(host);
  const key = lookupKey(name);
  let flights = FLIGHTS.get(resolver);
  if (flights === undefined) {
    flights = new Singleflight<IPAddr[]>();
    FLIGHTS.set(resolver, flights);
  }
  if (trace?.dnsStart !== undefined) callHook(trace, "dnsStart", { host });
  let coalesced = false;
  let cached = true;
  let firstError: DNSError | undefined;
  const answers = await Promise.all(families.map(async (family) => {
    try {
      const { value, shared } = await flights.do(
        `${family} ${key}`,
        (signal) => resolver.lookup(name, family, { signal }),
        { signal: NEVER },
      );
      coalesced ||= shared;
      cached &&= isCached(value);
      const addrs = value.filter((a) => a.family === family);
      if (trace?.dnsAnswer !== undefined) {
        callHook(trace, "dnsAnswer", {
          host,
          family,
          addrs: addrs.slice(),
          coalesced: shared,
          cached: isCached(value),
        });
      }
      return addrs;
    } catch (err) {
      cached = false;
      const error = err instanceof DNSError
        ? err
        : new DNSError(String((err as Error)?.message ?? err), host, {
          cause: err,
        });
      firstError ??= error;
      if (trace?.dnsAnswer !== undefined) {
        callHook(trace, "dnsAnswer", {
          host,
          family,
          addrs: [],
          coalesced: false,
          cached: false,
          error,
        });
      }
      return [];
    }
  }));
  const addrs = answers.flat();
  const error = addrs.length > 0
    ? undefined
    : firstError ?? new DNSError("no such host", host, { isNotFound: true });
  if (trace?.dnsDone !== undefined) {
    callHook(trace, "dnsDone", {
      host,
      addrs: addrs.slice(),
      coalesced,
      cached: cached && error === undefined,
      ...(error === undefined ? {} : { error }),
    });
  }
  if (error !== undefined) throw error;
  return addrs.map((a) => ({
    address: a.zone === undefined ? a.address : `${a.address}%${a.zone}`,
    family: a.family,
  }));
}

/**
 * A `dns.lookup`-compatible function on the Node adapter's resolver
 * (getaddrinfo, `/etc/hosts`): nettrace's lookup, shared with concurrent
 * callers of the same name, reported to the current context's trace. For
 * `net.connect({ lookup })`, `http.request({ lookup })`, undici's
 * `connect: { lookup }`, node-redis's `socket.lookup`. `lookup.promise()`
 * is the promise form; {@linkcode createLookup} makes one for another
 * resolver or a fixed trace.
 *
 * @example With net.connect
 * ```ts ignore
 * import { connect } from "node:net";
 * import { lookup } from "@nettrace/nettrace/node";
 *
 * const socket = connect({ host: "localhost", port: 6379, lookup });
 * ```
 *
 * @example The callback form
 * ```ts ignore
 * import { lookup } from "@nettrace/nettrace/node";
 *
 * lookup("localhost", { all: true }, (err, addresses) => {
 *   console.log(err ?? addresses);
 * });
 * ```
 */
export const lookup: NodeLookup = createLookup();
