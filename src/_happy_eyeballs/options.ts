/**
 * The scheduler's options ({@linkcode HappyEyeballsOptions}), their
 * defaults and limits, and the one place they are checked — by the
 * scheduler's constructor and by `dial()`'s `checkOptions` alike.
 * `src/happy_eyeballs.ts` re-exports the public ones.
 *
 * @module
 */

import type { Endpoint, Family } from "../types.ts";

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

export function clampAttemptDelay(ms: number): number {
  return Math.min(MAX_ATTEMPT_DELAY, Math.max(MIN_ATTEMPT_DELAY, ms));
}
