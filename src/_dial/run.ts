/**
 * One dial driven by the {@linkcode HappyEyeballs} scheduler: feeds it the
 * lookups' answers and the attempts' outcomes, carries out what it asks
 * (start, cancel, close, wake, won, failed), keeps its timer and the
 * dial's timeout, listens to the dial's signals, and settles the dial.
 *
 * @module
 */

import { CANCELED, DialError, DNSError, OpError } from "../errors.ts";
import {
  dialScheduler,
  type HappyEyeballs,
  type HappyEyeballsAction,
  type HappyEyeballsEvent,
} from "../happy_eyeballs.ts";
import type { ServiceEndpointInfo } from "../trace.ts";
import type { Family } from "../types.ts";
import { Answers } from "./answers.ts";
import { Attempts, handshakeTarget } from "./attempts.ts";
import { closeQuietly, toError } from "./foreign.ts";
import { type FamilyEvent, Lookups } from "./lookups.ts";
import type { CoreDialOptions } from "./options.ts";
import { Order } from "./order.ts";
import { type DialPlan, MAX_TIMER_DELAY } from "./plan.ts";
import { serviceInfo, ServiceLookups } from "./service.ts";
import { handshake } from "./tls.ts";
import { noteDialedService } from "../dialed_service.ts";
import { sharedEndpoint } from "./endpoints.ts";

const NO_SIGNALS: readonly AbortSignal[] = [];

/** Shared by every addEventListener call of a dial. */
const ONCE: AddEventListenerOptions = { once: true };

/**
 * Why a dial's lookup of `host` ended with the dial, as dnsDone reports it:
 * Go's `lookup h: i/o timeout` for a timeout, else `operation was canceled`.
 */
function lookupEnded(reason: unknown, host: string): DNSError {
  return reason instanceof DOMException && reason.name === "TimeoutError"
    ? new DNSError("i/o timeout", host, { isTimeout: true, cause: reason })
    : new DNSError(CANCELED, host, { cause: reason });
}

/** One dial in progress on the scheduler. */
export class DialRun<C> {
  readonly #plan: DialPlan<C>;
  readonly #scheduler: HappyEyeballs;
  readonly #order: Order;
  readonly #lookups: Lookups;
  readonly #answers: Answers;
  readonly #attempts: Attempts<C>;
  /** Happy Eyeballs v3: the service lookups, with `service`. */
  readonly #service: ServiceLookups | undefined;
  #timer: unknown;
  #timeoutTimer: unknown;
  /** Events that arrived while one was being handled. */
  #queue: HappyEyeballsEvent[] | undefined;
  #busy = false;
  /** The time the scheduler's current step was stamped with. */
  #stepNow = 0;
  #settled = false;
  /** Set when the timeout ran out: attempts end in `i/o timeout`. */
  #timedOut = false;
  /** Aborts the winner's handshake (`successPoint: "tcp"`) while it runs. */
  #handshake: AbortController | undefined;
  /** The winning attempt, once there is one. */
  #winner = -1;
  #resolve!: (conn: C) => void;
  #reject!: (error: unknown) => void;

