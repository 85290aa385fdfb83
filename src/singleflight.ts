/**
 * Call coalescing with per-caller cancellation: concurrent callers that ask
 * for the same key share one call of the work function, like Go's
 * `golang.org/x/sync/singleflight`, except that every caller can give up on
 * its own and the shared work is aborted once nobody waits for it any more.
 *
 * @module
 */

/**
 * Options for {@linkcode Singleflight.prototype.do}.
 *
 * @example Leaving a flight early
 * ```ts
 * import { Singleflight, type SingleflightDoOptions } from "@nettrace/nettrace";
 *
 * const flights = new Singleflight<string>();
 * const controller = new AbortController();
 * const options: SingleflightDoOptions = { signal: controller.signal };
 * const { value } = await flights.do(
 *   "config",
 *   () => Promise.resolve("v1"),
 *   options,
 * );
 * ```
 *
 * @example Learning that a failed flight was shared
 * ```ts
 * import { Singleflight } from "@nettrace/nettrace";
 * import assert from "node:assert/strict";
 *
 * const flights = new Singleflight<string>();
 * const failure = new Error("no such host");
 * const work = () => Promise.reject(failure);
 * const shared: boolean[] = [];
 * const onSettled = (s: boolean) => shared.push(s);
 * const results = await Promise.allSettled([
 *   flights.do("h.test", work, { onSettled }),
 *   flights.do("h.test", work, { onSettled }),
 * ]);
 * assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
 * assert.deepEqual(shared, [true, true]);
 * ```
 */
export interface SingleflightDoOptions {
  /**
   * Aborting it rejects this caller's promise at once with `signal.reason`
   * (unchanged) and leaves the other callers alone. When every caller of a
   * flight has left before the work settled, the work's own signal is
   * aborted with the last leaver's reason.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Called once when the flight settles while this caller still waits —
   * with a value *or* an error — with whether the flight was shared (the
   * same as {@linkcode SingleflightResult.shared}), just before this
   * caller's promise settles. This is how a caller whose promise rejects
   * learns that the failed work was shared (Go's `DNSDone` reports
   * `coalesced` for errors too); the rejection reason itself stays
   * unchanged. Not called for a caller that left through `signal` (Go:
   * a caller that gave up was not coalesced), nor when `signal` was
   * already aborted. When it throws, this caller's promise rejects with
   * what it threw; the other callers are untouched.
   *
   * @default {undefined}
   */
  onSettled?: (shared: boolean) => void;
}

/**
 * What {@linkcode Singleflight.prototype.do} resolves to. The object is
 * frozen and the same object is handed to every caller of a flight.
 *
 * @example Two callers sharing one call
 * ```ts
 * import { Singleflight, type SingleflightResult } from "@nettrace/nettrace";
 *
 * const flights = new Singleflight<number>();
 * const work = () => Promise.resolve(42);
 * const [a, b]: SingleflightResult<number>[] = await Promise.all([
 *   flights.do("answer", work),
 *   flights.do("answer", work),
 * ]);
 * console.log(a.value, a.shared, a === b); // 42 true true
 * ```
 */
export interface SingleflightResult<V> {
  /** The value the work function resolved to (the same for every caller). */
  readonly value: V;
  /**
   * `true` when more than one caller joined the flight. Decided when the
   * work completes, the same for every caller (the first one included), and
   * still `true` when the joiner left before completion.
   */
  readonly shared: boolean;
}

// Shared by every addEventListener call, so joining allocates no options.
const ONCE: AddEventListenerOptions = { once: true };

/**
 * A caller of a flight, told the flight's outcome by a call: the promise
 * callers of {@linkcode Singleflight.prototype.do}, and (through
 * {@linkcode joinFlight}) callers that need no promise, such as a dial's
 * lookups. Internal.
 */
export interface FlightCaller {
  /**
   * The flight settled while this caller waited.
   *
   * @param ok Whether the work resolved.
   * @param outcome Its value or its error.
   * @param shared Whether the flight was shared.
   * @param result The frozen result every promise caller gets (made on
   * first call; only when `ok`).
   */
  notify(
    ok: boolean,
    outcome: unknown,
    shared: boolean,
    result: () => SingleflightResult<unknown>,
  ): void;
}

/**
 * One caller of a flight through `do()`. It is its own abort listener
 * (`handleEvent`), so a caller with a signal costs no extra closure.
 */
class Waiter<V> implements EventListenerObject, FlightCaller {
  readonly flight: Flight<V>;
  readonly signal: AbortSignal | undefined;
  readonly onSettled: ((shared: boolean) => void) | undefined;
  resolve: (result: SingleflightResult<V>) => void = noop;
  reject: (reason: unknown) => void = noop;

