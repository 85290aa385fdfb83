/**
 * What the benchmarks compare nettrace with: each runtime's own connect, as a
 * user would call it, and the helpers the drivers share (which runtime this
 * is, the listener process, the adapter).
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { promises as dns } from "node:dns";
import { connect as netConnect, type Socket } from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Conn, DialOptions, Resolver } from "../mod.ts";

/** The runtime running this file. */
export type RuntimeName = "deno" | "bun" | "node";

/** Which runtime this is (benchmarks may ask; the core never does). */
export const runtime: RuntimeName = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** The runtime's version, as it reports it. */
export function runtimeVersion(): string {
  const g = globalThis as {
    Deno?: { version: { deno: string; v8: string } };
    Bun?: { version: string };
  };
  if (g.Deno !== undefined) {
    return `${g.Deno.version.deno} (V8 ${g.Deno.version.v8})`;
  }
  if (g.Bun !== undefined) return `${g.Bun.version} (JavaScriptCore)`;
  return `${
    process.versions.node.replace(/^v/, "")
  } (V8 ${process.versions.v8})`;
}

/** A connection that only has to be closed. */
export interface Closable {
  close(): void;
}

/** The slice of the Bun global the native connect uses. */
interface BunLike {
  connect(options: {
    hostname: string;
    port: number;
    socket: Record<string, (...args: unknown[]) => void>;
  }): Promise<{ end(): void; terminate(): void }>;
  gc(force: boolean): void;
}

/** The slice of the Deno global the native connect uses. */
interface DenoLike {
  connect(options: { hostname: string; port: number }): Promise<Closable>;
}

const BUN_HANDLERS = {
  open() {},
  data() {},
  close() {},
  error() {},
  end() {},
  connectError() {},
};

/**
 * `net.connect` as the native rows use it: `noDelay` as asked, the local
 * address read at connect when `readLocal` (as a `Conn` needs it).
 */
function nodeSocketConnect(
  options: { host: string; port: number; noDelay?: boolean },
  readLocal: boolean,
): Promise<Closable> {
  return new Promise<Closable>((resolve, reject) => {
    const socket: Socket = netConnect(options);
    const onError = (err: Error) => {
      socket.off("connect", onConnect);
      socket.destroy();
      reject(err);
    };
    const onConnect = () => {
      socket.off("error", onError);
      socket.on("error", () => {});
      const closable: Closable & { local?: object } = {
        close: () => socket.destroy(),
      };
      if (readLocal) {
        closable.local = {
          hostname: socket.localAddress,
          port: socket.localPort,
        };
      }
      resolve(closable);
    };
    socket.once("connect", onConnect);
    socket.once("error", onError);
  });
}

function nodeConnect(host: string, port: number): Promise<Closable> {
  // Node's defaults: autoSelectFamily on (Node 20+), dns.lookup for names.
  return nodeSocketConnect({ host, port }, false);
}

function bunConnect(host: string, port: number): Promise<Closable> {
  const bun = (globalThis as unknown as { Bun: BunLike }).Bun;
  return bun.connect({ hostname: host, port, socket: BUN_HANDLERS }).then(
    (socket) => ({ close: () => socket.end() }),
  );
}

function denoConnect(host: string, port: number): Promise<Closable> {
  const deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
  return deno.connect({ hostname: host, port });
}

function nodeConnectSetup(host: string, port: number): Promise<Closable> {
  return nodeSocketConnect({ host, port, noDelay: true }, true);
}

function nodeConnectNoDelay(host: string, port: number): Promise<Closable> {
  return nodeSocketConnect({ host, port, noDelay: true }, false);
}

function bunConnectSetup(host: string, port: number): Promise<Closable> {
  const bun = (globalThis as unknown as { Bun: BunLike }).Bun;
  return bun.connect({ hostname: host, port, socket: BUN_HANDLERS }).then(
    (socket) => {
      const s = socket as unknown as BunSocketSetup;
      s.setNoDelay(true);
      const local = { hostname: s.localAddress, port: s.localPort };
      return { close: () => socket.end(), local } as Closable;
    },
  );
}

