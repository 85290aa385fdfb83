/**
 * Loopback TCP servers for the dialer tests: an echo server, a server whose
 * connections the test drives itself, a listener whose connects hang, and a
 * closed port. Built on `node:net` (which Deno, Bun and Node all provide);
 * where a runtime differs it is said below. Everything a fixture opens is
 * closed by its `close()`.
 *
 * @module
 */

import { createServer, type Server, type Socket } from "node:net";
import { connect as netConnect } from "node:net";
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";

/** A loopback address to listen on. */
export type LoopbackHost = "127.0.0.1" | "::1";

/** A running test server. */
export interface TcpServer {
  /** The address it listens on. */
  readonly host: LoopbackHost;
  /** The port it listens on. */
  readonly port: number;
  /** How many connections it has accepted. */
  readonly connections: number;
  /** How many clients closed their side (FIN or reset). */
  readonly eofs: number;
  /** The accepted sockets, in accept order. */
  readonly sockets: readonly Socket[];
  /**
   * Waits until `predicate()` holds; it is checked now and after every
   * accept and every client close (no timers).
   *
   * @param predicate What to wait for.
   * @returns When it holds.
   */
  until(predicate: () => boolean): Promise<void>;
  /**
   * Stops listening, destroys every accepted socket, and resolves when all
   * is closed.
   */
  close(): Promise<void>;
}

/** Options for {@linkcode startServer}. */
export interface ServerOptions {
  /**
   * The loopback address to listen on.
   * @default {"127.0.0.1"}
   */
  host?: LoopbackHost;
  /**
   * The port to listen on; 0 picks a free one. A port already taken on
   * `host` makes the start reject with an error whose `code` is
   * `"EADDRINUSE"` (retry with another port).
   * @default {0}
   */
  port?: number;
  /**
   * Called with each accepted socket (paused when `pauseOnConnect`).
   * @default {() => {}}
   */
  onConnection?: (socket: Socket) => void;
  /**
   * Accept connections paused: nothing is read until the test resumes them.
   * @default {false}
   */
  pauseOnConnect?: boolean;
}

/**
 * Starts a server on a free loopback port; what it does with a connection
 * is up to `onConnection`.
 *
 * @param options Where to listen and what to do with connections.
 * @returns The running server.
 */
export async function startServer(
  options: ServerOptions = {},
): Promise<TcpServer> {
  const host = options.host ?? "127.0.0.1";
  const sockets: Socket[] = [];
  const waiters = new Set<() => void>();
  let connections = 0;
  let eofs = 0;
  const changed = () => {
    for (const check of [...waiters]) check();
  };
  const server: Server = createServer(
    { pauseOnConnect: options.pauseOnConnect ?? false },
    (socket) => {
      sockets.push(socket);
      connections++;
      let seen = false;
      const peerClosed = () => {
        if (seen) return;
        seen = true;
        eofs++;
        changed();
      };
      socket.on("end", peerClosed);
      socket.on("error", peerClosed);
      options.onConnection?.(socket);
      changed();
    },
  );
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
    get eofs() {
      return eofs;
    },
    sockets,
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
      const closed = new Promise<void>((resolve) =>
        server.close(() => resolve())
      );
      await Promise.all(sockets.map(destroyed));
      await closed;
    },
  };
}

/** Options for {@linkcode startEchoServer}. */
export interface EchoServerOptions {
  /**
   * The loopback address to listen on.
   * @default {"127.0.0.1"}
   */
  host?: LoopbackHost;
  /**
   * The port to listen on; 0 picks a free one. A port already taken on
   * `host` makes the start reject with an error whose `code` is
   * `"EADDRINUSE"`.
   * @default {0}
   */
  port?: number;
}

/**
 * Starts a server that sends back everything it receives (with `pipe`, so a
 * client that does not read stops the server reading too) and closes its
 * side when the client closes its own.
 *
 * @param options Where to listen.
 * @returns The running server.
 */
