/**
 * The RFC 8305 (Happy Eyeballs v2) scheduler as a pure state machine: no
 * timers, no I/O. Its inputs are DNS answers and attempt outcomes stamped
 * with the time; its outputs are what to do next. {@linkcode dial} drives it
 * with a resolver, a dialer and a clock; tests and simulations can drive it
 * directly.
 *
 * @module
 */

import type { Endpoint, Family, IPAddr } from "./types.ts";
import { addrKey } from "./_ip.ts";
import { endpointKey } from "./_he3/endpoint_key.ts";

/**
 * Why an attempt started when it did (RFC 8305 §5).
 *
 * @example Counting why attempts started
 * ```ts
 * import type { AttemptCause, Trace } from "@nettrace/nettrace";
 *
 * const causes = new Map<AttemptCause, number>();
 * const trace: Trace = {
 *   connectStart: ({ cause }) => {
 *     causes.set(cause, (causes.get(cause) ?? 0) + 1);
 *   },
 * };
 * ```
 */
export type AttemptCause =
  /** The first attempt of the dial. */
  | "first"
  /** The Connection Attempt Delay after the previous start ran out. */
  | "delay"
  /** The previous attempt failed, so the next one started at once. */
  | "failure"
  /** Every attempt had failed and new addresses arrived. */
  | "answer";

/**
 * RFC 8305 §5: never start attempts closer together than this.
 *
 * @example Clamping a configured delay
 * ```ts
 * import { MAX_ATTEMPT_DELAY, MIN_ATTEMPT_DELAY } from "@nettrace/nettrace";
 *
 * const requested = 5;
 * const delay = Math.min(
 *   MAX_ATTEMPT_DELAY,
 *   Math.max(MIN_ATTEMPT_DELAY, requested),
 * ); // 10
 * ```
 */
export const MIN_ATTEMPT_DELAY = 10;
/**
 * RFC 8305 §5: the Connection Attempt Delay should not exceed this.
 *
 * @example Waiting as long as RFC 8305 allows
 * ```ts
 * import { type DialOptions, MAX_ATTEMPT_DELAY } from "@nettrace/nettrace";
 *
 * // Give each attempt the longest head start before the next one.
 * const options: DialOptions = { attemptDelay: MAX_ATTEMPT_DELAY };
 * ```
 */
export const MAX_ATTEMPT_DELAY = 2000;
/**
 * RFC 8305 §5 recommended Connection Attempt Delay.
 *
 * @example Doubling the default delay for a slow network
 * ```ts
 * import { DEFAULT_ATTEMPT_DELAY, type DialOptions } from "@nettrace/nettrace";
 *
 * const options: DialOptions = { attemptDelay: 2 * DEFAULT_ATTEMPT_DELAY };
 * ```
 */
export const DEFAULT_ATTEMPT_DELAY = 250;
/**
 * RFC 8305 §3 recommended Resolution Delay.
 *
 * @example An IPv4 answer waits for the IPv6 one
 * ```ts
 * import { DEFAULT_RESOLUTION_DELAY, HappyEyeballs } from "@nettrace/nettrace";
 *
 * const he = new HappyEyeballs({ port: 80 });
 * he.step(0, {
 *   type: "answer",
 *   family: 4,
 *   addrs: [{ address: "127.0.0.1", family: 4 }],
 * });
 * console.log(he.wakeAt === DEFAULT_RESOLUTION_DELAY); // true
 * ```
 */
export const DEFAULT_RESOLUTION_DELAY = 50;

/**
 * Options for {@linkcode HappyEyeballs}.
 *
 * @example A scheduler for IPv4 only
 * ```ts
 * import { HappyEyeballs, type HappyEyeballsOptions } from "@nettrace/nettrace";
 *
 * const options: HappyEyeballsOptions = {
 *   port: 443,
 *   families: [4],
 *   attemptDelay: 100,
 * };
 * const he = new HappyEyeballs(options);
 * ```
 */
