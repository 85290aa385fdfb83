/**
 * Where the bytes of a pending dial go on Bun: the JSC heap's object counts
 * (`heapStats()` of `bun:jsc`) before and after starting 10,000 dials,
 * nothing connected yet, per dial. Bun only.
 *
 *   bun bench/_bun_heap.ts native|nettrace
 *
 * @module
 */
// @ts-ignore: bun:jsc exists on Bun only
import { heapStats } from "bun:jsc";
import process from "node:process";
import { startListener } from "./_native.ts";

interface Stats {
  heapSize: number;
  objectCount: number;
  objectTypeCounts: Record<string, number>;
}
interface BunGlobal {
  connect(options: object): Promise<{ end(): void }>;
  gc(force: boolean): void;
}
const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
const stats = heapStats as () => Stats;

const which = process.argv[2] ?? "nettrace";
const mod = which === "native" ? undefined : await import("../runtimes/bun.ts");
const listener = await startListener(["127.0.0.1"]);
const port = listener.port;
const handlers = {
  data() {},
  open() {},
  close() {},
  error() {},
  end() {},
  connectError() {},
};
const close = (c: { close?(): void; end?(): void }) =>
  c.close ? c.close() : c.end!();
const go = (): Promise<{ close?(): void; end?(): void }> =>
  mod
    ? mod.dial(`127.0.0.1:${port}`)
    : bun.connect({ hostname: "127.0.0.1", port, socket: handlers });
for (let i = 0; i < 300; i++) close(await go());
bun.gc(true);
const before = stats();
const pending: Promise<{ close?(): void; end?(): void }>[] = [];
for (let i = 0; i < 10_000; i++) pending.push(go());
bun.gc(true);
const during = stats();
console.log(
  `${which}: ${
    ((during.heapSize - before.heapSize) / 10_000).toFixed(0)
  } B and ${
    ((during.objectCount - before.objectCount) / 10_000).toFixed(2)
  } objects per pending dial`,
);
for (const [type, n] of Object.entries(during.objectTypeCounts)) {
  const d = n - (before.objectTypeCounts[type] ?? 0);
  if (Math.abs(d) >= 5_000) console.log(`  ${type.padEnd(24)} ${d / 10_000}`);
}
for (const conn of await Promise.all(pending)) close(conn);
await listener.close();
process.exit(0);
