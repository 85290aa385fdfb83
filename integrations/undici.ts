/**
 * nettrace for undici on Node: a connector that makes every connection of an
 * undici `Agent` (and so of undici's `fetch`) with nettrace's `dial` —
 * RFC 8305 Happy Eyeballs, the trace hooks, the resolver of your choice and
 * nettrace's TLS dial for `https:` — and hands undici the real
 * `net.Socket` / `tls.TLSSocket`.
 *
 * The module does not import undici: the connector has undici's connector
 * signature (`(options, callback) => void`), described structurally here,
 * so it fits `new Agent({ connect })`, `new Client(url, { connect })` and
 * `new Pool(url, { connect })` of undici 6 and later.
 *
 * @example Tracing every connection of undici's fetch
 * ```ts ignore
 * import { Agent, fetch } from "undici";
 * import { undiciConnector } from "@nettrace/nettrace/undici";
 *
 * const dispatcher = new Agent({
 *   connect: undiciConnector({
 *     trace: {
 *       connectStart: ({ addr }) => console.log("trying", addr),
 *       connectDone: ({ addr, error }) => console.log(addr, error?.message ?? "ok"),
 *     },
 *   }),
 * });
 * const response = await fetch("http://localhost:8080/", { dispatcher });
 * console.log(response.status);
 * await dispatcher.close();
 * ```
 *
 * @module
 */

import type { Socket } from "node:net";
import {
  dial,
  joinHostPort,
  type RuntimeDialOptions,
  type Trace,
} from "../runtimes/node.ts";

/**
 * What undici passes to a connector (`buildConnector.Options` in undici's
 * types), plus the fields undici's `Client` adds for a custom connector.
 *
 * @example The options undici passes for https://app.test:8443
 * ```ts
 * import type { UndiciConnectOptions } from "@nettrace/nettrace/undici";
 *
 * const options: UndiciConnectOptions = {
 *   hostname: "app.test",
 *   host: "app.test:8443",
 *   protocol: "https:",
 *   port: "8443",
 * };
 * ```
 */
export interface UndiciConnectOptions {
  /** The host to dial: a name or an IP literal (brackets allowed). */
  hostname: string;
  /** The origin's `host:port`, as in the URL. */
  host?: string;
  /** `"http:"` or `"https:"` (anything else counts as plain TCP). */
  protocol: string;
  /** The port; `""` for the protocol's default (80, 443). */
  port: string | number;
  /** The TLS server name undici asks for (its `servername` option). */
  servername?: string | null;
  /** A local address to bind; not supported (the connect fails). */
  localAddress?: string | null;
  /** A Unix socket path; not supported (the connect fails). */
  socketPath?: string | null;
  /** A socket to run TLS on (a proxy tunnel); not supported. */
  httpSocket?: unknown;
  /** Set by undici's `Client` when its `allowH2` option is given. */
  allowH2?: boolean;
  /** A connect timeout in ms, when a caller passes one. */
  timeout?: number | null;
}

/**
 * The callback of an undici connector: the connected socket, or the error.
 *
 * @example A callback that logs the peer
 * ```ts
 * import type { UndiciConnectCallback } from "@nettrace/nettrace/undici";
 *
 * const callback: UndiciConnectCallback = (...args) => {
 *   if (args[0] === null) console.log(args[1].remoteAddress);
 *   else console.error(args[0].message);
 * };
 * ```
 */
export type UndiciConnectCallback = (
  ...args: [error: null, socket: Socket] | [error: Error, socket: null]
) => void;

/**
 * An undici connector: what `new Agent({ connect })` accepts as a function.
 *
 * @example Wrapping a connector to count connections
 * ```ts
 * import {
 *   type UndiciConnector,
 *   undiciConnector,
 * } from "@nettrace/nettrace/undici";
 *
 * let connections = 0;
 * const inner = undiciConnector();
 * const counting: UndiciConnector = (options, callback) => {
 *   connections++;
 *   inner(options, callback);
 * };
 * ```
 */
export type UndiciConnector = (
  options: UndiciConnectOptions,
  callback: UndiciConnectCallback,
) => void;

