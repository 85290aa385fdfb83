/**
 * The Bun dialer: one `Bun.connect()` per endpoint, and a {@linkcode BunConn}
 * that adds web streams with backpressure to Bun's socket.
 *
 * Only the slice of Bun's socket API used here is described, structurally
 * ({@linkcode BunSocketLike}); `Bun` is read from `globalThis`, so the module
 * needs no `@types/bun`.
 *
 * @module
 */

import process from "node:process";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import type {
  Conn,
  ConnectOptions,
  Dialer,
  Endpoint,
  NetAddr,
  StartTLSOptions,
  TLSConn,
  TLSResult,
} from "../src/types.ts";
import { closedDuringHandshake, isIPLiteral, tlsError } from "./_tls_common.ts";
import { acceptNeverAborted, NEVER_ABORTED } from "../src/_shared_signal.ts";
import { connectError } from "./_errno.ts";
import {
  checkChunk,
  closedError,
  knownRemoteAddr,
  READ_HIGH_WATER_MARK,
  watchAbort,
} from "./_conn.ts";

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

/**
 * The state of one connection, the `data` of its Bun socket: it exists from
 * before the connect, so bytes that arrive before anyone reads are kept.
 */
class Link {
  socket: BunSocketLike<Link> | undefined;
  /** The peer's address when known from the endpoint (see knownRemoteAddr). */
  remote: NetAddr | undefined;
  /** Bytes received before `readable` was built. */
  chunks: Uint8Array[] = [];
  buffered = 0;
  controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** The read side is finished: EOF delivered, errored or cancelled. */
  readDone = false;
  /** The peer's FIN arrived before `readable` was built. */
  eof = false;
  writeShut = false;
  paused = false;
  error: unknown;
  closedLocally = false;
  socketClosed = false;
  writableController: WritableStreamDefaultController | undefined;
  drain: { resolve(): void; reject(err: unknown): void } | undefined;
  /** Upgraded to TLS: the bytes on this (raw) socket are the TLS records. */
  upgraded = false;
  /** A TLS handshake in progress on this link's socket. */
  handshake:
    | {
      done(success: boolean, error: Error | null): void;
      closed(error: Error | undefined): void;
    }
    | undefined;

  gone(): unknown {
    return this.error ?? closedError();
  }

  pause(): void {
    if (this.paused || this.socketClosed) return;
    this.paused = true;
    this.socket?.pause();
  }

  resume(): void {
    if (!this.paused || this.socketClosed) return;
    this.paused = false;
    this.socket?.resume();
  }

