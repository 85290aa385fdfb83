/**
 * A caching {@linkcode Resolver} wrapper: answers are kept for their DNS
 * TTL (capped), "no such host" and empty answers for a short negative TTL,
 * concurrent lookups of a name share one query, and an address whose
 * connect failed is dropped from the cache.
 *
 * @module
 */

import { markCached } from "./_cached_answer.ts";
import {
  answerTtl,
  cacheName,
  copyAddrs,
  copyServices,
  seconds,
} from "./_dns_cache_items.ts";
import { parseIP } from "./address.ts";
import { DNSError } from "./errors.ts";
import { Singleflight } from "./singleflight.ts";
import {
  type Clock,
  type Family,
  type IPAddr,
  type LookupOptions,
  type LookupServiceOptions,
  type Resolver,
  type ServiceRecord,
  systemClock,
} from "./types.ts";

/** The default {@linkcode CachingResolverOptions.maxTtl}, in seconds. */
const DEFAULT_MAX_TTL = 300;
/** The default {@linkcode CachingResolverOptions.defaultTtl}, in seconds. */
const DEFAULT_DEFAULT_TTL = 30;
/** The default {@linkcode CachingResolverOptions.negativeTtl}, in seconds. */
const DEFAULT_NEGATIVE_TTL = 5;
/** The default {@linkcode CachingResolverOptions.maxEntries}. */
const DEFAULT_MAX_ENTRIES = 1000;

/**
 * Options for {@linkcode cachingResolver}.
 *
 * @example A cache that keeps answers at most a minute
 * ```ts
 * import {
 *   cachingResolver,
 *   type CachingResolverOptions,
 *   type Resolver,
 * } from "@nettrace/nettrace";
 *
 * const resolver: Resolver = { lookup: () => Promise.resolve([]) };
 * const options: CachingResolverOptions = { maxTtl: 60, maxEntries: 500 };
 * const cached = cachingResolver(resolver, options);
 * ```
 */
export interface CachingResolverOptions {
  /**
   * The clock every expiry is measured on (a test's virtual clock makes
   * expiry exact).
   *
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * The longest an answer is kept, in seconds, whatever its TTL says.
   * `0` keeps no positive answer (lookups are still coalesced).
   *
   * @default {300}
   */
  maxTtl?: number;
  /**
   * Seconds to keep an answer whose addresses carry no `ttl` (getaddrinfo,
   * the hosts file, a resolver of your own). Capped by `maxTtl`.
   *
   * @default {30}
   */
  defaultTtl?: number;
  /**
   * Seconds to keep a "no such host" answer (a {@linkcode DNSError} with
   * `isNotFound`, NXDOMAIN) and an empty answer (NODATA). Capped by
   * `maxTtl`; `0` turns negative caching off. Other failures (SERVFAIL,
   * timeouts, temporary errors, aborts) are never cached.
   *
   * @default {5}
   */
  negativeTtl?: number;
  /**
   * The most entries (one per name and family) kept; the least recently
   * used one is evicted to make room.
   *
   * @default {1000}
   */
  maxEntries?: number;
}

/**
 * What {@linkcode CachingResolver.stats} reports: counters since the cache
 * was created (`clear()` keeps them) and its current size. Compare Bun's
 * `Bun.dns.getCacheStats()`: `hits` is its `cacheHitsCompleted`,
 * `inFlightHits` its `cacheHitsInflight`, `misses` its `cacheMisses`,
 * `errors` and `size` the same, and its `totalCount` is
 * `hits + inFlightHits + misses`; `negativeHits` and `evictions` are extra.
 *
 * @example Reading the hit rate
 * ```ts
 * import type { DNSCacheStats } from "@nettrace/nettrace";
 *
 * function hitRate({ hits, inFlightHits, misses }: DNSCacheStats): number {
 *   const total = hits + inFlightHits + misses;
 *   return total === 0 ? 0 : (hits + inFlightHits) / total;
 * }
 * ```
 */
export interface DNSCacheStats {
  /**
   * Lookups answered from a fresh cache entry, without asking the
   * resolver (negative answers included).
   */
  hits: number;
  /** Lookups that asked the underlying resolver (started a query). */
  misses: number;
  /**
   * Lookups that joined a query already in flight for the same name and
   * family instead of starting their own.
   */
  inFlightHits: number;
  /** Of `hits`: those answered with a cached "no such host" or `[]`. */
  negativeHits: number;
  /** Entries held now (expired ones not counted). */
  size: number;
  /** Fresh entries dropped to stay within `maxEntries`. */
  evictions: number;
  /** Queries of the underlying resolver that failed (aborts not counted). */
  errors: number;
}

