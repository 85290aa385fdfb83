/**
 * The shapes the core is written against: addresses, the resolver, the
 * dialer and the clock. Nothing here does any work.
 *
 * @module
 */

/**
 * An IP address family: 4 for IPv4, 6 for IPv6.
 *
 * @example Reading the family of an address
 * ```ts
 * import { type Family, parseIP } from "@nettrace/nettrace";
 *
 * const family: Family | undefined = parseIP("::1")?.family; // 6
 * ```
 */
export type Family = 4 | 6;

/**
 * The network to dial, as in Go: `"tcp"` uses both families, `"tcp4"` and
 * `"tcp6"` only one.
 *
 * @example Dialling IPv4 only
 * ```ts
 * import type { DialOptions, Network } from "@nettrace/nettrace";
 *
 * const network: Network = "tcp4";
 * const options: DialOptions = { network };
 * ```
 */
export type Network = "tcp" | "tcp4" | "tcp6";

/**
 * An IP address in canonical text form.
 *
 * @example Addresses with and without a zone
 * ```ts
 * import type { IPAddr } from "@nettrace/nettrace";
 *
 * const loopback: IPAddr = { address: "127.0.0.1", family: 4 };
 * const linkLocal: IPAddr = { address: "fe80::1", family: 6, zone: "eth0" };
 * ```
 */
export interface IPAddr {
  /** Canonical text, no brackets, no zone (`"::1"`, `"127.0.0.1"`). */
  address: string;
  /** The address family. */
  family: Family;
  /** The IPv6 zone (scope id), as in `fe80::1%eth0`. */
  zone?: string;
  /**
   * How long the answer may be cached, in seconds, when the resolver knows
   * (a DNS record's TTL). Unset for answers without one (getaddrinfo, the
   * hosts file).
   */
  ttl?: number;
}

/**
 * An IP address and a port: one thing to connect to.
 *
 * @example Formatting an endpoint
 * ```ts
 * import { type Endpoint, formatEndpoint } from "@nettrace/nettrace";
 *
 * const endpoint: Endpoint = { address: "::1", family: 6, port: 8080 };
 * console.log(formatEndpoint(endpoint)); // "[::1]:8080"
 * ```
 */
export interface Endpoint extends IPAddr {
  /** The TCP port, 0–65535. */
  port: number;
}

/**
 * Options passed to {@linkcode Resolver.lookup}.
 *
 * @example A resolver that stops when the dial no longer waits
 * ```ts
 * import type {
 *   Family,
 *   IPAddr,
 *   LookupOptions,
 *   Resolver,
 * } from "@nettrace/nettrace";
 *
 * const resolver: Resolver = {
 *   lookup(host: string, family: Family, { signal }: LookupOptions) {
 *     if (signal.aborted) return Promise.reject(signal.reason);
 *     const addrs: IPAddr[] = host === "db.test" && family === 4
 *       ? [{ address: "127.0.0.1", family: 4 }]
 *       : [];
 *     return Promise.resolve(addrs);
 *   },
 * };
 * ```
 */
export interface LookupOptions {
  /** Aborted when no caller wants the answer any more. */
  signal: AbortSignal;
}

/**
 * Resolves a host name to the addresses of one family.
 *
 * @example Implementing a resolver from a fixed table
 * ```ts
 * import type { Family, IPAddr, Resolver } from "@nettrace/nettrace";
 *
 * const table: Record<string, IPAddr[]> = {
 *   "db.internal": [{ address: "127.0.0.1", family: 4 }],
 * };
 * const resolver: Resolver = {
 *   lookup(host: string, family: Family) {
 *     return Promise.resolve(
 *       (table[host] ?? []).filter((a) => a.family === family),
 *     );
 *   },
 * };
 * ```
 */