  constructor(flight: Flight<V>, options: SingleflightDoOptions | undefined) {
    this.flight = flight;
    this.signal = options?.signal;
    this.onSettled = options?.onSettled;
  }

  /** Settles this caller with the flight's outcome. */
  notify(
    ok: boolean,
    outcome: unknown,
    shared: boolean,
    result: () => SingleflightResult<unknown>,
  ): void {
    this.detach();
    if (this.onSettled !== undefined) {
      try {
        this.onSettled(shared);
      } catch (error) {
        this.reject(error);
        return;
      }
    }
    if (ok) this.resolve(result() as SingleflightResult<V>);
    else this.reject(outcome);
  }

  handleEvent(): void {
    const reason = this.signal!.reason;
    if (!this.flight.remove(this)) return;
    this.detach();
    this.reject(reason);
    this.flight.abandonIfEmpty(reason);
  }

  detach(): void {
    this.signal?.removeEventListener("abort", this, ONCE);
  }
}

/** One call of the work function and the callers waiting for it. */
class Flight<V> {
  readonly flights: Map<string, Flight<V>>;
  readonly key: string;
  readonly controller: AbortController = new AbortController();
  /**
   * The callers waiting: the one caller of a flight nobody shares, else a
   * Set (leaving is O(1); its size is the number of callers waiting).
   */
  waiting: FlightCaller | Set<FlightCaller> | undefined;
  joined = 0;
  // Set once the work settled or every caller left; nothing changes after.
  over = false;
  #result: SingleflightResult<V> | undefined;
  #value: V | undefined;
  #shared = false;

  constructor(flights: Map<string, Flight<V>>, key: string) {
    this.flights = flights;
    this.key = key;
  }

  /** How many callers wait. */
  get size(): number {
    const waiting = this.waiting;
    return waiting === undefined
      ? 0
      : waiting instanceof Set
      ? waiting.size
      : 1;
  }

  add(caller: FlightCaller): void {
    this.joined++;
    const waiting = this.waiting;
    if (waiting === undefined) this.waiting = caller;
    else if (waiting instanceof Set) waiting.add(caller);
    else this.waiting = new Set([waiting, caller]);
  }

  join(
    options: SingleflightDoOptions | undefined,
  ): Promise<SingleflightResult<V>> {
    const waiter = new Waiter(this, options);
    const signal = waiter.signal;
    const promise = new Promise<SingleflightResult<V>>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    this.add(waiter);
    signal?.addEventListener("abort", waiter, ONCE);
    return promise;
  }

  run(fn: (signal: AbortSignal) => Promise<V>, self?: unknown): void {
    let work: Promise<V>;
    try {
      work = Promise.resolve(fn.call(self, this.controller.signal));
    } catch (error) {
      work = Promise.reject(error);
    }
    // Both outcomes are handled here, so work that settles after every
    // caller left is dropped without an unhandled rejection.
    work.then(
      (value) => this.settle(true, value),
      (error) => this.settle(false, error),
    );
  }

  /**
   * Takes `caller` out of the flight.
   *
   * @returns False when it was not waiting (settled, or left before).
   */
  remove(caller: FlightCaller): boolean {
    const waiting = this.waiting;
    if (waiting instanceof Set) return waiting.delete(caller);
    if (waiting !== caller) return false;
    this.waiting = undefined;
    return true;
  }

  /** Aborts the work with `reason` when nobody waits for it any more. */
  abandonIfEmpty(reason: unknown): void {
    if (this.size === 0 && !this.over) {
      this.over = true;
      this.#unregister();
      this.controller.abort(reason);
    }
  }

  /** The result every promise caller of the flight gets: one frozen object. */
  readonly #resultOf = (): SingleflightResult<V> =>
    this.#result ??= Object.freeze({
      value: this.#value as V,
      shared: this.#shared,
    });

  settle(ok: boolean, outcome: unknown): void {
    if (this.over) return; // everyone left: drop the outcome
    this.over = true;
    this.#unregister();
    const shared = this.joined > 1;
    if (ok) {
      this.#value = outcome as V;
      this.#shared = shared;
    }
    const waiting = this.waiting;
    if (waiting instanceof Set) {
      // A caller that leaves meanwhile (its signal aborted by another's
      // onSettled) is skipped: Set iteration skips deleted entries.
      for (const caller of waiting) {
        caller.notify(ok, outcome, shared, this.#resultOf);
      }
      waiting.clear();
    } else if (waiting !== undefined) {
      this.waiting = undefined;
      waiting.notify(ok, outcome, shared, this.#resultOf);
    }
  }

  #unregister(): void {
    // After forget(), the key may already belong to a newer flight.
    if (this.flights.get(this.key) === this) this.flights.delete(this.key);
  }
}

