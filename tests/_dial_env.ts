// What the virtual-clock dial() tests share: a scripted resolver and dialer
// on one clock with a recording trace, and a watched dial.

import { type CoreDialOptions, dial, type Trace } from "../mod.ts";
import {
  type FakeConn,
  FakeDialer,
  FakeResolver,
  type Outcome,
  recordingTrace,
  type ResolverScript,
  VirtualClock,
} from "./_virtual_clock.ts";

/** One test's world: clock, resolver, dialer and the trace's log. */
export interface Env {
  clock: VirtualClock;
  resolver: FakeResolver;
  dialer: FakeDialer;
  log: string[];
  trace: Trace;
}

/** Builds an {@linkcode Env}; `fallback` is what unscripted endpoints do. */
export function makeEnv(
  script: ResolverScript,
  outcomes: Record<string, Outcome>,
  fallback: Outcome,
): Env {
  const clock = new VirtualClock();
  const log: string[] = [];
  return {
    clock,
    resolver: new FakeResolver(clock, script),
    dialer: new FakeDialer(clock, outcomes, fallback),
    log,
    trace: recordingTrace(clock, log),
  };
}

/** How a watched promise settled, and at which virtual time. */
export interface Settled<T> {
  state: "pending" | "resolved" | "rejected";
  value?: T;
  reason?: unknown;
  /** The virtual time at which it settled. */
  at?: number;
  promise: Promise<T>;
}

/** Watches a promise (so a rejection is never unhandled). */
export function watch<T>(
  promise: Promise<T>,
  clock?: VirtualClock,
): Settled<T> {
  const seen: Settled<T> = { state: "pending", promise };
  promise.then(
    (value) => {
      seen.state = "resolved";
      seen.value = value;
      seen.at = clock?.now();
    },
    (reason) => {
      seen.state = "rejected";
      seen.reason = reason;
      seen.at = clock?.now();
    },
  );
  return seen;
}

/**
 * Dials with the env's resolver, dialer, clock and trace; `options` (also
 * ill-typed ones, for bad-input tests) override them.
 */
export function startDial(
  t: Env,
  address: string,
  options: Partial<CoreDialOptions<FakeConn>> | Record<string, unknown> = {},
): Settled<FakeConn> {
  return watch(
    dial<FakeConn>(address, {
      resolver: t.resolver,
      dialer: t.dialer,
      clock: t.clock,
      trace: t.trace,
      ...options,
    } as CoreDialOptions<FakeConn>),
    t.clock,
  );
}
