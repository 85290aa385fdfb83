// The consumer that scripts/pack_test.sh copies into a fresh project where
// the packed @nettrace/nettrace is installed: a loopback dial on bun with the
// timing breakdown, type-checked there with tsc.
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { dial } from "@nettrace/nettrace/bun";
import {
  type DialOptions,
  formatTimings,
  recordTimings,
} from "@nettrace/nettrace";

const server = createServer((socket) => socket.end());
await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
const { port } = server.address() as AddressInfo;

const recorder = recordTimings();
const options: DialOptions = { timeout: 5_000, trace: recorder.trace };
const conn = await dial(`localhost:${port}`, options); // ::1 refused, 127.0.0.1 wins
const { hostname, port: remotePort } = conn.remoteAddr;
console.log("bun: connected to", `${hostname}:${remotePort}`);
console.log(formatTimings(recorder.timings()).split("\n")[0]);
conn.close();
server.close();
