// A small harness for the dial() tests of RFC 6724 ordering, connection
// history and NAT64: a virtual clock, a scripted resolver and dialer, and a
// run that records every connectStart with its time.

import {
  type ConnectStartInfo,
  dial,
  type DialOptions,
  type Resolver,
} from "../mod.ts";
import {
  type FakeConn,
  FakeDialer,
  FakeResolver,
  flush,
  type Outcome,
  type ResolverScript,
  VirtualClock,
} from "./_virtual_clock.ts";

/** A clock, a resolver and a dialer that run on it. */
export interface OrderingEnv {
  clock: VirtualClock;
  resolver: FakeResolver;
  dialer: FakeDialer;
}

/** Makes an environment from a resolver script and endpoint outcomes. */
export function setup(
  script: ResolverScript,
  outcomes: Record<string, Outcome> = {},
  fallback: Outcome = { hang: true },
): OrderingEnv {
  const clock = new VirtualClock();
  return {
    clock,
    resolver: new FakeResolver(clock, script),
    dialer: new FakeDialer(clock, outcomes, fallback),
  };
}

interface Settled {
  conn?: FakeConn;
  error?: unknown;
  at: number;
}

/** What one dial did. */
export interface DialResult {
  conn?: FakeConn;
  error?: unknown;
  /** When the dial settled, on the virtual clock. */
  at: number;
  /** Every connectStart, with the time it fired. */
  starts: (ConnectStartInfo & { at: number })[];
}

/**
 * Dials `address` and runs the clock until the dial has settled (and no
 * timer is left); closes the connection it returned.
 */
export async function run(
  env: OrderingEnv,
  address: string,
  options: DialOptions & { resolver?: Resolver; dialer?: FakeDialer } = {},
): Promise<DialResult> {
  const starts: DialResult["starts"] = [];
  const promise = dial<FakeConn>(address, {
    resolver: env.resolver,
    dialer: env.dialer,
    clock: env.clock,
    trace: {
      connectStart: (info) =>
        void starts.push({ ...info, at: env.clock.now() }),
    },
    ...options,
  }).then(
    (conn): Settled => ({ conn, at: env.clock.now() }),
    (error: unknown): Settled => ({ error, at: env.clock.now() }),
  );
  await env.clock.runAll(env.clock.now() + 60_000);
  const result = await promise;
  await flush();
  if (result.conn !== undefined) env.dialer.close(result.conn);
  return { ...result, starts };
}

/** `addr@t` of each connectStart. */
export function timeline(r: DialResult): string[] {
  return r.starts.map((s) => `${s.addr}@${s.at}`);
}
