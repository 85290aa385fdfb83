/**
 * `deno bench bench/scheduler_bench.ts`: the pure RFC 8305 scheduler,
 * `HappyEyeballs`, driven directly through a whole race of 2, 8 and 64
 * endpoints (see `runRace` in bench/_workloads.ts). Each bench's name says
 * how many `step()` calls one race takes; steps per second = that count ÷
 * the time per iteration (bench/compare.ts prints it directly).
 *
 * @module
 */

import { answers, runRace } from "./_workloads.ts";

for (const endpoints of [2, 8, 64]) {
  const addrs = answers(endpoints);
  const steps = runRace(addrs);
  Deno.bench({
    name: `${endpoints} endpoints (${steps} steps per race)`,
    group: "HappyEyeballs scheduler: one race",
    baseline: endpoints === 2,
    fn() {
      runRace(addrs);
    },
  });
}
