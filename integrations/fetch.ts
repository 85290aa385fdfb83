/**
 * A standard `fetch` whose connections nettrace dials — RFC 8305 Happy
 * Eyeballs, the resolver, history and policy of your choice, nettrace's
 * TLS — with Go's `httptrace.ClientTrace` hooks (`HTTPTrace`) per request,
 * on Deno, Bun and Node. Built on npm undici 7 or 8 (its `fetch`, `Agent`
 * and the {@linkcode undiciConnector} of `@nettrace/nettrace/undici`).
 *
 * @example Tracing one request
 * ```ts ignore
 * import { createFetch } from "@nettrace/nettrace/fetch";
 *
 * const fetch = createFetch({ attemptDelay: 150 });
 * const response = await fetch("http://localhost:8080/", {
 *   trace: {
 *     getConn: ({ hostPort }) => console.log("get", hostPort),
 *     connectDone: ({ addr, error }) => console.log(addr, error ?? "ok"),
 *     gotConn: ({ reused }) => console.log({ reused }),
 *     gotFirstResponseByte: () => console.log("first byte"),
 *   },
 * });
 * console.log(response.status, await response.text());
 * await fetch.close();
 * ```
 *
 * @module
 */

import { Agent, fetch as undiciFetch, Request } from "undici/index.js";
import {
  type Context,
  contextTrace,
  currentContext,
  parseIP,
  runWithContext,
  withSignal,
  withTrace,
} from "../runtimes/node.ts";
import {
  type UndiciConnector,
  undiciConnector,
  type UndiciConnectorOptions,
} from "./undici.ts";
import type { HTTPTrace } from "./_fetch/http_trace.ts";
export { formatHttpstat } from "./_fetch/httpstat.ts";
export {
  formatRequestTimings,
  recordRequestTimings,
  type RecordRequestTimingsOptions,
  type RequestCurlTimings,
  type RequestTimingRecorder,
  type RequestTimings,
} from "./_fetch/timings.ts";
import {
  DialRouting,
  type DispatcherLike,
  RequestDispatcher,
} from "./_fetch/request_dispatcher.ts";
import { muxFactory } from "./_fetch/mux_factory.ts";
import { undiciInput } from "./_fetch/request_input.ts";
import {
  releaseSendHeaders,
  retainSendHeaders,
} from "./_fetch/send_headers.ts";

export type {
  AttemptInfo,
  ConnAddr,
  GetConnInfo,
  Got1xxResponseInfo,
  GotConnInfo,
  HTTPHookName,
  HTTPTrace,
  PutIdleConnInfo,
  WroteHeaderFieldInfo,
  WroteRequestInfo,
} from "./_fetch/http_trace.ts";

/**
 * Options for {@linkcode createFetch}: every dial option (as
 * `undiciConnector` takes them), the trace for every request, and the
 * pool's settings.
 *
 * @example A fetch that offers HTTP/1.1 only and trusts a private CA
 * ```ts
 * import type { FetchOptions } from "@nettrace/nettrace/fetch";
 *
 * const options: FetchOptions = {
 *   allowH2: false,
 *   caCerts: ["-----BEGIN CERTIFICATE-----\n…"],
 *   attemptDelay: 100,
 * };
 * ```
 */
export interface FetchOptions extends Omit<UndiciConnectorOptions, "trace"> {
  /**
   * Hooks for every request (and its connections); a request's own
   * `init.trace` runs before them, the ambient context's after them.
   * @default {undefined}
   */
  trace?: HTTPTrace;
  /**
   * Whether to offer HTTP/2 by ALPN on `https:` (`["h2", "http/1.1"]`),
   * as Go's transport and browsers do; `false`: HTTP/1.1 only.
   * @default {true}
   */
  allowH2?: boolean;
  /**
   * Connections per origin (undici's `connections`); unlimited by default.
   * @default {undefined}
   */
  connections?: number;
  /**
   * How long an idle keep-alive connection is kept, ms, unless the server
   * says less (undici's `keepAliveTimeout`).
   * @default {4000}
   */
  keepAliveTimeout?: number;
  /**
   * ms to wait for a response's headers; 0: no limit, as the Fetch
   * standard (use `init.signal`). Note that a value of 1000 or more runs
   * on undici's shared low-resolution timer, which outlives `close()` by
   * up to a second (Deno's test sanitizers report it).
   * @default {0}
   */
  headersTimeout?: number;
  /**
   * ms to wait between two chunks of a response's body; 0: no limit (see
   * `headersTimeout`).
   * @default {0}
   */
  bodyTimeout?: number;
}

