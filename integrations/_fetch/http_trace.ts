/**
 * `HTTPTrace`: Go's `net/http/httptrace.ClientTrace` in nettrace's naming,
 * layered on the dial hooks of `Trace`.
 *
 * The type lives with the fetch integration, not in `src/`: the core has no
 * HTTP client (DESIGN.md), and only the hook names are known to the core so
 * that `withTrace` composes them (`src/trace.ts`).
 *
 * @module
 */

import type { Trace } from "../../runtimes/node.ts";

/**
 * An address of a connection: the IP (no brackets) and the port.
 *
 * @example The peer of a connection to [::1]:8080
 * ```ts
 * import type { ConnAddr } from "@nettrace/nettrace/fetch";
 *
 * const remote: ConnAddr = { hostname: "::1", port: 8080 };
 * ```
 */
export interface ConnAddr {
  /** The IP address, canonical text, no brackets. */
  hostname: string;
  /** The port. */
  port: number;
}

/**
 * What every HTTP hook receives: which attempt of the `fetch` call it is
 * about.
 *
 * @example Telling redirect hops apart
 * ```ts
 * import type { AttemptInfo, HTTPTrace } from "@nettrace/nettrace/fetch";
 *
 * const trace: HTTPTrace = {
 *   wroteHeaders: ({ attempt }: AttemptInfo) => console.log("hop", attempt),
 * };
 * ```
 */
export interface AttemptInfo {
  /**
   * The request's index within its `fetch` call, from 0: every redirect
   * hop and every retry is a new attempt.
   */
  attempt: number;
}

/**
 * What {@linkcode HTTPTrace.getConn} receives.
 *
 * @example Logging what is requested
 * ```ts
 * import type { GetConnInfo, HTTPTrace } from "@nettrace/nettrace/fetch";
 *
 * const trace: HTTPTrace = {
 *   getConn: ({ method, url }: GetConnInfo) => console.log(method, url),
 * };
 * ```
 */
export interface GetConnInfo extends AttemptInfo {
  /** The origin's `host:port` (the port always given; IPv6 in brackets). */
  hostPort: string;
  /** The request's method. */
  method: string;
  /** The request's URL. */
  url: string;
  /**
   * Set when this attempt retries the previous one: the error it failed
   * with (its reused connection was closed before the response began).
   */
  retryOf?: Error;
}

/**
 * What {@linkcode HTTPTrace.gotConn} receives (Go's `GotConnInfo`).
 *
 * @example Logging connection reuse
 * ```ts
 * import type { GotConnInfo, HTTPTrace } from "@nettrace/nettrace/fetch";
 *
 * const trace: HTTPTrace = {
 *   gotConn: ({ reused, wasIdle, idleTime }: GotConnInfo) =>
 *     console.log({ reused, wasIdle, idleTime }),
 * };
 * ```
 */
export interface GotConnInfo extends AttemptInfo {
  /**
   * True when the connection carried a request before this one (for
   * HTTP/2: a new stream on an existing connection).
   */
  reused: boolean;
  /** True when the connection sat idle (no request in flight) until now. */
  wasIdle: boolean;
  /** How long it sat idle, ms; 0 unless `wasIdle`. */
  idleTime: number;
  /** The local address of the connection. */
  localAddr: ConnAddr;
  /** The peer's address. */
  remoteAddr: ConnAddr;
  /** The protocol ALPN chose (`"h2"`, `"http/1.1"`); `null` for none. */
  alpnProtocol: string | null;
}

/**
 * What {@linkcode HTTPTrace.putIdleConn} receives.
 *
 * @example Logging why a connection was not kept
 * ```ts
 * import type { HTTPTrace, PutIdleConnInfo } from "@nettrace/nettrace/fetch";
 *
 * const trace: HTTPTrace = {
 *   putIdleConn: ({ error }: PutIdleConnInfo) =>
 *     console.log(error?.message ?? "kept alive"),
 * };
 * ```
 */
export interface PutIdleConnInfo extends AttemptInfo {
  /** Unset when the connection went back to the pool; else why not. */
  error?: Error;
}

/**
 * What {@linkcode HTTPTrace.wroteHeaderField} receives.
 *
 * @example Logging the request headers as written
 * ```ts
 * import type {
 *   HTTPTrace,
 *   WroteHeaderFieldInfo,
 * } from "@nettrace/nettrace/fetch";
 *
 * const trace: HTTPTrace = {
 *   wroteHeaderField: ({ key, value }: WroteHeaderFieldInfo) =>
 *     console.log(`${key}: ${value.join(", ")}`),
 * };
 * ```
 */
export interface WroteHeaderFieldInfo extends AttemptInfo {
  /** The field name as written (HTTP/2: lower case, pseudo-headers too). */
  key: string;
  /** Its values, in order (several when the field repeats). */
  value: string[];
}

