/**
 * The pure workloads shared by `deno bench` (bench/*_bench.ts) and the
 * cross-runtime comparison (bench/compare.ts): a whole race driven through
 * the {@linkcode HappyEyeballs} scheduler, and 10,000 callers of one
 * {@linkcode Singleflight} key.
 *
 * @module
 */

import {
  type Family,
  HappyEyeballs,
  type HappyEyeballsEvent,
  type IPAddr,
  Singleflight,
} from "../mod.ts";

/** The answers of a race with `endpoints` addresses, half of each family. */
export function answers(endpoints: number): { v6: IPAddr[]; v4: IPAddr[] } {
  const v6: IPAddr[] = [];
  const v4: IPAddr[] = [];
  for (let i = 0; i < endpoints; i++) {
    if (i % 2 === 0) {
      v6.push({ address: `2001:db8::${(i >> 1) + 1}`, family: 6 });
    } else {
      v4.push({ address: `198.18.0.${(i >> 1) + 1}`, family: 4 });
    }
  }
  return { v6, v4 };
}

const TIMER: HappyEyeballsEvent = { type: "timer" };

/**
 * One race through the scheduler, the way `dial()` drives it: the AAAA and
 * A answers arrive, every attempt but the last is refused 1 ms after it
 * starts (each refusal lets the next start 10 ms after the previous one),
 * the remaining starts come from the scheduler's own wake-ups, and the last
 * attempt connects. Every endpoint is tried.
 *
 * @returns How many times `step()` was called.
 */
export function runRace(
  addrs: { v6: IPAddr[]; v4: IPAddr[] },
): number {
  const total = addrs.v6.length + addrs.v4.length;
  const he = new HappyEyeballs({
    port: 443,
    maxAttempts: total,
    maxConcurrentAttempts: total,
  });
  let steps = 0;
  let now = 0;
  let started = -1;
  const note = (actions: ReturnType<HappyEyeballs["step"]>) => {
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i]!;
      if (action.type === "start") started = action.attempt;
    }
  };
  note(he.step(now, { type: "answer", family: 6, addrs: addrs.v6 }));
  note(he.step(now, { type: "answer", family: 4, addrs: addrs.v4 }));
  steps += 2;
  while (he.state === "running") {
    now += 1;
    if (started === total - 1) {
      he.step(now, { type: "connected", attempt: started });
      steps++;
      break;
    }
    note(
      he.step(now, {
        type: "failed",
        attempt: started,
        error: REFUSED,
      }),
    );
    steps++;
    const at = he.wakeAt;
    if (at !== undefined && started < total - 1) {
      now = Math.max(now, at);
      const before = started;
      note(he.step(now, TIMER));
      steps++;
      if (started === before) throw new Error("the scheduler stalled");
    }
  }
  if (he.state !== "won") throw new Error(`race ended ${he.state}`);
  return steps;
}

const REFUSED = new Error("connect: connection refused");

/** The families in `runRace`'s answers, for documentation. */
export const RACE_FAMILIES: readonly Family[] = [6, 4];

/**
 * 10,000 callers (by default) join one `Singleflight` key while its work is
 * pending; the work then resolves and every caller gets the value.
 *
 * @returns How many callers saw `shared: true`.
 */
export async function singleflightFanIn(callers = 10_000): Promise<number> {
  const group = new Singleflight<number>();
  let release!: (value: number) => void;
  const work = () => new Promise<number>((resolve) => release = resolve);
  const pending: Promise<{ value: number; shared: boolean }>[] = [];
  for (let i = 0; i < callers; i++) pending.push(group.do("key", work));
  release(42);
  let shared = 0;
  for (const result of await Promise.all(pending)) {
    if (result.shared) shared++;
  }
  return shared;
}
