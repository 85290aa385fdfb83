/**
 * `http.Agent` and `https.Agent` whose connections nettrace dials: for
 * `http.request` / `https.request` and the libraries built on them (axios,
 * got, node-fetch…), on Node and on Bun's and Deno's `node:http`.
 *
 * The agents keep everything of Node's own (keep-alive reuse, `maxSockets`,
 * the socket `timeout`, the TLS session cache) and replace only
 * `createConnection`, in its callback form: the connection is dialled with
 * nettrace's `dial` (RFC 8305 Happy Eyeballs, the trace hooks, the resolver
 * of your choice) and the real `net.Socket` / `tls.TLSSocket` is handed to
 * the agent.
 *
 * @example Tracing axios's connections
 * ```ts ignore
 * import axios from "axios";
 * import { HttpAgent } from "@nettrace/nettrace/http-agent";
 *
 * const httpAgent = new HttpAgent({
 *   keepAlive: true,
 *   trace: { connectDone: ({ addr, error }) => console.log(addr, error?.code) },
 * });
 * const { data } = await axios.get("http://localhost:8080/", { httpAgent });
 * ```
 *
 * @module
 */

import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import {
  connect as tlsConnect,
  type ConnectionOptions,
  type TLSSocket,
} from "node:tls";
import { isIP, type Socket } from "node:net";
import {
  dial,
  DialError,
  joinHostPort,
  type Network,
  type NodeConn,
  type RuntimeDialOptions,
} from "../runtimes/node.ts";
import { tlsError } from "../runtimes/_tls_common.ts";
import { callHook, contextTrace } from "../src/trace.ts";
import type { HTTPTrace } from "./_fetch/http_trace.ts";
import { traceAgent, traceRequest } from "./_agent_trace.ts";
import { currentContext } from "../src/context.ts";

/**
 * The nettrace side of an agent's options: every dial option except
 * `timeout`, which is the agent's socket timeout, as in Node; the dial's
 * deadline is `connectTimeout`.
 *
 * @example A dial budget and a trace
 * ```ts
 * import type { AgentDialOptions } from "@nettrace/nettrace/http-agent";
 *
 * const options: AgentDialOptions = {
 *   connectTimeout: 5_000,
 *   trace: { dnsDone: ({ host, coalesced }) => console.log(host, coalesced) },
 * };
 * ```
 */
export interface AgentDialOptions
  extends Omit<RuntimeDialOptions, "timeout" | "trace"> {
  /**
   * The dial hooks and the ClientTrace hooks (see {@linkcode HttpAgent})
   * for every request of the agent, composed over the ambient context's.
   */
  trace?: HTTPTrace;
  /**
   * The dial's deadline in ms (nettrace's `timeout`); on expiry the request
   * fails with an error whose `code` is `"ETIMEDOUT"`. A request's own
   * `timeout` option is used when this is not set.
   * @default {0}
   */
  connectTimeout?: number;
}

/**
 * Options for {@linkcode HttpAgent}: `http.Agent`'s and nettrace's.
 *
 * @example A keep-alive agent
 * ```ts
 * import type { HttpAgentOptions } from "@nettrace/nettrace/http-agent";
 *
 * const options: HttpAgentOptions = { keepAlive: true, maxSockets: 10 };
 * ```
 */
export interface HttpAgentOptions extends http.AgentOptions, AgentDialOptions {}

/**
 * Options for {@linkcode HttpsAgent}: `https.Agent`'s (`ca`,
 * `rejectUnauthorized`, `servername`, client certificates…) and nettrace's.
 *
 * @example Trusting a private CA
 * ```ts
 * import type { HttpsAgentOptions } from "@nettrace/nettrace/http-agent";
 *
 * const options: HttpsAgentOptions = {
 *   keepAlive: true,
 *   ca: "-----BEGIN CERTIFICATE-----\n…",
 * };
 * ```
 */
export interface HttpsAgentOptions
  extends Omit<https.AgentOptions, "timeout">, AgentDialOptions {
  /**
   * The socket timeout in ms, as `https.Agent`'s.
   * @default {undefined}
   */
  timeout?: number;
}

/**
 * What an agent passes to `createConnection`: called with the socket or the
 * error.
 *
 * @example A callback that logs
 * ```ts
 * import type { CreateConnectionCallback } from "@nettrace/nettrace/http-agent";
 *
 * const callback: CreateConnectionCallback = (err, stream) => {
 *   console.log(err?.message ?? "connected", stream !== undefined);
 * };
 * ```
 */
export type CreateConnectionCallback = (
  err: Error | null,
  stream: Duplex,
) => void;

/**
 * Aborted when the request an agent is making a socket for is destroyed
 * (set by `createSocket`).
 */
