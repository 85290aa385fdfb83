/**
 * The HTTP/1.1 server of the fetch benchmark (bench/fetch_compare.ts), in a
 * Node process of its own so its work is not counted in the process
 * measured. `GET /` answers 200 "ok" and keeps the connection alive;
 * `GET /close` answers the same with `connection: close`, so every client
 * dials anew for the next request. Listens on 127.0.0.1, prints
 * `{"port":N}`, answers a line "open?" with `{"open":N,"accepted":M}`, and
 * exits when stdin closes or on SIGTERM.
 *
 *   node bench/_fetch_server.ts
 *
 * @module
 */

import { createServer } from "node:http";
import type { Socket } from "node:net";
import process from "node:process";
import { createInterface } from "node:readline";

let open = 0;
let accepted = 0;

const server = createServer({ noDelay: true }, (req, res) => {
  if (req.url === "/close") res.setHeader("connection", "close");
  res.end("ok");
});
server.on("connection", (socket: Socket) => {
  open++;
  accepted++;
  socket.on("error", () => {});
  socket.on("close", () => open--);
});
server.keepAliveTimeout = 60_000;

await new Promise<void>((resolve) =>
  server.listen({ host: "127.0.0.1", port: 0, backlog: 65535 }, resolve)
);
const { port } = server.address() as { port: number };

// The parent's questions, one per line; its end (or SIGTERM) stops us.
const control = createInterface({ input: process.stdin });
control.on("line", (line) => {
  if (line.trim() === "open?") console.log(JSON.stringify({ open, accepted }));
});
control.once("close", () => {
  server.close();
  process.exit(0);
});
process.once("SIGTERM", () => control.close());
console.log(JSON.stringify({ port }));
