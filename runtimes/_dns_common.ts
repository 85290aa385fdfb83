/**
 * What the three runtime resolvers share: their options, the `localhost`
 * rule, IP literals, abort handling and the mapping of native lookup errors
 * to {@linkcode DNSError}. Runtime-neutral; not part of the public API.
 *
 * @module
 */

import { joinHostPort, parseIP } from "../src/address.ts";
import { addrKey } from "../src/_ip.ts";
import { DNSError } from "../src/errors.ts";
import type { Family, IPAddr } from "../src/types.ts";

/**
 * Options for `createResolver()` of every runtime adapter.
 *
 * @example A resolver that asks a local name server
 * ```ts
 * import { createResolver, type ResolverOptions } from "@nettrace/nettrace/node";
 *
 * const options: ResolverOptions = {
 *   nameServer: { address: "127.0.0.1", port: 5353 },
 *   timeout: 1_000,
 * };
 * const resolver = createResolver(options);
 * ```
 */
export interface ResolverOptions {
  /**
   * Query this DNS server directly (UDP: A, AAAA, and HTTPS or SVCB for
   * `lookupService`) instead of the system resolver; `/etc/hosts` and the
   * search list are then not used. `address` must be an IP literal.
   *
   * @default {undefined}
   */
  nameServer?: {
    /** The server's IP address, as text (`"127.0.0.1"`, `"::1"`). */
    address: string;
    /**
     * The server's UDP port.
     * @default {53}
     */
    port?: number;
  };
  /**
   * Milliseconds to wait for the name server's answer to one query before
   * failing with `i/o timeout`. Only used with `nameServer`; the system
   * resolver follows the system configuration (`/etc/resolv.conf`).
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * The system resolver reads this hosts file itself, as Go does: a name
   * listed there is answered from it (addresses of the other family, if
   * any, are then none) without a getaddrinfo call; other names go to
   * getaddrinfo. The default `/etc/hosts` is used only when
   * `/etc/nsswitch.conf` consults files first (or does not exist); a path
   * given here is always used. `false`: leave everything to getaddrinfo.
   * Not used with `nameServer`, nor on Windows.
   *
   * @default {"/etc/hosts"}
   */
  hostsFile?: string | false;
}

/**
 * An address a resolver returned, with the record's time to live when the
 * source gives one (a DNS cache can use it).
 *
 * @example How long an answer may be cached
 * ```ts
 * import type { ResolvedAddr } from "@nettrace/nettrace/node";
 *
 * function cacheSeconds(addrs: readonly ResolvedAddr[]): number {
 *   return Math.min(300, ...addrs.map((a) => a.ttl ?? 300));
 * }
 * console.log(cacheSeconds([{ address: "127.0.0.1", family: 4, ttl: 60 }])); // 60
 * ```
 */
export interface ResolvedAddr extends IPAddr {
  /** Seconds the answer may be cached, when known. */
  ttl?: number;
}

/** The default name server port. */
export const DEFAULT_DNS_PORT = 53;
/** The default per-query timeout, in milliseconds. */
export const DEFAULT_DNS_TIMEOUT = 5000;

/** A validated {@linkcode ResolverOptions.nameServer}. */
export interface NameServer {
  /** The IP address, canonical, without zone. */
  ip: string;
  /** The IP address, canonical, `%zone` appended when there is one. */
  address: string;
  /** The UDP port. */
  port: number;
  /** `host:port` for error messages (`"127.0.0.1:53"`, `"[::1]:53"`). */
  text: string;
  /** The family of `address`. */
  family: Family;
}

/**
 * Checks `options.nameServer` and `options.timeout`.
 *
 * @param options The options given to `createResolver()`.
 * @returns The name server (undefined for the system resolver) and timeout.
 * @throws {TypeError} When the name server address is not an IP literal.
 * @throws {RangeError} When the port or the timeout is out of range.
 */
export function checkResolverOptions(
  options: ResolverOptions | undefined,
): {
  nameServer: NameServer | undefined;
  timeout: number;
  hostsFile: string | false | undefined;
} {
  const timeout = options?.timeout ?? DEFAULT_DNS_TIMEOUT;
  const hostsFile = options?.hostsFile;
  if (
    hostsFile !== undefined && hostsFile !== false &&
    (typeof hostsFile !== "string" || hostsFile === "")
  ) {
    throw new TypeError(
      `Cannot use ${
        String(hostsFile)
      } as a hosts file: expected a path or false`,
    );
  }
  if (typeof timeout !== "number" || !(timeout > 0) || timeout > 2 ** 31 - 1) {
    throw new RangeError(
      `Cannot use ${timeout} as a DNS timeout: expected milliseconds > 0`,
    );
  }
  const given = options?.nameServer;
  if (given === undefined) return { nameServer: undefined, timeout, hostsFile };
  const ip = typeof given.address === "string"
    ? parseIP(given.address)
    : undefined;
  if (ip === undefined) {
    throw new TypeError(
      `Cannot use "${given.address}" as a name server: not an IP address`,
    );
  }
  const port = given.port ?? DEFAULT_DNS_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(
      `Cannot use ${port} as a name server port: expected 1-65535`,
    );
  }
  // An IPv4-mapped literal is IPv4 (parseIP says so); send to it as IPv4.
  const address = addrKey(ip);
  return {
    nameServer: {
      ip: ip.address,
      address,
      port,
      text: joinHostPort(address, port),
      family: ip.family,
    },
    timeout,
    hostsFile,
  };
}