const REQUEST: unique symbol = Symbol("nettrace.request");

interface AgentConnectOptions {
  host?: string | null;
  hostname?: string | null;
  port?: number | string | null;
  family?: number;
  timeout?: number;
  [REQUEST]?: AbortSignal;
}

function dialOptionsOf(options: AgentDialOptions): AgentDialOptions {
  // The agent's own keys pass through harmlessly: dial ignores them.
  const { timeout: _socketTimeout, ...rest } = options as AgentDialOptions & {
    timeout?: number;
  };
  return rest;
}

function addressOf(options: AgentConnectOptions, defaultPort: number): string {
  const host = String(options.host ?? options.hostname ?? "localhost")
    .replace(/^\[(.*)\]$/, "$1");
  const port = options.port == null || options.port === ""
    ? defaultPort
    : Number(options.port);
  return joinHostPort(host, port);
}

/**
 * Dials for an agent: the request going away aborts the dial, the
 * deadline becomes Node's `ETIMEDOUT`.
 */
function dialFor(
  dialOptions: AgentDialOptions,
  options: AgentConnectOptions,
  defaultPort: number,
): Promise<NodeConn> {
  const { connectTimeout, signal, ...rest } = dialOptions;
  const controller = new AbortController();
  const request = options[REQUEST];
  // A request destroyed with an error (a client's timeout) fails with
  // that error, not with the dial's abort.
  const onAbort = () =>
    controller.abort(
      request?.aborted && request.reason instanceof Error
        ? request.reason
        : abortError(),
    );
  request?.addEventListener("abort", onAbort, { once: true });
  signal?.addEventListener("abort", onAbort, { once: true });
  const family = options.family;
  const network: Network = family === 4
    ? "tcp4"
    : family === 6
    ? "tcp6"
    : rest.network ?? "tcp";
  const settle = () => {
    request?.removeEventListener("abort", onAbort);
    signal?.removeEventListener("abort", onAbort);
  };
  let pending: Promise<NodeConn>;
  try {
    pending = dial(addressOf(options, defaultPort), {
      ...rest,
      network,
      signal: controller.signal,
      timeout: connectTimeout ?? options.timeout,
    });
  } catch (err) {
    pending = Promise.reject(err);
  }
  return pending.then((conn) => {
    settle();
    return conn;
  }, (err: unknown) => {
    settle();
    throw nodeError(err);
  });
}

function abortError(): Error {
  const err = new Error("The operation was aborted");
  err.name = "AbortError";
  (err as { code?: string }).code = "ABORT_ERR";
  return err;
}

function nodeError(err: unknown): Error {
  if (err instanceof DialError) return err;
  if ((err as { name?: unknown } | null)?.name === "TimeoutError") {
    const timeout = new Error((err as Error).message, { cause: err });
    Object.assign(timeout, { code: "ETIMEDOUT", syscall: "connect" });
    return timeout;
  }
  return err instanceof Error ? err : new Error(String(err), { cause: err });
}

/**
 * An `http.Agent` whose connections nettrace dials. Everything else is
 * Node's `http.Agent`: keep-alive reuse, `maxSockets`, `maxFreeSockets`,
 * the socket `timeout`. The socket handed to the agent is the dialled
 * `net.Socket` (`allowHalfOpen` off, `TCP_NODELAY` on).
 *
 * A request destroyed while its connection is being dialled aborts the
 * dial. Note that a client's timer that starts on the request's `'socket'`
 * event (`req.setTimeout`, axios's `timeout`) starts once the dial is done:
 * bound the dial with `connectTimeout` (or an `AbortSignal` on the request).
 *
 * ClientTrace hooks ({@linkcode HTTPTrace}, `attempt` always 0: `node:http`
 * neither redirects nor retries). The trace of a request is the agent's
 * `trace` composed over the trace of the ambient context current when the
 * request is made (`runWithContext`; the agent's hook runs first), fixed
 * for the request's life. Each fires at most once per request, in this
 * order, on Node, Bun and Deno alike:
 * - `getConn({ hostPort })`: the request asks the agent for a socket
 *   (`addRequest`), before any dial hook of a connection made for it;
 *   `hostPort` is the request's `host:port` (IPv6 in brackets).
 * - the dial hooks (`dialStart` … `dialDone`, the TLS ones for
 *   `HttpsAgent`) when a connection is dialled for it. A refused or failed
 *   dial ends the request's hooks here: no `gotConn`, no `wroteRequest`.
 * - `gotConn`: the request got its socket (its `'socket'` event). A fresh
 *   dial: `reused: false, wasIdle: false, idleTime: 0`. A socket that
 *   carried a request before: `reused: true`; `wasIdle: true` and `idleTime`
 *   the ms since its `putIdleConn` when it came from the free list, else
 *   (handed straight from a finished request to a queued one) `wasIdle:
 *   false, idleTime: 0`. `localAddr` / `remoteAddr` are the socket's,
 *   `alpnProtocol` the TLS socket's (`null` for plain HTTP).
 * - `wroteHeaders()` then `wroteRequest({})`: the request was finished and
 *   flushed to the socket (`'finish'`); `node:http` does not tell when the
 *   headers alone went out, so both fire there. A request closed after
 *   `gotConn` without finishing fires `wroteRequest({ error })` only.
 * - `gotFirstResponseByte()`: the response head was parsed (`'response'`;
 *   it may come before `wroteRequest` when the server answers early).
 * - `putIdleConn({})`: the agent put the socket in its free list after the
 *   response (its `'free'` event, keep-alive only), on the trace of the
 *   request it carried. A socket closed instead, or handed to a queued
 *   request, fires nothing. Not fired: `wroteHeaderField`,
 *   `wait100Continue`, `got100Continue`, `got1xxResponse`.
 *
 * A hook that throws is reported (`setHookErrorHandler`), never changes the
 * request.
 *
 * @example Keep-alive reuse with http.get
 * ```ts ignore
 * import http from "node:http";
 * import { HttpAgent } from "@nettrace/nettrace/http-agent";
 *
 * const agent = new HttpAgent({ keepAlive: true, connectTimeout: 5_000 });
 * http.get("http://localhost:8080/", { agent }, (res) => res.resume());
 * ```
 */