/**
 * The `init` of {@linkcode NettraceFetch}: a standard `RequestInit` plus the
 * hooks for this request.
 *
 * @example A traced POST
 * ```ts
 * import type { TracedRequestInit } from "@nettrace/nettrace/fetch";
 *
 * const init: TracedRequestInit = {
 *   method: "POST",
 *   body: JSON.stringify({ hello: "world" }),
 *   trace: { wroteRequest: ({ error }) => console.log(error ?? "sent") },
 * };
 * ```
 */
export interface TracedRequestInit extends RequestInit {
  /** Hooks for this request, run before `options.trace`'s. */
  trace?: HTTPTrace;
}

/**
 * What {@linkcode createFetch} returns: a standard `fetch`, plus `close()`.
 * The `Response` it resolves with is undici's (a `Response` of the Fetch
 * standard, though not `instanceof` the runtime's own `Response`).
 *
 * @example Closing the pool when done
 * ```ts
 * import { createFetch, type NettraceFetch } from "@nettrace/nettrace/fetch";
 *
 * const fetch: NettraceFetch = createFetch();
 * await fetch.close();
 * ```
 */
export interface NettraceFetch {
  /**
   * Fetches `input` as the standard `fetch` does, dialling new
   * connections with nettrace and firing `init.trace`, `options.trace` and
   * the ambient context's trace.
   */
  (input: RequestInfo | URL, init?: TracedRequestInit): Promise<Response>;
  /**
   * Closes every connection of the pool, idle or busy (requests in flight
   * fail), aborts the dials of names in flight, and stops listening to
   * undici's diagnostics channel. A dial of an IP literal in flight runs
   * to its connect or its `timeout`; what it connects is closed.
   */
  close(): Promise<void>;
}

function composeTraces(
  base: Context,
  options: HTTPTrace | undefined,
  request: HTTPTrace | undefined,
): Context {
  let ctx = base;
  if (options !== undefined) ctx = withTrace(ctx, options);
  if (request !== undefined) ctx = withTrace(ctx, request);
  return ctx;
}

/**
 * Creates a `fetch` whose connections nettrace dials (with the options'
 * resolver, Happy Eyeballs settings, history, TLS roots), pooled with
 * keep-alive by undici, HTTP/2 by ALPN on `https:`. Each request fires the
 * {@linkcode HTTPTrace} hooks of `init.trace`, then `options.trace`, then
 * the ambient context's (`runWithContext`), from `getConn` through the
 * dial (DNS, each attempt, TLS) to `gotFirstResponseByte`.
 *
 * Errors follow `fetch`: a `TypeError` (`fetch failed`) whose `cause` is
 * nettrace's `DialError` (every attempt's error inside; a failed TLS
 * handshake is a `TLSError` there) or `TimeoutError`; an aborted request
 * rejects with the signal's reason.
 *
 * @param options How to dial and pool; see {@linkcode FetchOptions}.
 * @returns The `fetch`, with `close()`.
 * @throws {TypeError} If `options.trace` is not an object.
 *
 * @example Timing a request's phases
 * ```ts ignore
 * import { createFetch } from "@nettrace/nettrace/fetch";
 *
 * const fetch = createFetch();
 * const t0 = performance.now();
 * const ms = () => (performance.now() - t0).toFixed(1);
 * await fetch("https://localhost:8443/", {
 *   trace: {
 *     dnsDone: () => console.log("dns", ms()),
 *     connectDone: () => console.log("tcp", ms()),
 *     tlsHandshakeDone: () => console.log("tls", ms()),
 *     gotFirstResponseByte: () => console.log("ttfb", ms()),
 *   },
 * });
 * await fetch.close();
 * ```
 *
 * @example Making one (no network)
 * ```ts
 * import { createFetch } from "@nettrace/nettrace/fetch";
 *
 * const fetch = createFetch({ attemptDelay: 100, allowH2: false });
 * await fetch.close();
 * ```
 */