/**
 * What {@linkcode HTTPTrace.got1xxResponse} receives.
 *
 * @example Collecting Early Hints
 * ```ts
 * import type {
 *   Got1xxResponseInfo,
 *   HTTPTrace,
 * } from "@nettrace/nettrace/fetch";
 *
 * const links: string[] = [];
 * const trace: HTTPTrace = {
 *   got1xxResponse: ({ status, headers }: Got1xxResponseInfo) => {
 *     if (status === 103) links.push(headers.get("link") ?? "");
 *   },
 * };
 * ```
 */
export interface Got1xxResponseInfo extends AttemptInfo {
  /** The informational status (100, 102, 103, …). */
  status: number;
  /** Its header fields. */
  headers: Headers;
}

/**
 * What {@linkcode HTTPTrace.wroteRequest} receives.
 *
 * @example Logging a failed write
 * ```ts
 * import type {
 *   HTTPTrace,
 *   WroteRequestInfo,
 * } from "@nettrace/nettrace/fetch";
 *
 * const trace: HTTPTrace = {
 *   wroteRequest: ({ error }: WroteRequestInfo) => {
 *     if (error !== undefined) console.log("write failed", error.message);
 *   },
 * };
 * ```
 */
export interface WroteRequestInfo extends AttemptInfo {
  /** Unset when the whole request was written; else why it was not. */
  error?: Error;
}

/**
 * Hooks for HTTP requests made with `createFetch`, Go's
 * `httptrace.ClientTrace` in lowerCamel, plus every dial hook of
 * {@linkcode Trace} (DNS, each connect attempt, TLS) for the connections
 * the requests dial. Carried on a context like any trace (`withTrace`
 * composes them newest first), or given as `init.trace` / `options.trace`.
 * Hooks run synchronously; one that throws is reported, never changes the
 * request.
 *
 * Per attempt (a redirect hop or a retry), in this order: `getConn`;
 * when a connection is dialled for it, the dial hooks; `gotConn`;
 * `wroteHeaderField` per field, `wroteHeaders`; `wait100Continue` when it
 * waits; `got100Continue` / `got1xxResponse` per interim response;
 * `wroteRequest` once; `gotFirstResponseByte` once (it may come before
 * `wroteRequest` when the server answers early); `putIdleConn` once the
 * response body is complete (HTTP/1.1 only).
 *
 * @example Timing the first byte
 * ```ts
 * import type { HTTPTrace } from "@nettrace/nettrace/fetch";
 *
 * let start = 0;
 * const trace: HTTPTrace = {
 *   getConn: () => (start = performance.now()),
 *   gotFirstResponseByte: () =>
 *     console.log(`${(performance.now() - start).toFixed(1)} ms`),
 * };
 * ```
 */
export interface HTTPTrace extends Trace {
  /**
   * An attempt starts and asks the pool for a connection to `hostPort`;
   * before any dial hook of a connection made for it.
   */
  getConn?(info: GetConnInfo): void;
  /** The attempt got its connection: new, or reused from the pool. */
  gotConn?(info: GotConnInfo): void;
  /**
   * HTTP/1.1: the response was read to its end and the connection went
   * back to the pool (`error` unset), or will not (`error`: why).
   */
  putIdleConn?(info: PutIdleConnInfo): void;
  /** One request header field was written (after `gotConn`). */
  wroteHeaderField?(info: WroteHeaderFieldInfo): void;
  /** Every request header field was written. */
  wroteHeaders?(info: AttemptInfo): void;
  /**
   * The request asked for `expect: 100-continue` and waits for the
   * server's 100 before writing its body (HTTP/2; see the README).
   */
  wait100Continue?(info: AttemptInfo): void;
  /** The server answered 100 Continue. */
  got100Continue?(info: AttemptInfo): void;
  /** An interim 1xx response arrived (100 included, as in Go). */
  got1xxResponse?(info: Got1xxResponseInfo): void;
  /**
   * Exactly once per attempt that reached `gotConn`: the whole request
   * (headers and body) was written, or writing it failed (`error`).
   */
  wroteRequest?(info: WroteRequestInfo): void;
  /** The first byte of the response (of an interim one, if any) arrived. */
  gotFirstResponseByte?(info: AttemptInfo): void;
}

/**
 * The names of the HTTP hooks of an {@linkcode HTTPTrace}.
 *
 * @example Counting the hooks that fired
 * ```ts
 * import type { HTTPHookName } from "@nettrace/nettrace/fetch";
 *
 * const counts = new Map<HTTPHookName, number>();
 * ```
 */
export type HTTPHookName = Exclude<keyof HTTPTrace, keyof Trace>;
