/**
 * The dispatcher undici's `fetch` is given for one traced `fetch` call: it
 * counts the call's attempts (redirect hops), fires `getConn`, wraps the
 * handler in an attempt handler (`attempt_handler.ts`), tells the connector whose
 * dial hooks a new connection reports to, and turns `expect:
 * 100-continue` into undici's `expectContinue`.
 *
 * @module
 */

import { callHook, type HookName } from "../../src/trace.ts";
import type { Context } from "../../runtimes/node.ts";
import { attemptHandler, type UndiciHandler } from "./attempt_handler.ts";
import type { RetryAttempt } from "./attempt_trace.ts";
import type { GetConnInfo, HTTPTrace } from "./http_trace.ts";

/** The part of undici's `DispatchOptions` read here. */
export interface DispatchOptions {
  origin?: string | URL;
  path: string;
  method: string;
  headers?: Record<string, string | string[]> | string[] | null;
  expectContinue?: boolean;
  [key: string]: unknown;
}

/** An undici dispatcher, structurally: what `fetch` calls. */
export interface DispatcherLike {
  dispatch(options: DispatchOptions, handler: UndiciHandler): boolean;
}

/**
 * Which request a connection is being dialled for: set during a dispatch
 * (undici's connector runs inside it), and per origin for a connect undici
 * starts a microtask later (a streamed request body).
 */
export class DialRouting {
  #current: RequestDispatcher | undefined;
  readonly #byOrigin = new Map<string, RequestDispatcher>();

  /** Runs `fn` with `request` as the one new connections are dialled for. */
  during<R>(request: RequestDispatcher, origin: string, fn: () => R): R {
    const previous = this.#current;
    this.#current = request;
    this.#byOrigin.set(origin, request);
    try {
      return fn();
    } finally {
      this.#current = previous;
    }
  }

  /**
   * The context to dial a connection to `origin` (`protocol//host`) in:
   * the requesting `fetch` call's, or `undefined` when it is not traced.
   */
  dialContext(origin: string): Context | undefined {
    const request = this.#current ?? this.#byOrigin.get(origin);
    this.#byOrigin.delete(origin);
    return request?.context;
  }
}

function defaultPort(protocol: string): string {
  return protocol === "https:" ? "443" : protocol === "http:" ? "80" : "";
}

/** `host:port` of an origin, the port always given (Go's `hostPort`). */
export function originHostPort(origin: string): string {
  const scheme = origin.indexOf("//");
  const host = origin.slice(scheme + 2);
  const bracket = host.lastIndexOf("]");
  if (host.lastIndexOf(":") > bracket) return host;
  return `${host}:${defaultPort(origin.slice(0, scheme))}`;
}

/** Removes `expect: 100-continue`; true when it was there. */
function takeExpectContinue(options: DispatchOptions): boolean {
  const headers = options.headers;
  if (headers == null || Array.isArray(headers)) return false;
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== "expect") continue;
    if (String(headers[key]).toLowerCase() !== "100-continue") return false;
    const rest = { ...headers };
    delete rest[key];
    options.headers = rest;
    return true;
  }
  return false;
}

/** Methods Go retries without an idempotency key (`isReplayable`). */
const REPLAYABLE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/** At most this many retries per request (Go has no limit). */
const MAX_RETRIES = 4;

function hasIdempotencyKey(headers: DispatchOptions["headers"]): boolean {
  if (headers == null || Array.isArray(headers)) return false;
  return Object.keys(headers).some((key) => {
    const name = key.toLowerCase();
    return name === "idempotency-key" || name === "x-idempotency-key";
  });
}

/** Whether Go would send the request again: no body, and idempotent. */
function replayable(options: DispatchOptions): boolean {
  return options.body == null &&
    (REPLAYABLE.has(options.method) || hasIdempotencyKey(options.headers));
}

/** The dispatcher of one traced `fetch` call (see the module doc). */
export class RequestDispatcher implements DispatcherLike {
  /** undici's fetch reads it (MockAgent support). */
  readonly isMockActive = false;
  /**
   * The context of the `fetch` call, every trace on it; `undefined` for
   * the dispatcher shared by untraced calls (their dials use the ambient).
   */
  readonly context: Context | undefined;
  readonly #agent: DispatcherLike;
  readonly #trace: HTTPTrace;
  readonly #routing: DialRouting;
  #attempts = 0;

  constructor(
    agent: DispatcherLike,
    context: Context | undefined,
    trace: HTTPTrace,
    routing: DialRouting,
  ) {
    this.#agent = agent;
    this.context = context;
    this.#trace = trace;
    this.#routing = routing;
  }

  dispatch(options: DispatchOptions, handler: UndiciHandler): boolean {
    return this.#dispatch(options, handler, undefined, 0);
  }

  #dispatch(
    options: DispatchOptions,
    handler: UndiciHandler,
    retryOf: Error | undefined,
    retries: number,
  ): boolean {
    const attempt = this.#attempts++;
    const origin = String(options.origin);
    let opts = options;
    let expectContinue = false;
    if (options.headers != null && !Array.isArray(options.headers)) {
      opts = { ...options };
      expectContinue = takeExpectContinue(opts);
      if (expectContinue) opts.expectContinue = true;
    }
    if (this.#trace.getConn !== undefined) {
      const info: GetConnInfo = {
        attempt,
        hostPort: originHostPort(origin),
        method: options.method,
        url: origin + options.path,
      };
      if (retryOf !== undefined) info.retryOf = retryOf;
      callHook(this.#trace, "getConn" as HookName, info as never);
    }
    let retry: RetryAttempt | undefined;
    if (retries < MAX_RETRIES && replayable(options)) {
      retry = (error) => {
        queueMicrotask(() =>
          this.#dispatch(options, handler, error, retries + 1)
        );
        return true;
      };
    }
    const traced = attemptHandler(
      handler,
      this.#trace,
      attempt,
      expectContinue,
      retry,
    );
    if (this.context === undefined) return this.#agent.dispatch(opts, traced);
    return this.#routing.during(
      this,
      origin,
      () => this.#agent.dispatch(opts, traced),
    );
  }
}