  onData(data: Uint8Array): void {
    if (this.readDone || this.upgraded) return;
    // Bun hands over a Buffer; the other runtimes give plain Uint8Arrays.
    const chunk = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const c = this.controller;
    if (c !== undefined) {
      c.enqueue(chunk);
      if ((c.desiredSize ?? 0) <= 0) this.pause();
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    if (this.buffered >= READ_HIGH_WATER_MARK) this.pause();
  }

  onEnd(): void {
    if (!this.readDone) {
      if (this.controller !== undefined) {
        this.readDone = true;
        this.controller.close();
      } else {
        this.eof = true;
      }
    }
    // Both halves done: release the socket, as Node does.
    if (this.writeShut && !this.socketClosed) this.socket?.end();
  }

  onError(err: unknown): void {
    this.error ??= err;
    this.failStreams(err);
  }

  onClose(err: Error | undefined): void {
    this.socketClosed = true;
    const handshake = this.handshake;
    this.handshake = undefined;
    handshake?.closed(err);
    if (err !== undefined) this.error ??= err;
    const drain = this.drain;
    this.drain = undefined;
    drain?.reject(this.gone());
    this.writableController?.error(this.gone());
    if (this.readDone || this.eof) return;
    if (this.error === undefined && !this.closedLocally) {
      // Bun reports the peer's FIN after our own shutdown() as a close,
      // without an `end`: that is the end of the data, not a failure.
      this.onEnd();
    } else {
      this.failStreams(this.gone());
    }
  }

  failStreams(err: unknown): void {
    const drain = this.drain;
    this.drain = undefined;
    drain?.reject(err);
    this.writableController?.error(err);
    if (!this.readDone && this.controller !== undefined) {
      this.readDone = true;
      this.controller.error(err);
    }
  }

  onDrain(): void {
    const drain = this.drain;
    this.drain = undefined;
    drain?.resolve();
  }

  close(): void {
    if (this.closedLocally) return;
    this.closedLocally = true;
    if (!this.socketClosed) this.socket?.end();
    // Bun runs the close handler inside end(); this covers a socket that
    // was already closed by the peer.
    this.failStreams(this.gone());
    this.chunks = [];
    this.buffered = 0;
  }
}

const HANDLERS: BunSocketHandlers<Link> = {
  open: (socket) => {
    socket.data.socket = socket;
  },
  data: (socket, data) => socket.data.onData(data),
  drain: (socket) => socket.data.onDrain(),
  end: (socket) => socket.data.onEnd(),
  close: (socket, error) => socket.data.onClose(error),
  error: (socket, error) => socket.data.onError(error),
  // The promise of Bun.connect rejects with the same error.
  connectError: () => {},
  handshake: (socket, success, error) => {
    const handshake = socket.data.handshake;
    socket.data.handshake = undefined;
    handshake?.done(success, error);
  },
};

/**
 * A TCP connection made by the Bun dialer: Bun's socket itself as
 * {@linkcode BunConn.socket}, plus the {@linkcode Conn} view of it.
 *
 * The web streams are built on first access. Until then the dialer's socket
 * handlers keep what arrives, up to 64 KiB, and then pause the socket (Bun
 * 1.4's `socket.pause()` stops reading, so the kernel's buffers fill and TCP
 * stops the peer). To take the raw socket over, install your own handlers
 * with `socket.reload({ socket: handlers })`; bytes the dialer had already
 * kept stay with `readable`.
 *
 * - `readable` holds at most 64 KiB that nobody has read, then pauses the
 *   socket and resumes it when the reader asks for more. It ends when the
 *   peer closes its side; it fails with the socket's error, or with `use of
 *   closed network connection` once the connection is closed locally.
 *   Cancelling it closes the connection.
 * - `writable`'s `write()` resolves when the kernel has taken the whole
 *   chunk: Bun writes what fits and reports how much, and the rest is
 *   written on the socket's `drain`. `close()` half-closes
 *   (`socket.shutdown()`, a FIN; reading goes on); `abort()` closes the
 *   connection.
 *
 * The socket is opened with `allowHalfOpen: true`, as Go and Deno behave:
 * after the peer's FIN the connection can still be written to.
 *
 * @example Reading and writing through the web streams
 * ```ts ignore
 * import { dialer } from "@nettrace/nettrace/bun";
 *
 * const conn = await dialer.connect(
 *   { address: "127.0.0.1", family: 4, port: 7 },
 *   { signal: AbortSignal.timeout(1000) },
 * );
 * const writer = conn.writable.getWriter();
 * await writer.write(new TextEncoder().encode("ping"));
 * const { value } = await conn.readable.getReader().read();
 * conn.close();
 * ```
 */
export class BunConn implements Conn {
  /** Bun's connected socket. */
  readonly socket: BunSocketLike;
  /** This end's address, read when the connection was made. */
  readonly localAddr: NetAddr;
  /** The peer's address, read when the connection was made. */
  readonly remoteAddr: NetAddr;
  #link: Link;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  /**
   * Wraps a socket the Bun dialer connected.
   *
   * @param socket A socket from this module's dialer.
   * @param remoteAddr The peer's address when it is known without asking
   * the socket (the dialer knows the endpoint it connected to); read from
   * the socket by default.
   * @throws {TypeError} When the socket was not made by this dialer.
   */
  constructor(socket: BunSocketLike, remoteAddr?: NetAddr) {
    if (!(socket.data instanceof Link)) {
      throw new TypeError(
        "Cannot wrap this socket in a BunConn: it was not made by the Bun dialer",
      );
    }
    this.socket = socket;
    this.#link = socket.data;
    this.#link.socket ??= socket as BunSocketLike<Link>;
    this.localAddr = { hostname: socket.localAddress, port: socket.localPort };
    this.remoteAddr = remoteAddr ?? {
      hostname: socket.remoteAddress,
      port: socket.remotePort,
    };
  }