export class HttpAgent extends http.Agent {
  #dial: AgentDialOptions;

  /**
   * Makes an agent.
   *
   * @param options `http.Agent`'s options and nettrace's dial options.
   */
  constructor(options: HttpAgentOptions = {}) {
    super(options);
    this.#dial = dialOptionsOf(options);
    traceAgent(this, options.trace);
  }

  /**
   * Dials `options.host`:`options.port` with nettrace and hands the socket
   * to `callback`; returns `undefined` (the callback form).
   *
   * @param options The connection options the agent passes.
   * @param callback Called with the socket or the error.
   * @returns `undefined`.
   */
  override createConnection(
    options: http.ClientRequestArgs,
    callback?: CreateConnectionCallback,
  ): undefined {
    dialFor(this.#dial, options as AgentConnectOptions, 80).then(
      (conn) => callback?.(null, conn.socket),
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/**
 * An `https.Agent` whose connections nettrace dials; the TLS handshake is
 * Node's `tls.connect` on the dialled socket with the agent's and the
 * request's TLS options (`servername`, `ca`, `rejectUnauthorized`, client
 * certificates, the session cache), ALPN `http/1.1` unless given. The
 * handshake is reported to the trace's `tlsHandshakeStart` /
 * `tlsHandshakeDone`; a failed one fails the request with Node's own TLS
 * error (its `code`, e.g. `"DEPTH_ZERO_SELF_SIGNED_CERT"`).
 *
 * @example Trusting a private CA
 * ```ts ignore
 * import https from "node:https";
 * import { HttpsAgent } from "@nettrace/nettrace/http-agent";
 *
 * const agent = new HttpsAgent({ keepAlive: true, ca: myCaPem });
 * https.get("https://app.test:8443/", { agent }, (res) => res.resume());
 * ```
 */
export class HttpsAgent extends https.Agent {
  #dial: AgentDialOptions;

  /**
   * Makes an agent.
   *
   * @param options `https.Agent`'s options and nettrace's dial options.
   */
  constructor(options: HttpsAgentOptions = {}) {
    super(options);
    this.#dial = dialOptionsOf(options);
    traceAgent(this, options.trace);
  }

  /**
   * Dials with nettrace, runs the TLS handshake on the socket and hands the
   * `tls.TLSSocket` to `callback`; returns `undefined`.
   *
   * @param options The connection and TLS options the agent passes.
   * @param callback Called with the socket or the error.
   * @returns `undefined`.
   */
  override createConnection(
    options: https.RequestOptions,
    callback?: CreateConnectionCallback,
  ): undefined {
    const fail = (err: Error) =>
      callback?.(err, undefined as unknown as Duplex);
    dialFor(this.#dial, options as AgentConnectOptions, 443).then(
      (conn) => this.#handshake(conn, options, callback ?? (() => {})),
      fail,
    );
    return undefined;
  }

  #handshake(
    conn: NodeConn,
    options: https.RequestOptions & {
      _agentKey?: string;
      ALPNProtocols?: string[];
    },
    callback: CreateConnectionCallback,
  ): void {
    const host = String(options.host ?? options.hostname ?? "localhost")
      .replace(/^\[(.*)\]$/, "$1");
    const nettraceTls = this.#dial.tls;
    const serverName = options.servername ||
      nettraceTls?.serverName || (isIP(host) === 0 ? host : "");
    const trace = this.#dial.trace ?? contextTrace(currentContext());
    const addr = joinHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port);
    const family: 4 | 6 = isIP(conn.remoteAddr.hostname) === 6 ? 6 : 4;
    const info = { serverName: serverName || host, addr, family, attempt: 0 };
    if (trace !== undefined) callHook(trace, "tlsHandshakeStart", info);
    const key = options._agentKey;
    const agent = this as unknown as {
      _getSession?(key: string): unknown;
      _cacheSession?(key: string, session: unknown): void;
      _evictSession?(key: string): void;
    };
    const session = key === undefined ? undefined : agent._getSession?.(key);
    let socket: TLSSocket;
    try {
      const tlsOptions = {
        ...options,
        ...(session === undefined ? {} : { session }),
        socket: conn.socket as Socket,
        host,
        servername: serverName || undefined,
        ALPNProtocols: options.ALPNProtocols ??
          nettraceTls?.alpnProtocols ?? ["http/1.1"],
        ca: options.ca ?? nettraceTls?.caCerts,
      } as ConnectionOptions;
      socket = tlsConnect(tlsOptions);
    } catch (err) {
      conn.close();
      callback(err as Error, undefined as unknown as Duplex);
      return;
    }
    if (key !== undefined) {
      socket.on("session", (s: unknown) => agent._cacheSession?.(key, s));
      socket.once("close", (hadError: boolean) => {
        if (hadError) agent._evictSession?.(key);
      });
    }
    const onSecure = () => {
      socket.off("error", onError);
      const alpn = socket.alpnProtocol;
      if (trace === undefined) return callback(null, socket);
      callHook(trace, "tlsHandshakeDone", {
        ...info,
        alpnProtocol: typeof alpn === "string" ? alpn : null,
        tlsVersion: socket.getProtocol() ?? undefined,
      });
      callback(null, socket);
    };
    const onError = (err: Error) => {
      socket.off("secureConnect", onSecure);
      socket.destroy();
      conn.close();
      if (trace !== undefined) {
        callHook(trace, "tlsHandshakeDone", {
          ...info,
          error: tlsError(err, serverName || host),
        });
      }
      callback(err, undefined as unknown as Duplex);
    };
    socket.once("secureConnect", onSecure);
    socket.once("error", onError);
  }
}

/** The signal aborted when a request is destroyed, per request. */
const DESTROYED = new WeakMap<object, AbortSignal>();

/**
 * The signal of `req`: its `destroy()` is wrapped (on this request object
 * only) to abort it first, since a request destroyed before it has a socket
 * emits nothing until the socket arrives.
 */
function destroyedSignal(req: object): AbortSignal {
  let signal = DESTROYED.get(req);
  if (signal !== undefined) return signal;
  const controller = new AbortController();
  signal = controller.signal;
  DESTROYED.set(req, signal);
  const target = req as { destroy?: (...args: unknown[]) => unknown };
  const destroy = target.destroy;
  if (typeof destroy === "function") {
    target.destroy = function (this: unknown, ...args: unknown[]) {
      controller.abort(args[0]);
      return destroy.apply(this, args);
    };
  }
  return signal;
}

/**
 * Attaches each request's destroyed signal to the connection options the
 * agent passes to `createConnection`, so that a request destroyed during
 * the dial (a client's timeout, an aborted axios or got request) aborts
 * it. `createSocket` is the agent's own extension point (the one agent-base
 * uses; Node, Bun and Deno have it); where a runtime lacks it the dial runs
 * to its end (bound it with `connectTimeout`).
 */
for (const Agent of [HttpAgent, HttpsAgent]) {
  const proto = Agent.prototype as unknown as {
    createSocket?: (req: object, options: object, cb: unknown) => void;
    addRequest?: (req: object, options: object, ...rest: unknown[]) => void;
  };
  const parent = Object.getPrototypeOf(proto) as typeof proto;
  if (typeof parent.addRequest === "function") {
    proto.addRequest = function (req, options, ...rest) {
      traceRequest(this, req as http.ClientRequest, options);
      return parent.addRequest!.call(this, req, options, ...rest);
    };
  }
  if (typeof parent.createSocket !== "function") continue;
  proto.createSocket = function (req, options, cb) {
    return parent.createSocket!.call(
      this,
      req,
      { ...options, [REQUEST]: destroyedSignal(req) },
      cb,
    );
  };
}