function noop(): void {}

/** A caller of {@linkcode joinFlight}: it also starts the work. */
export interface FlightStarter<V> extends FlightCaller {
  /** The work, called (as a method) when this caller opens the flight. */
  start(signal: AbortSignal): Promise<V>;
}

/** A flight joined through {@linkcode joinFlight}, for {@linkcode leaveFlight}. */
export type FlightHandle = { readonly key: string };

let join: <V>(
  flights: Singleflight<V>,
  key: string,
  caller: FlightStarter<V>,
) => FlightHandle;

/**
 * Joins the flight for `key`, or opens one with `caller.start`, for a
 * caller told the outcome by `caller.notify` instead of a promise: no
 * promise, no signal and no listener per caller (a dial's lookups, which
 * leave through {@linkcode leaveFlight} when the dial ends). Internal.
 *
 * @param flights The group.
 * @param key The key.
 * @param caller The caller.
 * @returns The flight joined.
 *
 * @example A caller without a promise
 * ```ts ignore
 * const handle = joinFlight(flights, "6 h.test", {
 *   start: (signal) => resolver.lookup("h.test", 6, { signal }),
 *   notify: (ok, outcome, shared) => {},
 * });
 * leaveFlight(handle, caller, new Error("gave up"));
 * ```
 */
export function joinFlight<V>(
  flights: Singleflight<V>,
  key: string,
  caller: FlightStarter<V>,
): FlightHandle {
  return join(flights, key, caller);
}

/**
 * Leaves a flight joined with {@linkcode joinFlight} (nothing when the
 * caller was told its outcome already); the work is aborted with `reason`
 * when nobody waits for it any more, as when the callers of `do()` leave.
 *
 * @param handle What joinFlight returned.
 * @param caller The caller that joined.
 * @param reason Why.
 *
 * @example Leaving
 * ```ts ignore
 * leaveFlight(handle, caller, new DNSError("operation was canceled", "h.test"));
 * ```
 */
export function leaveFlight(
  handle: FlightHandle,
  caller: FlightCaller,
  reason: unknown,
): void {
  const flight = handle as Flight<unknown>;
  if (flight.remove(caller)) flight.abandonIfEmpty(reason);
}

/**
 * Coalesces concurrent calls per key: while a call for a key is in flight,
 * further callers with that key wait for its outcome instead of starting
 * their own.
 *
 * Unlike Go's singleflight, every caller can leave on its own through
 * `options.signal`: its promise rejects at once with the signal's reason and
 * the other callers are untouched. The work function receives a signal owned
 * by the `Singleflight` (not any caller's); it is aborted only when every
 * caller of the flight has left before the work settled, and the key is then
 * free for a fresh call.
 *
 * @typeParam V The type of the value the work resolves to.
 *
 * @example Sharing one lookup between concurrent callers
 * ```ts
 * import { Singleflight } from "@nettrace/nettrace";
 * import assert from "node:assert/strict";
 *
 * const group = new Singleflight<string[]>();
 * let calls = 0;
 * const lookup = () => {
 *   calls++;
 *   return Promise.resolve(["127.0.0.1"]);
 * };
 * const [a, b] = await Promise.all([
 *   group.do("db.test", lookup),
 *   group.do("db.test", lookup),
 * ]);
 * assert.equal(calls, 1);
 * assert.deepEqual(a.value, ["127.0.0.1"]);
 * assert.equal(a.shared && b.shared, true);
 * ```
 *
 * @example One caller giving up while another keeps waiting
 * ```ts
 * import { Singleflight } from "@nettrace/nettrace";
 * import assert from "node:assert/strict";
 *
 * const group = new Singleflight<number>();
 * const pending = Promise.withResolvers<number>();
 * const work = () => pending.promise;
 *
 * const impatient = new AbortController();
 * const first = group.do("k", work, { signal: impatient.signal });
 * const second = group.do("k", work);
 *
 * const reason = new Error("gave up");
 * impatient.abort(reason);
 * await assert.rejects(first, (error) => error === reason);
 *
 * pending.resolve(42);
 * assert.deepEqual(await second, { value: 42, shared: true });
 * ```
 */
export class Singleflight<V> {
  #flights: Map<string, Flight<V>> = new Map();

