/**
 * The Node dialer: one `net.connect()` per endpoint, with Node's own family
 * selection off, `TCP_NODELAY` on (Go's default) and `allowHalfOpen` off (as
 * `net.connect` sets it up), and a {@linkcode NodeConn} that adds web streams to the `net.Socket`.
 *
 * @module
 */

import { Socket, type TcpSocketConnectOpts } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import process from "node:process";
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
import { offerLiteralConnect } from "../src/_literal_connect.ts";
import { connectError } from "./_errno.ts";
import {
  checkChunk,
  closedError,
  connectHost,
  knownRemoteAddr,
  READ_HIGH_WATER_MARK,
  watchAbort,
} from "./_conn.ts";

function noop(): void {}

/** This end's address as the socket reports it (`""`, 0 once it is gone). */
function localOf(socket: Socket): NetAddr {
  return { hostname: socket.localAddress ?? "", port: socket.localPort ?? 0 };
}

/** Reads a connection's local address before its socket forgets it. */
let keepLocal: (conn: NodeConn) => void;
/** Fails a connection's streams with its socket's error. */
let connFailed: (conn: NodeConn, err: Error) => void;

/** Where a socket keeps the {@linkcode NodeConn} made of it. */
const CONN = Symbol("nettrace.conn");
type OwnedSocket = Socket & { [CONN]?: NodeConn };

/** Starts a dialled socket's connect; see {@linkcode DialSocket}. */
let beginConnect: (
  socket: DialSocket,
  options: TcpSocketConnectOpts,
  signal: AbortSignal,
  fail: ((error: unknown) => never) | undefined,
  remote: NetAddr | undefined,
) => Promise<NodeConn>;
/** Tells a dialled socket the connection made of it. */
let attachConn: (socket: DialSocket, conn: NodeConn) => void;

/**
 * The `net.Socket` the dialer connects: it carries its pending connect in
 * private fields (so the connect's listeners are shared by every dial, no
 * closures, and nothing shows on the socket), and has its connection keep
 * the local address before Node forgets it on destroy (`localAddr` is
 * read lazily).
 */
class DialSocket extends Socket {
  #resolve: ((conn: NodeConn) => void) | undefined = undefined;
  #reject: ((err: unknown) => void) | undefined = undefined;
  #unwatch: (() => void) | undefined = undefined;
  #fail: ((error: unknown) => never) | undefined = undefined;
  #remote: NetAddr | undefined = undefined;
  #conn: NodeConn | undefined = undefined;

  override _destroy(
    error: Error | null,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.#conn !== undefined) keepLocal(this.#conn);
    super._destroy(error, callback);
  }

  static {
    beginConnect = (socket, options, signal, fail, remote) => {
      const { promise, resolve, reject } = Promise.withResolvers<NodeConn>();
      socket.#resolve = resolve;
      socket.#reject = reject;
      socket.#fail = fail;
      socket.#remote = remote;
      // The shared signal that never aborts is not watched.
      if (signal !== NEVER_ABORTED) {
        socket.#unwatch = watchAbort(signal, (reason) => {
          DialSocket.#settle(socket);
          // A connect error may already be queued for the next tick: the
          // socket's 'error' listener drops it now.
          socket.destroy();
          reject(reason);
        });
      }
      // Shared by every dial: 'connect' fires once (the listener stays),
      // and the 'error' listener serves the socket's whole life (the
      // connect, then the connection).
      socket.on("connect", DialSocket.#onConnect);
      socket.on("error", DialSocket.#onError);
      socket.connect(options);
      return promise;
    };
    attachConn = (socket, conn) => {
      socket.#conn = conn;
    };
  }

  static #settle(socket: DialSocket): void {
    if (socket.#unwatch !== undefined) {
      socket.#unwatch();
      socket.#unwatch = undefined;
    }
    socket.#resolve = undefined;
    socket.#reject = undefined;
  }

  static #onConnect(this: DialSocket): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    const conn = new NodeConn(this, this.#remote);
    DialSocket.#settle(this);
    resolve(conn);
  }

  static #onError(this: DialSocket, err: Error): void {
    const reject = this.#reject;
    if (reject === undefined) {
      // The connection's error, or one after a failed or aborted connect.
      if (this.#conn !== undefined) connFailed(this.#conn, err);
      return;
    }
    const fail = this.#fail;
    DialSocket.#settle(this);
    this.destroy();
    const error = connectError(err, process.platform);
    if (fail === undefined) {
      reject(error);
      return;
    }
    try {
      fail(error);
    } catch (dialError) {
      reject(dialError);
    }
  }
}

