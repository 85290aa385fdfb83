/**
 * createFetch() against undici's own fetch (same npm undici 8, its default
 * `Agent`) and the runtime's native `fetch`, per request on loopback:
 *
 * - keep-alive: `GET /`, the connection reused (every client pools);
 * - fresh connection: `GET /close`, the server answers `connection:
 *   close`, so each request dials anew.
 *
 * Variants run interleaved (one request of each per round, the order
 * rotating from round to round), each request
 * timed from the call to its body read; the table shows the median and
 * the ratio to undici's fetch. The server is a separate Node process
 * (bench/_fetch_server.ts). Runs on each runtime:
 *
 *   node bench/fetch_compare.ts
 *   bun bench/fetch_compare.ts
 *   deno run -A bench/fetch_compare.ts
 *
 * NETTRACE_BENCH_QUICK=1 for a short run.
 *
 * @module
 */

import process from "node:process";
import { Agent, fetch as undiciFetch } from "undici/index.js";
import { createFetch, recordRequestTimings } from "../integrations/fetch.ts";
import { runtime, runtimeVersion, startChild } from "./_native.ts";

type Get = (url: string) => Promise<Response>;

interface Variant {
  name: string;
  get: Get;
  close(): Promise<void>;
}

const quick = process.env.NETTRACE_BENCH_QUICK === "1";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function once(get: Get, url: string): Promise<number> {
  const start = performance.now();
  const response = await get(url);
  const text = await response.text();
  const end = performance.now();
  if (response.status !== 200 || text !== "ok") {
    throw new Error(`unexpected response ${response.status} ${text}`);
  }
  return end - start;
}

function variants(): Variant[] {
  const agent = new Agent();
  const plain = createFetch();
  const traced = createFetch();
  return [
    {
      name: "undici fetch, default Agent",
      get: (url) =>
        undiciFetch(url, { dispatcher: agent }) as unknown as Promise<
          Response
        >,
      close: () => agent.close(),
    },
    { name: "createFetch()", get: plain, close: plain.close },
    {
      name: "createFetch(), recordRequestTimings() trace",
      get: (url) => traced(url, { trace: recordRequestTimings().trace }),
      close: traced.close,
    },
    {
      name: `native fetch (${runtime})`,
      get: (url) => fetch(url),
      close: () => Promise.resolve(),
    },
  ];
}

async function scenario(
  list: Variant[],
  url: string,
  warmup: number,
  rounds: number,
): Promise<number[]> {
  const samples: number[][] = list.map(() => []);
  for (let r = 0; r < warmup + rounds; r++) {
    // Rotate who goes first: a request right after another one's
    // connection closed pays for the server's work on that close.
    for (let k = 0; k < list.length; k++) {
      const i = (r + k) % list.length;
      const ms = await once(list[i].get, url);
      if (r >= warmup) samples[i].push(ms);
    }
  }
  return samples.map(median);
}

const server = await startChild("_fetch_server.ts", []);
const base = `http://127.0.0.1:${server.port}`;
const list = variants();
try {
  const keepAlive = await scenario(
    list,
    `${base}/`,
    quick ? 50 : 500,
    quick ? 200 : 3000,
  );
  const fresh = await scenario(
    list,
    `${base}/close`,
    quick ? 20 : 200,
    quick ? 100 : 1500,
  );
  const us = (ms: number) => `${Math.round(ms * 1000)} µs`;
  const ratio = (ms: number, of: number) => `×${(ms / of).toFixed(2)}`;
  console.log(`fetch per request, ${runtime} ${runtimeVersion()}`);
  console.log(
    "| variant | keep-alive | ratio | fresh connection | ratio |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  for (let i = 0; i < list.length; i++) {
    console.log(
      `| ${list[i].name} | ${us(keepAlive[i])} | ${
        ratio(keepAlive[i], keepAlive[0])
      } | ${us(fresh[i])} | ${ratio(fresh[i], fresh[0])} |`,
    );
  }
} finally {
  for (const v of list) await v.close();
  await server.close();
}
