/**
 * What the fetch integration remembers of each connection, to tell
 * `gotConn` whether it is reused, was idle and for how long.
 *
 * @module
 */

import type { ConnAddr, GotConnInfo } from "./http_trace.ts";

/** The part of a `net.Socket` / `tls.TLSSocket` read for `gotConn`. */
export interface SocketLike {
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly alpnProtocol?: string | false | null;
}

/** One connection's use so far. */
export interface ConnRecord {
  /** Requests (HTTP/2: streams) that got this connection so far. */
  uses: number;
  /** Requests on it now. */
  active: number;
  /** When the last request on it ended (performance.now()). */
  idleSince: number;
}

const records = new WeakMap<object, ConnRecord>();

function addr(hostname: string | undefined, port: number | undefined) {
  const result: ConnAddr = { hostname: hostname ?? "", port: port ?? 0 };
  return result;
}

/**
 * Takes `socket` for one request: the `gotConn` info, and the record to
 * {@linkcode releaseConn} when the request ends.
 */
export function acquireConn(
  socket: SocketLike,
  attempt: number,
  now: number,
): { info: GotConnInfo; record: ConnRecord } {
  let record = records.get(socket);
  if (record === undefined) {
    record = { uses: 0, active: 0, idleSince: now };
    records.set(socket, record);
  }
  const reused = record.uses > 0;
  const wasIdle = reused && record.active === 0;
  record.uses++;
  record.active++;
  const alpn = socket.alpnProtocol;
  const info: GotConnInfo = {
    attempt,
    reused,
    wasIdle,
    idleTime: wasIdle ? Math.max(0, now - record.idleSince) : 0,
    localAddr: addr(socket.localAddress, socket.localPort),
    remoteAddr: addr(socket.remoteAddress, socket.remotePort),
    alpnProtocol: typeof alpn === "string" && alpn !== "" ? alpn : null,
  };
  return { info, record };
}

/** A request on the connection of `record` ended at `now`. */
export function releaseConn(record: ConnRecord, now: number): void {
  record.active--;
  if (record.active === 0) record.idleSince = now;
}
