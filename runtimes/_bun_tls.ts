/**
 * The TLS upgrade of the Bun dialer: `socket.upgradeTLS()` on a connected
 * {@linkcode BunConn}, resolved on the TLS socket's `handshake`.
 *
 * @module
 */

import { checkServerIdentity, type PeerCertificate } from "node:tls";
import type { StartTLSOptions, TLSResult } from "../src/types.ts";
import { closedDuringHandshake, isIPLiteral, tlsError } from "./_tls_common.ts";
import { watchAbort } from "./_conn.ts";
import type { BunSocketLike, BunTLSUpgradeSettings } from "./_bun_types.ts";
import { type BunConn, BunTLSConn, Link, TLS_HANDLERS } from "./_bun_conn.ts";

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

/**
 * Upgrades `conn` to TLS: the dialer's `startTls()` (see its doc in
 * `_bun_dialer.ts`).
 *
 * @param conn A connection from the Bun dialer.
 * @param options The server name, ALPN protocols, CA certificates, signal.
 * @returns The TLS connection and what was negotiated.
 */
export function startTls(
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
    const link = new Link(undefined, conn.remoteAddr);
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
      [, tls] = raw.upgradeTLS({
        data: link,
        tls: settings,
        socket: TLS_HANDLERS,
      });
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
