/**
 * What the scheduler takes and gives: its events
 * ({@linkcode HappyEyeballsEvent}), its actions
 * ({@linkcode HappyEyeballsAction}), its states, and why an attempt
 * started ({@linkcode AttemptCause}). `src/happy_eyeballs.ts` re-exports
 * them.
 *
 * @module
 */

import type { Endpoint, Family, IPAddr } from "../types.ts";

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