/**
 * The name as it goes on the wire, lower case, without the trailing dot, or
 * `undefined` when it is not a valid domain name. Go's rules: letters,
 * digits, `-` and `_`; labels of 1–63 octets that neither start nor end with
 * `-`; at least one non-digit; at most 253 octets.
 *
 * @param host The host name.
 * @returns The canonical name, or `undefined`.
 */
export function canonicalName(host: string): string | undefined {
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > 253) return undefined;
  let labelLength = 0;
  let previous = 0x2e; // as if after a dot
  let numeric = true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (labelLength === 0 || previous === 0x2d) return undefined;
      labelLength = 0;
    } else if (c === 0x2d /* - */) {
      if (previous === 0x2e) return undefined;
      numeric = false;
      labelLength++;
    } else if (c >= 0x30 && c <= 0x39) {
      labelLength++;
    } else if (
      (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f
    ) {
      numeric = false;
      labelLength++;
    } else {
      return undefined;
    }
    if (labelLength > 63) return undefined;
    previous = c;
  }
  if (previous === 0x2d || numeric) return undefined;
  return name.toLowerCase();
}

const LOCALHOST: Record<Family, readonly ResolvedAddr[]> = {
  4: [{ address: "127.0.0.1", family: 4 }],
  6: [{ address: "::1", family: 6 }],
};

/**
 * Tells whether `host` is `localhost` or a name under it, in any case and
 * with or without the trailing dot (RFC 6761 §6.3).
 *
 * @param host The host name.
 * @returns `true` for `localhost`, `LOCALHOST.`, `app.localhost`, ….
 */
export function isLocalhost(host: string): boolean {
  if (host === "localhost") return true;
  const name = (host.endsWith(".") ? host.slice(0, -1) : host).toLowerCase();
  return name === "localhost" || name.endsWith(".localhost");
}

/**
 * The answer a resolver gives without asking anyone: the loopback address
 * for `localhost` names (system resolver only), the address itself for an
 * IP literal (of the other family: `[]`).
 *
 * @param host The host name.
 * @param family The family asked for.
 * @param localhost Whether to answer `localhost` names.
 * @returns The answer, or `undefined` when the name must be looked up.
 */
export function localAnswer(
  host: string,
  family: Family,
  localhost: boolean,
): ResolvedAddr[] | undefined {
  // RFC 6761 §6.3: name resolution APIs and libraries SHOULD recognize
  // localhost names as special and SHOULD always return the IP loopback
  // address, without querying anyone; curl does the same. Here it is also
  // needed: an /etc/hosts without `::1 localhost` would send the AAAA
  // query for localhost to the network's DNS server.
  if (localhost && isLocalhost(host)) return LOCALHOST[family].slice();
  const ip = parseIP(host);
  if (ip !== undefined) return ip.family === family ? [ip] : [];
  return undefined;
}

/** Options for {@linkcode toResolvedAddrs}. */
export interface ToResolvedAddrsOptions {
  /**
   * The records come from DNS answers (a name server), so their `ttl` is
   * the record's and is kept, 0 included (0: do not cache). Otherwise
   * (getaddrinfo, which knows no TTL; Bun reports 0 there) no `ttl` is set.
   *
   * @default {false}
   */
  recordTtl?: boolean;
}

/**
 * Turns native `{ address, ttl? }` records into canonical addresses of one
 * family. Records that are not IP literals, or are of the other family (an
 * IPv4-mapped AAAA record is IPv4, as in Go), are left out.
 *
 * @param records The native answer.
 * @param family The family asked for.
 * @param options Whether the records' `ttl` is a DNS record's TTL.
 * @returns Canonical addresses; with `recordTtl`, `ttl` kept when it is a
 * whole number of seconds >= 0.
 */
export function toResolvedAddrs(
  records: readonly { address: string; ttl?: number }[],
  family: Family,
  options?: ToResolvedAddrsOptions,
): ResolvedAddr[] {
  const recordTtl = options?.recordTtl ?? false;
  const out: ResolvedAddr[] = [];
  for (const record of records) {
    const ip = parseIP(record.address);
    if (ip === undefined || ip.family !== family) continue;
    const addr: ResolvedAddr = ip;
    const ttl = record.ttl;
    if (
      recordTtl && typeof ttl === "number" && Number.isInteger(ttl) && ttl >= 0
    ) {
      addr.ttl = ttl;
    }
    out.push(addr);
  }
  return out;
}

