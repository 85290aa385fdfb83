/**
 * TLS on a dial: checking `options.tls`, and one handshake with its
 * `tlsHandshakeStart`/`tlsHandshakeDone` hooks.
 *
 * @module
 */

import { callHook, type Trace } from "../trace.ts";
import type { Dialer, Family, TLSOptions, TLSResult } from "../types.ts";
import { closeQuietly, shown, toError } from "./foreign.ts";

/** The longest ALPN protocol name (RFC 7301 §3.1). */
const MAX_ALPN_BYTES = 255;

/** A fully qualified name's trailing dot is not part of the TLS name. */
export function trimDot(name: string): string {
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/** Checks `options.tls`, if given. */
export function checkTLS(tls: TLSOptions | undefined): void {
  if (tls === undefined) return;
  if (typeof tls !== "object" || tls === null) {
    throw new TypeError(
      `Cannot use options.tls ${shown(tls)}: it is not a TLSOptions object`,
    );
  }
  const { serverName, alpnProtocols, caCerts, successPoint } = tls;
  if (
    serverName !== undefined &&
    (typeof serverName !== "string" || serverName === "")
  ) {
    throw new TypeError(
      `Cannot use tls.serverName ${
        shown(serverName)
      }: it must be a non-empty string`,
    );
  }
  if (alpnProtocols !== undefined) {
    if (!Array.isArray(alpnProtocols)) {
      throw new TypeError(
        `Cannot use tls.alpnProtocols ${
          shown(alpnProtocols)
        }: it must be an array of strings`,
      );
    }
    for (const protocol of alpnProtocols) {
      if (
        typeof protocol !== "string" || protocol === "" ||
        new TextEncoder().encode(protocol).length > MAX_ALPN_BYTES
      ) {
        throw new TypeError(
          `Cannot use the ALPN protocol ${
            shown(protocol)
          }: it must be a string of 1–255 bytes`,
        );
      }
    }
  }
  if (
    caCerts !== undefined &&
    (!Array.isArray(caCerts) || caCerts.some((c) => typeof c !== "string"))
  ) {
    throw new TypeError(
      `Cannot use tls.caCerts ${
        shown(caCerts)
      }: it must be an array of PEM strings`,
    );
  }
  if (
    successPoint !== undefined && successPoint !== "tcp" &&
    successPoint !== "tls"
  ) {
    throw new TypeError(
      `Cannot use tls.successPoint ${
        shown(successPoint)
      }: it must be "tcp" or "tls"`,
    );
  }
}

/** Which attempt a handshake runs on, as its hooks report it. */
export interface HandshakeTarget {
  readonly addr: string;
  readonly family: Family;
  readonly attempt: number;
  /**
   * The ALPN list to offer instead of `tls.alpnProtocols`: a service
   * record's, intersected with it (Happy Eyeballs v3).
   */
  readonly alpnProtocols?: string[];
}

/**
 * Runs one handshake on `conn` with its hooks; rejects as `startTls` did
 * (closing `conn` when `startTls` throws at once).
 */
export function handshake<C>(
  dial: {
    readonly dialer: Dialer<C>;
    readonly trace: Trace | undefined;
    readonly tls: TLSOptions | undefined;
    readonly serverName: string;
  },
  target: HandshakeTarget,
  conn: C,
  signal: AbortSignal,
): Promise<C> {
  const { trace, serverName, dialer } = dial;
  const info = {
    serverName,
    addr: target.addr,
    family: target.family,
    attempt: target.attempt,
  };
  if (trace?.tlsHandshakeStart !== undefined) {
    callHook(trace, "tlsHandshakeStart", info);
  }
  const tls = dial.tls!;
  let promise: Promise<TLSResult<C>>;
  try {
    promise = dialer.startTls!(conn, {
      serverName,
      alpnProtocols: target.alpnProtocols ?? tls.alpnProtocols,
      caCerts: tls.caCerts,
      signal,
    });
  } catch (error) {
    closeQuietly(dialer, conn);
    promise = Promise.reject(error);
  }
  return Promise.resolve(promise).then(
    (result) => {
      if (typeof result !== "object" || result === null) {
        throw new TypeError(
          `Cannot use the TLS connection: startTls resolved ${
            shown(result)
          }, not a TLSResult`,
        );
      }
      if (trace?.tlsHandshakeDone !== undefined) {
        const alpnProtocol = result.alpnProtocol ?? null;
        callHook(
          trace,
          "tlsHandshakeDone",
          result.tlsVersion === undefined
            ? { ...info, alpnProtocol }
            : { ...info, alpnProtocol, tlsVersion: result.tlsVersion },
        );
      }
      return result.conn;
    },
    (error: unknown) => {
      if (trace?.tlsHandshakeDone !== undefined) {
        callHook(trace, "tlsHandshakeDone", {
          ...info,
          error: toError(error),
        });
      }
      throw error;
    },
  );
}
