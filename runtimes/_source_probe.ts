/**
 * Which source address the system would use for a destination (RFC 6724's
 * Source(D)), found without sending anything: a UDP socket is connected to
 * the destination — for UDP, `connect()` only asks the kernel for a route
 * and a source address — and its local address is read. Shared by the
 * three adapters as their default `sourceAddress` for `dial()`.
 *
 * Per runtime (Linux, Deno 2.9, Bun 1.4, Node 24):
 * - Node and Bun connect the socket in the kernel: the local address is the
 *   source, and a destination without a route fails (`ENETUNREACH`,
 *   `EHOSTUNREACH`, `EACCES` for a `prohibit` route, `EINVAL` for a
 *   `blackhole` one; Bun says only "Failed to connect socket"): no source,
 *   so RFC 6724 rule 1 sorts it last.
 * - Deno's `node:dgram` only remembers the peer (the socket is never
 *   connected in the kernel) and reports the unspecified address. The probe
 *   sees that, answers "unknown" (the rules that need a source are then
 *   skipped) and, the first time, remembers it, so later probes cost
 *   nothing.
 *
 * @module
 */

import { createSocket } from "node:dgram";
import { addrKey } from "../src/_ip.ts";
import type { SourceAddress } from "../src/rfc6724.ts";
import type { IPAddr } from "../src/types.ts";

/** The port connected to; nothing is ever sent to it (9: discard). */
const PORT = 9;

/** Set once this runtime has shown it cannot tell (Deno). */
let cannotTell = false;

/** How long a probe's answer is reused, in milliseconds. */
export const SOURCE_CACHE_TTL = 2_000;
/** At most this many destinations are remembered. */
const SOURCE_CACHE_MAX = 512;

const cache = new Map<
  string,
  { value: SourceAddress | null; at: number }
>();

/**
 * Finds the source address the system would use to reach `destination`,
 * without sending a packet. A definite answer (a source, or none) is reused
 * for {@linkcode SOURCE_CACHE_TTL} ms: a probe costs a UDP socket (~25 µs)
 * and routes change far less often than dials happen.
 *
 * @param destination The destination address (a zone is honoured).
 * @param options A signal that gives the probe up (it then answers
 * "unknown").
 * @returns The source address; `null` when the system has no route (no
 * source); undefined when it cannot be told.
 */
export function probeSourceAddress(
  destination: IPAddr,
  options?: { signal?: AbortSignal },
): Promise<SourceAddress | null | undefined> {
  const key = addrKey(destination);
  const hit = cache.get(key);
  const now = performance.now();
  if (hit !== undefined && now - hit.at < SOURCE_CACHE_TTL) {
    return Promise.resolve(hit.value === null ? null : { ...hit.value });
  }
  return probeOnce(destination, options).then((value) => {
    if (value !== undefined) {
      if (cache.size >= SOURCE_CACHE_MAX) cache.clear();
      cache.set(key, { value, at: now });
    }
    return value;
  });
}

/** Forgets every cached probe answer (tests; a known route change). */
export function clearSourceCache(): void {
  cache.clear();
}

function probeOnce(
  destination: IPAddr,
  options?: { signal?: AbortSignal },
): Promise<SourceAddress | null | undefined> {
  if (cannotTell || options?.signal?.aborted) {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    let socket: ReturnType<typeof createSocket>;
    try {
      socket = createSocket(destination.family === 6 ? "udp6" : "udp4");
    } catch {
      resolve(undefined);
      return;
    }
    const signal = options?.signal;
    let done = false;
    const finish = (value: SourceAddress | null | undefined): void => {
      if (done) return;
      done = true;
      signal?.removeEventListener("abort", onAbort);
      try {
        socket.close(() => resolve(value));
      } catch {
        resolve(value); // already closed
      }
    };
    const onAbort = (): void => finish(undefined);
    signal?.addEventListener("abort", onAbort, { once: true });
    // A UDP connect fails only when the kernel has no route or no source
    // for the destination (ENETUNREACH, EHOSTUNREACH, EACCES, EINVAL,
    // EADDRNOTAVAIL, EAFNOSUPPORT; Bun reports it without a code): no
    // source, whatever the error.
    socket.on("error", () => finish(null));
    const host = addrKey(destination);
    try {
      socket.connect(PORT, host, (error?: Error) => {
        if (error !== undefined && error !== null) {
          finish(null);
          return;
        }
        let local: { address: string; family: string | number };
        try {
          local = socket.address();
        } catch {
          finish(undefined);
          return;
        }
        if (local.address === "0.0.0.0" || local.address === "::") {
          cannotTell = true; // connect() did not reach the kernel
          finish(undefined);
          return;
        }
        const family = destination.family;
        const percent = local.address.indexOf("%");
        finish(
          percent < 0 ? { address: local.address, family } : {
            address: local.address.slice(0, percent),
            family,
            zone: local.address.slice(percent + 1),
          },
        );
      });
    } catch {
      finish(null);
    }
  });
}