export function createFetch(options: FetchOptions = {}): NettraceFetch {
  const {
    trace: optionsTrace,
    allowH2 = true,
    connections,
    keepAliveTimeout,
    headersTimeout = 0,
    bodyTimeout = 0,
    ...connectorOptions
  } = options;
  if (
    optionsTrace !== undefined &&
    (typeof optionsTrace !== "object" || optionsTrace === null)
  ) {
    throw new TypeError(
      `Cannot use options.trace ${String(optionsTrace)}: it must be an object`,
    );
  }
  const routing = new DialRouting();
  // Closing aborts the dials of names in flight (undici does not abort a
  // connect). A dial of an IP literal gets no signal, so that it keeps the
  // core's literal fast path (a signal costs 4-6% of a fresh request): it
  // runs to its connect or its timeout, and undici closes what it connects.
  const closing = new AbortController();
  const { context: fixedContext, ...dialOptions } = connectorOptions;
  const dialInContext = undiciConnector({ ...dialOptions, allowH2 });
  // Each dial runs in the requesting fetch call's context (its traces, its
  // values), so the connector's dial picks it up as the ambient context.
  const connect: UndiciConnector = (target, callback) => {
    const origin = `${target.protocol}//${target.host}`;
    const base = routing.dialContext(origin) ?? fixedContext ??
      currentContext();
    const host = target.hostname;
    const literal = host.startsWith("[") || parseIP(host) !== undefined;
    runWithContext(
      literal ? base : withSignal(base, closing.signal),
      () => dialInContext(target, callback),
    );
  };
  const agent = new Agent({
    factory: muxFactory as never,
    connect: connect as never,
    allowH2,
    connections,
    keepAliveTimeout,
    headersTimeout,
    bodyTimeout,
  });
  const dispatcher = agent as unknown as DispatcherLike;
  // Every request goes through a handler, traced or not: it tracks each
  // connection's use (so gotConn's reused / wasIdle hold after untraced
  // requests) and retries as Go does. Untraced calls share one.
  retainSendHeaders();
  const untraced = new RequestDispatcher(dispatcher, undefined, {}, routing);
  let closed: Promise<void> | undefined;

  const fetch = function fetch(
    input: RequestInfo | URL,
    init?: TracedRequestInit,
  ): Promise<Response> {
    const { trace: requestTrace, ...rest } = init ?? {};
    const context = composeTraces(
      fixedContext ?? currentContext(),
      optionsTrace,
      requestTrace,
    );
    const trace: HTTPTrace | undefined = contextTrace(context);
    const use = trace === undefined
      ? untraced
      : new RequestDispatcher(dispatcher, context, trace, routing);
    const [url, undiciInit] = undiciInput(input, rest, Request);
    return undiciFetch(
      url as never,
      { ...undiciInit, dispatcher: use } as never,
    ) as unknown as Promise<Response>;
  } as NettraceFetch;
  fetch.close = () => {
    if (closed === undefined) {
      releaseSendHeaders();
      closing.abort(new Error("createFetch: closed"));
      closed = agent.destroy();
    }
    return closed;
  };
  return fetch;
}

/** The pool behind {@linkcode fetch}, made on its first request. */
let shared: NettraceFetch | undefined;

/**
 * A ready `fetch` whose connections nettrace dials: `createFetch()` with
 * the defaults, made on the first request. `init.trace` traces one request
 * (an {@linkcode HTTPTrace}); the ambient context's trace sees every one.
 * `fetch.close()` closes its pool; the next request makes a new one.
 *
 * @param input The resource, as for the standard `fetch`.
 * @param init The request, with an optional `trace`.
 * @returns The response.
 *
 * @example Tracing one request
 * ```ts ignore
 * import { fetch } from "@nettrace/nettrace/fetch";
 *
 * const response = await fetch("http://localhost:8080/", {
 *   trace: { gotConn: ({ reused }) => console.log("reused", reused) },
 * });
 * console.log(response.status);
 * await fetch.close();
 * ```
 */
export const fetch: NettraceFetch = Object.assign(
  (input: RequestInfo | URL, init?: TracedRequestInit): Promise<Response> =>
    (shared ??= createFetch())(input, init),
  {
    close(): Promise<void> {
      const pool = shared;
      shared = undefined;
      return pool === undefined ? Promise.resolve() : pool.close();
    },
  },
);
