// Runs on: node, deno, bun
import { subscribe } from "node:diagnostics_channel";
import { dial } from "@nettrace/nettrace/node"; // or /deno, /bun
import { startLocal } from "./_local.ts";

const local = await startLocal(); // an echo server on 127.0.0.1
const spans = new Map<number, { address: string; attempts: string[] }>();

subscribe("nettrace:dial:start", (message) => {
  const { dialId, address } = message as { dialId: number; address: string };
  spans.set(dialId, { address, attempts: [] });
});
subscribe("nettrace:connect:done", (message) => {
  const { dialId, addr, error } = message as {
    dialId: number;
    addr: string;
    error?: Error;
  };
  spans.get(dialId)?.attempts.push(`${addr} ${error?.message ?? "ok"}`);
});
subscribe("nettrace:dial:done", (message) => {
  const { dialId, startTime, time, error } = message as {
    dialId: number;
    startTime: number;
    time: number;
    error?: Error;
  };
  const span = spans.get(dialId);
  spans.delete(dialId);
  console.log(
    `dial ${span?.address}: ${(time - startTime).toFixed(1)} ms`,
    error?.message ?? "ok",
    span?.attempts,
  );
});

const conn = await dial(`127.0.0.1:${local.port}`); // any dial, anywhere
conn.close();
await local.close();