export interface HappyEyeballsOptions {
  /**
   * The port of every endpoint.
   */
  port: number;
  /**
   * The families whose answers to wait for: both for `"tcp"`, one for
   * `"tcp4"`/`"tcp6"`.
   * @default {[6, 4]}
   */
  families?: readonly Family[];
  /**
   * Connection Attempt Delay in ms, clamped to [10, 2000] (RFC 8305 §5).
   * @default {250}
   */
  attemptDelay?: number;
  /**
   * Resolution Delay in ms (RFC 8305 §3): how long an answer of the other
   * family waits for the preferred family's answer.
   * @default {50}
   */
  resolutionDelay?: number;
  /**
   * How many addresses of the preferred family go before the first of the
   * other (RFC 8305 §4 "First Address Family Count").
   * @default {1}
   */
  firstAddressFamilyCount?: number;
  /**
   * The family tried first.
   * @default {6}
   */
  preferredFamily?: Family;
  /**
   * At most this many endpoints are tried in one dial; the rest are never
   * tried (a hostile DNS answer cannot make one dial open thousands of
   * sockets).
   * @default {32}
   */
  maxAttempts?: number;
  /**
   * At most this many attempts are connecting at once; the next waits for
   * one of them to fail.
   * @default {8}
   */
  maxConcurrentAttempts?: number;
  /**
   * Orders endpoints: RFC 6724 §6 destination address selection with the
   * RFC 8305 §4 history rules (`dial()` passes one). Each family's untried
   * endpoints are kept sorted by it, and before the first attempt the
   * family whose best endpoint sorts first leads the interleaving (§4).
   * Without it each family keeps answer order and `preferredFamily` leads.
   * @default {undefined}
   */
  compare?: (a: Endpoint, b: Endpoint) => number;
  /**
   * The Connection Attempt Delay to wait after starting `endpoint`, in ms
   * (clamped to [10, 2000]), or undefined for `attemptDelay`. `dial()`
   * derives it from the endpoint's measured connect time (RFC 8305 §5).
   * @default {undefined}
   */
  attemptDelayFor?: (endpoint: Endpoint) => number | undefined;
  /**
   * Happy Eyeballs v3 (draft-ietf-happy-happyeyeballs-v3): the dial asked
   * for service (SVCB/HTTPS) records. Endpoints then come as `endpoints`
   * events, in ranked groups, and the race starts by the draft's move-on
   * rule: some endpoint at hand AND (the preferred family and the service
   * answered, OR the Resolution Delay passed since the first endpoint).
   * `answer` and `lookupFailed` events are ignored.
   * @default {false}
   */
  awaitService?: boolean;
}

/**
 * One endpoint of an `endpoints` event, with its group.
 *
 * @example An endpoint of the second service group
 * ```ts
 * import type { RankedEndpoint } from "@nettrace/nettrace";
 *
 * const ranked: RankedEndpoint = {
 *   endpoint: { address: "2001:db8::1", family: 6, port: 8443 },
 *   rank: 1,
 * };
 * ```
 */
export interface RankedEndpoint {
  /** The address and port. */
  readonly endpoint: Endpoint;
  /**
   * Its group: every endpoint of a lower rank is tried before the first of
   * a higher one; inside a group the usual sorting and interleaving apply.
   */
  readonly rank: number;
}

/**
 * Default of {@linkcode HappyEyeballsOptions.maxAttempts}.
 *
 * @example Trying fewer addresses than the default
 * ```ts
 * import { DEFAULT_MAX_ATTEMPTS, type DialOptions } from "@nettrace/nettrace";
 *
 * const options: DialOptions = { maxAttempts: Math.min(4, DEFAULT_MAX_ATTEMPTS) };
 * ```
 */
export const DEFAULT_MAX_ATTEMPTS = 32;
/**
 * Default of {@linkcode HappyEyeballsOptions.maxConcurrentAttempts}.
 *
 * @example Connecting to fewer addresses at once
 * ```ts
 * import {
 *   DEFAULT_MAX_CONCURRENT_ATTEMPTS,
 *   type DialOptions,
 * } from "@nettrace/nettrace";
 *
 * const options: DialOptions = {
 *   maxConcurrentAttempts: DEFAULT_MAX_CONCURRENT_ATTEMPTS / 4,
 * };
 * ```
 */
export const DEFAULT_MAX_CONCURRENT_ATTEMPTS = 8;

/**
 * An input to {@linkcode HappyEyeballs.step}.
 *
 * @example Feeding a race its events
 * ```ts
 * import { HappyEyeballs, type HappyEyeballsEvent } from "@nettrace/nettrace";
 *
 * const events: HappyEyeballsEvent[] = [
 *   { type: "answer", family: 6, addrs: [{ address: "::1", family: 6 }] },
 *   { type: "connected", attempt: 0 },
 * ];
 * const he = new HappyEyeballs({ port: 80 });
 * for (const [now, event] of events.entries()) he.step(now, event);
 * console.log(he.state); // "won"
 * ```
 */
