/**
 * The name path's same-process A/B (bench/README.md, "Issue 16: the name
 * path"): the adapter of another checkout (BASE_DIR, e.g. a `git archive`
 * of the commit before a change) and this checkout's, loaded side by side
 * in one process, dial the same name in interleaved blocks; process CPU
 * time (user + system, `process.cpuUsage()`) per connect + close.
 *
 *   <runtime> bench/_name_ab.ts BASE_DIR [HOST] [ROUNDS] [BLOCK]
 *   NETTRACE_AB_SWAP=1 <runtime> bench/_name_ab.ts …   (load order swapped)
 *
 * HOST `localhost` (default; answered by nettrace itself) or a `*.test`
 * name, served (A 127.0.0.1, AAAA ::1, TTL 0) by the DNS fixture in a
 * process of its own and asked through each side's name-server resolver.
 * Every connection stays in TIME_WAIT on the listener's one port: keep
 * 2 × (300 + ROUNDS × BLOCK) under ~10,000.
 *
 * @module
 */

import process from "node:process";
import {
  type Closable,
  runtime,
  startChild,
  startListener,
} from "./_native.ts";

const baseDir = process.argv[2];
if (baseDir === undefined) {
  throw new Error("usage: bench/_name_ab.ts BASE_DIR [HOST] [ROUNDS] [BLOCK]");
}
const host = process.argv[3] ?? "localhost";
const rounds = Number(process.argv[4] ?? 12);
const block = Number(process.argv[5] ?? 400);
// The module loaded second can run a few % faster on Node (shared
// internals see its shapes last): NETTRACE_AB_SWAP=1 loads this
// checkout's first; average the ratios of both orders.
const swap = process.env.NETTRACE_AB_SWAP === "1";
const first = await import(
  swap ? `../runtimes/${runtime}.ts` : `${baseDir}/runtimes/${runtime}.ts`
);
const second = await import(
  swap ? `${baseDir}/runtimes/${runtime}.ts` : `../runtimes/${runtime}.ts`
);
const [base, mine] = swap ? [second, first] : [first, second];
const listener = await startListener(["127.0.0.1", "::1"], 1);
let dns: { close(): Promise<void> } | undefined;
type Dial = (address: string) => Promise<Closable>;
let sides: [string, Dial][] = [["base", base.dial], ["new", mine.dial]];
if (host.endsWith(".test")) {
  const zone = { [host]: { A: ["127.0.0.1"], AAAA: ["::1"], ttl: 0 } };
  const child = await startChild("_dns.ts", [JSON.stringify(zone), "0"]);
  dns = child;
  const nameServer = { address: "127.0.0.1", port: child.port };
  const baseResolver = base.createResolver({ nameServer });
  const myResolver = mine.createResolver({ nameServer });
  sides = [
    ["base", (a) => base.dial(a, { resolver: baseResolver })],
    ["new", (a) => mine.dial(a, { resolver: myResolver })],
  ];
}
const address = `${host}:${listener.port}`;
const cpu: Record<string, number[]> = { base: [], new: [] };
for (let i = 0; i < 300; i++) {
  for (const [, dial] of sides) (await dial(address)).close();
}
for (let r = 0; r < rounds; r++) {
  for (const [name, dial] of r % 2 === 0 ? sides : [...sides].reverse()) {
    const before = process.cpuUsage();
    for (let i = 0; i < block; i++) (await dial(address)).close();
    const used = process.cpuUsage(before);
    cpu[name]!.push((used.user + used.system) / block);
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const ratios = cpu.base!.map((b, i) => cpu.new![i]! / b);
console.log(
  `${runtime} ${host}: base ${median(cpu.base!).toFixed(1)} µs, new ${
    median(cpu.new!).toFixed(1)
  } µs CPU per connect + close; new / base ${
    median(ratios).toFixed(3)
  } (median of the rounds' ratios)`,
);
await listener.close();
await dns?.close();
process.exit(0);