  /**
   * Sets up the dial's parts; nothing is looked up or sent yet.
   *
   * @throws What reading the history store throws.
   */
  constructor(plan: DialPlan<C>, options: CoreDialOptions<C>) {
    this.#plan = plan;
    const order = new Order(plan, options);
    this.#order = order;
    this.#lookups = new Lookups(plan, this);
    this.#answers = new Answers(plan, {
      order,
      lookups: this.#lookups,
      sink: this,
      probe: options.sourceAddress,
    });
    this.#attempts = new Attempts(plan, order, this);
    // A literal keeps its one address first unless NAT64 adds its IPv6 form.
    const { literal } = plan;
    const ordered = literal === undefined ||
      (plan.nat64 !== undefined && literal.family === 4 &&
        plan.families.includes(6));
    this.#scheduler = dialScheduler({
      port: plan.port,
      families: plan.families,
      attemptDelay: options.attemptDelay,
      resolutionDelay: options.resolutionDelay,
      firstAddressFamilyCount: options.firstAddressFamilyCount,
      preferredFamily: order.gate,
      compare: ordered ? (a, b) => order.compare(a, b) : undefined,
      attemptDelayFor: order.knowsHost
        ? (endpoint) => order.historyDelay(endpoint)
        : undefined,
      maxAttempts: options.maxAttempts,
      maxConcurrentAttempts: options.maxConcurrentAttempts,
      awaitService: plan.service !== undefined,
    }, plan.control === undefined ? sharedEndpoint : undefined);
    const { service } = plan;
    this.#service = service === undefined ? undefined : new ServiceLookups(
      { ...plan, service },
      plan.families.length === 2 && plan.families[0] !== order.gate
        ? [plan.families[1]!, plan.families[0]!]
        : plan.families,
      this.#lookups,
      this,
    );
  }

  /** Whether the dial has ended. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Whether the scheduler's actions are being carried out. */
  get busy(): boolean {
    return this.#busy;
  }

  /** The time the scheduler's current step was stamped with. */
  get stepNow(): number {
    return this.#stepNow;
  }

  /** Takes one family's lookup outcome (see `Lookups`). */
  answered(event: FamilyEvent): void {
    this.#answers.deliver(event);
  }

  /** How many attempts the scheduler has started. */
  get attemptsStarted(): number {
    return this.#scheduler.attempts;
  }

  /** The winner's address, family and index, once there is one. */
  get winner(): {
    addr: string;
    family: Family;
    attempt: number;
    service?: ServiceEndpointInfo;
  } {
    const attempt = this.#attempts.get(this.#winner);
    const winner = {
      addr: attempt.addr,
      family: attempt.endpoint.family,
      attempt: this.#winner,
    };
    const origin = attempt.origin?.service;
    return origin === undefined
      ? winner
      : { ...winner, service: serviceInfo(origin) };
  }

  /**
   * The abort listener of the dial's signals: the run itself is the
   * listener object, so listening allocates no function.
   *
   * @param event The signal's `abort` event.
   */
  handleEvent(event: Event): void {
    this.#abort((event.target as AbortSignal).reason);
  }

  /** Runs the dial; resolves with the winner's connection. */
  start(): Promise<C> {
    const { signals, timeout, literal, families, clock } = this.#plan;
    if (signals !== undefined) {
      for (const signal of signals) {
        if (signal.aborted) return this.#abortedBeforeStart(signal.reason);
      }
    }
    const promise = new Promise<C>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (signals !== undefined) {
      for (const signal of signals) {
        signal.addEventListener("abort", this, ONCE);
      }
    }
    if (timeout > 0 && timeout !== Infinity) {
      this.#armTimeout(clock.now() + timeout);
    }
    if (literal === undefined) {
      if (!this.#lookups.announce()) return promise;
      if (this.#answers.needsDiscovery) this.#answers.discover();
      // The draft's order: the service query, then AAAA, then A.
      this.#service?.start();
      this.#lookups.start();
    } else if (families.includes(literal.family === 4 ? 6 : 4)) {
      this.#answers.startNat64Literal();
    } else {
      this.dispatch({
        type: "answer",
        family: literal.family,
        addrs: [literal],
      });
    }
    return promise;
  }

  /**
   * A dial whose signal was aborted before it began: nothing is looked up
   * or sent, but a dial of a name reports its lookup cancelled, as Go's
   * does (dnsStart, then dnsDone with `lookup h: operation was canceled`).
   */
  #abortedBeforeStart(reason: unknown): Promise<C> {
    this.#settled = true;
    if (this.#plan.literal === undefined) {
      this.#lookups.announce();
      this.#lookups.end(lookupEnded(reason, this.#plan.host));
    }
    return Promise.reject(reason);
  }

  /**
   * Feeds one event to the scheduler and carries out its actions; an event
   * that arrives meanwhile (from a hook or an abort) is handled after it.
   */
  dispatch(event: HappyEyeballsEvent): void {
    const service = this.#service;
    if (
      service !== undefined &&
      (event.type === "answer" || event.type === "lookupFailed")
    ) {
      // v3: the host's answers reach the scheduler as ranked endpoints.
      service.hostAnswer(event);
      return;
    }
    if (this.#busy) {
      (this.#queue ??= []).push(event);
      return;
    }
    let next: HappyEyeballsEvent | undefined = event;
    const queue = this.#queue;
    if (queue !== undefined && queue.length > 0) {
      // Left over from a handler that threw: first come, first handled.
      queue.push(event);
      next = queue.shift()!;
    }
    this.#busy = true;
    try {
      do {
        const now = this.#plan.clock.now();
        this.#stepNow = now;
        const actions = this.#scheduler.step(now, next);
        // step() is not re-entered while this runs (#busy queues events),
        // so the action array it reuses is read in place.
        for (let i = 0; i < actions.length; i++) this.#carryOut(actions[i]!);
        next = this.#queue?.shift();
      } while (next !== undefined);
    } finally {
      this.#busy = false;
    }
  }

  #carryOut(action: HappyEyeballsAction): void {
    switch (action.type) {
      case "start":
        this.#attempts.start(
          action.attempt,
          action.endpoint,
          action.cause,
          this.#service?.candidate(action.endpoint),
        );
        break;
      case "cancel":
        this.#attempts.cancel(action.attempt, this.#timedOut);
        break;
      case "close":
        this.#attempts.close(action.attempt);
        break;
      case "wake":
        this.#setWake(action.at);
        break;
      case "won":
        this.#won(action.attempt);
        break;
      case "failed":
        this.#failed(action.errors);
        break;
    }
  }

  #won(index: number): void {
    const conn = this.#attempts.take(index);
    this.#winner = index;
    if (this.#order.records) this.#attempts.rememberOutpaced(index);
    const tls = this.#plan.tls;
    if (tls !== undefined && tls.successPoint !== "tls") {
      // The signals and the timeout keep watching the handshake.
      this.#finish(undefined, true);
      this.#handshakeWinner(index, conn);
      return;
    }
    this.#finish(undefined);
    this.#deliver(conn);
  }

  /**
   * Resolves the dial with the winner's connection, noting (with
   * `service`) the record it came from for `dialedService()`.
   */
  #deliver(conn: C): void {
    if (this.#service !== undefined) {
      const origin = this.#attempts.get(this.#winner).origin?.service;
      noteDialedService(
        conn,
        origin === undefined ? undefined : serviceInfo(origin),
      );
    }
    this.#resolve(conn);
  }

  #failed(attemptErrors: Error[]): void {
    this.#finish(undefined);
    let errors: Error[];
    if (this.#scheduler.attempts > 0) {
      errors = attemptErrors;
    } else {
      // No attempt: the lookup failed. One error per distinct text, so
      // NXDOMAIN on both families reads once, as in Go.
      const seen = new Set<string>();
      errors = [];
      for (
        const e of attemptErrors.length > 0
          ? attemptErrors
          : [this.#lookups.error()]
      ) {
        const op = new OpError(this.#plan.network, e);
        if (!seen.has(op.message)) {
          seen.add(op.message);
          errors.push(op);
        }
      }
    }
    this.#reject(new DialError(errors));
  }

  #setWake(at: number | undefined): void {
    const clock = this.#plan.clock;
    if (this.#timer !== undefined) {
      clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (at === undefined) return;
    // A wake-up beyond the longest timer comes early; the scheduler then
    // asks for it again.
    const delay = Math.min(MAX_TIMER_DELAY, Math.max(0, at - clock.now()));
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      this.dispatch({ type: "timer" });
    }, delay);
  }

  /** Arms the timeout for `deadline`, in steps the platform's timers take. */
  #armTimeout(deadline: number): void {
    const clock = this.#plan.clock;
    const left = deadline - clock.now();
    const step = Math.min(left, MAX_TIMER_DELAY);
    this.#timeoutTimer = clock.setTimeout(() => {
      this.#timeoutTimer = undefined;
      if (step < left) {
        this.#armTimeout(deadline);
        return;
      }
      this.#timedOut = true;
      this.#abort(
        new DOMException(
          `${this.#whatTimedOut()}: i/o timeout`,
          "TimeoutError",
        ),
      );
    }, step);
  }

  /**
   * What the timeout ended, named as Go names it: the attempt connecting
   * (`dial tcp 192.0.2.1:80`; the first still connecting, or the winner
   * whose handshake ran), else the lookup (`dial tcp: lookup h.test`), else
   * the dial (`dial tcp h.test:80`).
   */
  #whatTimedOut(): string {
    const { network, host, address } = this.#plan;
    const addr = this.#settled
      ? this.#attempts.get(this.#winner).addr
      : this.#attempts.connecting();
    if (addr !== undefined) return `dial ${network} ${addr}`;
    if (this.#lookups.pending) return `dial ${network}: lookup ${host}`;
    return `dial ${network} ${address}`;
  }

  /**
   * `successPoint: "tcp"`: the race is won; one handshake on the winner,
   * still under the dial's signals and timeout.
   */
  #handshakeWinner(index: number, conn: C): void {
    const controller = new AbortController();
    this.#handshake = controller;
    const attempt = this.#attempts.get(index);
    handshake(
      this.#plan,
      handshakeTarget(attempt, index),
      conn,
      controller.signal,
    ).then(
      (tlsConn) => {
        if (this.#handshake !== controller) {
          // Aborted as the handshake completed: the dial has rejected.
          closeQuietly(this.#plan.dialer, tlsConn);
          return;
        }
        this.#handshake = undefined;
        this.#release();
        this.#deliver(tlsConn);
      },
      (error: unknown) => {
        if (this.#handshake !== controller) return; // #abort rejected
        this.#handshake = undefined;
        this.#release();
        this.#reject(
          new DialError([
            new OpError(this.#plan.network, toError(error), {
              addr: attempt.addr,
            }),
          ]),
        );
      },
    );
  }

  #abort(reason: unknown): void {
    if (this.#settled) {
      const handshake = this.#handshake;
      if (handshake === undefined) return;
      // The winner's handshake was running: it closes its connection.
      this.#handshake = undefined;
      this.#release();
      handshake.abort(reason);
      this.#reject(reason);
      return;
    }
    this.dispatch({ type: "abort" });
    this.#finish(lookupEnded(reason, this.#plan.host));
    this.#reject(reason);
  }

  /** Stops listening to the dial's signals and disarms its timeout. */
  #release(): void {
    for (const signal of this.#plan.signals ?? NO_SIGNALS) {
      signal.removeEventListener("abort", this);
    }
    if (this.#timeoutTimer !== undefined) {
      this.#plan.clock.clearTimeout(this.#timeoutTimer);
      this.#timeoutTimer = undefined;
    }
  }

  /**
   * Ends the dial: releases everything it holds (attempts are cancelled by
   * the scheduler) and ends its lookups, which fires dnsDone with
   * `dnsReason` if nothing was found. With `keepWatching` the signals and
   * the timeout stay armed (for the winner's handshake; {@linkcode #release}
   * disarms them).
   */
  #finish(dnsReason: Error | undefined, keepWatching = false): void {
    this.#settled = true;
    if (!keepWatching) this.#release();
    this.#setWake(undefined);
    this.#lookups.end(dnsReason);
  }
}