/**
 * Options for {@linkcode undiciConnector}: how to dial, plus the trace and
 * TLS settings undici cannot express.
 *
 * @example Dialling names through a local name server, with a 3 s budget
 * ```ts
 * import { createResolver } from "@nettrace/nettrace/node";
 * import type { UndiciConnectorOptions } from "@nettrace/nettrace/undici";
 *
 * const options: UndiciConnectorOptions = {
 *   resolver: createResolver({
 *     nameServer: { address: "127.0.0.1", port: 5353 },
 *   }),
 *   timeout: 3_000,
 *   attemptDelay: 100,
 * };
 * ```
 */
export interface UndiciConnectorOptions
  extends Omit<RuntimeDialOptions, "trace" | "tls" | "signal" | "timeout"> {
  /**
   * Hooks for every connection the connector dials, or a function that
   * returns the hooks for one connection (called once per connection with
   * what undici asked for; return `undefined` for none). Hooks on the
   * ambient context (`runWithContext`) fire as well.
   * @default {undefined}
   */
  trace?: Trace | ((target: UndiciConnectOptions) => Trace | undefined);
  /**
   * Milliseconds for the whole connect — DNS, TCP and, for `https:`, the
   * TLS handshake — as undici's own `connectTimeout` (which undici does
   * not pass to a connector function). When it runs out the request fails
   * with nettrace's `TimeoutError` (`dial tcp 192.0.2.1:80: i/o timeout`). 0
   * or `Infinity`: none.
   * @default {10000}
   */
  timeout?: number;
  /**
   * PEM certificates to trust for `https:` instead of Node's default roots.
   * @default {undefined}
   */
  caCerts?: string[];
  /**
   * Whether to offer HTTP/2 by ALPN (`["h2", "http/1.1"]`) on `https:`.
   * By default HTTP/2 is offered only when undici asks for it (the `Agent`
   * was given `allowH2: true`); `false` never offers it. (undici 8's own
   * connector offers `h2` after `http/1.1` unless told `allowH2: false`;
   * a connector function is not told undici's default, so here HTTP/1.1
   * alone is the default.)
   * @default {undefined (as undici asks)}
   */
  allowH2?: boolean;
  /**
   * For `https:`, when an attempt counts as connected: `"tcp"` races TCP
   * and runs one handshake on the winner; `"tls"` runs the handshake in
   * each attempt (see `TLSOptions.successPoint`).
   * @default {"tcp"}
   */
  successPoint?: "tcp" | "tls";
  /**
   * TCP keep-alive on each connection, with this initial delay in ms, as
   * undici's own connector sets it; `false`: off.
   * @default {60000}
   */
  keepAliveInitialDelay?: number | false;
  /**
   * Happy Eyeballs v3 (`DialOptions.service`): for `https:` the host's
   * HTTPS record, when the resolver has `lookupService`, gives the
   * endpoints, their ports and ALPN; `false` turns it off.
   * @default {"https" for https: targets, false for http:}
   */
  service?: RuntimeDialOptions["service"];
}

const HTTP1: readonly string[] = ["http/1.1"];
const H2_HTTP1: readonly string[] = ["h2", "http/1.1"];

/** undici's own default connect timeout. */
const DEFAULT_TIMEOUT = 10_000;
/** undici's own default TCP keep-alive delay. */
const DEFAULT_KEEP_ALIVE = 60_000;

function unsupported(what: string, value: unknown): Error {
  return new TypeError(
    `Cannot connect with ${what} ${
      JSON.stringify(value)
    }: undiciConnector dials TCP with nettrace and does not support it`,
  );
}

