/**
 * What the DNS cache (`dns_cache.ts`) does to the items it keeps: names as
 * keys, private copies of addresses and service records, the TTL of an
 * answer, and its options checked. Internal: not re-exported by mod.ts.
 *
 * @module
 */

import type { IPAddr, ServiceRecord } from "./types.ts";

/** The cache's name for a host: lower case, without the trailing dot. */
export function cacheName(host: string): string {
  const name = String(host).toLowerCase();
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/**
 * Private copies of the resolver's addresses, or `undefined` when an entry
 * is not an object (such an answer is passed through, not cached).
 */
export function copyAddrs(value: readonly unknown[]): IPAddr[] | undefined {
  const out: IPAddr[] = [];
  for (const addr of value) {
    if (typeof addr !== "object" || addr === null) return undefined;
    out.push({ ...(addr as IPAddr) });
  }
  return out;
}

/** Private copies of service records, their lists and `ech` included. */
export function copyServices(
  value: readonly unknown[],
): ServiceRecord[] | undefined {
  const out: ServiceRecord[] = [];
  for (const item of value) {
    if (typeof item !== "object" || item === null) return undefined;
    const record = { ...(item as ServiceRecord) };
    if (Array.isArray(record.alpn)) record.alpn = record.alpn.slice();
    if (Array.isArray(record.ipv4hint)) {
      record.ipv4hint = record.ipv4hint.slice();
    }
    if (Array.isArray(record.ipv6hint)) {
      record.ipv6hint = record.ipv6hint.slice();
    }
    if (record.ech instanceof Uint8Array) record.ech = record.ech.slice();
    out.push(record);
  }
  return out;
}

/** The smallest valid `ttl` of the items, `fallback` for those without. */
export function answerTtl(
  addrs: readonly { ttl?: number }[],
  fallback: number,
): number {
  let ttl = Infinity;
  for (const { ttl: own } of addrs) {
    const valid = typeof own === "number" && own >= 0 && own !== Infinity;
    ttl = Math.min(ttl, valid ? own : fallback);
  }
  return ttl;
}

/** Checks a TTL option, in seconds. */
export function seconds(
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot use ${String(value)} as ${name}: expected seconds as a number`,
    );
  }
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `Cannot use ${value} as ${name}: expected a finite number of seconds >= 0`,
    );
  }
  return value;
}