export interface Resolver {
  /**
   * Looks up the addresses of one family.
   *
   * Resolves `[]` when the name exists but has no record of that family;
   * rejects with a {@linkcode DNSError} for NXDOMAIN or a failure.
   *
   * @param host The host name, without brackets or port.
   * @param family The address family to query.
   * @param options The abort signal of the lookup.
   * @returns The addresses found, in the order the resolver gives them.
   */
  lookup(
    host: string,
    family: Family,
    options: LookupOptions,
  ): Promise<IPAddr[]>;
  /**
   * Told when a connect to an address this resolver returned for `host`
   * failed (not when it was cancelled or refused by a control hook), so a
   * cache can drop the address. Optional; errors it throws are ignored.
   *
   * @param host The name as it was looked up (ASCII form).
   * @param address The address whose connect failed.
   */
  connectFailed?(host: string, address: IPAddr): void;
  /**
   * The name server this resolver asks, as `host:port` (Go's
   * `DNSError.Server`), when it asks one: a dial that finds no address of
   * any family names it, `lookup h on 127.0.0.1:53: no such host`, as Go
   * does for NODATA. Optional.
   */
  readonly server?: string;
  /**
   * Looks up the service (SVCB/HTTPS, RFC 9460) records of `host` for
   * Happy Eyeballs v3: an HTTPS query for `scheme: "https"` on port 443,
   * an HTTPS query of `_port._https.host` on another port, an SVCB query
   * of `_port._scheme.host` for other schemes. Optional: a resolver
   * without it keeps RFC 8305 behaviour.
   *
   * Resolves `[]` when the name has no such record; rejects with a
   * {@linkcode DNSError} for NXDOMAIN or a failure. AliasMode records
   * (priority 0) are returned as they are: the dial follows them.
   *
   * @param host The host name, without brackets or port.
   * @param options The abort signal, the scheme and the port dialled.
   * @returns The records found, in the order the resolver gives them.
   */
  lookupService?(
    host: string,
    options: LookupServiceOptions,
  ): Promise<ServiceRecord[]>;
}

/**
 * Options passed to {@linkcode Resolver.lookupService}.
 *
 * @example The options of an HTTPS query
 * ```ts
 * import type { LookupServiceOptions } from "@nettrace/nettrace";
 *
 * const options: LookupServiceOptions = {
 *   signal: new AbortController().signal,
 *   scheme: "https",
 *   port: 443,
 * };
 * ```
 */
export interface LookupServiceOptions extends LookupOptions {
  /** The URI scheme the service is for: `"https"` asks for HTTPS records. */
  scheme: "https" | (string & Record<never, never>);
  /** The port the caller dials; it names the query when it is not the scheme's default. */
  port: number;
}

/**
 * One SVCB or HTTPS record (RFC 9460), ServiceMode or AliasMode, as
 * {@linkcode Resolver.lookupService} returns it.
 *
 * @example An HTTPS record with ALPN and address hints
 * ```ts
 * import type { ServiceRecord } from "@nettrace/nettrace";
 *
 * const record: ServiceRecord = {
 *   priority: 1,
 *   target: ".",
 *   alpn: ["h2", "http/1.1"],
 *   ipv4hint: ["192.0.2.1"],
 *   ipv6hint: ["2001:db8::1"],
 *   ttl: 300,
 * };
 * ```
 */
export interface ServiceRecord {
  /** SvcPriority: 0 is AliasMode, lower positive values are preferred. */
  priority: number;
  /** TargetName: `"."` means the owner name itself. */
  target: string;
  /** The `alpn` SvcParam: protocol ids the service offers. */
  alpn?: string[];
  /** The `no-default-alpn` SvcParam: the scheme's default ALPN is not offered. */
  noDefaultAlpn?: boolean;
  /** The `port` SvcParam: the port to dial instead of the caller's. */
  port?: number;
  /** The `ipv4hint` SvcParam: IPv4 addresses of the target. */
  ipv4hint?: string[];
  /** The `ipv6hint` SvcParam: IPv6 addresses of the target. */
  ipv6hint?: string[];
  /** The `ech` SvcParam: an ECHConfigList, passed through as it came. */
  ech?: Uint8Array;
  /** The record's TTL in seconds, when the resolver knows it. */
  ttl?: number;
}

/**
 * Options passed to {@linkcode Dialer.connect}.
 *
 * @example A dialer that gives up when the attempt is cancelled
 * ```ts
 * import type { ConnectOptions, Dialer, Endpoint } from "@nettrace/nettrace";
 *
 * const dialer: Dialer<Endpoint> = {
 *   connect(endpoint: Endpoint, { signal }: ConnectOptions) {
 *     if (signal.aborted) return Promise.reject(signal.reason);
 *     return Promise.resolve(endpoint);
 *   },
 *   close: () => {},
 * };
 * ```
 */
