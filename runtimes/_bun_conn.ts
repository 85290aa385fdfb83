/**
 * The connection of the Bun dialer: {@linkcode BunConn} (web streams with
 * backpressure over Bun's socket), {@linkcode BunTLSConn}, and the state of
 * one connection that Bun's socket carries as its `data` (`Link`), with the
 * socket handlers that feed it.
 *
 * @module
 */

import type { Conn, NetAddr, TLSConn } from "../src/types.ts";
import { checkChunk, closedError, READ_HIGH_WATER_MARK } from "./_conn.ts";
import type { BunSocketHandlers, BunSocketLike } from "./_bun_types.ts";

/** This end's address as the socket reports it (`""`, 0 once it is gone). */
function localOf(socket: BunSocketLike<unknown> | undefined): NetAddr {
  return {
    hostname: socket?.localAddress ?? "",
    port: socket?.localPort ?? 0,
  };
}

/**
 * The `data` of a Bun socket while its connect is pending: one record per
 * endpoint (the dialer keeps it with the endpoint), shared by every dial of
 * it, so a pending dial holds no state of its own; the socket's `open`
 * handler replaces it with the connection's {@linkcode Link}. Its handlers
 * do nothing: nothing but `open` or a failed connect happens before.
 */
export class PendingConnect {
  /** The peer's address when known from the endpoint (knownRemoteAddr). */
  readonly remote: NetAddr | undefined;

  constructor(remote: NetAddr | undefined) {
    this.remote = remote === undefined ? undefined : Object.freeze(remote);
  }

  onData(): void {}
  onDrain(): void {}
  onEnd(): void {}
  onError(): void {}
  onClose(): void {}
}

/**
 * The state of one connection, the `data` of its Bun socket from its
 * `open` on, so bytes that arrive before anyone reads are kept.
 */
export class Link {
  socket: BunSocketLike<Link> | undefined;
  /** The peer's address when known from the endpoint (see knownRemoteAddr). */
  remote: NetAddr | undefined;
  /** This end's address, read when the socket opens. */
  local: NetAddr | undefined = undefined;
  /** Bytes received before `readable` was built; made when the first is. */
  chunks: Uint8Array[] | undefined = undefined;
  buffered = 0;
  controller: ReadableStreamDefaultController<Uint8Array> | undefined =
    undefined;
  /** The read side is finished: EOF delivered, errored or cancelled. */
  readDone = false;
  /** The peer's FIN arrived before `readable` was built. */
  eof = false;
  writeShut = false;
  paused = false;
  error: unknown = undefined;
  closedLocally = false;
  socketClosed = false;
  writableController: WritableStreamDefaultController | undefined = undefined;
  drain: { resolve(): void; reject(err: unknown): void } | undefined =
    undefined;
  /** Upgraded to TLS: the bytes on this (raw) socket are the TLS records. */
  upgraded = false;
  /** A TLS handshake in progress on this link's socket. */
  handshake:
    | {
      done(success: boolean, error: Error | null): void;
      closed(error: Error | undefined): void;
    }
    | undefined = undefined;

  constructor(socket?: BunSocketLike<Link>, remote?: NetAddr) {
    this.socket = socket;
    this.remote = remote;
  }

  gone(): unknown {
    return this.error ?? closedError();
  }

  /** This end's address (read now if the socket had none at open). */
  localAddr(): NetAddr {
    return this.local ??= localOf(this.socket);
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
    (this.chunks ??= []).push(chunk);
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
    } else if (this.controller !== undefined) {
      // (Only a reader sees the error: none is made for nobody.)
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
    // was already closed by the peer. The error is made only for a stream
    // that will see it.
    if (
      this.drain !== undefined || this.writableController !== undefined ||
      (this.controller !== undefined && !this.readDone)
    ) {
      this.failStreams(this.gone());
    }
    this.chunks = undefined;
    this.buffered = 0;
  }
}

/**
 * The handlers of every socket the Bun dialer opens: `open` makes the
 * connection's {@linkcode Link} (an upgraded socket brings its own).
 */
export const HANDLERS: BunSocketHandlers<Link> = {
  open: (socket) => {
    const data = socket.data as Link | PendingConnect;
    const link = data instanceof Link ? data : new Link(socket, data.remote);
    link.socket = socket;
    // Read now: Bun forgets it once the socket closes, and a reset closes
    // it before anyone could ask (two getsockname calls).
    link.local = localOf(socket);
    socket.data = link;
  },
  data: (socket, data) => socket.data.onData(data),
  drain: (socket) => socket.data.onDrain(),
  end: (socket) => socket.data.onEnd(),
  close: (socket, error) => socket.data.onClose(error),
  error: (socket, error) => socket.data.onError(error),
  // The promise of Bun.connect rejects with the same error.
  connectError: () => {},
};

/** {@linkcode HANDLERS} and the TLS handshake's, for upgraded sockets. */
export const TLS_HANDLERS: BunSocketHandlers<Link> = {
  ...HANDLERS,
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
  /** The peer's address, from the endpoint or read when connected. */
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
    this.remoteAddr = remoteAddr ?? this.#link.remote ?? {
      hostname: socket.remoteAddress,
      port: socket.remotePort,
    };
  }

  /** This end's address, read when the socket opened. */
  get localAddr(): NetAddr {
    return this.#link.localAddr();
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
        for (const chunk of link.chunks ?? []) c.enqueue(chunk);
        link.chunks = undefined;
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