/**
 * A {@linkcode Resolver} with a cache: what {@linkcode cachingResolver}
 * returns.
 *
 * @example Clearing the cache after a network change
 * ```ts
 * import {
 *   type CachingResolver,
 *   cachingResolver,
 *   type Resolver,
 * } from "@nettrace/nettrace";
 *
 * const resolver: Resolver = { lookup: () => Promise.resolve([]) };
 * const cached: CachingResolver = cachingResolver(resolver);
 * function onNetworkChange(): void {
 *   cached.clear();
 * }
 * ```
 */
export interface CachingResolver extends Resolver {
  /**
   * Looks up the addresses of one family: from the cache while the entry
   * is fresh (a new array marked as cached, each address with the seconds
   * left, rounded down, in `ttl` when it had one), else from the wrapped
   * resolver, sharing a query already in flight for the same name and
   * family.
   *
   * @param host The host name; case and a trailing dot do not matter.
   * @param family The address family to query.
   * @param options The abort signal of this caller.
   * @returns A copy of the addresses (changing it does not touch the
   * cache). Rejects with `options.signal.reason` when it aborts, with a
   * cached or fresh {@linkcode DNSError}, or with what the wrapped
   * resolver rejected with.
   */
  lookup(
    host: string,
    family: Family,
    options: LookupOptions,
  ): Promise<IPAddr[]>;
  /**
   * Looks up service (HTTPS/SVCB) records as {@linkcode lookup} looks up
   * addresses: cached by (scheme, port, name) for the smallest record
   * `ttl`, `[]` and "no such host" for `negativeTtl`, concurrent lookups
   * sharing one query. Present only when the wrapped resolver has it.
   *
   * @param host The host name; case and a trailing dot do not matter.
   * @param options The abort signal, the scheme and the port.
   * @returns A copy of the records.
   */
  lookupService?(
    host: string,
    options: LookupServiceOptions,
  ): Promise<ServiceRecord[]>;
  /**
   * Drops `address` from the cached answers for `host` (an entry left
   * without addresses is removed, so the next lookup asks again), then
   * tells the wrapped resolver, if it listens. The dial calls it when a
   * connect to the address failed.
   *
   * @param host The name the address was looked up for.
   * @param address The address whose connect failed.
   */
  connectFailed(host: string, address: IPAddr): void;
  /**
   * Reads the counters and the size.
   *
   * @returns A snapshot of the counters, see {@linkcode DNSCacheStats}.
   */
  stats(): DNSCacheStats;
  /**
   * Empties the cache. Queries in flight still answer their callers, but
   * their answers are not stored. The counters are kept.
   */
  clear(): void;
}

/** A cached answer for one (family, name) or (scheme, port, name). */
interface Entry {
  /** When it stops being fresh, in `clock.now()` milliseconds (exclusive). */
  expires: number;
  /**
   * The addresses or service records (private copies); `undefined` for
   * "no such host".
   */
  addrs: (IPAddr | ServiceRecord)[] | undefined;
  /** The "no such host" error, for negative entries. */
  error: DNSError | undefined;
}

/** How the items of one kind of answer are copied. */
type Copy = (
  value: readonly unknown[],
) => (IPAddr | ServiceRecord)[] | undefined;

