// Runs on: deno
import { dial } from "@nettrace/nettrace/deno";
import { startLocal } from "./_local.ts";

const local = await startLocal(); // an echo server on localhost
const conn = await dial(`localhost:${local.port}`, {
  timeout: 5_000,
  trace: {
    dnsDone: ({ addrs, coalesced }) => console.log("dns", addrs, { coalesced }),
    connectStart: ({ addr, cause }) => console.log("trying", addr, cause),
    connectDone: ({ addr, error }) => console.log(addr, error?.message ?? "ok"),
  },
});
await conn.write(new TextEncoder().encode("hello"));
console.log("connected to", conn.remoteAddr.hostname);
conn.close();
await local.close();
