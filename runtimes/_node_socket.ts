/**
 * `createConnection()`: a `net.Socket`-compatible Duplex, returned at once,
 * whose connection nettrace dials — for Node-API clients that want a socket
 * synchronously (pg's and mysql2's `stream` option, anything that calls
 * `net.createConnection`).
 *
 * @module
 */

import { Duplex } from "node:stream";
import process from "node:process";
import type { AddressInfo, Socket } from "node:net";
import { DialError } from "../src/errors.ts";
import { joinHostPort } from "../src/address.ts";
import type { Network } from "../src/types.ts";
import type { NodeConn } from "./_node_dialer.ts";
import { nodeDial as dial, type RuntimeDialOptions } from "./_node_dial.ts";

/**
 * Options for {@linkcode createConnection}: `net.createConnection`'s (the
 * ones that apply to TCP) plus every nettrace dial option. `timeout` keeps
 * its Node meaning (the idle timeout, as `socket.setTimeout`); the dial's
 * own deadline is `connectTimeout`.
 *
 * @example A socket to db.test:5432 with a 5 s connect budget
 * ```ts
 * import type { CreateConnectionOptions } from "@nettrace/nettrace/node";
 *
 * const options: CreateConnectionOptions = {
 *   host: "db.test",
 *   port: 5432,
 *   connectTimeout: 5_000,
 *   keepAlive: true,
 * };
 * ```
 */
export interface CreateConnectionOptions
  extends Omit<RuntimeDialOptions, "timeout"> {
  /**
   * The host: a name or an IP literal.
   * @default {"localhost"}
   */
  host?: string;
  /** The port; without it the socket waits for `.connect(port, host)`. */
  port?: number | string;
  /**
   * `4` or `6` dials that family only (`tcp4` / `tcp6`); `0` both.
   * @default {0}
   */
  family?: number;
  /**
   * The idle timeout in ms (`socket.setTimeout`): `'timeout'` is emitted,
   * the socket is not closed. It counts during the dial too.
   * @default {0}
   */
  timeout?: number;
  /**
   * The dial's deadline in ms (nettrace's `timeout`); on expiry the socket
   * fails with an error whose `code` is `"ETIMEDOUT"`.
   * @default {0}
   */
  connectTimeout?: number;
  /**
   * `TCP_NODELAY`. nettrace dials with it on (Go's default); `false` turns
   * it off as `net.connect` leaves it.
   * @default {true}
   */
  noDelay?: boolean;
  /**
   * TCP keep-alive, as `socket.setKeepAlive(true, keepAliveInitialDelay)`.
   * @default {false}
   */
  keepAlive?: boolean;
  /**
   * The keep-alive delay in ms.
   * @default {0}
   */
  keepAliveInitialDelay?: number;
}

/** A write held until the dial is done. */
interface HeldWrite {
  chunk: Uint8Array | string;
  encoding: BufferEncoding;
  callback: (error?: Error | null) => void;
}

/**
 * A `net.Socket`-compatible Duplex whose connection nettrace dials. Writes
 * made before the dial is done are held and sent once it is; `setNoDelay`,
 * `setKeepAlive`, `setTimeout`, `ref` and `unref` are remembered and applied
 * to the real socket; `'connect'` and `'ready'` follow the dial, `'error'`
 * and `'close'` a failure; `destroy()` aborts a dial in progress. Reading and
 * writing go through to the dialled `net.Socket` (`.socket` once
 * connected). Made by {@linkcode createConnection}.
 *
 * @example Connecting later, as pg does
 * ```ts ignore
 * import { createConnection } from "@nettrace/nettrace/node";
 *
 * const socket = createConnection({ trace: { connectStart: console.log } });
 * socket.connect(5432, "db.test");
 * socket.on("connect", () => console.log(socket.remoteAddress));
 * ```
 */
export class NettraceSocket extends Duplex {
  #options: CreateConnectionOptions;
  #inner: Socket | undefined;
  #controller: AbortController | undefined;
  #pending: Promise<unknown> | undefined;
  #connecting = false;
  #held: HeldWrite | undefined;
  #heldFinal: ((error?: Error | null) => void) | undefined;
  #timeout = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #noDelay: boolean | undefined;
  #keepAlive: [boolean, number] | undefined;
  #ref = true;

  /**
   * Makes an unconnected socket; {@linkcode createConnection} is the usual
   * way.
   *
   * @param options The dial options, and `net`'s.
   */
  constructor(options: CreateConnectionOptions = {}) {
    super({ allowHalfOpen: options.allowHalfOpen === true });
    this.#options = options;
    if (options.noDelay === false) this.#noDelay = false;
    if (options.keepAlive === true) {
      this.#keepAlive = [true, options.keepAliveInitialDelay ?? 0];
    }
    if (options.timeout !== undefined && options.timeout > 0) {
      this.setTimeout(options.timeout);
    }
  }

