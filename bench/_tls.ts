/**
 * The TLS scenario of the cross-runtime comparison (bench/compare.ts): the
 * runtime's own TLS connect — `Deno.connectTls` (+ `handshake()`),
 * `Bun.connect` with `tls` (until its `handshake` handler),
 * `tls.connect` (until `secureConnect`) — beside nettrace's TLS dial
 * (`dial(address, { tls })`), to a Node TLS listener in another process on
 * 127.0.0.1 with the tests' certificate, both sides trusting the tests' CA
 * (tests/fixtures/tls/ca.pem) and verifying the address. Connect and
 * handshake are timed together; the close is not.
 *
 * @module
 */

import { connect as tlsConnect } from "node:tls";
import type { Closable } from "./_native.ts";
import { type Adapter, runtime, startChild } from "./_native.ts";
import type { ScenarioResult } from "./_results.ts";
import { type Measure, testCA } from "./_undici.ts";

/** The slice of the Deno global the native TLS connect uses. */
interface DenoTlsLike {
  connectTls(options: {
    hostname: string;
    port: number;
    caCerts?: string[];
  }): Promise<DenoTlsConn>;
  connect(options: { hostname: string; port: number }): Promise<
    Closable & { setNoDelay(on: boolean): void }
  >;
  startTls(
    conn: Closable,
    options: { hostname: string; caCerts?: string[] },
  ): Promise<DenoTlsConn>;
}

type DenoTlsConn = Closable & { handshake(): Promise<unknown> };

interface BunTlsSocket {
  data: { resolve(): void; reject(error: Error): void; noDelay: boolean };
  end(): void;
  terminate(): void;
  setNoDelay(on: boolean): void;
}

/** The slice of the Bun global the native TLS connect uses. */
interface BunTlsLike {
  connect(options: {
    hostname: string;
    port: number;
    tls: { ca: string };
    data: BunTlsSocket["data"];
    socket: Record<string, (socket: BunTlsSocket, ...args: never[]) => void>;
  }): Promise<BunTlsSocket>;
}

const BUN_TLS_HANDLERS = {
  open(socket: BunTlsSocket) {
    if (socket.data.noDelay) socket.setNoDelay(true);
  },
  data() {},
  close(socket: BunTlsSocket) {
    socket.data.reject(new Error("closed before the handshake"));
  },
  end() {},
  error(socket: BunTlsSocket, error: Error) {
    socket.data.reject(error);
  },
  connectError(socket: BunTlsSocket, error: Error) {
    socket.data.reject(error);
  },
  handshake(
    socket: BunTlsSocket,
    success: boolean,
    authorizationError: Error | null,
  ) {
    if (success && authorizationError === null) socket.data.resolve();
    else {
      socket.data.reject(authorizationError ?? new Error("handshake failed"));
    }
  },
};

function nodeTls(
  host: string,
  port: number,
  ca: string,
  noDelay = false,
): Promise<Closable> {
  return new Promise<Closable>((resolve, reject) => {
    const socket = tlsConnect({ host, port, ca: [ca] });
    // Kept until the TCP connect, then applied before the handshake.
    if (noDelay) socket.setNoDelay(true);
    const onError = (err: Error) => {
      socket.off("secureConnect", onSecure);
      socket.destroy();
      reject(err);
    };
    const onSecure = () => {
      socket.off("error", onError);
      socket.on("error", () => {});
      resolve({ close: () => socket.destroy() });
    };
    socket.once("secureConnect", onSecure);
    socket.once("error", onError);
  });
}

async function denoTls(
  host: string,
  port: number,
  ca: string,
  noDelay = false,
): Promise<Closable> {
  const deno = (globalThis as unknown as { Deno: DenoTlsLike }).Deno;
  let conn: DenoTlsConn;
  if (noDelay) {
    // Deno.connectTls cannot set TCP_NODELAY before its handshake.
    const tcp = await deno.connect({ hostname: host, port });
    tcp.setNoDelay(true);
    conn = await deno.startTls(tcp, { hostname: host, caCerts: [ca] });
  } else {
    conn = await deno.connectTls({ hostname: host, port, caCerts: [ca] });
  }
  try {
    await conn.handshake();
  } catch (error) {
    conn.close();
    throw error;
  }
  return conn;
}

