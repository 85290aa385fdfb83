/**
 * What the Bun and Node connections share: the read buffer bound, the error
 * for a closed connection, the chunk check, the peer's address, and the
 * abort bookkeeping of a connect.
 *
 * @module
 */

import { parseIP } from "../src/address.ts";
import { addrKey } from "../src/_ip.ts";
import type { Endpoint, NetAddr } from "../src/types.ts";

/**
 * How many received bytes a connection holds for a slow reader before it
 * stops reading from the socket (the kernel's buffers then fill and TCP flow
 * control stops the peer). 64 KiB, Node's own default for a socket.
 */
export const READ_HIGH_WATER_MARK = 64 * 1024;

/**
 * The error a stream of a connection fails with once the connection has
 * been closed locally: Go's `net.ErrClosed` text.
 *
 * @returns A fresh error.
 */
export function closedError(): Error {
  const err = new Error("use of closed network connection");
  err.name = "ConnectionClosedError";
  return err;
}

/**
 * Checks a chunk written to a connection's `writable`.
 *
 * @param chunk What was written.
 * @returns The chunk.
 * @throws {TypeError} When it is not a `Uint8Array`.
 */
export function checkChunk(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError(
    `Cannot write ${
      chunk === null ? "null" : typeof chunk
    } to a connection: expected a Uint8Array`,
  );
}

/**
 * The peer's address of a connection made to `endpoint`, without asking the
 * socket (`getpeername()` costs a system call and a string per connection):
 * the kernel reports the address connected to, and the runtimes print it as
 * `parseIP` does — except where they differ, which is asked of the socket
 * instead (`undefined` here): an endpoint text not in canonical form, a
 * zone or a link-local address (printed with its scope), IPv6 addresses
 * starting with `::` other than `::1` (printed with an embedded IPv4 part),
 * and `0.0.0.0` (a connect to it reaches 127.0.0.1).
 *
 * @param endpoint What was connected to.
 * @returns `{ hostname, port }`, or `undefined` when the socket must say.
 */
export function knownRemoteAddr(endpoint: Endpoint): NetAddr | undefined {
  const { address } = endpoint;
  if (
    endpoint.zone !== undefined || address === "0.0.0.0" ||
    (address.startsWith("::") && address !== "::1") ||
    /^fe[89ab]/i.test(address)
  ) {
    return undefined;
  }
  const ip = parseIP(address);
  if (ip === undefined || ip.address !== address) return undefined;
  if (ip.family !== endpoint.family || ip.zone !== undefined) return undefined;
  return { hostname: address, port: endpoint.port };
}

/**
 * The host a runtime's connect call takes for `endpoint`: the address, with
 * `%zone` appended when it has one.
 *
 * @param endpoint What to connect to.
 * @returns `"::1"`, `"fe80::1%eth0"`, `"127.0.0.1"`.
 */
export function connectHost(endpoint: Endpoint): string {
  return addrKey(endpoint);
}

/**
 * Watches `signal` while a connect is in flight: calls `onAbort` once if it
 * aborts, and stops watching when `done()` is called (success or failure).
 * The listener is added with `{ once: true }` and always removed.
 *
 * @param signal The connect's signal (not yet aborted).
 * @param onAbort Called at most once, with the signal's reason.
 * @returns `done`, which stops watching.
 */
export function watchAbort(
  signal: AbortSignal,
  onAbort: (reason: unknown) => void,
): () => void {
  const listener = () => onAbort(signal.reason);
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}
