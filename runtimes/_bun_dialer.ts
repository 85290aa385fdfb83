/**
 * The Bun dialer: one `Bun.connect()` per endpoint, on two paths (an
 * attempt nothing can cancel, and one that watches its signal), resolving
 * with a {@linkcode BunConn} (`_bun_conn.ts`); `startTls` is in
 * `_bun_tls.ts`, the structural types of Bun's API in `_bun_types.ts`.
 * `Bun` is read from `globalThis`, so the module needs no `@types/bun`.
 *
 * @module
 */

import process from "node:process";
import type { ConnectOptions, Dialer, Endpoint } from "../src/types.ts";
import { acceptNeverAborted, NEVER_ABORTED } from "../src/_shared_signal.ts";
import { failVia, offerLiteralConnect } from "../src/_literal_connect.ts";
import { connectError } from "./_errno.ts";
import { connectHost, knownRemoteAddr, watchAbort } from "./_conn.ts";
import type { BunConnectLike, BunSocketLike } from "./_bun_types.ts";
import { BunConn, HANDLERS, type Link, PendingConnect } from "./_bun_conn.ts";
import { startTls } from "./_bun_tls.ts";

export type {
  BunConnectLike,
  BunSocketHandlers,
  BunSocketLike,
  BunTLSUpgradeSettings,
} from "./_bun_types.ts";
export { BunConn, BunTLSConn } from "./_bun_conn.ts";

function bun(): BunConnectLike {
  const found = (globalThis as { Bun?: BunConnectLike }).Bun;
  if (found === undefined) {
    throw new TypeError("Cannot connect with the Bun dialer outside Bun");
  }
  return found;
}

// The pending-connect record of each endpoint the dialer was given (the
// core hands the same endpoint object to every dial of one IP literal).
const PENDING = new WeakMap<Endpoint, PendingConnect>();

function pendingOf(endpoint: Endpoint): PendingConnect {
  let record = PENDING.get(endpoint);
  if (record === undefined) {
    record = new PendingConnect(knownRemoteAddr(endpoint));
    PENDING.set(endpoint, record);
  }
  return record;
}

/**
 * Starts `Bun.connect` to `endpoint`, the endpoint's shared record as the
 * socket's `data` until it opens: the one place the connect options are
 * built, for both connect paths. Bun turns TCP_NODELAY on for every socket
 * it connects (Go's default, which nettrace keeps): no `setNoDelay` here.
 */
function openSocket(endpoint: Endpoint): Promise<BunSocketLike<Link>> {
  return bun().connect({
    hostname: connectHost(endpoint),
    port: endpoint.port,
    allowHalfOpen: true,
    data: pendingOf(endpoint) as unknown as Link,
    socket: HANDLERS,
  });
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
  let pending: Promise<BunSocketLike<Link>>;
  try {
    pending = openSocket(endpoint);
  } catch (err) {
    return Promise.reject(connectError(err, process.platform));
  }
  return pending.then(opened, failed);
}

/** Wraps the socket the `open` handler gave its {@linkcode Link}. */
function opened(socket: BunSocketLike<Link>): BunConn {
  try {
    return new BunConn(socket);
  } catch (err) {
    // Never hand back (or leak) a socket we could not set up.
    socket.end();
    throw connectError(err, process.platform);
  }
}

function failed(err: unknown): never {
  throw connectError(err, process.platform);
}

function mapError(err: unknown): unknown {
  return connectError(err, process.platform);
}

/** The literal connect (`src/_literal_connect.ts`): one promise per dial. */
function connectLiteral(
  endpoint: Endpoint,
  fail: (error: unknown) => never,
): Promise<BunConn> {
  let pending: Promise<BunSocketLike<Link>>;
  try {
    pending = openSocket(endpoint);
  } catch (err) {
    return Promise.reject(mapError(err)).then(undefined, fail);
  }
  return pending.then(opened, failVia(fail, mapError));
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
      pending = openSocket(endpoint);
    } catch (err) {
      unwatch();
      reject(connectError(err, process.platform));
      return;
    }
    pending.then((socket) => {
      unwatch();
      if (aborted) {
        socket.end();
        return;
      }
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
 * allowHalfOpen: true, socket })` to the one address it is given; Bun
 * turns TCP_NODELAY on itself (Go's default).
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
offerLiteralConnect(dialer, connectLiteral);
