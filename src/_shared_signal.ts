/**
 * A signal that never aborts, for the connect of an attempt that nothing can
 * cancel, and the set of dialers that may be given it instead of a fresh
 * one. Internal: used by `dial()` and the runtime adapters' dialers.
 *
 * An attempt nothing can cancel is the only endpoint of a dial of an IP
 * literal with no `signal`, no `timeout` and no context signal: the race has
 * no other attempt to prefer, and nothing can abort the dial. Giving its
 * connect this shared signal saves an `AbortController` per dial and, in the
 * adapters, the abort listener they would add and remove — a measurable
 * share of a loopback connect (see bench/README.md).
 *
 * @module
 */

/** Never aborted; dialers that accept it add no listener to it. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

const accepting = new WeakSet<object>();

/**
 * Declares that `dialer` may be given {@linkcode NEVER_ABORTED}: it knows
 * the signal and adds no listener to it (a listener left on a signal shared
 * by every dial would never be freed). Other dialers always get a signal of
 * their own.
 *
 * @param dialer The dialer.
 */
export function acceptNeverAborted(dialer: object): void {
  accepting.add(dialer);
}

/**
 * Whether `dialer` was declared with {@linkcode acceptNeverAborted}.
 *
 * @param dialer The dialer.
 * @returns True when it may be given {@linkcode NEVER_ABORTED}.
 */
export function acceptsNeverAborted(dialer: object): boolean {
  return accepting.has(dialer);
}
