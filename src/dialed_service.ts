/**
 * Which service (SVCB/HTTPS) record a connection was dialled through
 * (Happy Eyeballs v3), read from the connection a dial returned. Kept in a
 * WeakMap beside the connection, never on it: the Deno adapter returns
 * Deno's own `TcpConn`/`TlsConn`, which nettrace does not touch.
 *
 * @module
 */

import type { ServiceEndpointInfo } from "./trace.ts";

/** The winning connections of dials with `service`, and their record. */
const services = new WeakMap<object, ServiceEndpointInfo>();

function isKey(value: unknown): value is object {
  return (typeof value === "object" && value !== null) ||
    typeof value === "function";
}

/**
 * Notes the record a dial's winning connection came from (`undefined`: the
 * host's own addresses, which forgets an earlier note on the same object).
 * A connection that is no object cannot carry a note.
 *
 * @param conn The connection the dial resolves with.
 * @param info The record, as the hooks show it.
 * @internal
 */
export function noteDialedService(
  conn: unknown,
  info: ServiceEndpointInfo | undefined,
): void {
  if (!isKey(conn)) return;
  if (info === undefined) services.delete(conn);
  else services.set(conn, info);
}

/**
 * The service (SVCB/HTTPS) record a connection was dialled through, with
 * Happy Eyeballs v3 (`service: "https"` or `{ scheme }`): its priority,
 * target, the port dialled, the ALPN protocols the handshake offered there
 * and its `ech` (an ECHConfigList, passed through: no runtime can use it
 * yet). The same record `connectStart.service` and `dialDone.service`
 * report for the winner.
 *
 * Works for the connection `dial()` returned, plain or `tls` (the TLS
 * connection, not the TCP one under it), on every runtime; the record is
 * kept beside the connection (a WeakMap), never written onto it, so a
 * custom dialer must return a connection object of each attempt's own (the
 * adapters' dialers do).
 *
 * @param conn A connection a dial returned.
 * @returns A fresh copy of the record's info; `undefined` when the address
 * came from the host's own A/AAAA answers, the dial had no `service`, or
 * `conn` is not a connection a dial returned (a losing attempt's included).
 *
 * @example Reading the record and its ECH config after a dial
 * ```ts ignore
 * import { dial, dialedService } from "@nettrace/nettrace/deno"; // or /bun, /node
 *
 * const conn = await dial("example.com:443", {
 *   service: "https",
 *   tls: { alpnProtocols: ["h2", "http/1.1"] },
 * });
 * const service = dialedService(conn);
 * if (service !== undefined) {
 *   console.log(`via ${service.target} priority ${service.priority}`);
 *   console.log("ECHConfigList bytes:", service.ech?.length ?? 0);
 * }
 * conn.close();
 * ```
 *
 * @example With the core and a fake dialer
 * ```ts
 * import { dial, dialedService, type Dialer, type Resolver } from "@nettrace/nettrace";
 * import assert from "node:assert/strict";
 *
 * const resolver: Resolver = {
 *   lookup: () => Promise.resolve([]),
 *   lookupService: () =>
 *     Promise.resolve([
 *       { priority: 1, target: ".", port: 8443, ipv4hint: ["192.0.2.1"] },
 *     ]),
 * };
 * const dialer: Dialer<{ port: number }> = {
 *   connect: (endpoint) => Promise.resolve({ port: endpoint.port }),
 *   close: () => {},
 * };
 * const conn = await dial("svc.test:443", { resolver, dialer, service: "https" });
 * assert.deepEqual(dialedService(conn), {
 *   priority: 1,
 *   target: ".",
 *   port: 8443,
 * });
 * ```
 */
export function dialedService(conn: unknown): ServiceEndpointInfo | undefined {
  if (!isKey(conn)) return undefined;
  const info = services.get(conn);
  if (info === undefined) return undefined;
  const copy: ServiceEndpointInfo = { ...info };
  if (info.alpn !== undefined) copy.alpn = info.alpn.slice();
  if (info.ech !== undefined) copy.ech = info.ech.slice();
  return copy;
}
