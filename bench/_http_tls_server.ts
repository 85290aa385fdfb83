/**
 * The servers of the undici and TLS benchmarks (bench/_undici.ts,
 * bench/_tls.ts), each in a Node process of its own so that its work is not
 * counted in the process measured. One kind per process:
 *
 *   node bench/_http_tls_server.ts http    an HTTP/1.1 server: 200 "ok"
 *   node bench/_http_tls_server.ts https   the same over TLS
 *   node bench/_http_tls_server.ts tls     a TLS listener that completes the
 *                                          handshake and closes when the
 *                                          client closes its side
 *
 * TLS uses the tests' certificate (tests/fixtures/tls/server.pem, for
 * 127.0.0.1, ::1, localhost and tls.test, signed by ca.pem) and offers ALPN
 * `http/1.1`. It listens on 127.0.0.1 (and ::1 on the same port when it
 * can), prints `{"port":N}` once listening, answers a line "open?" with
 * `{"open":N,"accepted":M}` (connections still open, accepted in
 * all), and exits when stdin closes or
 * on SIGTERM.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Server as NetServer, Socket } from "node:net";
import process from "node:process";
import { createServer as createTlsServer } from "node:tls";

const kind = process.argv[2] ?? "http";
const tlsDir = new URL("../tests/fixtures/tls/", import.meta.url);
const tlsOptions = () => ({
  cert: readFileSync(new URL("server.pem", tlsDir), "utf8"),
  key: readFileSync(new URL("server.key", tlsDir), "utf8"),
  ALPNProtocols: ["http/1.1"],
});

let open = 0;
let accepted = 0;
function track(socket: Socket): void {
  open++;
  accepted++;
  socket.on("error", () => {});
  socket.on("close", () => open--);
}

function makeServer(): NetServer {
  const respond = (
    _req: unknown,
    res: { end(body: string): void },
  ) => res.end("ok");
  switch (kind) {
    case "http": {
      const server = createHttpServer({ noDelay: true }, respond);
      server.on("connection", track);
      return server;
    }
    case "https": {
      const server = createHttpsServer(
        { ...tlsOptions(), noDelay: true },
        respond,
      );
      server.on("connection", track);
      return server;
    }
    case "tls": {
      const server = createTlsServer({ ...tlsOptions() }, (socket) => {
        socket.on("error", () => {});
        socket.on("end", () => socket.destroy());
        socket.resume();
      });
      server.on("connection", track);
      return server;
    }
    default:
      throw new Error(`unknown kind ${kind}: http, https or tls`);
  }
}

function listen(server: NetServer, host: string, port: number) {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port, backlog: 65535 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

const first = makeServer();
await listen(first, "127.0.0.1", 0);
const { port } = first.address() as { port: number };
const servers = [first];
try {
  const second = makeServer();
  await listen(second, "::1", port);
  servers.push(second);
} catch {
  // ::1 on that port is taken or missing: 127.0.0.1 is enough.
}

function stop(): void {
  for (const server of servers) server.close();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.on("data", (data: Uint8Array) => {
  if (new TextDecoder().decode(data).includes("open?")) {
    process.stdout.write(JSON.stringify({ open, accepted }) + "\n");
  }
});
process.stdout.write(JSON.stringify({ port }) + "\n");