  static {
    join = (flights, key, caller) => {
      const map = flights.#flights;
      let flight = map.get(key);
      if (flight !== undefined) {
        flight.add(caller);
        return flight;
      }
      flight = new Flight(map, key);
      map.set(key, flight);
      flight.add(caller);
      flight.run(caller.start, caller);
      return flight;
    };
  }

  /**
   * Runs `fn` for `key`, or joins the call already in flight for `key`.
   *
   * The first caller of a flight starts `fn` with a signal owned by this
   * `Singleflight`; later callers wait for the same outcome. When `fn`
   * settles, the key is free again (the next call starts fresh work) and
   * every caller still waiting gets the value or the error. A synchronous
   * throw from `fn` counts as a rejection.
   *
   * @param key Identifies the work; callers with equal keys share it.
   * @param fn The work. Called at most once per flight with the flight's
   * signal, which is aborted when every caller left before it settled.
   * @param options The caller's own abort signal, and a callback that
   * learns whether the flight was shared also when it fails.
   * @returns The value and whether the flight was shared. Rejects with what
   * `fn` rejected (or threw) with, or with `options.signal.reason` when the
   * caller's signal aborts first — at once, and without calling or joining
   * anything when it was already aborted.
   * @throws {TypeError} (as a rejection) When `fn` is not a function.
   *
   * @example A lone caller is not shared
   * ```ts
   * import { Singleflight } from "@nettrace/nettrace";
   * import assert from "node:assert/strict";
   *
   * const group = new Singleflight<number>();
   * const alone = await group.do("answer", () => Promise.resolve(42));
   * assert.deepEqual(alone, { value: 42, shared: false });
   * ```
   *
   * @example Leaving, which aborts the work when nobody else waits
   * ```ts
   * import { Singleflight } from "@nettrace/nettrace";
   * import assert from "node:assert/strict";
   *
   * const group = new Singleflight<string>();
   * const workSignals: AbortSignal[] = [];
   * const controller = new AbortController();
   * const pending = group.do("status", (signal) => {
   *   workSignals.push(signal);
   *   return new Promise<string>(() => {}); // never settles on its own
   * }, { signal: controller.signal });
   *
   * const reason = new Error("no longer needed");
   * controller.abort(reason);
   * await assert.rejects(pending, (error) => error === reason);
   * assert.equal(workSignals[0].reason, reason);
   * ```
   */
  do(
    key: string,
    fn: (signal: AbortSignal) => Promise<V>,
    options?: SingleflightDoOptions,
  ): Promise<SingleflightResult<V>> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (typeof fn !== "function") {
      return Promise.reject(
        new TypeError(
          `Cannot run singleflight key "${key}" as fn is not a function: ` +
            `received ${typeof fn}`,
        ),
      );
    }
    let flight = this.#flights.get(key);
    if (flight !== undefined) return flight.join(options);
    flight = new Flight(this.#flights, key);
    this.#flights.set(key, flight);
    const promise = flight.join(options);
    flight.run(fn);
    return promise;
  }

  /**
   * Forgets the flight in progress for `key`, if any: the next
   * {@linkcode Singleflight.prototype.do} for `key` starts fresh work. Callers
   * of the forgotten flight still get its outcome, and its finishing leaves
   * the newer flight in place.
   *
   * @param key The key to forget.
   *
   * @example Forcing a fresh call
   * ```ts
   * import { Singleflight } from "@nettrace/nettrace";
   * import assert from "node:assert/strict";
   *
   * const group = new Singleflight<number>();
   * let calls = 0;
   * const work = () => Promise.resolve(++calls);
   * const old = group.do("k", work);
   * group.forget("k");
   * const fresh = group.do("k", work);
   * assert.equal((await old).value, 1);
   * assert.equal((await fresh).value, 2);
   * ```
   */
  forget(key: string): void {
    this.#flights.delete(key);
  }

  /**
   * Counts the callers currently waiting on the flight in progress for
   * `key` (callers that left or were settled no longer count; a forgotten
   * flight is not counted). Lets a caller tell, before it joins, whether
   * its call would be shared.
   *
   * @param key The key to ask about.
   * @returns The number of callers waiting, or 0 when nothing is in flight.
   *
   * @example Seeing who waits
   * ```ts
   * import { Singleflight } from "@nettrace/nettrace";
   * import assert from "node:assert/strict";
   *
   * const group = new Singleflight<number>();
   * const pending = group.do("k", () => Promise.resolve(1));
   * assert.equal(group.waiters("k"), 1);
   * await pending;
   * assert.equal(group.waiters("k"), 0);
   * ```
   */
  waiters(key: string): number {
    return this.#flights.get(key)?.size ?? 0;
  }
}
