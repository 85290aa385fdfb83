// Runs on: node, deno, bun
import { formatTimings, recordTimings } from "@nettrace/nettrace";
import { dial } from "@nettrace/nettrace/node"; // or /deno, /bun
import { startLocal } from "./_local.ts";

const local = await startLocal(); // a TLS server with a test CA
const recorder = recordTimings(); // one recorder per dial
const conn = await dial(`localhost:${local.tlsPort}`, {
  trace: recorder.trace,
  tls: { alpnProtocols: ["h2", "http/1.1"], caCerts: [local.caCert] },
});
const t = recorder.timings(); // plain data: JSON.stringify(t) keeps it all
console.log(JSON.stringify(t.curl)); // { namelookup, connect, appconnect, total } in ms
console.log(formatTimings(t));
conn.close();
await local.close();