/**
 * Wraps a {@linkcode Resolver} in a cache, like the DNS cache of a browser
 * or Bun's: each (family, name) answer is kept for the smallest `ttl` of
 * its addresses (`defaultTtl` when they carry none), at most `maxTtl`
 * seconds; "no such host" and empty answers for `negativeTtl` seconds;
 * other failures not at all. A TTL of 0 is not cached. Concurrent lookups
 * of the same name and family share one query: a caller aborting leaves it,
 * and the query is aborted (and nothing cached) only when no caller is
 * left. At most `maxEntries` entries are kept, least recently used evicted
 * first. Expiry runs on `options.clock`: an entry stored at `t` with TTL
 * `s` seconds is fresh while `clock.now() < t + 1000 * s` and gone at that
 * instant.
 *
 * Service records (`lookupService`, HTTPS/SVCB) are cached the same way,
 * per (scheme, port, name), when the wrapped resolver can look them up;
 * over a resolver without `lookupService` the cache has none either.
 *
 * Cache hits are marked, so a dial reports `cached: true` in its
 * `dnsAnswer` and `dnsDone` hooks. The dial calls
 * {@linkcode CachingResolver.connectFailed} when a connect fails, which
 * drops that address from the cache.
 *
 * @param resolver The resolver to ask on a miss.
 * @param options TTL limits, the size bound and the clock.
 * @returns The caching resolver.
 * @throws {TypeError} When `resolver.lookup` is not a function, an option
 * is not a number or `clock.now` is not a function.
 * @throws {RangeError} When a TTL is negative, NaN or infinite, or
 * `maxEntries` is not an integer of at least 1.
 *
 * @example Caching a name server's answers for every dial
 * ```ts ignore
 * import { cachingResolver, createResolver, dial } from "@nettrace/nettrace/node";
 *
 * const resolver = cachingResolver(
 *   createResolver({ nameServer: { address: "127.0.0.1", port: 5353 } }),
 *   { maxTtl: 60 },
 * );
 * const conn = await dial("db.test:5432", {
 *   resolver,
 *   trace: { dnsDone: ({ cached }) => console.log({ cached }) },
 * });
 * conn.socket.end();
 * console.log(resolver.stats()); // { hits: 0, misses: 2, … }
 * ```
 *
 * @example Answers kept for their TTL
 * ```ts
 * import { cachingResolver, type Resolver } from "@nettrace/nettrace";
 * import assert from "node:assert/strict";
 *
 * let queries = 0;
 * const upstream: Resolver = {
 *   lookup: () => {
 *     queries++;
 *     return Promise.resolve([{ address: "127.0.0.1", family: 4, ttl: 60 }]);
 *   },
 * };
 * const resolver = cachingResolver(upstream);
 * const signal = new AbortController().signal;
 * await resolver.lookup("db.test", 4, { signal });
 * const again = await resolver.lookup("DB.test.", 4, { signal });
 * assert.equal(queries, 1);
 * assert.equal(again[0].address, "127.0.0.1");
 * assert.equal(resolver.stats().hits, 1);
 * ```
 */