async function bunTls(
  host: string,
  port: number,
  ca: string,
  noDelay = false,
): Promise<Closable> {
  const bun = (globalThis as unknown as { Bun: BunTlsLike }).Bun;
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const handshake = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const socket = await bun.connect({
    hostname: host,
    port,
    tls: { ca },
    data: { resolve, reject, noDelay },
    socket: BUN_TLS_HANDLERS as unknown as Record<
      string,
      (socket: BunTlsSocket, ...args: never[]) => void
    >,
  });
  try {
    await handshake;
  } catch (error) {
    socket.terminate();
    throw error;
  }
  return { close: () => socket.end() };
}

/**
 * The runtime's own TLS connect to `host:port`, trusting `ca`, resolved
 * once the handshake is done; with `noDelay`, TCP_NODELAY on before the
 * handshake (Deno: `Deno.connect` + `setNoDelay` + `Deno.startTls`; Bun:
 * `setNoDelay` in `open`; Node: `setNoDelay` before the connect), as nettrace's adapters
 * set their sockets up.
 */
export const nativeTlsConnect: (
  host: string,
  port: number,
  ca: string,
  noDelay?: boolean,
) => Promise<Closable> = runtime === "deno"
  ? denoTls
  : runtime === "bun"
  ? bunTls
  : nodeTls;

/**
 * Runs the TLS scenario on this runtime.
 *
 * @param adapter This runtime's nettrace adapter.
 * @param measure compare.ts's timing loop.
 * @returns The rows: native, nettrace.
 */
export async function scenarioTls(
  adapter: Adapter,
  measure: Measure,
): Promise<ScenarioResult> {
  const ca = testCA();
  const server = await startChild("_http_tls_server.ts", ["tls"]);
  const host = "127.0.0.1";
  const port = server.port;
  const address = `${host}:${port}`;
  const tls = { caCerts: [ca] };
  try {
    try {
      (await adapter.dial(address, { tls })).close();
    } catch (error) {
      // The adapter cannot dial TLS (yet): say so instead of failing the run.
      return {
        id: "tls",
        title: TITLE,
        method: METHOD,
        rows: [],
        skipped: `nettrace's TLS dial failed: ${
          error instanceof Error ? error.message : String(error)
        }`,
      };
    }
    const rows = await measure.interleaved([
      { name: "native", run: () => nativeTlsConnect(host, port, ca) },
      {
        name: "native + TCP_NODELAY",
        run: () => nativeTlsConnect(host, port, ca, true),
      },
      { name: "nettrace", run: () => adapter.dial(address, { tls }) },
    ], { warmup: measure.n(100, 20), rounds: measure.n(1000, 100) });
    const nodelay = rows.find((r) => r.name === "native + TCP_NODELAY")!;
    const nettrace = rows.find((r) => r.name === "nettrace")!;
    nettrace.extra = {
      "÷ native + TCP_NODELAY": nettrace.median / nodelay.median,
    };
    return { id: "tls", title: TITLE, method: METHOD, rows };
  } finally {
    await server.close();
  }
}

const TITLE = "TLS connect on loopback (127.0.0.1, TLS 1.3, P-256 certificate)";
const METHOD =
  "A Node TLS listener in another process with the tests' certificate; both sides trust the tests' CA and verify the address (no SNI). native: Deno.connectTls + handshake(), Bun.connect with tls (until its handshake handler), tls.connect (until secureConnect). nettrace: dial(address, { tls: { caCerts } }). Connect + handshake timed together; sequential, interleaved, order rotated each round; no session resumption on either side. `native + TCP_NODELAY` is the runtime's TLS connect with TCP_NODELAY on before the handshake, as nettrace's adapters set their sockets up: without it Deno's handshake waits out the 40 ms delayed ACK on loopback (Nagle's algorithm holds the client's Finished).";