  /** The dialled `net.Socket`, once connected. */
  get socket(): Socket | undefined {
    return this.#inner;
  }

  /** `true` while the dial is in progress. */
  get connecting(): boolean {
    return this.#connecting;
  }

  /** `true` until connected, as `net.Socket#pending`. */
  get pending(): boolean {
    return this.#inner === undefined || this.#connecting;
  }

  /** `"opening"`, `"open"`, `"readOnly"`, `"writeOnly"` or `"closed"`. */
  get readyState(): string {
    if (this.#connecting) return "opening";
    if (this.#inner === undefined || this.destroyed) return "closed";
    if (this.readable && this.writable) return "open";
    if (this.readable) return "readOnly";
    if (this.writable) return "writeOnly";
    return "closed";
  }

  /** The idle timeout set, in ms (0: none). */
  get timeout(): number {
    return this.#timeout;
  }

  /** The peer's address, once connected. */
  get remoteAddress(): string | undefined {
    return this.#inner?.remoteAddress;
  }

  /** The peer's port, once connected. */
  get remotePort(): number | undefined {
    return this.#inner?.remotePort;
  }

  /** `"IPv4"` or `"IPv6"`, once connected. */
  get remoteFamily(): string | undefined {
    return this.#inner?.remoteFamily;
  }

  /** This end's address, once connected. */
  get localAddress(): string | undefined {
    return this.#inner?.localAddress;
  }

  /** This end's port, once connected. */
  get localPort(): number | undefined {
    return this.#inner?.localPort;
  }

  /** This end's family, once connected. */
  get localFamily(): string | undefined {
    return this.#inner?.localFamily;
  }

  /** Bytes received. */
  get bytesRead(): number {
    return this.#inner?.bytesRead ?? 0;
  }

  /** Bytes sent. */
  get bytesWritten(): number {
    return this.#inner?.bytesWritten ?? 0;
  }

  /**
   * This end's address, as `net.Socket#address()`.
   *
   * @returns `{ address, family, port }`, or `{}` before the connect.
   */
  address(): AddressInfo | Record<string, never> {
    return this.#inner?.address() ?? {};
  }

  /**
   * Dials `host`:`port`, as `net.Socket#connect(port, host?, listener?)`.
   *
   * @param port The port.
   * @param host The host (default `"localhost"`).
   * @param listener A `'connect'` listener.
   * @returns This socket.
   * @throws {Error} When a dial was already started.
   */
  connect(port: number | string, host?: string, listener?: () => void): this;
  /**
   * Dials, as `net.Socket#connect({ port, host }, listener?)`.
   *
   * @param options `{ port, host }` and any other option.
   * @param listener A `'connect'` listener.
   * @returns This socket.
   * @throws {Error} When a dial was already started.
   */
  connect(options: CreateConnectionOptions, listener?: () => void): this;
  connect(
    first?: number | string | CreateConnectionOptions,
    second?: string | (() => void),
    third?: () => void,
  ): this {
    let options = this.#options;
    let listener: (() => void) | undefined;
    if (typeof first === "object" && first !== null) {
      options = { ...options, ...first };
      listener = typeof second === "function" ? second : undefined;
    } else {
      options = { ...options, port: first };
      if (typeof second === "string") options.host = second;
      listener = typeof second === "function" ? second : third;
    }
    if (listener !== undefined) this.once("connect", listener);
    this.#start(options);
    return this;
  }

  /**
   * Sets the idle timeout, as `net.Socket#setTimeout`; it counts during the
   * dial too.
   *
   * @param ms The timeout; 0 turns it off.
   * @param callback A `'timeout'` listener (removed when `ms` is 0).
   * @returns This socket.
   */
  setTimeout(ms: number, callback?: () => void): this {
    this.#timeout = ms;
    if (callback !== undefined) {
      if (ms === 0) this.off("timeout", callback);
      else this.once("timeout", callback);
    }
    if (this.#inner !== undefined && !this.#connecting) {
      this.#inner.setTimeout(ms);
    } else this.#armTimer();
    return this;
  }

  /**
   * `TCP_NODELAY`, now or once connected.
   *
   * @param noDelay On (the default) or off.
   * @returns This socket.
   */
  setNoDelay(noDelay = true): this {
    this.#noDelay = noDelay;
    this.#inner?.setNoDelay(noDelay);
    return this;
  }

  /**
   * TCP keep-alive, now or once connected.
   *
   * @param enable On or off.
   * @param initialDelay The delay in ms.
   * @returns This socket.
   */
  setKeepAlive(enable = false, initialDelay = 0): this {
    this.#keepAlive = [enable, initialDelay];
    this.#inner?.setKeepAlive(enable, initialDelay);
    return this;
  }

  /**
   * Lets the process exit while this socket is open (once connected; the
   * dial itself keeps the event loop alive).
   *
   * @returns This socket.
   */
  unref(): this {
    this.#ref = false;
    this.#inner?.unref();
    if (this.#timer !== undefined) unrefTimer(this.#timer, false);
    return this;
  }

  /**
   * Undoes {@linkcode NettraceSocket.unref}.
   *
   * @returns This socket.
   */
  ref(): this {
    this.#ref = true;
    this.#inner?.ref();
    if (this.#timer !== undefined) unrefTimer(this.#timer, true);
    return this;
  }

  /**
   * Closes with a TCP RST once connected, as `net.Socket#resetAndDestroy`.
   *
   * @returns This socket.
   */
  resetAndDestroy(): this {
    if (this.#inner !== undefined) this.#inner.resetAndDestroy();
    return this.destroy();
  }

  #armTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#timeout <= 0 || this.destroyed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.emit("timeout");
    }, this.#timeout);
    if (!this.#ref) unrefTimer(this.#timer, false);
  }

  #start(options: CreateConnectionOptions): void {
    if (this.#connecting || this.#inner !== undefined) {
      throw new Error("Socket is already connecting or connected");
    }
    const {
      host = "localhost",
      port,
      family,
      connectTimeout,
      timeout: _idle,
      noDelay: _noDelay,
      keepAlive: _keepAlive,
      keepAliveInitialDelay: _delay,
      allowHalfOpen: _halfOpen,
      signal,
      ...dialOptions
    } = options;
    this.#connecting = true;
    const controller = new AbortController();
    this.#controller = controller;
    if (signal !== undefined) {
      if (signal.aborted) controller.abort(signal.reason);
      else {
        signal.addEventListener(
          "abort",
          () => controller.abort(signal.reason),
          {
            once: true,
            signal: controller.signal,
          },
        );
      }
    }
    const network: Network = family === 4
      ? "tcp4"
      : family === 6
      ? "tcp6"
      : dialOptions.network ?? "tcp";
    let address: string;
    try {
      address = joinHostPort(host.replace(/^\[(.*)\]$/, "$1"), portOf(port));
    } catch (err) {
      this.#connecting = false;
      process.nextTick(() => this.destroy(err as Error));
      return;
    }
    this.#pending = dial(address, {
      ...dialOptions,
      network,
      signal: controller.signal,
      timeout: connectTimeout,
    }).then(
      (conn) => this.#onConnected(conn),
      (err: unknown) => this.#onFailed(err, controller.signal),
    );
  }

  #onConnected(conn: NodeConn): void {
    this.#connecting = false;
    const inner = conn.socket;
    if (this.destroyed) {
      conn.close();
      return;
    }
    this.#inner = inner;
    inner.allowHalfOpen = this.allowHalfOpen;
    if (this.#noDelay === false) inner.setNoDelay(false);
    if (this.#keepAlive !== undefined) inner.setKeepAlive(...this.#keepAlive);
    if (!this.#ref) inner.unref();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#timeout > 0) inner.setTimeout(this.#timeout);
    inner.on("data", (chunk: Uint8Array) => {
      if (!this.push(chunk)) inner.pause();
    });
    inner.on("end", () => this.push(null));
    inner.on("error", (err: Error) => this.destroy(err));
    inner.on("close", () => {
      if (!this.destroyed) this.destroy();
    });
    inner.on("timeout", () => this.emit("timeout"));
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) {
      inner.write(held.chunk, held.encoding, held.callback);
    }
    const final = this.#heldFinal;
    this.#heldFinal = undefined;
    if (final !== undefined) {
      inner.end();
      final();
    }
    this.emit("connect");
    this.emit("ready");
  }

  #onFailed(err: unknown, signal: AbortSignal): void {
    this.#connecting = false;
    if (this.destroyed) return;
    this.destroy(nodeError(err, signal));
  }

  /** @internal */
  override _read(): void {
    if (this.#inner?.isPaused()) this.#inner.resume();
  }

  /** @internal */
  override _write(
    chunk: Uint8Array | string,
    encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.#inner !== undefined) {
      this.#inner.write(chunk, encoding, callback);
    } else this.#held = { chunk, encoding, callback };
  }

  /** @internal */
  override _final(callback: (error?: Error | null) => void): void {
    if (this.#inner !== undefined) {
      this.#inner.end();
      callback();
    } else this.#heldFinal = callback;
  }

  /** @internal */
  override _destroy(
    error: Error | null,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const inner = this.#inner;
    if (inner !== undefined) {
      if (inner.destroyed && inner.closed !== false) callback(error);
      else {
        inner.once("close", () => callback(error));
        inner.destroy();
      }
      return;
    }
    if (this.#connecting && this.#pending !== undefined) {
      // The dial closes its sockets before it settles.
      this.#controller!.abort(abortError());
      this.#pending.then(() => callback(error));
      return;
    }
    callback(error);
  }
}

function unrefTimer(
  timer: ReturnType<typeof setTimeout>,
  ref: boolean,
): void {
  const t = timer as { ref?: () => void; unref?: () => void };
  if (ref) t.ref?.();
  else t.unref?.();
}

function portOf(port: number | string | undefined): number {
  const n = typeof port === "string" && port.trim() !== ""
    ? Number(port)
    : port;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65535) {
    const err = new RangeError(
      `Port should be >= 0 and < 65536. Received ${String(port)}.`,
    );
    (err as { code?: string }).code = "ERR_SOCKET_BAD_PORT";
    throw err;
  }
  return n;
}

