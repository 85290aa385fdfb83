/**
 * The core's front alone, no I/O: `dial()` of an IP literal with a dialer
 * that resolves at once, per call in ns of process CPU time, for plain options, an options
 * object, a no-op trace. Run: node bench/_front_micro.ts (or bun, deno run).
 *
 * @module
 */
import process from "node:process";
import { dial, type Trace } from "../mod.ts";
import type { Dialer, Resolver } from "../src/types.ts";
import { acceptNeverAborted } from "../src/_shared_signal.ts";
import { markPlain } from "../src/_dial/options.ts";

const conn = { close() {} };
const dialer: Dialer<typeof conn> = {
  connect: () => Promise.resolve(conn),
  close: () => {},
};
acceptNeverAborted(dialer);
const resolver: Resolver = { lookup: () => Promise.resolve([]) };
const plain = markPlain({ resolver, dialer, sourceAddress: () => undefined });
const noop: Trace = {
  dnsStart() {},
  dnsDone() {},
  connectStart() {},
  connectDone() {},
};
const variants: Record<string, () => Promise<unknown>> = {
  "plain options": () => dial("127.0.0.1:8080", plain),
  "options object": () =>
    dial("127.0.0.1:8080", { resolver, dialer, sourceAddress: undefined }),
  "no-op trace": () =>
    dial("127.0.0.1:8080", { resolver, dialer, trace: noop }),
};
const N = 20_000;
const results: Record<string, number[]> = {};
for (let round = 0; round < 22; round++) {
  for (const [name, run] of Object.entries(variants)) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) await run();
    const c = process.cpuUsage(c0);
    if (round >= 2) {
      (results[name] ??= []).push((c.user + c.system) / N * 1000);
    }
  }
}
for (const [name, xs] of Object.entries(results)) {
  xs.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(16)} ${xs[xs.length >> 1]!.toFixed(0)} ns/dial (min ${
      xs[0]!.toFixed(0)
    })`,
  );
}