/**
 * A TCP connection made by the Node dialer: the `net.Socket` itself as
 * {@linkcode NodeConn.socket}, plus the {@linkcode Conn} view of it.
 *
 * The web streams are built on first access, so code that takes `.socket`
 * pays nothing for them. Use one or the other for reading: the `readable`
 * consumes the socket's `'data'` events.
 *
 * - `readable` pulls: it holds at most 64 KiB that nobody has read, then
 *   pauses the socket (the kernel's buffers fill and TCP stops the peer) and
 *   resumes it when the reader asks for more. It ends when the peer closes
 *   its side; it fails with the socket's error, or with `use of closed
 *   network connection` once the connection is closed locally. Cancelling it
 *   closes the connection.
 * - `writable`'s `write()` resolves when the socket has handed the chunk to
 *   the kernel, so a slow peer makes writes wait and a written buffer may be
 *   reused at once. `close()` half-closes (`socket.end()`, a FIN; reading
 *   goes on); `abort()` closes the connection.
 *
 * The socket is opened with `allowHalfOpen: false`, as `net.connect` opens
 * it: after the peer's FIN the socket ends its side too and closes, so
 * Node-API clients notice a server that hung up. `dial(address, {
 * allowHalfOpen: true })` (or setting `socket.allowHalfOpen = true`) keeps
 * it writable after the peer's FIN, as Go and Deno behave.
 *
 * @example Reading and writing through the web streams
 * ```ts ignore
 * import { dialer } from "@nettrace/nettrace/node";
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
 *
 * @example Using the net.Socket directly
 * ```ts ignore
 * import { dial } from "@nettrace/nettrace/node";
 *
 * const { socket } = await dial("127.0.0.1:7");
 * socket.on("data", (data) => console.log(data));
 * socket.end("ping");
 * ```
 */
export class NodeConn implements Conn {
  /** The connected `net.Socket`. */
  readonly socket: Socket;
  /** The peer's address, from the endpoint or read when connected. */
  readonly remoteAddr: NetAddr;
  #local: NetAddr | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #writableController: WritableStreamDefaultController | undefined;
  #error: unknown;
  #closed = false;

  /**
   * Wraps a connected socket. The dialer does this; there is little reason
   * to call it yourself.
   *
   * @param socket A `net.Socket` that has emitted `'connect'`.
   * @param remoteAddr The peer's address when it is known without asking
   * the socket (the dialer knows the endpoint it connected to); read from
   * the socket by default.
   */
  constructor(socket: Socket, remoteAddr?: NetAddr) {
    this.socket = socket;
    this.remoteAddr = remoteAddr ?? {
      hostname: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
    };
    // The dialer's sockets keep the local address as they are destroyed
    // (Node forgets it then); any other is read now.
    // Node throws an 'error' event that nobody listens to; a connection
    // nobody reads (a race loser, an idle pool member) must not crash the
    // process when the peer resets it. One listener for all connections:
    // the dialer's sockets have theirs from the connect on.
    if (socket instanceof DialSocket) {
      attachConn(socket, this);
      return;
    }
    this.#local = localOf(socket);
    (socket as OwnedSocket)[CONN] = this;
    socket.on("error", NodeConn.#onSocketError);
  }

  static #onSocketError(this: Socket, err: Error): void {
    const conn = (this as OwnedSocket)[CONN];
    if (conn !== undefined) connFailed(conn, err);
  }

  /**
   * This end's address: read from the socket on first access (a
   * `getsockname()` and three property sets in Node, so not for a
   * connection nobody asks), or as the socket is destroyed if nobody had
   * (Node forgets it then).
   */
  get localAddr(): NetAddr {
    return this.#local ??= localOf(this.socket);
  }