export function startEchoServer(
  options: EchoServerOptions = {},
): Promise<TcpServer> {
  return startServer({
    host: options.host,
    port: options.port,
    onConnection: (socket) => socket.pipe(socket),
  });
}

function destroyed(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    socket.once("close", () => resolve());
    socket.destroy();
  });
}

/**
 * Finds a port nothing listens on: binds one, reads it, closes it.
 *
 * @param host The loopback address.
 * @returns The port; a connect to it is refused.
 */
export async function closedPort(
  host: LoopbackHost = "127.0.0.1",
): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: 0 }, () => resolve());
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A listener whose accept queue is full, so a further connect hangs. */
export interface HangingListener {
  /** The address it listens on. */
  readonly host: LoopbackHost;
  /** The port it listens on. */
  readonly port: number;
  /**
   * Closes the listener and the connections that fill its queue. A connect
   * still waiting on it is then refused at its next SYN retransmit.
   */
  close(): Promise<void>;
}

/** Options for {@linkcode startHangingListener}. */
export interface HangingListenerOptions {
  /**
   * The port to listen on; 0 picks a free one. A port already taken on the
   * host makes the start reject with an error whose `code` is
   * `"EADDRINUSE"`.
   * @default {0}
   */
  port?: number;
}

/** A listening socket that never accepts, and how to close it. */
interface RawListener {
  port: number;
  /** How many connections its accept queue holds before SYNs are dropped. */
  queue: number;
  close(): Promise<void>;
}

/**
 * Starts a listener that never accepts, with its accept queue filled, so
 * that a further connect to it hangs: Linux drops the SYNs (with
 * `net.ipv4.tcp_abort_on_overflow` 0, the default) and the client keeps
 * retransmitting — about two minutes with the default
 * `net.ipv4.tcp_syn_retries` — until the listener goes.
 *
 * `node:net` servers accept on their own, so the never-accepting listener
 * is made per runtime:
 * - Node and Deno: a `node:net` server with `backlog: 1` in a worker thread
 *   that blocks in `Atomics.wait` as soon as it listens, so its event loop
 *   never accepts. The queue then holds two connections.
 * - Bun: its `node:net` ignores `backlog` (it always listens with 512) and a
 *   blocked worker does not stop it from accepting, so the listening socket
 *   is made with `socket()`/`bind()`/`listen(fd, 0)` through `bun:ffi`
 *   (libc, Linux only). The queue then holds one connection.
 *
 * Verified on Linux 6.18 (a Firecracker VM): the connect after the queue is
 * full stays in SYN-SENT.
 *
 * @param host The loopback address.
 * @param options The port.
 * @returns The listener.
 */
