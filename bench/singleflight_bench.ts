/**
 * `deno bench bench/singleflight_bench.ts`: 10,000 concurrent callers of
 * one `Singleflight` key (one work function call, 10,000 results).
 *
 * @module
 */

import { singleflightFanIn } from "./_workloads.ts";

Deno.bench({
  name: "10,000 concurrent callers on one key",
  group: "Singleflight",
  async fn() {
    const shared = await singleflightFanIn(10_000);
    if (shared !== 10_000) throw new Error(`${shared} callers shared`);
  },
});
