/**
 * The slice of Bun's socket API the Bun adapter uses, described
 * structurally ({@linkcode BunSocketLike}, {@linkcode BunSocketHandlers},
 * {@linkcode BunConnectLike}), so that the module needs no `@types/bun`.
 * Public through `runtimes/bun.ts`.
 *
 * @module
 */

/**
 * The part of Bun's TCP `Socket` the dialer uses (Bun 1.4). The object
 * {@linkcode BunConn.socket} holds is the full Bun socket.
 *
 * @typeParam D The type of `socket.data`.
 *
 * @example Tuning the socket under a connection
 * ```ts
 * import type { BunConn, BunSocketLike } from "@nettrace/nettrace/bun";
 *
 * function peerOf(conn: BunConn): string {
 *   const socket: BunSocketLike = conn.socket;
 *   socket.setNoDelay(true);
 *   return `${socket.remoteAddress}:${socket.remotePort}`;
 * }
 * ```
 */
export interface BunSocketLike<D = unknown> {
  /** What was passed as `data` to `Bun.connect`. */
  data: D;
  /** This end's IP address. */
  readonly localAddress: string;
  /** This end's port. */
  readonly localPort: number;
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /** The peer's port. */
  readonly remotePort: number;
  /**
   * Writes what the kernel takes now.
   *
   * @param data The bytes.
   * @returns How many bytes were written (0 when the socket is full; the
   *   `drain` handler runs when it has room), or -1 once it is closed.
   */
  write(data: Uint8Array): number;
  /** Sends a FIN and closes the socket (a graceful close, at once). */
  end(): void;
  /**
   * Half-closes: with no argument sends a FIN and keeps receiving.
   *
   * @param halfClose `true` shuts down the read side instead.
   */
  shutdown(halfClose?: boolean): void;
  /** Stops reading from the socket. */
  pause(): void;
  /** Reads from the socket again. */
  resume(): void;
  /**
   * Sets `TCP_NODELAY`.
   *
   * @param noDelay `true` disables Nagle's algorithm.
   * @returns Whether it was set.
   */
  setNoDelay(noDelay?: boolean): boolean;
  /**
   * Closes the socket at once, without a graceful shutdown (Bun 1.4).
   */
  terminate?(): void;
  /**
   * Starts a TLS client handshake on this socket (Bun 1.4).
   *
   * @param options The handlers and data of the TLS socket, and the TLS
   * settings.
   * @returns The raw socket and the TLS socket.
   */
  upgradeTLS?<T>(options: {
    data: T;
    tls: BunTLSUpgradeSettings;
    socket: BunSocketHandlers<T>;
  }): [raw: BunSocketLike<D>, tls: BunSocketLike<T>];
  /** The negotiated ALPN protocol of a TLS socket; `false` when none. */
  readonly alpnProtocol?: string | false | null;
  /**
   * The TLS version of a TLS socket (`"TLSv1.3"`).
   *
   * @returns The version, or `null` when not known.
   */
  getTLSVersion?(): string | null;
  /**
   * The peer's certificate of a TLS socket, as `node:tls` describes it.
   *
   * @returns The certificate.
   */
  getPeerCertificate?(): unknown;
}

/**
 * The TLS settings the Bun dialer passes to `socket.upgradeTLS()`.
 *
 * @example Settings for a handshake with db.test
 * ```ts
 * import type { BunTLSUpgradeSettings } from "@nettrace/nettrace/bun";
 *
 * const settings: BunTLSUpgradeSettings = {
 *   serverName: "db.test",
 *   rejectUnauthorized: true,
 * };
 * ```
 */
export interface BunTLSUpgradeSettings {
  /** The SNI name and the name checked; `""` (no SNI) for an IP literal. */
  serverName?: string;
  /** PEM certificates to trust instead of Bun's roots. */
  ca?: string[];
  /** The ALPN protocols, in the wire format (length-prefixed). */
  ALPNProtocols?: ArrayBuffer;
  /** Always `true`: a certificate that does not verify fails the handshake. */
  rejectUnauthorized: boolean;
}

/**
 * The socket handlers of `Bun.connect` the dialer installs.
 *
 * @typeParam D The type of `socket.data`.
 *
 * @example Handlers that collect what arrives
 * ```ts
 * import type { BunSocketHandlers } from "@nettrace/nettrace/bun";
 *
 * const received: Uint8Array[] = [];
 * const handlers: BunSocketHandlers<undefined> = {
 *   open() {},
 *   data(_socket, data) {
 *     received.push(data);
 *   },
 *   drain() {},
 *   end(socket) {
 *     socket.end();
 *   },
 *   close() {},
 *   error() {},
 *   connectError() {},
 * };
 * ```
 */
export interface BunSocketHandlers<D> {
  /** The connection is established. */
  open(socket: BunSocketLike<D>): void;
  /** Bytes arrived (a fresh buffer each time). */
  data(socket: BunSocketLike<D>, data: Uint8Array): void;
  /** The socket has room again after a short write. */
  drain(socket: BunSocketLike<D>): void;
  /** The peer sent a FIN. */
  end(socket: BunSocketLike<D>): void;
  /** The socket closed; `error` when it was reset or failed. */
  close(socket: BunSocketLike<D>, error?: Error): void;
  /** The socket failed. */
  error(socket: BunSocketLike<D>, error: Error): void;
  /** The connect failed (the promise rejects as well). */
  connectError(socket: BunSocketLike<D>, error: Error): void;
  /**
   * A TLS handshake finished: `success` false with the reason when the
   * certificate did not verify or the server refused.
   */
  handshake?(
    socket: BunSocketLike<D>,
    success: boolean,
    authorizationError: Error | null,
  ): void;
}

/**
 * The part of the `Bun` global the dialer uses.
 *
 * @example Checking for the Bun global
 * ```ts
 * import type { BunConnectLike } from "@nettrace/nettrace/bun";
 *
 * const bun = (globalThis as { Bun?: BunConnectLike }).Bun;
 * console.log(bun !== undefined); // true on Bun
 * ```
 */
export interface BunConnectLike {
  /**
   * Opens a TCP connection.
   *
   * @param options Where to, and the handlers.
   * @returns The socket, once connected.
   */
  connect<D>(options: {
    hostname: string;
    port: number;
    allowHalfOpen?: boolean;
    data: D;
    socket: BunSocketHandlers<D>;
  }): Promise<BunSocketLike<D>>;
}