export interface ConnectOptions {
  /** Aborted when the attempt lost the race or the dial was given up. */
  signal: AbortSignal;
}

/**
 * Opens one connection to one endpoint. The core races several of these.
 *
 * @typeParam C The connection type.
 *
 * @example A dialer that only records what it was asked to do
 * ```ts
 * import type { Dialer, Endpoint } from "@nettrace/nettrace";
 *
 * const dialer: Dialer<Endpoint> = {
 *   connect: (endpoint) => Promise.resolve(endpoint),
 *   close: () => {},
 * };
 * ```
 */
export interface Dialer<C> {
  /**
   * Connects to one endpoint.
   *
   * Must reject (and release everything) when `options.signal` aborts.
   *
   * The endpoint is frozen and may be the same object in every dial of
   * that address and port (concurrent ones too): keep per-endpoint facts
   * by it (a parsed address), never per-attempt state, and return a
   * connection object of the attempt's own.
   *
   * @param endpoint The address and port to connect to.
   * @param options The abort signal of this attempt.
   * @returns The open connection.
   */
  connect(endpoint: Endpoint, options: ConnectOptions): Promise<C>;
  /**
   * Closes a connection the race did not pick.
   *
   * @param conn A connection this dialer returned.
   */
  close(conn: C): void;
  /**
   * Runs a TLS client handshake on a connection this dialer returned.
   * Needed only for dials with the `tls` option.
   *
   * Must reject with a {@linkcode TLSError} when the handshake fails, and
   * reject (with `options.signal.reason`) when the signal aborts; on any
   * rejection the connection, TCP included, is closed.
   *
   * @param conn A connection this dialer returned.
   * @param options What to verify and offer, and the abort signal.
   * @returns The TLS connection and what was negotiated.
   */
  startTls?(conn: C, options: StartTLSOptions): Promise<TLSResult<C>>;
}

/**
 * TLS settings of a dial (the `tls` option).
 *
 * @example A TLS dial offering HTTP/2 and HTTP/1.1
 * ```ts
 * import type { TLSOptions } from "@nettrace/nettrace";
 *
 * const tls: TLSOptions = { alpnProtocols: ["h2", "http/1.1"] };
 * ```
 */
export interface TLSOptions {
  /**
   * The name sent as SNI and checked against the certificate. For a dial of
   * an IP literal the address is checked instead and no SNI is sent.
   * @default {the dialled host}
   */
  serverName?: string;
  /**
   * The ALPN protocols to offer, most preferred first.
   * @default {undefined}
   */
  alpnProtocols?: string[];
  /**
   * PEM certificates to trust. On Node and Bun they replace the default
   * roots; Deno adds them to its roots.
   * @default {undefined}
   */
  caCerts?: string[];
  /**
   * When an attempt counts as connected (Happy Eyeballs v3's success
   * point): `"tcp"` races TCP and runs one handshake on the winner, as Go
   * does; `"tls"` runs the handshake inside each attempt, so a path that
   * connects but stalls in TLS cannot win.
   * @default {"tcp"}
   */
  successPoint?: "tcp" | "tls";
}

/**
 * What a dial passes to {@linkcode Dialer.startTls}.
 *
 * @example The options for a handshake with db.test
 * ```ts
 * import type { StartTLSOptions } from "@nettrace/nettrace";
 *
 * const options: StartTLSOptions = {
 *   serverName: "db.test",
 *   alpnProtocols: ["postgresql"],
 *   signal: new AbortController().signal,
 * };
 * ```
 */
export interface StartTLSOptions {
  /**
   * The name (sent as SNI) or IP address (no SNI) to verify the
   * certificate against.
   */
  serverName: string;
  /** The ALPN protocols to offer. */
  alpnProtocols?: string[];
  /** PEM certificates to trust instead of (Deno: as well as) the defaults. */
  caCerts?: string[];
  /** Aborted when the handshake is no longer wanted. */
  signal: AbortSignal;
}

