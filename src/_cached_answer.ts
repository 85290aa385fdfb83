/**
 * The mark a caching resolver puts on an answer it served from its cache,
 * so the dial can report `cached` in `dnsAnswer` and `dnsDone` without the
 * `Resolver` interface changing shape.
 *
 * @module
 */

const CACHED = new WeakSet<object>();

/**
 * Marks an answer array as served from a cache.
 *
 * @param addrs The array a resolver is about to return.
 * @returns The same array.
 * @internal
 */
export function markCached<T extends object>(addrs: T): T {
  CACHED.add(addrs);
  return addrs;
}

/**
 * Whether an answer was served from a cache.
 *
 * @param addrs What a resolver returned.
 * @returns True for an array marked by {@linkcode markCached}.
 * @internal
 */
export function isCached(addrs: unknown): boolean {
  return typeof addrs === "object" && addrs !== null && CACHED.has(addrs);
}
