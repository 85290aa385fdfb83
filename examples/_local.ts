/**
 * The local servers every example dials, so each runs as written from a
 * clone, on loopback only (shared/TESTING.md's rule): a TCP echo server on
 * 127.0.0.1 and ::1 (one port), a TLS echo server and an HTTPS server with
 * the test certificate (valid for `localhost`, `tls.test`, 127.0.0.1, ::1;
 * its CA is `caCert`), and a DNS server that serves the `.test` names the
 * examples use and nothing else. Works unchanged on Deno, Bun and Node
 * (node:net, node:tls, node:https, node:dgram).
 *
 * @module
 */

import { createServer as createHttpsServer } from "node:https";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { startDnsServer } from "../tests/_dns_server.ts";
import { startTlsServer, TEST_CA } from "../tests/_tls_fixtures.ts";
import { readFileSync } from "node:fs";

/** The running local servers. */
export interface Local {
  /** The TCP echo server's port (on 127.0.0.1 and ::1). */
  port: number;
  /** The TLS echo server's port (127.0.0.1; ALPN h2 and http/1.1). */
  tlsPort: number;
  /** The HTTPS server's port (127.0.0.1; answers `{"status":"ok"}`). */
  httpsPort: number;
  /**
   * The DNS server, for `createResolver({ nameServer })`. It serves
   * `service.test` (A 127.0.0.1, AAAA ::1), `db.test` (A 127.0.0.1 only),
   * `tls.test` and `api.tls.test` (A 127.0.0.1).
   */
  nameServer: { address: string; port: number };
  /** The PEM of the CA that signed the servers' certificate. */
  caCert: string;
  /** Stops every server. */
  close(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

function echoServer(sockets: Set<Socket>): Server {
  return createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.on("data", (data) => socket.write(data));
    socket.on("end", () => socket.end());
  });
}

/** An echo server on 127.0.0.1 and one on ::1, on the same free port. */
async function echoPair(
  sockets: Set<Socket>,
): Promise<{ v4: Server; v6: Server; port: number }> {
  for (let tries = 1;; tries++) {
    const v4 = echoServer(sockets);
    await listen(v4, "127.0.0.1", 0);
    const { port } = v4.address() as AddressInfo;
    const v6 = echoServer(sockets);
    try {
      await listen(v6, "::1", port);
      return { v4, v6, port };
    } catch (error) {
      // The port is free on 127.0.0.1 but taken on ::1: try another one.
      await closeServer(v4, sockets);
      if (tries >= 5) throw error;
    }
  }
}

/**
 * Starts the local servers.
 *
 * @returns The servers; `close()` them at the end.
 */
export async function startLocal(): Promise<Local> {
  const sockets = new Set<Socket>();
  const { v4, v6, port } = await echoPair(sockets);

  const tls = await startTlsServer({ alpnProtocols: ["h2", "http/1.1"] });
  const dir = new URL("../tests/fixtures/tls/", import.meta.url);
  const https = createHttpsServer({
    key: readFileSync(new URL("server.key", dir)),
    cert: readFileSync(new URL("server.pem", dir)),
  }, (_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end('{"status":"ok"}');
  });
  const httpsSockets = new Set<Socket>();
  https.on("connection", (socket: Socket) => {
    httpsSockets.add(socket);
    socket.on("close", () => httpsSockets.delete(socket));
  });
  await listen(https, "127.0.0.1", 0);
  const httpsPort = (https.address() as AddressInfo).port;

  const dns = await startDnsServer({
    zone: {
      "service.test": { A: ["127.0.0.1"], AAAA: ["::1"] },
      "db.test": { A: ["127.0.0.1"] },
      "tls.test": { A: ["127.0.0.1"] },
      "api.tls.test": { A: ["127.0.0.1"] },
    },
  });

  return {
    port,
    tlsPort: tls.port,
    httpsPort,
    nameServer: dns.nameServer,
    caCert: TEST_CA,
    async close() {
      await Promise.all([
        closeServer(v4, sockets),
        closeServer(v6, sockets),
        tls.close(),
        closeServer(https as unknown as Server, httpsSockets),
        dns.close(),
      ]);
    },
  };
}