export async function startHangingListener(
  host: LoopbackHost = "127.0.0.1",
  options: HangingListenerOptions = {},
): Promise<HangingListener> {
  const port = options.port ?? 0;
  const raw = "Bun" in globalThis
    ? await ffiListener(host, port)
    : await workerListener(host, port);
  const fillers: Socket[] = [];
  try {
    for (let i = 0; i < raw.queue; i++) {
      const socket = netConnect({ host, port: raw.port });
      fillers.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
      socket.on("error", () => {});
    }
  } catch (err) {
    await Promise.all(fillers.map(destroyed));
    await raw.close();
    throw err;
  }
  return {
    host,
    port: raw.port,
    async close() {
      await Promise.all(fillers.map(destroyed));
      await raw.close();
    },
  };
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const net = require("node:net");
const server = net.createServer((socket) => socket.destroy());
server.once("error", (err) => {
  parentPort.postMessage({ code: err.code ?? "UNKNOWN", message: err.message });
});
server.listen({ host: workerData.host, port: workerData.port, backlog: 1 }, () => {
  parentPort.postMessage({ port: server.address().port });
  // Block this thread's event loop: the listener never accepts.
  Atomics.wait(new Int32Array(workerData.wake), 0, 0);
  server.close();
});
`;

async function workerListener(
  host: LoopbackHost,
  wanted: number,
): Promise<RawListener> {
  const wake = new SharedArrayBuffer(4);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { host, port: wanted, wake },
  });
  const exited = new Promise<void>((resolve) =>
    worker.once("exit", () => resolve())
  );
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      worker.once(
        "message",
        (reply: { port?: number; code?: string; message?: string }) => {
          if (reply.port !== undefined) return resolve(reply.port);
          reject(
            Object.assign(new Error(reply.message), { code: reply.code }),
          );
        },
      );
      worker.once("error", reject);
    });
  } catch (err) {
    await worker.terminate();
    await exited;
    throw err;
  }
  return {
    port,
    queue: 2,
    async close() {
      const flag = new Int32Array(wake);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await worker.terminate();
      await exited;
    },
  };
}

interface FfiSymbols {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: unknown, len: number): number;
  listen(fd: number, backlog: number): number;
  getsockname(fd: number, addr: unknown, len: unknown): number;
  close(fd: number): number;
  __errno_location(): unknown;
}

interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: FfiSymbols; close(): void };
  ptr(view: ArrayBufferView): unknown;
  read: { i32(ptr: unknown, offset?: number): number };
}

async function ffiListener(
  host: LoopbackHost,
  wanted: number,
): Promise<RawListener> {
  const specifier = "bun:ffi";
  const { dlopen, ptr, read } = await import(specifier) as BunFfi;
  const lib = dlopen("libc.so.6", {
    socket: { args: ["i32", "i32", "i32"], returns: "i32" },
    bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
    listen: { args: ["i32", "i32"], returns: "i32" },
    getsockname: { args: ["i32", "ptr", "ptr"], returns: "i32" },
    close: { args: ["i32"], returns: "i32" },
    __errno_location: { args: [], returns: "ptr" },
  });
  const libc = lib.symbols;
  const six = host === "::1";
  const AF_INET = 2, AF_INET6 = 10, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;
  const fd = libc.socket(
    six ? AF_INET6 : AF_INET,
    SOCK_STREAM | SOCK_CLOEXEC,
    0,
  );
  if (fd < 0) {
    lib.close();
    throw new Error("socket() failed");
  }
  // struct sockaddr_in / sockaddr_in6; port 0 lets the kernel pick one.
  const addr = new Uint8Array(six ? 28 : 16);
  const view = new DataView(addr.buffer);
  view.setUint16(0, six ? AF_INET6 : AF_INET, true);
  view.setUint16(2, wanted, false);
  if (six) addr[8 + 15] = 1;
  else addr.set([127, 0, 0, 1], 4);
  const len = new Uint32Array([addr.length]);
  if (libc.bind(fd, ptr(addr), addr.length) !== 0) {
    const EADDRINUSE = 98;
    const errno = read.i32(libc.__errno_location(), 0);
    libc.close(fd);
    lib.close();
    throw Object.assign(
      new Error(`cannot bind ${host} port ${wanted} (errno ${errno})`),
      { code: errno === EADDRINUSE ? "EADDRINUSE" : `errno ${errno}` },
    );
  }
  if (
    libc.listen(fd, 0) !== 0 ||
    libc.getsockname(fd, ptr(addr), ptr(len)) !== 0
  ) {
    libc.close(fd);
    lib.close();
    throw new Error(`cannot listen on ${host} through libc`);
  }
  return {
    port: view.getUint16(2, false),
    queue: 1,
    close() {
      libc.close(fd);
      lib.close();
      return Promise.resolve();
    },
  };
}

/**
 * Counts this machine's TCP sockets in SYN-SENT towards a loopback port, from
 * `/proc/net/tcp` and `/proc/net/tcp6`: a connect that was cancelled leaves
 * none behind.
 *
 * @param port The remote port.
 * @returns The count, or `undefined` where `/proc/net/tcp` is not readable
 *   (not Linux).
 */
export function synSentTo(port: number): number | undefined {
  let count = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st ...; addresses are HEXIP:HEXPORT.
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4 || fields[3] !== "02") continue;
      const remotePort = parseInt(fields[2].split(":")[1], 16);
      if (remotePort === port) count++;
    }
  }
  return count;
}
