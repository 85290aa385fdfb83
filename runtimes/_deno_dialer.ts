/**
 * The Deno dialer: one `Deno.connect()` per endpoint, returning the
 * `Deno.TcpConn` as it is (it already is a `Conn`).
 *
 * @module
 */

import type {
  ConnectOptions,
  Dialer,
  Endpoint,
  StartTLSOptions,
  TLSConn,
  TLSResult,
} from "../src/types.ts";
import { acceptNeverAborted, NEVER_ABORTED } from "../src/_shared_signal.ts";
import { failVia, offerLiteralConnect } from "../src/_literal_connect.ts";
import { connectError } from "./_errno.ts";
import { tlsError } from "./_tls_common.ts";
import { connectHost } from "./_conn.ts";

/**
 * The connection the Deno dialer returns: Deno's own `TcpConn`.
 *
 * @example Using Deno's TcpConn methods on a connection
 * ```ts
 * import type { DenoConn } from "@nettrace/nettrace/deno";
 *
 * function tune(conn: DenoConn): void {
 *   conn.setNoDelay(true);
 *   conn.setKeepAlive(true);
 * }
 * ```
 */
export type DenoConn = Deno.TcpConn;

/**
 * The connection a TLS dial returns on Deno: Deno's own `TlsConn` (its
 * handshake done), with the negotiated ALPN protocol as `alpnProtocol`.
 *
 * @example Reading the negotiated protocol
 * ```ts ignore
 * import { dial, type DenoTLSConn } from "@nettrace/nettrace/deno";
 *
 * const conn: DenoTLSConn = await dial("localhost:8443", {
 *   tls: { alpnProtocols: ["h2", "http/1.1"] },
 * });
 * console.log(conn.alpnProtocol); // "h2"
 * conn.close();
 * ```
 */
export type DenoTLSConn = Deno.TlsConn & TLSConn;

function connect(
  endpoint: Endpoint,
  options: ConnectOptions,
): Promise<DenoConn> {
  if (options?.signal !== NEVER_ABORTED) {
    return connectWatching(endpoint, options);
  }
  // The shared signal that never aborts (an attempt nothing can cancel):
  // nothing to watch, so no listener, no cancel handle and no async frame —
  // they showed in a loopback connect.
  let pending: Promise<DenoConn>;
  try {
    pending = Deno.connect(connectOptions(endpoint));
  } catch (err) {
    return Promise.reject(connectError(err, Deno.build.os));
  }
  return pending.then(connected, failed);
}

/** One endpoint, no family selection of Deno's own (the core races). */
function connectOptions(endpoint: Endpoint): Deno.ConnectOptions {
  return {
    hostname: connectHost(endpoint),
    port: endpoint.port,
    transport: "tcp",
    autoSelectFamily: false,
  };
}

/** Turns TCP_NODELAY on, as Go does; a reset in between fails the connect. */
function connected(conn: DenoConn): DenoConn {
  try {
    conn.setNoDelay(true);
  } catch (err) {
    // Reset between the connect and here: report it as the connect's error.
    closeQuietly(conn);
    throw connectError(err, Deno.build.os);
  }
  return conn;
}

function failed(err: unknown): never {
  throw connectError(err, Deno.build.os);
}

function mapError(err: unknown): unknown {
  return connectError(err, Deno.build.os);
}

/** The literal connect (`src/_literal_connect.ts`): one promise per dial. */
function connectLiteral(
  endpoint: Endpoint,
  fail: (error: unknown) => never,
): Promise<DenoConn> {
  let pending: Promise<DenoConn>;
  try {
    pending = Deno.connect(connectOptions(endpoint));
  } catch (err) {
    return Promise.reject(mapError(err)).then(undefined, fail);
  }
  return pending.then(connected, failVia(fail, mapError));
}

