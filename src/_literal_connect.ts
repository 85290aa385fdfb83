/**
 * The connect of the IP-literal fast path, for dialers that offer it: like
 * `connect(endpoint, { signal: NEVER_ABORTED })`, but a failed connect
 * rejects with what `fail(error)` throws (the dial's `DialError`), so the
 * dial's promise is the dialer's own and the core adds no second promise
 * and no microtask per dial. Internal: used by `dial()` and the runtime
 * adapters' dialers.
 *
 * @module
 */

import type { Endpoint } from "./types.ts";

/**
 * A dialer's literal connect: the endpoint (the same frozen object for
 * every dial of one address) and what turns the dialer's own connect error
 * into the dial's rejection (it throws).
 */
export type LiteralConnect<C> = (
  endpoint: Endpoint,
  fail: (error: unknown) => never,
) => Promise<C>;

const connects = new WeakMap<object, LiteralConnect<unknown>>();

/**
 * Declares `dialer`'s literal connect. The dialer must also accept
 * `NEVER_ABORTED` (see `_shared_signal.ts`).
 *
 * @param dialer The dialer.
 * @param connect Its literal connect.
 */
export function offerLiteralConnect<C>(
  dialer: object,
  connect: LiteralConnect<C>,
): void {
  connects.set(dialer, connect as LiteralConnect<unknown>);
}

/**
 * The literal connect `dialer` offers, if any.
 *
 * @param dialer The dialer.
 * @returns Its literal connect, or `undefined`.
 */
export function literalConnectOf<C>(
  dialer: object,
): LiteralConnect<C> | undefined {
  return connects.get(dialer) as LiteralConnect<C> | undefined;
}

/**
 * `fail` after `map` (a dialer's own error mapping), made once per pair of
 * functions: both are shared (per address, per dialer), so a dial
 * allocates no closure for its rejection handler.
 *
 * @param fail The dial's failure (throws).
 * @param map The dialer's mapping of its runtime's error.
 * @returns `(error) => fail(map(error))`.
 */
export function failVia(
  fail: (error: unknown) => never,
  map: (error: unknown) => unknown,
): (error: unknown) => never {
  let byMap = composed.get(fail);
  if (byMap === undefined) composed.set(fail, byMap = new WeakMap());
  let both = byMap.get(map);
  if (both === undefined) {
    both = (error: unknown) => fail(map(error));
    byMap.set(map, both);
  }
  return both;
}

const composed = new WeakMap<
  (error: unknown) => never,
  WeakMap<(error: unknown) => unknown, (error: unknown) => never>
>();
