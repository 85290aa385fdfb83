/**
 * The scheduler's queue of candidates: which endpoints are untried, and the
 * order they are tried in — interleaved by family (RFC 8305 §4) and, for
 * Happy Eyeballs v3, grouped by service priority.
 *
 * @module
 */

import type { Endpoint, Family } from "../types.ts";

/** One endpoint in the scheduler's lists, and whether it was tried. */
export interface Candidate {
  readonly endpoint: Endpoint;
  tried: boolean;
  /** Its group (`awaitService`); 0 otherwise. */
  rank: number;
}

/** An attempt's state: connecting, or done (won, failed or cancelled). */
export const CONNECTING = 0;
/** See {@linkcode CONNECTING}. */
export const DONE = 1;

/** What a scheduler waits for when no families are given. */
export const DEFAULT_FAMILIES: readonly Family[] = [6, 4];
/** The queue before any answer: shared, never written to. */
export const NO_CANDIDATES: Candidate[] = [];

/**
 * Interleaves two lists: `count` of the first, then one of each in turn
 * (RFC 8305 §4); the rest of the longer list goes last.
 */
export function interleave<T>(
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
export function untried(list: readonly Candidate[] | undefined): Candidate[] {
  const out: Candidate[] = [];
  if (list === undefined) return out;
  for (let i = 0; i < list.length; i++) {
    if (!list[i]!.tried) out.push(list[i]!);
  }
  return out;
}

/**
 * Happy Eyeballs v3: every endpoint of a group (service priority, ranked
 * lowest first) before the first of the next — the draft's "Grouping By
 * Service Priority" — each group interleaved by `interleaveGroup`.
 */
export function byGroup(
  preferred: readonly Candidate[],
  other: readonly Candidate[],
  interleaveGroup: (
    mine: Candidate[],
    theirs: Candidate[],
    rank: number,
  ) => Candidate[],
): Candidate[] {
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
    for (const candidate of interleaveGroup(mine, theirs, rank)) {
      queue.push(candidate);
    }
  }
  return queue;
}
