// The consumer that scripts/pack_test.sh copies into a fresh project where
// the packed @nettrace/nettrace is installed: a loopback dial on deno with the
// timing breakdown, type-checked there with deno check. It serves with
// Deno.listen: node:net would make deno check want @types/node in the
// consumer's node_modules.
import { dial } from "@nettrace/nettrace/deno";
import {
  type DialOptions,
  formatTimings,
  recordTimings,
} from "@nettrace/nettrace";

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const { port } = listener.addr;

const recorder = recordTimings();
const options: DialOptions = { timeout: 5_000, trace: recorder.trace };
const conn = await dial(`localhost:${port}`, options); // ::1 refused, 127.0.0.1 wins
const { hostname, port: remotePort } = conn.remoteAddr;
console.log("deno: connected to", `${hostname}:${remotePort}`);
console.log(formatTimings(recorder.timings()).split("\n")[0]);
conn.close();
listener.close();