export type HappyEyeballsEvent =
  /** One family's answer (possibly empty). */
  | { type: "answer"; family: Family; addrs: readonly IPAddr[] }
  /** One family's lookup failed. */
  | { type: "lookupFailed"; family: Family; error: Error }
  /** Attempt `attempt` connected. */
  | { type: "connected"; attempt: number }
  /**
   * Attempt `attempt` failed. `free` when it failed before sending anything
   * (refused by an address policy): the next attempt may start at once.
   */
  | { type: "failed"; attempt: number; error: Error; free?: boolean }
  /** The time asked for by the last `wake` action has come. */
  | { type: "timer" }
  /**
   * Attempt `attempt` (the latest) really began now, later than the `start`
   * action said (the driver's own work took time): the next start is
   * counted from now, so real connects stay `attemptDelay` (and at least
   * 10 ms) apart.
   */
  | { type: "started"; attempt: number }
  /** The dial was given up. */
  | { type: "abort" }
  /**
   * With `awaitService`: every endpoint known now. Untried endpoints not
   * listed any more are dropped (a hint an answer replaced); tried ones
   * stay tried; new ones are sorted into the untried ones by rank.
   */
  | {
    type: "endpoints";
    endpoints: readonly RankedEndpoint[];
    /**
     * The preferred family's lookup answered (with addresses, none, or a
     * failure), or an endpoint of that family is at hand.
     */
    preferredAnswered: boolean;
    /** The service lookup answered (records, none, or a failure). */
    serviceAnswered: boolean;
    /** Nothing is awaited any more: no lookup of any kind is pending. */
    settled: boolean;
    /** The lookup errors so far, reported when no attempt could start. */
    errors?: readonly Error[];
  };

/**
 * An output of {@linkcode HappyEyeballs.step}.
 *
 * @example Describing what the scheduler asks for
 * ```ts
 * import { HappyEyeballs, type HappyEyeballsAction } from "@nettrace/nettrace";
 *
 * function describe(action: HappyEyeballsAction): string {
 *   switch (action.type) {
 *     case "start":
 *       return `start ${action.attempt}: ${action.endpoint.address}`;
 *     case "cancel":
 *     case "close":
 *     case "won":
 *       return `${action.type} ${action.attempt}`;
 *     case "wake":
 *       return `wake at ${action.at}`;
 *     case "failed":
 *       return `failed with ${action.errors.length} errors`;
 *   }
 * }
 *
 * const he = new HappyEyeballs({ port: 80 });
 * const actions = he.step(0, {
 *   type: "answer",
 *   family: 6,
 *   addrs: [{ address: "::1", family: 6 }],
 * });
 * console.log(actions.map(describe)); // ["start 0: ::1"]
 * ```
 */
export type HappyEyeballsAction =
  /** Start connecting to `endpoint`; attempts are numbered from 0. */
  | {
    type: "start";
    attempt: number;
    endpoint: Endpoint;
    cause: AttemptCause;
  }
  /** Abort attempt `attempt`, which is still connecting. */
  | { type: "cancel"; attempt: number }
  /** Attempt `attempt` connected after the race ended: close it. */
  | { type: "close"; attempt: number }
  /**
   * Call `step` with a `timer` event at time `at`, replacing any earlier
   * wake-up; `at` undefined means no wake-up is needed any more.
   */
  | { type: "wake"; at: number | undefined }
  /** Attempt `attempt` won: its connection is the dial's result. */
  | { type: "won"; attempt: number }
  /**
   * Everything failed. `errors` are the attempts' errors in start order, or
   * the lookup errors when no attempt was made (empty when every family
   * answered with no address).
   */
  | { type: "failed"; errors: Error[] };

/**
 * Where the race is.
 *
 * @example Giving up a race
 * ```ts
 * import { HappyEyeballs, type HappyEyeballsState } from "@nettrace/nettrace";
 *
 * const he = new HappyEyeballs({ port: 80 });
 * he.step(0, { type: "abort" });
 * const state: HappyEyeballsState = he.state; // "aborted"
 * ```
 */
export type HappyEyeballsState = "running" | "won" | "failed" | "aborted";

interface Candidate {
  readonly endpoint: Endpoint;
  tried: boolean;
  /** Its group (`awaitService`); 0 otherwise. */
  rank: number;
}

const CONNECTING = 0;
const DONE = 1;

/** What a scheduler waits for when no families are given. */
const DEFAULT_FAMILIES: readonly Family[] = [6, 4];
/** The queue before any answer: shared, never written to. */
const NO_CANDIDATES: Candidate[] = [];

/**
 * Interleaves two lists: `count` of the first, then one of each in turn
 * (RFC 8305 §4); the rest of the longer list goes last.
 */
function interleave<T>(
  first: readonly T[],
  second: readonly T[],
  count: number,
): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < first.length && i < count) out.push(first[i++]!);
  while (i < first.length || j < second.length) {
    if (j < second.length) out.push(second[j++]!);
    if (i < first.length) out.push(first[i++]!);
  }
  return out;
}

/** The candidates of one family not tried yet, in order. */
function untried(list: readonly Candidate[] | undefined): Candidate[] {
  const out: Candidate[] = [];
  if (list === undefined) return out;
  for (let i = 0; i < list.length; i++) {
    if (!list[i]!.tried) out.push(list[i]!);
  }
  return out;
}

