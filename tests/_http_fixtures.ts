/**
 * HTTP servers on loopback for the fetch tests: HTTP/1.1 (plain or TLS
 * with the test CA) and HTTP/2 over TLS, built on `node:http`,
 * `node:https` and `node:http2` so they run on Deno, Bun and Node.
 *
 * @module
 */

import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from "node:http2";
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { TEST_CA } from "./_tls_fixtures.ts";

export { TEST_CA };

/** A request handler of either protocol. */
export type Handler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

/** A listening server, what it saw, and how to stop it. */
export interface HttpServer {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** `method url` of every request, in arrival order. */
  readonly requests: string[];
  close(): Promise<void>;
}

const TLS_DIR = new URL("./fixtures/tls/", import.meta.url);
const pem = (name: string) => readFileSync(new URL(name, TLS_DIR), "utf8");

/** Answers `<method> <url>` as text. */
export const echo: Handler = (req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end(`${req.method} ${req.url}`);
};

async function listen(
  server: Server | Http2SecureServer,
  host: string,
  requests: string[],
): Promise<HttpServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const onConnection = (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  // TLS servers: count the raw TCP connections.
  server.on("connection", onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: 0 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as { port: number };
  return {
    port,
    get connections() {
      return connections;
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function recording(handler: Handler, requests: string[]): Handler {
  return (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  };
}

/** Options for {@linkcode startHttpServer}. */
export interface HttpServerOptions {
  /** `"::1"` for IPv6. @default {"127.0.0.1"} */
  host?: string;
  /** Serve HTTPS with the test certificate. @default {false} */
  tls?: boolean;
  /** The certificate: the test CA's, or one of another CA. */
  cert?: "server" | "untrusted";
}

/** An HTTP/1.1 server (HTTPS with `tls`). */
export function startHttpServer(
  handler: Handler = echo,
  options: HttpServerOptions = {},
): Promise<HttpServer> {
  const requests: string[] = [];
  const cert = options.cert ?? "server";
  const listener = recording(handler, requests) as (
    req: IncomingMessage,
    res: ServerResponse,
  ) => void;
  const server = options.tls
    ? createHttpsServer({
      cert: pem(`${cert}.pem`),
      key: pem(`${cert}.key`),
      ALPNProtocols: ["http/1.1"],
    }, listener) as unknown as Server
    : createHttpServer(listener);
  return listen(server, options.host ?? "127.0.0.1", requests);
}

/** An HTTP/2 server over TLS (h2 by ALPN, HTTP/1.1 allowed). */
export function startH2Server(
  handler: Handler = echo,
  options: { host?: string } = {},
): Promise<HttpServer> {
  const requests: string[] = [];
  const server = createSecureServer({
    cert: pem("server.pem"),
    key: pem("server.key"),
    allowHTTP1: true,
  }, recording(handler, requests) as never);
  return listen(server, options.host ?? "127.0.0.1", requests);
}
