/**
 * nettrace for Node: a ready {@linkcode dial} bound to the system resolver (`dns.lookup`, so `/etc/hosts` counts) and
 * `net.connect`, plus the whole runtime-neutral core re-exported, so one import
 * is enough.
 *
 * Importing this module installs an `AsyncLocalStorage` (from
 * `node:async_hooks`) as the ambient-context storage, once per process, so
 * `runWithContext(ctx, fn)` reaches dials made anywhere inside `fn`, across
 * `await`s.
 *
 * @example Dialing with a trace
 * ```ts ignore
 * import { dial } from "@nettrace/nettrace/node";
 *
 * const conn = await dial("localhost:5432", {
 *   trace: {
 *     connectStart: ({ addr }) => console.log("trying", addr),
 *     connectDone: ({ addr, error }) => console.log(addr, error?.message ?? "connected"),
 *   },
 * });
 * console.log(conn.remoteAddr);
 * conn.close();
 * ```
 *
 * @module
 */

import { dialerHistory, type HistoryStore, type TLSOptions } from "../mod.ts";
import { dialer, NodeConn, NodeTLSConn } from "./_node_dialer.ts";
import { createResolver, resolver } from "./_node_resolver.ts";
import { nodeDial, type RuntimeDialOptions } from "./_node_dial.ts";

export * from "../mod.ts";
export {
  DIAGNOSTICS_CHANNELS,
  type DiagnosticsBase,
  type DiagnosticsMessages,
} from "./_diagnostics.ts";
export { createResolver, dialer, resolver };
export {
  createConnection,
  type CreateConnectionOptions,
  NettraceSocket,
} from "./_node_socket.ts";
export {
  createLookup,
  type CreateLookupOptions,
  lookup,
  type LookupAddress,
  type LookupCallback,
  type NodeLookup,
  type NodeLookupOptions,
} from "./_node_lookup.ts";

/**
 * This adapter's connection history (RFC 8305 §4): how recent attempts to
 * each address of each host ended, per resolver. `dial` reads and writes
 * it unless given `history: false` or a store of its own.
 *
 * @example Forgetting what the adapter learned
 * ```ts ignore
 * import { history } from "@nettrace/nettrace/node";
 *
 * history.clear();
 * ```
 */
export const history: HistoryStore = dialerHistory(dialer);
export type { ResolvedAddr, ResolverOptions } from "./_node_resolver.ts";
export { NodeConn, NodeTLSConn };
export type { RuntimeDialOptions };

/**
 * Dials `address` (`host:port`) on Node with RFC 8305 Happy Eyeballs and
 * then TLS: the winner's connection runs the handshake (Go's success
 * point), or with `tls.successPoint: "tls"` every attempt's does and the
 * first to finish it wins. `tls.serverName` defaults to the dialled host
 * (for an IP literal the address is verified and no SNI is sent); the
 * handshake reports to `tlsHandshakeStart` / `tlsHandshakeDone`.
 *
 * @param address `host:port`, `[ipv6]:port` or `[ipv6%zone]:port`.
 * @param options How to dial, with `tls`: the server name, the ALPN
 * protocols, the CA certificates to trust and the success point.
 * @returns The TLS connection, a {@linkcode NodeTLSConn}: the
 * `tls.TLSSocket` as `.socket`, with the negotiated `alpnProtocol`.
 * @throws {AddrError} If `address` cannot be parsed.
 * @throws {DialError} If every attempt or the lookup failed; a failed
 * handshake is an `OpError` in it whose `cause` is a `TLSError`.
 * @throws The signal's reason when the dial is aborted or times out.
 *
 * @example Dialing TLS with ALPN
 * ```ts ignore
 * import { dial } from "@nettrace/nettrace/node";
 *
 * const conn = await dial("localhost:8443", {
 *   tls: { alpnProtocols: ["h2", "http/1.1"] },
 *   trace: {
 *     tlsHandshakeDone: ({ alpnProtocol, error }) =>
 *       console.log(error?.message ?? `ALPN ${alpnProtocol}`),
 *   },
 * });
 * console.log(conn.alpnProtocol);
 * conn.close();
 * ```
 */
export function dial(
  address: string,
  options: RuntimeDialOptions & { tls: TLSOptions },
): Promise<NodeTLSConn>;
/**
 * Dials `address` (`host:port`) on Node with RFC 8305 Happy Eyeballs,
 * reporting to the context's trace, like Go's `net.Dialer.DialContext`.
 *
 * @param address `host:port`, `[ipv6]:port` or `[ipv6%zone]:port`.
 * @param options How to dial: network, context, signal, timeout, trace,
 * the RFC 8305 delays, the resolver.
 * @returns The winning connection, with the `net.Socket` as `.socket`.
 * @throws {AddrError} If `address` cannot be parsed.
 * @throws {DialError} If every attempt or the lookup failed.
 * @throws The signal's reason when the dial is aborted or times out.
 *
 * @example Dialing a name with a 5 s budget
 * ```ts ignore
 * import { dial } from "@nettrace/nettrace/node";
 *
 * const conn = await dial("localhost:8080", { timeout: 5_000 });
 * conn.close();
 * ```
 */
export function dial(
  address: string,
  options?: RuntimeDialOptions,
): Promise<NodeConn>;
export function dial(
  address: string,
  options?: RuntimeDialOptions,
): Promise<NodeConn> {
  return nodeDial(address, options);
}