/**
 * Runs `start()` and settles with its result, unless `signal` aborts first:
 * then it rejects at once with `signal.reason` (unchanged), calls `cancel`,
 * and ignores the late result. The abort listener is removed either way.
 *
 * @param signal The lookup's signal.
 * @param start Starts the native work.
 * @param cancel Stops the native work, when it can be stopped.
 * @returns The work's result.
 */
export function abortable<T>(
  signal: AbortSignal,
  start: () => Promise<T>,
  cancel?: () => void,
): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason);
      cancel?.();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    let work: Promise<T>;
    try {
      work = start();
    } catch (err) {
      signal.removeEventListener("abort", onAbort);
      reject(err);
      return;
    }
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/**
 * A lookup answered without asking anyone, settled as {@linkcode abortable}
 * settles it: rejected with `signal.reason` when the signal was aborted
 * before or aborts before the answer is delivered (an abort in the same
 * tick as the call still wins, as it would for a real lookup), else
 * resolved with `answer`. The check at delivery needs no abort listener.
 *
 * @param signal The lookup's signal.
 * @param answer The answer.
 * @returns The answer.
 */
export function settledAnswer<T>(signal: AbortSignal, answer: T): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return RESOLVED.then(() => {
    if (signal.aborted) throw signal.reason;
    return answer;
  });
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Reads `err.code` without the `DNS_` prefix Bun puts on its codes. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return undefined;
  return code.startsWith("DNS_") ? code.slice(4) : code;
}

// getaddrinfo's "no such name" in the spellings of Node (ENOTFOUND for
// EAI_NONAME and EAI_NODATA), Deno's node:dns (the same), Bun
// (DNS_ENOTFOUND) and raw EAI_* names; c-ares' ENODATA and NXDOMAIN too.
const NOT_FOUND = new Set([
  "ENOTFOUND",
  "EAI_NONAME",
  "EAI_NODATA",
  "ENODATA",
  "ENONAME",
  "NXDOMAIN",
]);
const TEMPORARY = new Set(["EAI_AGAIN", "EAGAIN", "ESERVFAIL"]);
const TIMEOUT = new Set(["ETIMEOUT", "ETIMEDOUT"]);

/**
 * Maps an error of a getaddrinfo-style lookup (Node's and Deno's
 * `dns.lookup`, `Bun.dns.lookup`) to a {@linkcode DNSError}.
 *
 * getaddrinfo cannot tell "the name does not exist" from "the name has no
 * address of this family": both come back as not found. That is fine for the
 * core, which treats a failed family like an empty one when the other family
 * has addresses.
 *
 * @param err The native error.
 * @param host The host looked up.
 * @returns The error to reject with.
 */
export function systemLookupError(err: unknown, host: string): DNSError {
  if (err instanceof DNSError) return err;
  const code = errorCode(err);
  if (code !== undefined && NOT_FOUND.has(code)) {
    return new DNSError("no such host", host, { isNotFound: true, cause: err });
  }
  if (code !== undefined && TEMPORARY.has(code)) {
    return new DNSError("temporary failure in name resolution", host, {
      isTemporary: true,
      cause: err,
    });
  }
  if (code !== undefined && TIMEOUT.has(code)) {
    return new DNSError("i/o timeout", host, { isTimeout: true, cause: err });
  }
  const message = err instanceof Error && err.message !== ""
    ? err.message
    : String(err);
  return new DNSError(message, host, { cause: err });
}

/**
 * The lookup of a system resolver: `localhost` names, IP literals and names
 * in the hosts file (when given) are answered here, everything else by
 * `native` (getaddrinfo), with abort and error mapping handled.
 *
 * @param host The host name.
 * @param family The family asked for.
 * @param signal Aborts the lookup.
 * @param native The runtime's getaddrinfo call.
 * @param hosts The hosts file, read by the resolver itself.
 * @returns Canonical addresses of `family`.
 */
export function systemLookup(
  host: string,
  family: Family,
  signal: AbortSignal,
  native: (host: string, family: Family) => Promise<ResolvedAddr[]>,
  hosts?: { lookup(host: string, family: Family): ResolvedAddr[] | undefined },
): Promise<ResolvedAddr[]> {
  const local = localAnswer(host, family, true) ?? hosts?.lookup(host, family);
  if (local !== undefined) return settledAnswer(signal, local);
  return abortable(signal, async () => {
    try {
      return await native(host, family);
    } catch (err) {
      // A TypeError is a bug or a missing runtime API, not a DNS answer.
      throw err instanceof TypeError ? err : systemLookupError(err, host);
    }
  });
}