function abortError(cause?: unknown): Error {
  const err = new Error("The operation was aborted", { cause });
  err.name = "AbortError";
  (err as { code?: string }).code = "ABORT_ERR";
  return err;
}

/**
 * What a failed dial becomes on the socket: a `DialError` as it is (it has
 * Node's `code`); the dial's own deadline an error with `code`
 * `"ETIMEDOUT"`, as a connect timeout is in Node; an abort Node's
 * `AbortError` (`code` `"ABORT_ERR"`).
 */
function nodeError(err: unknown, signal: AbortSignal): Error {
  if (err instanceof DialError) return err;
  const name = (err as { name?: unknown } | null)?.name;
  if (name === "TimeoutError") {
    const timeout = new Error((err as Error).message, { cause: err });
    Object.assign(timeout, { code: "ETIMEDOUT", syscall: "connect" });
    return timeout;
  }
  if (signal.aborted) return abortError(err);
  return err instanceof Error ? err : new Error(String(err), { cause: err });
}

/**
 * Returns at once a `net.Socket`-compatible socket whose connection
 * nettrace dials, as `net.createConnection` returns one: with `host` and
 * `port` the dial starts now, otherwise on `.connect(port, host)` /
 * `.connect({ port, host })`. Writes made meanwhile are sent once connected;
 * `destroy()` aborts the dial (so a client's own connect timeout, which
 * destroys the socket, cancels it); a failed dial emits `'error'` (a
 * `DialError` with Node's `code`, `ETIMEDOUT` for `connectTimeout`) and
 * `'close'`.
 *
 * @param options `net`'s options (`host`, `port`, `family`, `timeout`,
 * `noDelay`, `keepAlive`, `allowHalfOpen`…) and nettrace's dial options
 * (`trace`, `resolver`, `signal`, the RFC 8305 delays…), with the dial's
 * deadline as `connectTimeout`.
 * @param connectListener Added as a `'connect'` listener.
 * @returns The socket, not yet connected.
 *
 * @example A socket for pg's `stream` option
 * ```ts ignore
 * import pg from "pg";
 * import { createConnection } from "@nettrace/nettrace/node";
 *
 * const client = new pg.Client({
 *   host: "db.test",
 *   stream: () => createConnection({ trace: { connectDone: console.log } }),
 * });
 * await client.connect();
 * ```
 *
 * @example Dialling at once
 * ```ts ignore
 * import { createConnection } from "@nettrace/nettrace/node";
 *
 * const socket = createConnection({ host: "localhost", port: 6379 }, () => {
 *   socket.end("PING\r\n");
 * });
 * socket.on("data", (data) => console.log(String(data)));
 * ```
 */
export function createConnection(
  options: CreateConnectionOptions | number = {},
  connectListener?: (() => void) | string,
): NettraceSocket {
  if (typeof options === "number") {
    options = typeof connectListener === "string"
      ? { port: options, host: connectListener }
      : { port: options };
  }
  const socket = new NettraceSocket(options);
  if (typeof connectListener === "function") {
    socket.once("connect", connectListener);
  }
  if (options.port !== undefined) socket.connect(options);
  return socket;
}