/** Shows a wrong option value in a message: strings quoted, bigints with n. */
function shownOption(value: unknown): string {
  return typeof value === "string"
    ? JSON.stringify(value)
    : typeof value === "bigint"
    ? `${value}n`
    : String(value);
}

/**
 * Whether an option is given, after checking that it is a number.
 *
 * @param name The option's name, as messages show it.
 * @param value Its value.
 * @returns False when it is undefined.
 * @throws {TypeError} If it is given and is not a number.
 */
export function checkNumber(name: string, value: unknown): value is number {
  if (value === undefined) return false;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot use ${name} ${shownOption(value)}: it must be a number, not ${
        value === null ? "null" : `a ${typeof value}`
      }`,
    );
  }
  return true;
}

/**
 * Checks the RFC 8305 parameters of {@linkcode HappyEyeballsOptions}: the
 * one place they are checked, for the scheduler and for `dial()` (which
 * checks them before it knows whether it needs a scheduler).
 *
 * @param options The parameters; absent ones are fine.
 * @throws {TypeError} If one is not a number.
 * @throws {RangeError} If one is out of range.
 */
export function checkSchedulerOptions(
  options: Pick<
    HappyEyeballsOptions,
    | "attemptDelay"
    | "resolutionDelay"
    | "firstAddressFamilyCount"
    | "maxAttempts"
    | "maxConcurrentAttempts"
    | "preferredFamily"
  >,
): void {
  // Most dials set none of them: read each once and be done.
  if (
    options.attemptDelay === undefined &&
    options.resolutionDelay === undefined &&
    options.firstAddressFamilyCount === undefined &&
    options.maxAttempts === undefined &&
    options.maxConcurrentAttempts === undefined &&
    options.preferredFamily === undefined
  ) {
    return;
  }
  for (const name of ["attemptDelay", "resolutionDelay"] as const) {
    const value = options[name];
    if (checkNumber(name, value) && (Number.isNaN(value) || value < 0)) {
      throw new RangeError(
        `Cannot use ${name} ${value}: it must be a number of ms ≥ 0`,
      );
    }
  }
  const count = options.firstAddressFamilyCount;
  if (
    checkNumber("firstAddressFamilyCount", count) &&
    (!Number.isInteger(count) || count < 1)
  ) {
    throw new RangeError(
      `Cannot use firstAddressFamilyCount ${count}: it must be an integer ≥ 1`,
    );
  }
  for (const name of ["maxAttempts", "maxConcurrentAttempts"] as const) {
    const value = options[name];
    if (
      checkNumber(name, value) &&
      (!(Number.isInteger(value) || value === Infinity) || value < 1)
    ) {
      throw new RangeError(
        `Cannot use ${name} ${value}: it must be an integer ≥ 1`,
      );
    }
  }
  const preferred = options.preferredFamily;
  if (
    checkNumber("preferredFamily", preferred) && preferred !== 4 &&
    preferred !== 6
  ) {
    throw new RangeError(
      `Cannot use preferredFamily ${preferred}: it must be 4 or 6`,
    );
  }
}

function clampAttemptDelay(ms: number): number {
  return Math.min(MAX_ATTEMPT_DELAY, Math.max(MIN_ATTEMPT_DELAY, ms));
}

/**
 * The RFC 8305 scheduler. Feed it events with the current time; it answers
 * with actions. It never reads a clock and never does I/O.
 *
 * - AAAA and A answers arrive independently. An answer of the preferred
 *   family starts attempts at once; an answer of the other family first
 *   waits the Resolution Delay for the preferred one (§3), cut short when the
 *   preferred family answers (even with nothing or an error).
 * - Endpoints are interleaved by family (§4), and addresses arriving
 *   mid-race are sorted into the untried ones.
 * - Attempts start `attemptDelay` apart and earlier ones keep running; a
 *   failure starts the next at once, but never less than 10 ms after the
 *   previous start (§5).
 * - The first connected attempt wins and every other is cancelled or closed.
 * - With `awaitService` (Happy Eyeballs v3) the endpoints come in ranked
 *   groups (`endpoints` events: a group's endpoints all go before the next
 *   group's), and the draft's move-on rule opens the race.
 *
 * @example Driving the scheduler by hand
 * ```ts
 * import { HappyEyeballs } from "@nettrace/nettrace";
 *
 * const he = new HappyEyeballs({ port: 443 });
 * he.step(0, { type: "answer", family: 4, addrs: [{ address: "192.0.2.1", family: 4 }] });
 * // → [{ type: "wake", at: 50 }]: waiting the Resolution Delay for AAAA
 * const actions = he.step(50, { type: "timer" });
 * // → start attempt 0 to 192.0.2.1:443, then wake at 300
 * console.log(actions[0]);
 * ```
 */
export class HappyEyeballs {
  readonly #port: number;
  readonly #attemptDelay: number;
  readonly #resolutionDelay: number;
  readonly #count: number;
  readonly #preferred: Family;
  readonly #compare: ((a: Endpoint, b: Endpoint) => number) | undefined;
  readonly #attemptDelayFor:
    | ((endpoint: Endpoint) => number | undefined)
    | undefined;
  /**
   * The family that leads the interleaving: `#preferred`, unless `compare`
   * ranks the other family's best endpoint first before any attempt.
   */
  #lead: Family;
  readonly #maxAttempts: number;
  readonly #maxConcurrent: number;
  /** Families still to answer: bit 1 for IPv4, bit 2 for IPv6. */
  #pending = 0;
  /** Families to try at all: bit 1 for IPv4, bit 2 for IPv6. */
  #wanted = 0;
  // Everything below that a dial may not need is made on first use: a dial
  // of an IP literal has one candidate, one attempt and no lookup errors.
  /** The IPv4 candidates, in answer order. */
  #v4: Candidate[] | undefined;
  /** The IPv6 candidates, in answer order. */
  #v6: Candidate[] | undefined;
  /** The key of the first candidate; `#seen` holds them all once there are two. */
  #firstKey: string | undefined;
  #seen: Set<string> | undefined;
  /** Untried candidates in the order they are to be tried. */
  #queue: Candidate[] = NO_CANDIDATES;
  #queueHead = 0;
  #gateOpen = false;
  #resolutionDeadline: number | undefined;
  #lookupErrors: Error[] | undefined;
  /** `awaitService`: endpoints come as `endpoints` events (v3). */
  readonly #service: boolean;
  /** The rank of the group the last attempt started in. */
  #groupRank = 0;
  /** Per attempt: 0 connecting, 1 done. */
  #attemptState: number[] = [];
  /** Per attempt that failed, its error (made at the first failure). */
  #attemptErrors: (Error | undefined)[] | undefined;
  #inFlight = 0;
  #lastStart = -Infinity;
  #lastFamily: Family | undefined;
  #preferredStarted = 0;
  #otherStarted = false;
  #nextStart = -Infinity;
  #nextCause: AttemptCause = "first";
  #wakeAt: number | undefined;
  #state: HappyEyeballsState = "running";
  #out: HappyEyeballsAction[] = [];

  /**
   * Creates a scheduler for one dial.
   *
   * @param options The port, the families and the RFC 8305 parameters.
   * @throws {TypeError} If a parameter is not a number.
   * @throws {RangeError} If a parameter is out of range.
   */
  constructor(options: HappyEyeballsOptions) {
    checkSchedulerOptions(options);
    this.#port = options.port;
    this.#attemptDelay = clampAttemptDelay(
      options.attemptDelay ?? DEFAULT_ATTEMPT_DELAY,
    );
    this.#resolutionDelay = options.resolutionDelay ??
      DEFAULT_RESOLUTION_DELAY;
    this.#count = options.firstAddressFamilyCount ?? 1;
    this.#preferred = options.preferredFamily ?? 6;
    this.#lead = this.#preferred;
    this.#compare = options.compare;
    this.#attemptDelayFor = options.attemptDelayFor;
    this.#service = options.awaitService === true;
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.#maxConcurrent = options.maxConcurrentAttempts ??
      DEFAULT_MAX_CONCURRENT_ATTEMPTS;
    for (const family of options.families ?? DEFAULT_FAMILIES) {
      if (family !== 4 && family !== 6) {
        throw new RangeError(`Cannot wait for family ${family}: not 4 or 6`);
      }
      this.#pending |= family === 4 ? 1 : 2;
      this.#wanted = this.#pending;
    }
  }

  /** Where the race is. */
  get state(): HappyEyeballsState {
    return this.#state;
  }

  /** The time of the wake-up asked for, if any. */
  get wakeAt(): number | undefined {
    return this.#wakeAt;
  }

  /** How many attempts have started. */
  get attempts(): number {
    return this.#attemptState.length;
  }

  /** The Connection Attempt Delay in use, after clamping. */
  get attemptDelay(): number {
    return this.#attemptDelay;
  }

  /**
   * Whether the answer of `family` is still awaited.
   *
   * @param family The family.
   * @returns True while its lookup has neither answered nor failed.
   */
  isPending(family: Family): boolean {
    return (this.#pending & (family === 4 ? 1 : 2)) !== 0;
  }

  /**
   * Feeds one event and returns what to do, in order. The returned array is
   * reused by the next call: read it before calling `step` again.
   *
   * @param now The current time in ms, never decreasing.
   * @param event What happened.
   * @returns The actions to carry out, in order.
   */
  step(now: number, event: HappyEyeballsEvent): readonly HappyEyeballsAction[] {
    const out = this.#out;
    out.length = 0;
    switch (event.type) {
      case "answer":
        if (!this.#service) this.#onAnswer(now, event.family, event.addrs);
        break;
      case "endpoints":
        if (this.#service) this.#onEndpoints(now, event);
        break;
      case "lookupFailed":
        if (
          this.#service || this.#state !== "running" ||
          !this.isPending(event.family)
        ) break;
        this.#onLookupSettled(now, event.family);
        (this.#lookupErrors ??= []).push(event.error);
        break;
      case "connected":
        this.#onConnected(event.attempt);
        break;
      case "failed":
        this.#onFailed(now, event.attempt, event.error, event.free === true);
        break;
      case "timer":
        // A timer may fire a little early (Node's do, by up to 1 ms against
        // performance.now()): forget the wake-up so #pump asks for it again;
        // otherwise nobody would call step() at the time asked for.
        if (this.#wakeAt !== undefined && now < this.#wakeAt) {
          this.#wakeAt = undefined;
        }
        break;
      case "started":
        if (
          this.#state === "running" &&
          event.attempt === this.#attemptState.length - 1 &&
          now > this.#lastStart
        ) {
          const shift = now - this.#lastStart;
          this.#lastStart = now;
          this.#nextStart = this.#nextCause === "delay"
            ? this.#nextStart + shift
            : Math.max(this.#nextStart, now + MIN_ATTEMPT_DELAY);
        }
        break;
      case "abort":
        if (this.#state === "running") this.#finish("aborted", -1);
        break;
    }
    if (this.#state === "running") this.#pump(now);
    return out;
  }

  #onAnswer(now: number, family: Family, addrs: readonly IPAddr[]): void {
    if (this.#state !== "running" || !this.isPending(family)) return;
    let added = false;
    for (const addr of addrs) {
      // An answer may carry the other family (an IPv4-mapped address in an
      // AAAA answer is IPv4, as in Go): it joins that family if wanted.
      if (addr.family !== 4 && addr.family !== 6) continue;
      if ((this.#wanted & (addr.family === 4 ? 1 : 2)) === 0) continue;
      const key = addrKey(addr);
      if (this.#seen !== undefined) {
        if (this.#seen.has(key)) continue;
        this.#seen.add(key);
      } else if (this.#firstKey === undefined) {
        this.#firstKey = key;
      } else {
        if (key === this.#firstKey) continue;
        this.#seen = new Set([this.#firstKey, key]);
      }
      const list = addr.family === 4 ? this.#v4 ??= [] : this.#v6 ??= [];
      const endpoint: Endpoint = addr.zone === undefined
        ? { address: addr.address, family: addr.family, port: this.#port }
        : {
          address: addr.address,
          family: addr.family,
          zone: addr.zone,
          port: this.#port,
        };
      list.push({ endpoint, tried: false, rank: 0 });
      added = true;
    }
    this.#onLookupSettled(now, family);
    if (!added) return;
    this.#rebuildQueue();
    if (
      !this.#gateOpen && family !== this.#preferred &&
      this.#resolutionDeadline === undefined
    ) {
      // §3: an answer of the other family waits for the preferred one.
      this.#resolutionDeadline = now + this.#resolutionDelay;
    }
    if (this.#inFlight === 0 && this.#attemptState.length > 0) {
      // Every attempt so far has failed: the new addresses go at once.
      this.#nextCause = "answer";
    }
  }

  /**
   * v3: the endpoints known now replace the untried ones (the draft's "DNS
   * Answer Changes": new ones sorted in, withdrawn untried ones dropped,
   * tried ones kept), and the move-on rule is checked.
   */
  #onEndpoints(
    now: number,
    event: Extract<HappyEyeballsEvent, { type: "endpoints" }>,
  ): void {
    if (this.#state !== "running") return;
    const tried = new Set<string>();
    const v4: Candidate[] = [];
    const v6: Candidate[] = [];
    for (const list of [this.#v4, this.#v6]) {
      for (const candidate of list ?? NO_CANDIDATES) {
        if (!candidate.tried) continue;
        tried.add(endpointKey(candidate.endpoint));
        (candidate.endpoint.family === 4 ? v4 : v6).push(candidate);
      }
    }
    let added = false;
    for (const { endpoint, rank } of event.endpoints) {
      if (endpoint.family !== 4 && endpoint.family !== 6) continue;
      if ((this.#wanted & (endpoint.family === 4 ? 1 : 2)) === 0) continue;
      const key = endpointKey(endpoint);
      if (tried.has(key)) continue;
      tried.add(key); // also: each endpoint once
      (endpoint.family === 4 ? v4 : v6).push({
        endpoint,
        tried: false,
        rank: Number.isFinite(rank) ? rank : 0,
      });
      added = true;
    }
    this.#v4 = v4;
    this.#v6 = v6;
    if (event.errors !== undefined) this.#lookupErrors = [...event.errors];
    if (event.settled) this.#pending = 0;
    if (added && this.#resolutionDeadline === undefined) {
      // The first positive answer (an address or a hint) starts the
      // Resolution Delay.
      this.#resolutionDeadline = now + this.#resolutionDelay;
    }
    const positive = this.#resolutionDeadline !== undefined;
    if (
      positive && event.preferredAnswered && event.serviceAnswered ||
      positive && this.#pending === 0
    ) this.#gateOpen = true;
    this.#rebuildQueue();
    if (added && this.#inFlight === 0 && this.#attemptState.length > 0) {
      // Every attempt so far has failed: the new endpoints go at once.
      this.#nextCause = "answer";
    }
  }

  #onLookupSettled(_now: number, family: Family): void {
    this.#pending &= ~(family === 4 ? 1 : 2);
    // The preferred family's answer, whatever it is, opens the gate; so does
    // the end of every lookup.
    if (family === this.#preferred || this.#pending === 0) {
      this.#gateOpen = true;
    }
  }

  /**
   * Sorts the untried addresses (§4), continuing the interleaving from where
   * the race is: `firstAddressFamilyCount` of the preferred family before the
   * first of the other, then one of each in turn, starting with the family
   * that did not go last. Addresses arriving mid-race are thereby sorted into
   * the untried ones, as §4 asks.
   */
  #rebuildQueue(): void {
    const compare = this.#compare;
    const ranked = this.#service;
    if (compare !== undefined || ranked) {
      // §4: each family sorted (RFC 6724 and history; stable, so ties keep
      // answer order) — v3: by group first — and before the first attempt
      // the family whose best endpoint sorts first leads.
      const byEndpoint = (a: Candidate, b: Candidate) =>
        a.rank - b.rank ||
        (compare === undefined ? 0 : compare(a.endpoint, b.endpoint));
      if (this.#v6 !== undefined && this.#v6.length > 1) {
        this.#v6.sort(byEndpoint);
      }
      if (this.#v4 !== undefined && this.#v4.length > 1) {
        this.#v4.sort(byEndpoint);
      }
      if (this.#attemptState.length === 0) {
        const head6 = this.#v6?.[0];
        const head4 = this.#v4?.[0];
        this.#lead = this.#preferred;
        if (
          compare !== undefined && head6 !== undefined &&
          head4 !== undefined && head6.rank === head4.rank
        ) {
          const [mine, theirs] = this.#preferred === 6
            ? [head6, head4]
            : [head4, head6];
          if (compare(theirs.endpoint, mine.endpoint) < 0) {
            this.#lead = this.#preferred === 6 ? 4 : 6;
          }
        }
      }
    }
    const preferred = untried(this.#lead === 6 ? this.#v6 : this.#v4);
    const other = untried(this.#lead === 6 ? this.#v4 : this.#v6);
    if (!ranked) {
      this.#queue = this.#interleaveGroup(preferred, other, true);
    } else {
      // v3: every endpoint of a group before the first of the next (the
      // draft's "Grouping By Service Priority"); each group interleaved.
      const queue: Candidate[] = [];
      let i = 0;
      let j = 0;
      while (i < preferred.length || j < other.length) {
        const rank = Math.min(
          preferred[i]?.rank ?? Infinity,
          other[j]?.rank ?? Infinity,
        );
        const mine: Candidate[] = [];
        const theirs: Candidate[] = [];
        while (i < preferred.length && preferred[i]!.rank === rank) {
          mine.push(preferred[i++]!);
        }
        while (j < other.length && other[j]!.rank === rank) {
          theirs.push(other[j++]!);
        }
        const group = this.#interleaveGroup(
          mine,
          theirs,
          rank === this.#groupRank,
        );
        for (const candidate of group) queue.push(candidate);
      }
      this.#queue = queue;
    }
    this.#queueHead = 0;
  }

  /**
   * Interleaves one group's untried candidates, the lead family's first.
   * `continuing`: the race is inside this group, so the interleaving goes
   * on from where it is: `firstAddressFamilyCount` of the lead family
   * before the first of the other, then one of each in turn, starting with
   * the family that did not go last.
   */
  #interleaveGroup(
    preferred: Candidate[],
    other: Candidate[],
    continuing: boolean,
  ): Candidate[] {
    if (other.length === 0) return preferred;
    if (preferred.length === 0) return other;
    if (!continuing) return interleave(preferred, other, this.#count);
    if (!this.#otherStarted) {
      // Still inside the first run of the preferred family.
      const lead = Math.max(0, this.#count - this.#preferredStarted);
      return lead > 0
        ? interleave(preferred, other, lead)
        : interleave(other, preferred, 1);
    }
    return this.#lastFamily === this.#lead
      ? interleave(other, preferred, 1)
      : interleave(preferred, other, 1);
  }

  #onConnected(attempt: number): void {
    if (this.#attemptState[attempt] !== CONNECTING) return;
    this.#attemptState[attempt] = DONE;
    this.#inFlight--;
    if (this.#state !== "running") {
      this.#out.push({ type: "close", attempt });
      return;
    }
    this.#finish("won", attempt);
  }

  #onFailed(now: number, attempt: number, error: Error, free: boolean): void {
    if (this.#attemptState[attempt] !== CONNECTING) return;
    this.#attemptState[attempt] = DONE;
    (this.#attemptErrors ??= [])[attempt] = error;
    this.#inFlight--;
    if (this.#state !== "running") return;
    // §5: a failure starts the next attempt at once, but never sooner than
    // 10 ms after the previous start. With nothing left to try while other
    // attempts still run, the failure frees nothing: the stagger stays.
    if (this.#queueHead >= this.#queue.length && this.#inFlight > 0) return;
    // An attempt refused before it sent anything does not count for the
    // 10 ms spacing, which protects the network.
    const at = free ? now : Math.max(now, this.#lastStart + MIN_ATTEMPT_DELAY);
    if (at < this.#nextStart) {
      this.#nextStart = at;
      this.#nextCause = "failure";
    } else if (this.#inFlight + 1 === this.#maxConcurrent) {
      // The failure made room under maxConcurrentAttempts.
      this.#nextCause = "failure";
    }
  }

  #pump(now: number): void {
    const out = this.#out;
    if (
      !this.#gateOpen && this.#resolutionDeadline !== undefined &&
      now >= this.#resolutionDeadline
    ) {
      this.#gateOpen = true;
    }
    if (this.#attemptState.length >= this.#maxAttempts) {
      // The budget is spent: what is untried stays untried.
      this.#queueHead = this.#queue.length;
    }
    const room = this.#inFlight < this.#maxConcurrent;
    if (
      this.#gateOpen && room && this.#queueHead < this.#queue.length &&
      now >= this.#nextStart
    ) {
      const candidate = this.#queue[this.#queueHead++]!;
      candidate.tried = true;
      if (candidate.rank !== this.#groupRank) {
        // v3: the first attempt of the next group starts its interleaving.
        this.#groupRank = candidate.rank;
        this.#preferredStarted = 0;
        this.#otherStarted = false;
      }
      const attempt = this.#attemptState.length;
      this.#attemptState.push(CONNECTING);
      this.#inFlight++;
      this.#lastStart = now;
      const custom = this.#attemptDelayFor?.(candidate.endpoint);
      const delay = custom === undefined || Number.isNaN(custom)
        ? this.#attemptDelay
        : clampAttemptDelay(custom);
      this.#nextStart = now + delay;
      const family = candidate.endpoint.family;
      this.#lastFamily = family;
      if (family === this.#lead) this.#preferredStarted++;
      else this.#otherStarted = true;
      out.push({
        type: "start",
        attempt,
        endpoint: candidate.endpoint,
        cause: this.#nextCause,
      });
      this.#nextCause = "delay";
    }
    if (
      this.#inFlight === 0 && this.#pending === 0 &&
      this.#queueHead >= this.#queue.length
    ) {
      this.#finish("failed", -1);
      return;
    }
    let wake: number | undefined;
    if (
      this.#queueHead < this.#queue.length &&
      this.#inFlight < this.#maxConcurrent
    ) {
      wake = this.#gateOpen ? this.#nextStart : this.#resolutionDeadline;
    }
    if (wake !== this.#wakeAt) {
      this.#wakeAt = wake;
      out.push({ type: "wake", at: wake });
    }
  }

  #finish(state: "won" | "failed" | "aborted", winner: number): void {
    const out = this.#out;
    this.#state = state;
    for (let i = 0; i < this.#attemptState.length; i++) {
      if (i !== winner && this.#attemptState[i] === CONNECTING) {
        out.push({ type: "cancel", attempt: i });
      }
    }
    if (this.#wakeAt !== undefined) {
      this.#wakeAt = undefined;
      out.push({ type: "wake", at: undefined });
    }
    if (state === "won") out.push({ type: "won", attempt: winner });
    else if (state === "failed") {
      // In start order; `filter` skips the holes of attempts that did not
      // fail.
      const errors = this.#attemptState.length > 0
        ? this.#attemptErrors?.filter((e): e is Error => e !== undefined) ?? []
        : this.#lookupErrors ?? [];
      out.push({ type: "failed", errors });
    }
  }
}