function denoConnectSetup(host: string, port: number): Promise<Closable> {
  const deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
  return deno.connect({ hostname: host, port }).then((conn) => {
    (conn as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
    return conn;
  });
}

interface BunSocketSetup {
  setNoDelay(on: boolean): void;
  localAddress: string;
  localPort: number;
}

/**
 * The runtime's own connect with TCP_NODELAY on and nothing else: Node's
 * `noDelay: true`; Deno's `setNoDelay(true)` (its `TcpConn` reads the local
 * address anyway); Bun's plain connect (Bun sets TCP_NODELAY on every
 * socket itself). What nettrace's Node adapter does at connect, since it
 * reads the local address only when asked (or as the socket closes).
 */
export const nativeConnectNoDelay: (
  host: string,
  port: number,
) => Promise<Closable> = runtime === "deno"
  ? denoConnectSetup
  : runtime === "bun"
  ? bunConnect
  : nodeConnectNoDelay;

/**
 * The runtime's own connect set up as nettrace's adapters set theirs up:
 * TCP_NODELAY on (Go's default) and the local address read at connect (the
 * `Conn` contract's `localAddr`; Deno's `TcpConn` always has it). Shows how
 * much of nettrace's cost is this setup rather than the dial itself.
 */
export const nativeConnectSetup: (
  host: string,
  port: number,
) => Promise<Closable> = runtime === "deno"
  ? denoConnectSetup
  : runtime === "bun"
  ? bunConnectSetup
  : nodeConnectSetup;

/**
 * The runtime's own connect with its defaults: `Deno.connect`,
 * `Bun.connect`, or `net.connect` (whose `autoSelectFamily` is on).
 * Resolves once connected.
 */
export const nativeConnect: (host: string, port: number) => Promise<Closable> =
  runtime === "deno"
    ? denoConnect
    : runtime === "bun"
    ? bunConnect
    : nodeConnect;

/** The slice of `Deno.resolveDns` the native lookup uses. */
type ResolveDns = (
  name: string,
  type: "A" | "AAAA",
  options: { nameServer: { ipAddr: string; port: number } },
) => Promise<string[]>;

/**
 * The runtime's own DNS client asked for A and AAAA of `name` at
 * `nameServer`, both at once, waiting for both answers (as getaddrinfo
 * does): `Deno.resolveDns` on Deno (its `node:dns` Resolver gives up on an
 * answer later than ~1 s), a fresh `node:dns` `Resolver` (its own c-ares
 * channel and socket, glibc's 5 s timeout and 2 tries) with `setServers`
 * on Bun and Node.
 *
 * @returns The addresses, IPv6 first, as getaddrinfo would order them here.
 */
export async function nativeLookup(
  name: string,
  nameServer: { address: string; port: number },
): Promise<string[]> {
  let v6: PromiseSettledResult<string[]>;
  let v4: PromiseSettledResult<string[]>;
  const deno = (globalThis as { Deno?: { resolveDns: ResolveDns } }).Deno;
  if (deno !== undefined) {
    const options = {
      nameServer: { ipAddr: nameServer.address, port: nameServer.port },
    };
    [v6, v4] = await Promise.allSettled([
      deno.resolveDns(name, "AAAA", options),
      deno.resolveDns(name, "A", options),
    ]);
  } else {
    // glibc's defaults (resolv.conf `timeout:5 attempts:2`), as the
    // getaddrinfo this stands in for: c-ares's own first timeout (~2 s)
    // would re-send a query the fixture answers 2 s late and wait twice.
    const resolver = new dns.Resolver({ timeout: 5000, tries: 2 });
    resolver.setServers([`${nameServer.address}:${nameServer.port}`]);
    [v6, v4] = await Promise.allSettled([
      resolver.resolve6(name),
      resolver.resolve4(name),
    ]);
  }
  const out = [
    ...(v6.status === "fulfilled" ? v6.value : []),
    ...(v4.status === "fulfilled" ? v4.value : []),
  ];
  if (out.length === 0) {
    throw new Error(`native lookup of ${name} found nothing`, {
      cause: v6.status === "rejected" ? v6.reason : undefined,
    });
  }
  return out;
}

/**
 * A getaddrinfo-style connect through a name server the runtime's connect
 * cannot be pointed at: {@linkcode nativeLookup} (both answers), then the
 * runtime's connect to the first address.
 */
export async function nativeLookupConnect(
  name: string,
  nameServer: { address: string; port: number },
  port: number,
): Promise<Closable> {
  const [address] = await nativeLookup(name, nameServer);
  return await nativeConnect(address!, port);
}

/** What a runtime adapter exports that the benchmarks use. */
export interface Adapter {
  dial(
    address: string,
    options?: DialOptions & { resolver?: Resolver },
  ): Promise<Conn>;
  createResolver(options: {
    nameServer: { address: string; port: number };
  }): Resolver;
}

/** Loads this runtime's adapter (`runtimes/deno.ts`, `bun.ts` or `node.ts`). */
export async function loadAdapter(): Promise<Adapter> {
  return await import(`../runtimes/${runtime}.ts`) as Adapter;
}

/** Collects garbage now, as thoroughly as the runtime allows. */
export function collectGarbage(): void {
  const g = globalThis as { gc?: () => void; Bun?: BunLike };
  if (g.Bun !== undefined) {
    g.Bun.gc(true);
    return;
  }
  if (typeof g.gc !== "function") {
    throw new Error(
      "no gc(): run Node with --expose-gc, Deno with --v8-flags=--expose-gc",
    );
  }
  g.gc();
  g.gc();
}

/**
 * Collects garbage until the heap stops shrinking (at most five rounds),
 * letting the event loop turn in between so that cleanup queued by a
 * collection (weak callbacks, finalizers, closed handles) runs and is
 * collected too. For the before/after measurements; the in-flight one must
 * not yield and uses {@linkcode collectGarbage}.
 */
export async function settleGarbage(): Promise<void> {
  let last = Infinity;
  for (let i = 0; i < 5; i++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 20));
    collectGarbage();
    const heap = memory().heap;
    if (heap >= last) return;
    last = heap;
  }
}