export function cachingResolver(
  resolver: Resolver,
  options?: CachingResolverOptions,
): CachingResolver {
  if (typeof resolver?.lookup !== "function") {
    throw new TypeError(
      "Cannot create a caching resolver: resolver.lookup is not a function",
    );
  }
  const clock = options?.clock ?? systemClock;
  if (typeof clock?.now !== "function") {
    throw new TypeError(
      "Cannot create a caching resolver: options.clock.now is not a function",
    );
  }
  const maxTtl = seconds("maxTtl", options?.maxTtl, DEFAULT_MAX_TTL);
  const defaultTtl = seconds(
    "defaultTtl",
    options?.defaultTtl,
    DEFAULT_DEFAULT_TTL,
  );
  const negativeTtl = seconds(
    "negativeTtl",
    options?.negativeTtl,
    DEFAULT_NEGATIVE_TTL,
  );
  const maxEntries = options?.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (typeof maxEntries !== "number") {
    throw new TypeError(
      `Cannot use ${String(maxEntries)} as maxEntries: expected a number`,
    );
  }
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(
      `Cannot use ${maxEntries} as maxEntries: expected an integer >= 1`,
    );
  }

  // Map order is recency: a hit moves its entry to the end.
  const entries = new Map<string, Entry>();
  const flights = new Singleflight<unknown>();
  // Bumped by clear(): queries started before it store nothing.
  let generation = 0;
  const counters = {
    hits: 0,
    misses: 0,
    inFlightHits: 0,
    negativeHits: 0,
    evictions: 0,
    errors: 0,
  };

  function fresh(key: string, now: number): Entry | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (now >= entry.expires) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  function store(key: string, entry: Entry): void {
    entries.delete(key);
    entries.set(key, entry);
    const now = clock.now();
    while (entries.size > maxEntries) {
      const [oldest, dropped] = entries.entries().next().value!;
      entries.delete(oldest);
      if (now < dropped.expires) counters.evictions++;
    }
  }

  function fromEntry(
    entry: Entry,
    host: string,
    copy: Copy,
  ): Promise<(IPAddr | ServiceRecord)[]> {
    counters.hits++;
    if (entry.addrs === undefined || entry.addrs.length === 0) {
      counters.negativeHits++;
    }
    if (entry.addrs === undefined) {
      const cause = entry.error!;
      const error = new DNSError(cause.reason, host, {
        isNotFound: true,
        server: cause.server,
        cause,
      });
      return Promise.reject(markCached(error));
    }
    const left = Math.max(0, Math.floor((entry.expires - clock.now()) / 1000));
    const items = copy(entry.addrs)!;
    for (const item of items) if (item.ttl !== undefined) item.ttl = left;
    return Promise.resolve(markCached(items));
  }

  async function query(
    key: string,
    copy: Copy,
    signal: AbortSignal,
    ask: (signal: AbortSignal) => Promise<unknown>,
  ): Promise<unknown> {
    const started = generation;
    let value: unknown;
    try {
      value = await ask(signal);
    } catch (error) {
      if (signal.aborted) throw error;
      counters.errors++;
      if (
        started === generation && negativeTtl > 0 && maxTtl > 0 &&
        error instanceof DNSError && error.isNotFound &&
        !error.isTemporary && !error.isTimeout
      ) {
        const ttl = Math.min(negativeTtl, maxTtl);
        store(key, {
          expires: clock.now() + ttl * 1000,
          addrs: undefined,
          error,
        });
      }
      throw error;
    }
    if (signal.aborted || started !== generation || !Array.isArray(value)) {
      return value;
    }
    const addrs = copy(value);
    if (addrs === undefined) return value;
    const ttl = Math.min(
      maxTtl,
      addrs.length === 0 ? negativeTtl : answerTtl(addrs, defaultTtl),
    );
    if (ttl > 0) {
      store(key, {
        expires: clock.now() + ttl * 1000,
        addrs,
        error: undefined,
      });
    }
    return value;
  }

  /** A lookup of either kind: from the cache, or one shared query. */
  function cached(
    key: string,
    host: string,
    signal: AbortSignal | undefined,
    copy: Copy,
    ask: (signal: AbortSignal) => Promise<unknown>,
  ): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const entry = fresh(key, clock.now());
    if (entry !== undefined) {
      // Most recently used: to the end of the map.
      entries.delete(key);
      entries.set(key, entry);
      return fromEntry(entry, host, copy);
    }
    if (flights.waiters(key) > 0) counters.inFlightHits++;
    else counters.misses++;
    return flights.do(
      key,
      (flightSignal) => query(key, copy, flightSignal, ask),
      { signal },
    ).then(({ value }) => Array.isArray(value) ? copy(value) ?? value : value);
  }

  function lookup(
    host: string,
    family: Family,
    lookupOptions: LookupOptions,
  ): Promise<IPAddr[]> {
    return cached(
      `${family} ${cacheName(host)}`,
      host,
      lookupOptions?.signal,
      copyAddrs,
      (signal) => resolver.lookup(host, family, { signal }),
    ) as Promise<IPAddr[]>;
  }

  function lookupService(
    host: string,
    serviceOptions: LookupServiceOptions,
  ): Promise<ServiceRecord[]> {
    const { signal, scheme, port } = serviceOptions ?? {};
    return cached(
      `s ${String(scheme).toLowerCase()} ${port} ${cacheName(host)}`,
      host,
      signal,
      copyServices,
      (signal) => resolver.lookupService!(host, { signal, scheme, port }),
    ) as Promise<ServiceRecord[]>;
  }

  const caching: CachingResolver = {
    lookup,
    /** The inner resolver's name server, so a dial's error still names it. */
    get server(): string | undefined {
      return resolver.server;
    },
    connectFailed(host: string, address: IPAddr): void {
      const failed = parseIP(String(address?.address));
      if (failed !== undefined) {
        const zone = address.zone ?? failed.zone;
        const name = cacheName(String(host));
        for (const family of [4, 6] as const) {
          const key = `${family} ${name}`;
          const entry = entries.get(key);
          if (entry?.addrs === undefined || entry.addrs.length === 0) continue;
          const kept = (entry.addrs as IPAddr[]).filter((addr) => {
            const ip = parseIP(addr.address);
            return ip === undefined || ip.address !== failed.address ||
              (addr.zone ?? ip.zone) !== zone;
          });
          if (kept.length === entry.addrs.length) continue;
          if (kept.length === 0) entries.delete(key);
          else entry.addrs = kept;
        }
      }
      try {
        resolver.connectFailed?.(host, address);
      } catch {
        // As for the dial: a listener's error changes nothing.
      }
    },
    stats(): DNSCacheStats {
      const now = clock.now();
      for (const [key, entry] of entries) {
        if (now >= entry.expires) entries.delete(key);
      }
      return { ...counters, size: entries.size };
    },
    clear(): void {
      entries.clear();
      generation++;
    },
  };
  if (typeof resolver.lookupService === "function") {
    caching.lookupService = lookupService;
  }
  return caching;
}
