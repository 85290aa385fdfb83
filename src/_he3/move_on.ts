/**
 * The move-on rule of draft-ietf-happy-happyeyeballs-v3 ("Handling DNS
 * Answers Asynchronously"): when a dial that asked for service records
 * stops waiting for answers and starts sorting and connecting.
 *
 * @module
 */

/** What the move-on rule reads. */
export interface MoveOnState {
  /**
   * Some positive (non-empty) address answer is in: an A or AAAA answer,
   * or an address hint of a service record.
   */
  positive: boolean;
  /**
   * A positive or negative (empty, or failed) answer for the preferred
   * address family is in.
   */
  preferredAnswered: boolean;
  /** The service information is in: ServiceMode records, none, or failure. */
  serviceAnswered: boolean;
  /** The Resolution Delay has passed since the first positive answer. */
  resolutionDelayPassed: boolean;
}

/**
 * Either (positive AND preferred family answered AND service answered) or
 * (positive AND the Resolution Delay passed).
 *
 * @param state The answers so far.
 * @returns True when the dial moves on to connecting.
 */
export function shouldMoveOn(state: MoveOnState): boolean {
  if (!state.positive) return false;
  return (state.preferredAnswered && state.serviceAnswered) ||
    state.resolutionDelayPassed;
}