/** JS heap in use and resident set size, in bytes. */
export function memory(): { heap: number; rss: number } {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

/**
 * How many TCP sockets this process has open (Linux): its file descriptors
 * whose socket is in /proc/net/tcp or /proc/net/tcp6. (Runtimes keep a few
 * Unix sockets of their own; those are not counted.)
 */
export function openTcpSockets(): number {
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9) inodes.add(fields[9]!);
    }
  }
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed while listing (the directory's own descriptor)
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && inodes.has(inode)) count++;
  }
  return count;
}

/** A helper process of the benchmark (bench/_server.ts, bench/_dns.ts). */
export interface Child {
  /** The port it listens on. */
  readonly port: number;
  /** Every port it listens on (`--ports K`), `port` first. */
  readonly ports: number[];
  /** Sends `question` as a line and returns the next line, parsed. */
  ask(question: string): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** A running `bench/_server.ts`. */
export interface ListenerProcess extends Child {
  /** How many accepted connections the listener still holds. */
  open(): Promise<number>;
}

/**
 * Runs `bench/<script>` with the pinned Node (`NETTRACE_NODE`, else
 * `node_modules/.bin/node`) and waits for its `{"port":N}` line.
 */
export async function startChild(
  script: string,
  args: string[],
): Promise<Child> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const node = process.env.NETTRACE_NODE ?? `${root}node_modules/.bin/node`;
  const child: ChildProcess = spawn(node, [`${root}bench/${script}`, ...args], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffer = "";
  child.stdout!.on("data", (data: Uint8Array) => {
    buffer += new TextDecoder().decode(data);
    let i;
    while ((i = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      const w = waiting.shift();
      if (w !== undefined) w(line);
      else lines.push(line);
    }
  });
  const next = () =>
    lines.length > 0
      ? Promise.resolve(lines.shift()!)
      : new Promise<string>((resolve) => waiting.push(resolve));
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => resolve())
  );
  const first = await Promise.race([
    next(),
    exited.then(() => {
      throw new Error(`bench/${script} exited before listening`);
    }),
  ]);
  const { port, ports = [port] } = JSON.parse(first) as {
    port: number;
    ports?: number[];
  };
  return {
    port,
    ports,
    async ask(question) {
      child.stdin!.write(`${question}\n`);
      return JSON.parse(await next()) as Record<string, number>;
    },
    async close() {
      child.stdin!.end();
      await exited;
    },
  };
}

/** Starts `bench/_server.ts` (a listener on `hosts`, one port). */
export async function startListener(
  hosts: string[] = ["127.0.0.1", "::1"],
  ports = 1,
): Promise<ListenerProcess> {
  const child = await startChild("_server.ts", [
    "--hosts",
    hosts.join(","),
    "--ports",
    `${ports}`,
  ]);
  return {
    ...child,
    port: child.port,
    open: async () => (await child.ask("open?")).open!,
  };
}
