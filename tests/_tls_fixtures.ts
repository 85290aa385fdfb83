/**
 * Loopback TLS servers for the TLS tests, on `node:tls` (which Deno, Bun
 * and Node all provide, checked on Deno 2.9, Bun 1.4 and Node 24): a TLS
 * echo server with a choice of certificate and ALPN list that records the
 * SNI name and protocol of each handshake, and a server that accepts TCP,
 * reads the ClientHello and never answers. The certificates are in
 * `tests/fixtures/tls/` (made by `scripts/make_tls_fixtures.sh`).
 * Everything a fixture opens is closed by its `close()`.
 *
 * @module
 */

import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import type { Socket } from "node:net";
import { readFileSync } from "node:fs";
import {
  type LoopbackHost,
  startServer,
  type TcpServer,
} from "./_tcp_fixtures.ts";

const DIR = new URL("./fixtures/tls/", import.meta.url);

function pem(name: string): string {
  return readFileSync(new URL(name, DIR), "utf8");
}

/** The test CA's certificate (PEM): what the tests trust. */
export const TEST_CA: string = pem("ca.pem");

/** An unrelated CA's certificate (PEM): trusting it verifies nothing here. */
export const OTHER_CA: string = pem("other_ca.pem");

/** The names the server certificates are valid for, in SAN order. */
export const CERT_NAMES: readonly string[] = [
  "localhost",
  "tls.test",
  "race.test",
  "*.tls.test",
];

/** The IP addresses the server certificates are valid for. */
export const CERT_IPS: readonly string[] = ["127.0.0.1", "::1"];

/**
 * Which certificate a server shows: `"server"` (signed by the test CA),
 * `"expired"` (signed by it, valid only in January 2000) or `"untrusted"`
 * (signed by an unrelated CA).
 */
export type CertChoice = "server" | "expired" | "untrusted";

/** One handshake as the server saw it. */
export interface ServerHandshake {
  /** The SNI name the client sent; `false` when it sent none. */
  servername: string | false;
  /** The ALPN protocol the server picked; `false` when none. */
  alpnProtocol: string | false;
}

/** A running TLS test server. */
export interface TlsServer {
  /** The address it listens on. */
  readonly host: LoopbackHost;
  /** The port it listens on. */
  readonly port: number;
  /** TCP connections accepted. */
  readonly connections: number;
  /** TCP connections the client closed or reset (or that failed). */
  readonly closed: number;
  /** The handshakes that completed, in order. */
  readonly handshakes: readonly ServerHandshake[];
  /** The errors of handshakes that failed on the server's side. */
  readonly clientErrors: readonly Error[];
  /**
   * Waits until `predicate()` holds; checked now and after every accept,
   * handshake, failed handshake and close (no timers).
   *
   * @param predicate What to wait for.
   * @returns When it holds.
   */
  until(predicate: () => boolean): Promise<void>;
  /** Stops listening, destroys every connection, resolves when closed. */
  close(): Promise<void>;
}

/** Options for {@linkcode startTlsServer}. */
export interface TlsServerOptions {
  /**
   * The loopback address to listen on.
   * @default {"127.0.0.1"}
   */
  host?: LoopbackHost;
  /**
   * The port; 0 picks a free one. A taken port rejects with `code`
   * `"EADDRINUSE"`.
   * @default {0}
   */
  port?: number;
  /**
   * The certificate to show.
   * @default {"server"}
   */
  cert?: CertChoice;
  /**
   * The ALPN protocols the server accepts; a client offering none of them
   * gets a `no_application_protocol` alert. Unset: no ALPN.
   * @default {undefined}
   */
  alpnProtocols?: string[];
  /**
   * What to do after the handshake: `"echo"` sends everything back,
   * `"close"` ends the connection at once.
   * @default {"echo"}
   */
  onSecure?: "echo" | "close";
}

/**
 * Starts a TLS server on loopback.
 *
 * @param options Where to listen, the certificate, ALPN, behaviour.
 * @returns The running server.
 */