  /** Bytes from the peer; built on first access. */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= this.#makeReadable();
  }

  /** Bytes to the peer; built on first access. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= this.#makeWritable();
  }

  /** Closes the connection at once (`socket.end()`); idempotent. */
  close(): void {
    this.#link.close();
  }

  #makeReadable(): ReadableStream<Uint8Array> {
    const link = this.#link;
    return new ReadableStream<Uint8Array>({
      start: (c) => {
        for (const chunk of link.chunks) c.enqueue(chunk);
        link.chunks = [];
        link.buffered = 0;
        if (link.readDone || link.closedLocally) {
          link.readDone = true;
          c.error(link.gone());
        } else if (link.eof) {
          link.readDone = true;
          c.close();
        } else if (link.error !== undefined || link.socketClosed) {
          link.readDone = true;
          c.error(link.gone());
        } else {
          link.controller = c;
        }
      },
      pull: () => link.resume(),
      cancel: () => {
        link.readDone = true;
        link.close();
      },
    }, {
      highWaterMark: READ_HIGH_WATER_MARK,
      size: (chunk) => chunk.byteLength,
    });
  }

  #makeWritable(): WritableStream<Uint8Array> {
    const link = this.#link;
    const socket = this.socket;
    return new WritableStream<Uint8Array>({
      start: (c) => {
        link.writableController = c;
        if (link.socketClosed || link.closedLocally) c.error(link.gone());
      },
      write: async (chunk) => {
        checkChunk(chunk);
        let offset = 0;
        for (;;) {
          if (link.socketClosed || link.closedLocally) throw link.gone();
          const n = socket.write(
            offset === 0 ? chunk : chunk.subarray(offset),
          );
          if (n < 0) throw link.gone();
          offset += n;
          if (offset >= chunk.byteLength) return;
          await new Promise<void>((resolve, reject) => {
            link.drain = { resolve, reject };
          });
        }
      },
      close: () => {
        if (link.socketClosed || link.closedLocally) throw link.gone();
        link.writeShut = true;
        socket.shutdown();
        if (link.eof || link.readDone) socket.end();
      },
      abort: () => this.close(),
    });
  }
}

/**
 * A TLS connection made by the Bun dialer: a {@linkcode BunConn} over the
 * TLS socket that `socket.upgradeTLS()` returned (its handshake done), with
 * the negotiated ALPN protocol.
 *
 * @example Reading the negotiated protocol
 * ```ts ignore
 * import { dial } from "@nettrace/nettrace/bun";
 *
 * const conn = await dial("localhost:8443", { tls: { alpnProtocols: ["h2"] } });
 * console.log(conn.alpnProtocol); // "h2"
 * conn.close();
 * ```
 */
export class BunTLSConn extends BunConn implements TLSConn {
  /** The negotiated ALPN protocol; `null` when none was. */
  readonly alpnProtocol: string | null;

  /**
   * Wraps a TLS socket the Bun dialer upgraded.
   *
   * @param socket The TLS socket from `upgradeTLS()`, handshake done.
   * @param remoteAddr The peer's address; read from the socket by default.
   * @throws {TypeError} When the socket was not made by this dialer.
   */
  constructor(socket: BunSocketLike, remoteAddr?: NetAddr) {
    super(socket, remoteAddr);
    const alpn = socket.alpnProtocol;
    this.alpnProtocol = typeof alpn === "string" && alpn !== "" ? alpn : null;
  }
}

/** The ALPN list in the TLS wire format Bun takes: length-prefixed names. */
function alpnWire(protocols: string[]): ArrayBuffer {
  const encoded = protocols.map((p) => new TextEncoder().encode(p));
  const out = new Uint8Array(
    encoded.reduce((n, e) => n + 1 + e.byteLength, 0),
  );
  let at = 0;
  for (const e of encoded) {
    if (e.byteLength === 0 || e.byteLength > 255) {
      throw new RangeError(
        `Cannot offer the ALPN protocol of ${e.byteLength} bytes: it must be 1–255 bytes`,
      );
    }
    out[at++] = e.byteLength;
    out.set(e, at);
    at += e.byteLength;
  }
  return out.buffer;
}