/**
 * Makes an undici connector that dials with nettrace's Node adapter: Happy
 * Eyeballs over every address of the name, the trace hooks, the resolver
 * and connection history of your choice, and for `https:` nettrace's TLS
 * dial (SNI and verification against `servername`, or the host; ALPN
 * `http/1.1`, plus `h2` when undici allows it). undici gets the connected
 * `net.Socket` (`tls.TLSSocket` for `https:`) itself, set up as undici's
 * own connector sets its sockets up (TCP keep-alive, `TCP_NODELAY`, no
 * half-open), so pooling, pipelining and HTTP/2 work as usual.
 *
 * A failed dial fails the request with nettrace's error: undici's `fetch`
 * rejects with a `TypeError` whose `cause` is the `DialError` (every
 * attempt's error inside), the `TimeoutError`, or, for options this
 * connector cannot honour (`socketPath`, `localAddress`, a proxy's
 * `httpSocket`), a `TypeError`.
 *
 * @param options How to dial; see {@linkcode UndiciConnectorOptions}.
 * @returns The connector, for `new Agent({ connect })`.
 * @throws {TypeError} If `options.trace` is neither hooks nor a function.
 *
 * @example fetch through a local name server, traced
 * ```ts ignore
 * import { Agent, fetch } from "undici";
 * import { createResolver } from "@nettrace/nettrace/node";
 * import { undiciConnector } from "@nettrace/nettrace/undici";
 *
 * const dispatcher = new Agent({
 *   connect: undiciConnector({
 *     resolver: createResolver({
 *       nameServer: { address: "127.0.0.1", port: 5353 },
 *     }),
 *     trace: () => ({
 *       dnsDone: ({ host, addrs }) => console.log(host, addrs),
 *       tlsHandshakeDone: ({ alpnProtocol }) => console.log(alpnProtocol),
 *     }),
 *   }),
 * });
 * const response = await fetch("https://api.test/", { dispatcher });
 * console.log(await response.text());
 * await dispatcher.close();
 * ```
 *
 * @example Making the connector (no network)
 * ```ts
 * import { undiciConnector } from "@nettrace/nettrace/undici";
 *
 * const connect = undiciConnector({ attemptDelay: 100, timeout: 5_000 });
 * // new Agent({ connect }) in undici
 * ```
 */
export function undiciConnector(
  options: UndiciConnectorOptions = {},
): UndiciConnector {
  const {
    trace,
    timeout = DEFAULT_TIMEOUT,
    caCerts,
    allowH2,
    successPoint,
    keepAliveInitialDelay = DEFAULT_KEEP_ALIVE,
    ...dialOptions
  } = options;
  if (
    trace !== undefined && typeof trace !== "function" &&
    (typeof trace !== "object" || trace === null)
  ) {
    throw new TypeError(
      `Cannot use options.trace ${
        String(trace)
      }: it must be a Trace or a function returning one`,
    );
  }
  return function connect(target, callback) {
    try {
      if (target.socketPath != null) {
        throw unsupported("socketPath", target.socketPath);
      }
      if (target.localAddress != null) {
        throw unsupported("localAddress", target.localAddress);
      }
      if (target.httpSocket != null) {
        throw unsupported("httpSocket", "(a socket)");
      }
      const https = target.protocol === "https:";
      let host = target.hostname;
      if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
      const port = target.port === "" || target.port == null
        ? (https ? 443 : 80)
        : Number(target.port);
      const address = joinHostPort(host, port);
      const hooks = typeof trace === "function" ? trace(target) : trace;
      const h2 = allowH2 ?? target.allowH2 ?? false;
      const connectTimeout = typeof target.timeout === "number"
        ? target.timeout
        : timeout;
      const pending = dial(address, {
        ...dialOptions,
        // Happy Eyeballs v3 for https: the HTTPS record (RFC 9460) of the
        // host drives the race when the resolver can ask for it.
        service: dialOptions.service ?? (https ? "https" : false),
        timeout: connectTimeout,
        trace: hooks,
        tls: https
          ? {
            serverName: target.servername || host,
            alpnProtocols: (h2 ? H2_HTTP1 : HTTP1).slice(),
            caCerts,
            successPoint,
          }
          : undefined,
      });
      pending.then((conn) => {
        const socket = conn.socket;
        // The Node dialer opens half-open sockets (as Go does); undici's
        // HTTP/1.1 client expects the socket to close after the peer's FIN,
        // as its own connector's sockets do.
        socket.allowHalfOpen = false;
        if (keepAliveInitialDelay !== false) {
          socket.setKeepAlive(true, keepAliveInitialDelay);
        }
        callback(null, socket);
      }, (error: unknown) => {
        callback(asError(error), null);
      });
    } catch (error) {
      // undici expects the callback, not a throw; call it asynchronously
      // as for any other failure.
      queueMicrotask(() => callback(asError(error), null));
    }
  };
}

function asError(error: unknown): Error {
  return error instanceof Error
    ? error
    : new Error(String(error), { cause: error });
}