export async function startTlsServer(
  options: TlsServerOptions = {},
): Promise<TlsServer> {
  const host = options.host ?? "127.0.0.1";
  const cert = options.cert ?? "server";
  const raw: Socket[] = [];
  const handshakes: ServerHandshake[] = [];
  const clientErrors: Error[] = [];
  const waiters = new Set<() => void>();
  let connections = 0;
  let closed = 0;
  const changed = () => {
    for (const check of [...waiters]) check();
  };
  const server = createTlsServer({
    key: pem(`${cert}.key`),
    cert: pem(`${cert}.pem`),
    ALPNProtocols: options.alpnProtocols,
  }, (socket: TLSSocket) => {
    socket.on("error", () => {});
    handshakes.push({
      servername: (socket as TLSSocket & { servername?: string | false })
        .servername || false,
      alpnProtocol: socket.alpnProtocol ?? false,
    });
    changed();
    if (options.onSecure === "close") socket.end();
    else socket.pipe(socket);
  });
  server.on("connection", (socket: Socket) => {
    raw.push(socket);
    connections++;
    let seen = false;
    const gone = () => {
      if (seen) return;
      seen = true;
      closed++;
      changed();
    };
    socket.on("end", gone);
    socket.on("close", gone);
    socket.on("error", gone);
    changed();
  });
  server.on("tlsClientError", (err: Error) => {
    clientErrors.push(err);
    changed();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: options.port ?? 0 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as { port: number };
  return {
    host,
    port,
    get connections() {
      return connections;
    },
    get closed() {
      return closed;
    },
    handshakes,
    clientErrors,
    until(predicate) {
      if (predicate()) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const check = () => {
          if (!predicate()) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    async close() {
      const done = new Promise<void>((resolve) =>
        server.close(() => resolve())
      );
      await Promise.all(raw.map(destroyed));
      await done;
    },
  };
}

function destroyed(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    socket.once("close", () => resolve());
    socket.destroy();
  });
}

/**
 * Reads the SNI name from the start of a TLS ClientHello.
 *
 * @param bytes What the client sent first (at least its first record).
 * @returns The host name; `false` when the hello has no SNI extension;
 *   `undefined` when the bytes are not a whole ClientHello record.
 */
export function sniOf(bytes: Uint8Array): string | false | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Record header: type 22 (handshake), version, length.
  if (bytes.byteLength < 5 || bytes[0] !== 22) return undefined;
  const end = 5 + view.getUint16(3);
  if (bytes.byteLength < end || bytes[5] !== 1) return undefined;
  // Handshake header (4), client_version (2), random (32).
  let at = 5 + 4 + 2 + 32;
  at += 1 + bytes[at]; // session id
  at += 2 + view.getUint16(at); // cipher suites
  at += 1 + bytes[at]; // compression methods
  if (at + 2 > end) return false;
  const extensionsEnd = at + 2 + view.getUint16(at);
  at += 2;
  while (at + 4 <= extensionsEnd) {
    const type = view.getUint16(at);
    const length = view.getUint16(at + 2);
    at += 4;
    if (type === 0) {
      // server_name_list: length (2), name_type (1), name length (2), name.
      const nameLength = view.getUint16(at + 3);
      return new TextDecoder().decode(
        bytes.subarray(at + 5, at + 5 + nameLength),
      );
    }
    at += length;
  }
  return false;
}

/** A server that accepts TCP and never answers the ClientHello. */
export interface StallServer extends TcpServer {
  /** Bytes received in all (the ClientHellos). */
  readonly received: number;
  /**
   * The SNI name of each connection's ClientHello, in arrival order
   * (`false`: none sent).
   */
  readonly snis: readonly (string | false | undefined)[];
}

/** Options for {@linkcode startStallServer}. */
export interface StallServerOptions {
  /**
   * The loopback address to listen on.
   * @default {"127.0.0.1"}
   */
  host?: LoopbackHost;
  /**
   * The port; 0 picks a free one. A taken port rejects with `code`
   * `"EADDRINUSE"`.
   * @default {0}
   */
  port?: number;
  /**
   * Close each connection as soon as its first bytes (the ClientHello)
   * arrive, instead of stalling.
   * @default {false}
   */
  closeOnHello?: boolean;
}

/**
 * Starts a TCP server that reads what the client sends (its ClientHello)
 * and never answers: a TLS handshake with it hangs until aborted. Its
 * `eofs` counts the clients that closed (what an abort must cause). Built
 * on the TCP fixture's `startServer`.
 *
 * @param options Where to listen; whether to hang up instead.
 * @returns The running server.
 */
export async function startStallServer(
  options: StallServerOptions = {},
): Promise<StallServer> {
  let received = 0;
  const snis: (string | false | undefined)[] = [];
  // The TCP fixture's until() checks on accept and close; these waiters
  // are checked when bytes arrive too.
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const check of [...waiters]) check();
  };
  const server = await startServer({
    host: options.host,
    port: options.port,
    onConnection: (socket) => {
      let hello = new Uint8Array(0);
      let parsed = false;
      socket.on("data", (chunk: Uint8Array) => {
        received += chunk.byteLength;
        if (!parsed) {
          const joined = new Uint8Array(hello.byteLength + chunk.byteLength);
          joined.set(hello, 0);
          joined.set(chunk, hello.byteLength);
          hello = joined;
          const sni = sniOf(hello);
          if (sni !== undefined) {
            parsed = true;
            snis.push(sni);
          }
        }
        if (options.closeOnHello) socket.destroy();
        notify();
      });
    },
  });
  const base = server.until.bind(server);
  const stall: StallServer = {
    host: server.host,
    port: server.port,
    get connections() {
      return server.connections;
    },
    get eofs() {
      return server.eofs;
    },
    sockets: server.sockets,
    get received() {
      return received;
    },
    snis,
    until(predicate: () => boolean): Promise<void> {
      if (predicate()) return Promise.resolve();
      return new Promise<void>((resolve) => {
        let done = false;
        const check = () => {
          if (done || !predicate()) return;
          done = true;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        base(() => {
          check();
          return done;
        });
      });
    },
    close: () => server.close(),
  };
  return stall;
}