/** Closes a socket at once (terminate), whatever state it is in. */
function terminate(socket: BunSocketLike<unknown> | undefined): void {
  if (socket === undefined) return;
  try {
    if (typeof socket.terminate === "function") socket.terminate();
    else socket.end();
  } catch {
    // Already closed.
  }
}

function startTls(
  conn: BunConn,
  { serverName, alpnProtocols, caCerts, signal }: StartTLSOptions,
): Promise<TLSResult<BunConn>> {
  if (signal.aborted) {
    conn.close();
    return Promise.reject(signal.reason);
  }
  const raw = conn.socket as BunSocketLike<Link>;
  const oldLink = raw.data;
  return new Promise<TLSResult<BunConn>>((resolve, reject) => {
    const ip = isIPLiteral(serverName);
    const link = new Link();
    link.remote = conn.remoteAddr;
    let tls: BunSocketLike<Link> | undefined;
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      unwatch();
      link.handshake = undefined;
      oldLink.upgraded = true;
      terminate(tls);
      terminate(raw);
      conn.close();
      reject(err);
    };
    const unwatch = watchAbort(signal, (reason) => fail(reason));
    link.handshake = {
      done: (success, error) => {
        if (settled) return;
        if (!success) {
          fail(tlsError(error ?? new Error("handshake failed"), serverName));
          return;
        }
        const socket = tls ?? link.socket;
        if (socket === undefined) {
          fail(closedDuringHandshake());
          return;
        }
        if (ip) {
          // Bun sends its serverName as SNI even for an IP (RFC 6066 says
          // not to), so an IP dial gives an empty one (no SNI, and no name
          // check by Bun) and the IP SANs are checked here, as Node's
          // tls.connect does.
          let mismatch: Error | undefined;
          try {
            const cert = socket.getPeerCertificate?.() as PeerCertificate;
            mismatch = checkServerIdentity(serverName, cert);
          } catch (err) {
            mismatch = err as Error;
          }
          if (mismatch !== undefined) {
            fail(tlsError(mismatch, serverName));
            return;
          }
        }
        settled = true;
        unwatch();
        try {
          const tlsConn = new BunTLSConn(socket, conn.remoteAddr);
          resolve({
            conn: tlsConn,
            alpnProtocol: tlsConn.alpnProtocol,
            tlsVersion: socket.getTLSVersion?.() ?? undefined,
          });
        } catch (err) {
          terminate(socket);
          terminate(raw);
          reject(tlsError(err, serverName));
        }
      },
      closed: (error) => fail(closedDuringHandshake(error)),
    };
    try {
      if (typeof raw.upgradeTLS !== "function") {
        throw new TypeError("this Bun has no socket.upgradeTLS()");
      }
      // The raw socket keeps the dialer's handlers: its bytes are now the
      // TLS records, which the old link must drop.
      oldLink.upgraded = true;
      // Bun 1.4.5 sends the socket's own host (here the IP) as SNI when
      // serverName is unset; an empty serverName sends none.
      const settings: BunTLSUpgradeSettings = {
        serverName: ip ? "" : serverName,
        rejectUnauthorized: true,
      };
      if (caCerts !== undefined) settings.ca = caCerts;
      if (alpnProtocols !== undefined && alpnProtocols.length > 0) {
        settings.ALPNProtocols = alpnWire(alpnProtocols);
      }
      [, tls] = raw.upgradeTLS({ data: link, tls: settings, socket: HANDLERS });
      link.socket ??= tls;
    } catch (err) {
      // A bad argument (an ALPN name too long) stays what it is.
      fail(
        err instanceof TypeError || err instanceof RangeError
          ? err
          : tlsError(err, serverName),
      );
    }
  });
}

function bun(): BunConnectLike {
  const found = (globalThis as { Bun?: BunConnectLike }).Bun;
  if (found === undefined) {
    throw new TypeError("Cannot connect with the Bun dialer outside Bun");
  }
  return found;
}

