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
export type {
  AttemptCause,
  HappyEyeballsAction,
  HappyEyeballsEvent,
  HappyEyeballsState,
  RankedEndpoint,
} from "./_happy_eyeballs/events.ts";
export {
  checkNumber,
  checkSchedulerOptions,
  DEFAULT_ATTEMPT_DELAY,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_CONCURRENT_ATTEMPTS,
  DEFAULT_RESOLUTION_DELAY,
  type HappyEyeballsOptions,
  MAX_ATTEMPT_DELAY,
  MIN_ATTEMPT_DELAY,
} from "./_happy_eyeballs/options.ts";
import type {
  AttemptCause,
  HappyEyeballsAction,
  HappyEyeballsEvent,
  HappyEyeballsState,
} from "./_happy_eyeballs/events.ts";
import {
  checkSchedulerOptions,
  clampAttemptDelay,
  DEFAULT_ATTEMPT_DELAY,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_CONCURRENT_ATTEMPTS,
  DEFAULT_RESOLUTION_DELAY,
  type HappyEyeballsOptions,
  MIN_ATTEMPT_DELAY,
} from "./_happy_eyeballs/options.ts";
import {
  byGroup,
  type Candidate,
  CONNECTING,
  DEFAULT_FAMILIES,
  DONE,
  interleave,
  NO_CANDIDATES,
  untried,
} from "./_happy_eyeballs/queue.ts";

/** Set while {@linkcode dialScheduler} builds a scheduler. */
let checked = false;
/** What the scheduler {@linkcode dialScheduler} builds makes endpoints with. */
let endpointOf: EndpointOf | undefined;

/** Makes (or finds) the endpoint of a zone-less address. */
export type EndpointOf = (
  address: string,
  family: Family,
  port: number,
) => Endpoint;

/**
 * A scheduler for `dial()`: its RFC 8305 delays and counts were checked
 * with the dial's other options (`checkOptions`), so they are not checked
 * again (the port and families still are); `endpoint`, when given, makes
 * the endpoints of zone-less addresses (the dial's shared, frozen ones).
 * Internal.
 *
 * @param options The scheduler's options.
 * @param endpoint Makes endpoints.
 * @returns The scheduler.
 *
 * @example The dial's scheduler
 * ```ts ignore
 * const scheduler = dialScheduler({ port: plan.port }, sharedEndpoint);
 * ```
 */
export function dialScheduler(
  options: HappyEyeballsOptions,
  endpoint: EndpointOf | undefined,
): HappyEyeballs {
  checked = true;
  endpointOf = endpoint;
  try {
    return new HappyEyeballs(options);
  } finally {
    checked = false;
    endpointOf = undefined;
  }
}

/** Up to this many candidates are told apart by a linear search. */
const SMALL_SEEN = 8;

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
  /** The keys of the candidates, while few; `#seen` holds them once many. */
  #keys: string[] | undefined;
  #seen: Set<string> | undefined;
  /** Untried candidates in the order they are to be tried. */
  #queue: Candidate[] = NO_CANDIDATES;
  #queueHead = 0;
  #gateOpen = false;
  #resolutionDeadline: number | undefined;
  #lookupErrors: Error[] | undefined;
  /** `awaitService`: endpoints come as `endpoints` events (v3). */
  readonly #service: boolean;
  /** Makes the endpoints of zone-less addresses (see dialScheduler). */
  readonly #endpointOf: EndpointOf | undefined = endpointOf;
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
    if (!checked) checkSchedulerOptions(options);
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
    const families = options.families ?? DEFAULT_FAMILIES;
    for (let i = 0; i < families.length; i++) {
      const family = families[i];
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
      } else {
        const keys = this.#keys ??= [];
        if (keys.includes(key)) continue;
        keys.push(key);
        if (keys.length > SMALL_SEEN) this.#seen = new Set(keys);
      }
      const list = addr.family === 4 ? this.#v4 ??= [] : this.#v6 ??= [];
      const endpoint: Endpoint = addr.zone === undefined
        ? this.#endpointOf?.(addr.address, addr.family, this.#port) ??
          { address: addr.address, family: addr.family, port: this.#port }
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
      const v6 = this.#v6;
      const v4 = this.#v4;
      if (
        (v6 !== undefined && v6.length > 1) ||
        (v4 !== undefined && v4.length > 1)
      ) {
        const byEndpoint = (a: Candidate, b: Candidate) =>
          a.rank - b.rank ||
          (compare === undefined ? 0 : compare(a.endpoint, b.endpoint));
        if (v6 !== undefined && v6.length > 1) v6.sort(byEndpoint);
        if (v4 !== undefined && v4.length > 1) v4.sort(byEndpoint);
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
      this.#queue = byGroup(
        preferred,
        other,
        (mine, theirs, rank) =>
          this.#interleaveGroup(mine, theirs, rank === this.#groupRank),
      );
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