async function connectWatching(
  endpoint: Endpoint,
  { signal }: ConnectOptions,
): Promise<DenoConn> {
  signal.throwIfAborted();
  let conn: Deno.TcpConn;
  try {
    // Deno 2.9 takes the signal: an abort rejects the pending connect with
    // the signal's reason and closes its socket; once connected, the
    // connection no longer depends on the signal.
    conn = await Deno.connect({ ...connectOptions(endpoint), signal });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw connectError(err, Deno.build.os);
  }
  if (signal.aborted) {
    // Connected in the same turn as the abort: the abort wins.
    closeQuietly(conn);
    throw signal.reason;
  }
  return connected(conn);
}

function closeQuietly(conn: { close(): void }): void {
  try {
    conn.close();
  } catch {
    // Already closed: by close(), or by closing or cancelling its streams.
  }
}

async function startTls(
  conn: DenoConn | DenoTLSConn,
  { serverName, alpnProtocols, caCerts, signal }: StartTLSOptions,
): Promise<TLSResult<DenoConn | DenoTLSConn>> {
  if (signal.aborted) {
    closeQuietly(conn);
    throw signal.reason;
  }
  let tls: Deno.TlsConn;
  try {
    // An IP literal as `hostname`: rustls sends no SNI and checks the IP
    // SANs. The handshake itself starts with handshake() below.
    tls = await Deno.startTls(conn as Deno.TcpConn, {
      hostname: serverName,
      caCerts,
      alpnProtocols,
    });
  } catch (err) {
    closeQuietly(conn);
    throw signal.aborted ? signal.reason : tlsError(err, serverName);
  }
  // Closing the TlsConn makes the pending handshake op reject; the abort
  // then rejects with the reason once that op has settled (so no op is
  // left behind).
  const onAbort = () => closeQuietly(tls);
  signal.addEventListener("abort", onAbort, { once: true });
  let info: Deno.TlsHandshakeInfo;
  try {
    if (signal.aborted) onAbort();
    info = await tls.handshake();
  } catch (err) {
    closeQuietly(tls);
    throw signal.aborted ? signal.reason : tlsError(err, serverName);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (signal.aborted) {
    closeQuietly(tls);
    throw signal.reason;
  }
  const alpnProtocol = info.alpnProtocol ?? null;
  Object.defineProperty(tls, "alpnProtocol", {
    value: alpnProtocol,
    enumerable: true,
  });
  return { conn: tls as DenoTLSConn, alpnProtocol };
}

/**
 * The Deno dialer for the core's `dial()`: `Deno.connect({ hostname, port,
 * transport: "tcp", autoSelectFamily: false, signal })` to the one address it
 * is given (a zone is appended as `%zone`), then `setNoDelay(true)` (Go's
 * default).
 *
 * A failed connect rejects with a `SyscallError` (`connect: connection
 * refused`, `code` `"ECONNREFUSED"`, Deno's error as `cause`). An abort
 * rejects at once with the signal's reason. `close()` closes the connection;
 * unlike `TcpConn.close()` it may be called again, and after the
 * connection's streams have closed it.
 *
 * `startTls()` runs `Deno.startTls(conn, { hostname: serverName, caCerts,
 * alpnProtocols })` and its `handshake()`: the result is Deno's `TlsConn`
 * with an own `alpnProtocol`. A failed handshake rejects with a
 * `TLSError` (Go's text, Deno's error as `cause`); an abort closes the
 * connection and rejects with the signal's reason. `caCerts` are added to
 * Deno's roots.
 *
 * Note that in Deno closing `conn.writable` (or cancelling `conn.readable`)
 * closes the whole connection; use `conn.closeWrite()` to half-close.
 *
 * @example Connecting to one endpoint
 * ```ts ignore
 * import { dialer } from "@nettrace/nettrace/deno";
 *
 * const conn = await dialer.connect(
 *   { address: "127.0.0.1", family: 4, port: 8080 },
 *   { signal: AbortSignal.timeout(1000) },
 * );
 * dialer.close(conn);
 * ```
 */
export const dialer: Dialer<DenoConn | DenoTLSConn> = {
  connect,
  close: closeQuietly,
  startTls,
};
acceptNeverAborted(dialer);
offerLiteralConnect(dialer, connectLiteral);