function connect(
  endpoint: Endpoint,
  options: ConnectOptions,
): Promise<BunConn> {
  if (options?.signal !== NEVER_ABORTED) {
    return connectWatching(endpoint, options);
  }
  // The shared signal that never aborts (an attempt nothing can cancel):
  // nothing to watch, so no wrapping promise and no closures — they showed
  // in a loopback connect.
  const link = new Link();
  link.remote = knownRemoteAddr(endpoint);
  let pending: Promise<BunSocketLike<Link>>;
  try {
    pending = bun().connect({
      hostname: endpoint.zone === undefined
        ? endpoint.address
        : `${endpoint.address}%${endpoint.zone}`,
      port: endpoint.port,
      allowHalfOpen: true,
      data: link,
      socket: HANDLERS,
    });
  } catch (err) {
    return Promise.reject(connectError(err, process.platform));
  }
  return pending.then(opened, failed);
}

/** Turns TCP_NODELAY on, as Go does, and wraps the socket. */
function opened(socket: BunSocketLike<Link>): BunConn {
  try {
    socket.setNoDelay(true);
    return new BunConn(socket, socket.data.remote);
  } catch (err) {
    // Never hand back (or leak) a socket we could not set up.
    socket.data.close();
    throw connectError(err, process.platform);
  }
}

function failed(err: unknown): never {
  throw connectError(err, process.platform);
}

function connectWatching(
  endpoint: Endpoint,
  { signal }: ConnectOptions,
): Promise<BunConn> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<BunConn>((resolve, reject) => {
    let aborted = false;
    // Bun.connect cannot be cancelled: an abort rejects at once, and the
    // socket is closed when (if) the connect lands.
    const unwatch = watchAbort(signal, (reason) => {
      aborted = true;
      reject(reason);
    });
    let pending: Promise<BunSocketLike<Link>>;
    try {
      pending = bun().connect({
        hostname: endpoint.zone === undefined
          ? endpoint.address
          : `${endpoint.address}%${endpoint.zone}`,
        port: endpoint.port,
        allowHalfOpen: true,
        data: new Link(),
        socket: HANDLERS,
      });
    } catch (err) {
      unwatch();
      reject(connectError(err, process.platform));
      return;
    }
    pending.then((socket) => {
      unwatch();
      if (aborted) {
        socket.data.close();
        return;
      }
      socket.data.remote = knownRemoteAddr(endpoint);
      try {
        resolve(opened(socket));
      } catch (err) {
        reject(err);
      }
    }, (err: unknown) => {
      unwatch();
      if (!aborted) reject(connectError(err, process.platform));
    });
  });
}

/**
 * The Bun dialer for the core's `dial()`: `Bun.connect({ hostname, port,
 * allowHalfOpen: true, socket })` to the one address it is given, then
 * `setNoDelay(true)` (Go's default).
 *
 * A failed connect rejects with a `SyscallError` (`connect: connection
 * refused`, `code` `"ECONNREFUSED"`, Bun's error as `cause`).
 *
 * An abort rejects at once with the signal's reason. `Bun.connect` takes no
 * signal and returns nothing to cancel before it settles, so the attempt's
 * socket stays with the kernel until the connect lands (it is then closed
 * at once) or fails (a connect to a host that never answers lingers up to
 * the kernel's SYN retry limit, about two minutes on Linux). After the
 * connect settles the signal is no longer watched. `close()` closes the
 * connection at once; closing twice is harmless.
 *
 * `startTls()` runs `socket.upgradeTLS({ tls: { serverName, ca,
 * ALPNProtocols, rejectUnauthorized: true } })` and resolves on the TLS
 * socket's `handshake` with a {@linkcode BunTLSConn}. For an IP literal the
 * `serverName` is `""` (Bun would send an IP, or when unset the socket's
 * own host, as SNI) and the certificate's IP SANs are checked with
 * `node:tls`'s `checkServerIdentity`. A failed
 * handshake rejects with a `TLSError` (Go's text, Bun's error as `cause`);
 * an abort terminates both sockets and rejects with the signal's reason.
 * `caCerts` replace Bun's roots.
 *
 * @example Connecting to one endpoint
 * ```ts ignore
 * import { dialer } from "@nettrace/nettrace/bun";
 *
 * const conn = await dialer.connect(
 *   { address: "::1", family: 6, port: 8080 },
 *   { signal: AbortSignal.timeout(1000) },
 * );
 * dialer.close(conn);
 * ```
 */
export const dialer: Dialer<BunConn> = {
  connect,
  close: (conn: BunConn): void => conn.close(),
  startTls,
};
acceptNeverAborted(dialer);