  static {
    keepLocal = (conn) => void (conn.#local ??= localOf(conn.socket));
    connFailed = (conn, err) => {
      conn.#error ??= err;
      conn.#writableController?.error(err);
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

  /** Closes the connection at once (`socket.destroy()`); idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.destroy();
    this.#writableController?.error(this.#error ?? closedError());
  }

  #makeReadable(): ReadableStream<Uint8Array> {
    const socket = this.socket;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let done = false;
    const finish = () => {
      done = true;
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onError);
      socket.off("close", onClose);
    };
    const onData = (chunk: Uint8Array) => {
      controller.enqueue(
        new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
      if ((controller.desiredSize ?? 0) <= 0) socket.pause();
    };
    const onEnd = () => {
      finish();
      controller.close();
    };
    const onError = (err: unknown) => {
      finish();
      controller.error(err);
    };
    const onClose = () => {
      // 'close' without 'end' or 'error' first: closed locally.
      finish();
      controller.error(this.#error ?? closedError());
    };
    return new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
        if (socket.readableEnded) {
          done = true;
          c.close();
        } else if (socket.destroyed) {
          done = true;
          c.error(this.#error ?? closedError());
        } else {
          socket.on("data", onData);
          socket.on("end", onEnd);
          socket.on("error", onError);
          socket.on("close", onClose);
        }
      },
      pull: () => {
        if (!done && socket.isPaused()) socket.resume();
      },
      cancel: () => {
        if (!done) finish();
        this.close();
      },
    }, {
      highWaterMark: READ_HIGH_WATER_MARK,
      size: (chunk) => chunk.byteLength,
    });
  }

  #makeWritable(): WritableStream<Uint8Array> {
    const socket = this.socket;
    const gone = () => this.#error ?? closedError();
    return new WritableStream<Uint8Array>({
      start: (c) => {
        this.#writableController = c;
        if (socket.destroyed) c.error(gone());
      },
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          checkChunk(chunk);
          if (socket.destroyed || socket.writableEnded) {
            reject(gone());
            return;
          }
          // The callback runs once the chunk is with the kernel (a tick after
          // a write that went through at once), or with the error.
          socket.write(chunk, (err) => {
            if (err) reject(this.#error ?? err);
            else resolve();
          });
        }),
      close: () =>
        new Promise<void>((resolve, reject) => {
          if (socket.destroyed) {
            reject(gone());
            return;
          }
          socket.end(() => {
            // end()'s callback also runs when the socket fails first.
            if (this.#error !== undefined) reject(this.#error);
            else resolve();
          });
        }),
      abort: () => this.close(),
    });
  }
}

/**
 * A TLS connection made by the Node dialer: a {@linkcode NodeConn} whose
 * `.socket` is the `tls.TLSSocket` (its handshake done), with the
 * negotiated ALPN protocol.
 *
 * @example Reading the negotiated protocol and the TLS version
 * ```ts ignore
 * import { dial } from "@nettrace/nettrace/node";
 *
 * const conn = await dial("localhost:8443", { tls: { alpnProtocols: ["h2"] } });
 * console.log(conn.alpnProtocol, conn.socket.getProtocol()); // "h2" "TLSv1.3"
 * conn.close();
 * ```
 */
export class NodeTLSConn extends NodeConn implements TLSConn {
  /** The `tls.TLSSocket`, its handshake done. */
  declare readonly socket: TLSSocket;
  /** The negotiated ALPN protocol; `null` when none was. */
  readonly alpnProtocol: string | null;

  /**
   * Wraps a TLS socket whose handshake is done. The dialer does this.
   *
   * @param socket A `tls.TLSSocket` that has emitted `'secureConnect'`.
   * @param remoteAddr The peer's address; read from the socket by default.
   */
  constructor(socket: TLSSocket, remoteAddr?: NetAddr) {
    super(socket, remoteAddr);
    const alpn = socket.alpnProtocol;
    this.alpnProtocol = typeof alpn === "string" ? alpn : null;
  }
}

function startTls(
  conn: NodeConn,
  { serverName, alpnProtocols, caCerts, signal }: StartTLSOptions,
): Promise<TLSResult<NodeConn>> {
  if (signal.aborted) {
    conn.close();
    return Promise.reject(signal.reason);
  }
  return new Promise<TLSResult<NodeConn>>((resolve, reject) => {
    let tls: TLSSocket;
    try {
      tls = tlsConnect({
        socket: conn.socket,
        // No SNI for an IP literal (RFC 6066); `host` is what
        // checkServerIdentity verifies (the IP SANs for an IP).
        servername: isIPLiteral(serverName) ? undefined : serverName,
        host: serverName,
        ALPNProtocols: alpnProtocols,
        ca: caCerts,
        rejectUnauthorized: true,
      });
    } catch (err) {
      // Node checks its options synchronously: a bad argument stays what
      // it is.
      conn.close();
      reject(
        err instanceof TypeError || err instanceof RangeError
          ? err
          : tlsError(err, serverName),
      );
      return;
    }
    const settle = () => {
      unwatch();
      tls.off("secureConnect", onSecure);
      tls.off("error", onError);
      tls.off("close", onClose);
    };
    const fail = (err: unknown) => {
      settle();
      tls.on("error", noop);
      tls.destroy();
      conn.close();
      reject(err);
    };
    const onSecure = () => {
      settle();
      resolve({
        conn: new NodeTLSConn(tls, conn.remoteAddr),
        alpnProtocol: typeof tls.alpnProtocol === "string"
          ? tls.alpnProtocol
          : null,
        tlsVersion: tls.getProtocol() ?? undefined,
      });
    };
    const onError = (err: Error) => fail(tlsError(err, serverName));
    const onClose = () => fail(closedDuringHandshake());
    const unwatch = watchAbort(signal, (reason) => fail(reason));
    tls.on("secureConnect", onSecure);
    tls.on("error", onError);
    tls.on("close", onClose);
  });
}

// The peer's address of each endpoint the dialer was given, known without
// asking the socket (the core hands the same endpoint object to every dial
// of one IP literal); null when the socket must say.
const REMOTE = new WeakMap<Endpoint, NetAddr | null>();

function remoteOf(endpoint: Endpoint): NetAddr | undefined {
  let remote = REMOTE.get(endpoint);
  if (remote === undefined) {
    const known = knownRemoteAddr(endpoint);
    remote = known === undefined ? null : Object.freeze(known);
    REMOTE.set(endpoint, remote);
  }
  return remote ?? undefined;
}

function connect(
  endpoint: Endpoint,
  { signal }: ConnectOptions,
): Promise<NodeConn> {
  return start(endpoint, signal, undefined);
}

/** The literal connect (`src/_literal_connect.ts`): one promise per dial. */
function connectLiteral(
  endpoint: Endpoint,
  fail: (error: unknown) => never,
): Promise<NodeConn> {
  return start(endpoint, NEVER_ABORTED, fail);
}

function start(
  endpoint: Endpoint,
  signal: AbortSignal,
  fail: ((error: unknown) => never) | undefined,
): Promise<NodeConn> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const options = {
    host: connectHost(endpoint),
    port: endpoint.port,
    family: endpoint.family,
    autoSelectFamily: false,
    noDelay: true,
    allowHalfOpen: false,
  };
  // net.connect(options) is `new Socket(options).connect(options)`.
  const socket = new DialSocket(options);
  return beginConnect(socket, options, signal, fail, remoteOf(endpoint));
}

/**
 * The Node dialer for the core's `dial()`: `net.connect({ host, port,
 * family, autoSelectFamily: false, noDelay: true, allowHalfOpen: false })` to
 * the one address it is given.
 *
 * A failed connect rejects with a `SyscallError` (`connect: connection
 * refused`, `code` `"ECONNREFUSED"`, the Node error as `cause`). An abort
 * rejects at once with the signal's reason and destroys the socket, which
 * closes the pending connect. After the connect settles the signal is no
 * longer watched. `close()` destroys the socket; closing twice is harmless.
 *
 * `startTls()` runs `tls.connect({ socket, servername, host, ALPNProtocols,
 * ca })` on the connection's socket (no `servername`, so no SNI, for an IP
 * literal; `host` is what the certificate is checked against) and resolves
 * on `'secureConnect'` with a {@linkcode NodeTLSConn}. A failed handshake
 * rejects with a `TLSError` (Go's text, Node's error as `cause`); an abort
 * destroys both sockets and rejects with the signal's reason. `caCerts`
 * replace Node's roots.
 *
 * @example Connecting to one endpoint
 * ```ts ignore
 * import { dialer } from "@nettrace/nettrace/node";
 *
 * const conn = await dialer.connect(
 *   { address: "::1", family: 6, port: 8080 },
 *   { signal: AbortSignal.timeout(1000) },
 * );
 * dialer.close(conn);
 * ```
 */
export const dialer: Dialer<NodeConn> = {
  connect,
  close: (conn: NodeConn): void => conn.close(),
  startTls,
};
acceptNeverAborted(dialer);
offerLiteralConnect(dialer, connectLiteral);