/**
 * What {@linkcode Dialer.startTls} resolves to.
 *
 * @typeParam C The connection type.
 *
 * @example A result without ALPN
 * ```ts
 * import type { TLSResult } from "@nettrace/nettrace";
 *
 * const result: TLSResult<string> = { conn: "conn", alpnProtocol: null };
 * ```
 */
export interface TLSResult<C> {
  /** The TLS connection; it replaces the TCP one. */
  conn: C;
  /** The negotiated ALPN protocol; `null` when none was. */
  alpnProtocol: string | null;
  /** The TLS version, when the runtime tells (`"TLSv1.3"`). */
  tlsVersion?: string;
}

/**
 * A monotonic clock with timers. Every delay of a dial runs on one, so a
 * test's virtual clock drives a whole dial.
 *
 * @example A clock that only counts what was scheduled
 * ```ts
 * import { type Clock, systemClock } from "@nettrace/nettrace";
 *
 * let scheduled = 0;
 * const counting: Clock = {
 *   now: () => systemClock.now(),
 *   setTimeout(fn, ms) {
 *     scheduled++;
 *     return systemClock.setTimeout(fn, ms);
 *   },
 *   clearTimeout: (handle) => systemClock.clearTimeout(handle),
 * };
 * ```
 */
export interface Clock {
  /**
   * The current time.
   *
   * @returns Milliseconds on a monotonic scale.
   */
  now(): number;
  /**
   * Calls `fn` once, `ms` milliseconds from now.
   *
   * @param fn The callback.
   * @param ms The delay in milliseconds.
   * @returns A handle for {@linkcode Clock.clearTimeout}.
   */
  setTimeout(fn: () => void, ms: number): unknown;
  /**
   * Cancels a timer that has not fired yet.
   *
   * @param handle What {@linkcode Clock.setTimeout} returned.
   */
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock: `performance.now()` and the global timers.
 *
 * @example Measuring a duration
 * ```ts
 * import { systemClock } from "@nettrace/nettrace";
 *
 * const start = systemClock.now();
 * const elapsed = systemClock.now() - start;
 * ```
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clearTimeout: (handle: unknown): void =>
    clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * A local or remote socket address of a {@linkcode Conn}.
 *
 * @example Showing whom a connection talks to
 * ```ts
 * import { type Conn, joinHostPort, type NetAddr } from "@nettrace/nettrace";
 *
 * function peer(conn: Conn): string {
 *   const { hostname, port }: NetAddr = conn.remoteAddr;
 *   return joinHostPort(hostname, port); // "[::1]:8080" or "127.0.0.1:8080"
 * }
 * ```
 */
export interface NetAddr {
  /** The IP address, canonical text without brackets. */
  hostname: string;
  /** The port. */
  port: number;
}

/**
 * The connection the runtime adapters return: web streams plus addresses.
 * `Deno.TcpConn` already is one.
 *
 * @example Writing a line and reading the answer
 * ```ts ignore
 * import { dial } from "@nettrace/nettrace/node";
 *
 * const conn = await dial("127.0.0.1:7");
 * const writer = conn.writable.getWriter();
 * await writer.write(new TextEncoder().encode("ping\n"));
 * const { value } = await conn.readable.getReader().read();
 * conn.close();
 * ```
 */
export interface Conn {
  /** Bytes from the peer. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; `write()` waits while the socket is full. */
  readonly writable: WritableStream<Uint8Array>;
  /** This end's address. */
  readonly localAddr: NetAddr;
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
  /** Closes the connection at once. */
  close(): void;
}

/**
 * The connection a dial with the `tls` option returns.
 *
 * @example Reading the negotiated protocol
 * ```ts ignore
 * import { dial } from "@nettrace/nettrace/node";
 *
 * const conn = await dial("example.test:443", {
 *   tls: { alpnProtocols: ["h2", "http/1.1"] },
 * });
 * console.log(conn.alpnProtocol); // "h2"
 * conn.close();
 * ```
 */
export interface TLSConn extends Conn {
  /** The negotiated ALPN protocol; `null` when none was. */
  readonly alpnProtocol: string | null;
}
