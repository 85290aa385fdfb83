/**
 * Real database servers for the recipe tests, from Debian's packages:
 * PostgreSQL 15, Redis and MariaDB 10.11, each started on 127.0.0.1 only (so
 * the DNS fixture's `::1` is refused) on a free port with a throw-away data
 * directory, once per test file, and stopped (by PID, directory removed)
 * when the process exits — or, if it dies without running its 'exit'
 * handlers, by a watchdog within a second. A server whose binary is missing, or that fails
 * to start, gives a one-line reason the tests skip with — never silently.
 *
 * The servers run as separate processes started at module load (outside any
 * test), so Deno's sanitizers see only the clients' own sockets and timers.
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** A running server, or why there is none. */
export type Started =
  | { ok: true; port: number; stop(): void }
  | { ok: false; reason: string };

const PG_BIN = "/usr/lib/postgresql/15/bin";
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const stops: (() => void)[] = [];
let hooked = false;

function onExit(stop: () => void): void {
  stops.push(stop);
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const s of stops.splice(0)) s();
  });
}

function which(name: string, dirs: string[]): string | undefined {
  for (const dir of dirs) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

const PATH_DIRS = [
  ...(process.env.PATH ?? "").split(":").filter(Boolean),
  "/usr/sbin",
  "/usr/bin",
  "/sbin",
];

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until 127.0.0.1:port accepts (every 50 ms, up to `ms`). */
async function waitForPort(port: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function run(cmd: string, args: string[], asUser?: string): string | null {
  const [c, a] = asUser !== undefined && isRoot
    ? ["runuser", ["-u", asUser, "--", cmd, ...args]]
    : [cmd, args];
  const r = spawnSync(c, a, { encoding: "utf8", stdio: "pipe" });
  if (r.status === 0) return null;
  return `${cmd} failed: ${
    (r.stderr || r.stdout || String(r.error)).trim().split("\n").pop()
  }`;
}

/**
 * Runs the server under a small `sh` watchdog in a process group of its
 * own: the watchdog kills the group's other processes and removes the data
 * directory once this process is gone, however it ended (a killed test
 * run, a runtime that skips 'exit' handlers). The 'exit' handler stops it
 * at once when it can.
 */
const WATCHDOG = `
"$@" &
while kill -0 "$WATCH_PID" 2>/dev/null; do sleep 1; done
for p in $(pgrep -g $$); do [ "$p" = $$ ] || kill -9 "$p" 2>/dev/null; done
sleep 0.5
rm -rf "$WATCH_DIR"
`;

function launch(
  cmd: string,
  args: string[],
  dir: string,
  asUser?: string,
): () => void {
  const command = asUser !== undefined && isRoot
    ? ["runuser", "-u", asUser, "--", cmd, ...args]
    : [cmd, ...args];
  const child = spawn("sh", ["-c", WATCHDOG, "watchdog", ...command], {
    stdio: "ignore",
    detached: true,
    env: { ...process.env, WATCH_PID: String(process.pid), WATCH_DIR: dir },
  });
  child.unref();
  const pid = child.pid;
  const stop = () => {
    if (pid !== undefined) {
      try {
        // The process group: the watchdog, runuser and the server.
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  onExit(stop);
  return stop;
}

async function started(
  port: number,
  stop: () => void,
  name: string,
): Promise<Started> {
  if (await waitForPort(port, 20_000)) return { ok: true, port, stop };
  stop();
  return { ok: false, reason: `${name} did not start on 127.0.0.1:${port}` };
}

/**
 * Starts PostgreSQL 15 (`initdb` + `postgres`, as user `postgres` when
 * root, which it requires), trust authentication for user `postgres`, with
 * SSL on (the test certificate for `db.test`… from `tests/fixtures/tls`).
 *
 * @param tls The server certificate and key (PEM).
 * @returns The server, or why not.
 */
export async function startPostgres(
  tls: { cert: string; key: string },
): Promise<Started> {
  const initdb = join(PG_BIN, "initdb");
  const postgres = join(PG_BIN, "postgres");
  if (!existsSync(initdb) || !existsSync(postgres)) {
    return { ok: false, reason: `PostgreSQL 15 not installed (${initdb})` };
  }
  const dir = mkdtempSync(join(tmpdir(), "nettrace-pg-"));
  const user = isRoot ? "postgres" : undefined;
  const data = join(dir, "data");
  writeFileSync(join(dir, "server.crt"), tls.cert);
  writeFileSync(join(dir, "server.key"), tls.key, { mode: 0o600 });
  if (isRoot) spawnSync("chown", ["-R", "postgres:postgres", dir]);
  const failed = run(initdb, [
    "-D",
    data,
    "-U",
    "postgres",
    "-A",
    "trust",
    "-N",
    "--no-instructions",
  ], user);
  if (failed !== null) {
    rmSync(dir, { recursive: true, force: true });
    return { ok: false, reason: failed };
  }
  const port = await freePort();
  const stop = launch(
    postgres,
    [
      "-D",
      data,
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "ssl=on",
      "-c",
      `ssl_cert_file=${join(dir, "server.crt")}`,
      "-c",
      `ssl_key_file=${join(dir, "server.key")}`,
      "-c",
      "fsync=off",
      "-c",
      "max_connections=50",
    ],
    dir,
    user,
  );
  const up = await started(port, stop, "postgres");
  if (!up.ok) return up;
  // The port opens before recovery is done ("the database system is
  // starting up"): wait until pg_isready says it accepts connections.
  const isready = join(PG_BIN, "pg_isready");
  for (let i = 0; i < 200; i++) {
    const r = spawnSync(isready, ["-h", "127.0.0.1", "-p", String(port)], {
      stdio: "ignore",
    });
    if (r.status === 0 || r.error !== undefined) return up;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  stop();
  return { ok: false, reason: `postgres on port ${port} never became ready` };
}

/**
 * Starts `redis-server` on 127.0.0.1, no persistence.
 *
 * @returns The server, or why not.
 */
export async function startRedis(): Promise<Started> {
  const redis = which("redis-server", PATH_DIRS);
  if (redis === undefined) {
    return { ok: false, reason: "redis-server not installed" };
  }
  const dir = mkdtempSync(join(tmpdir(), "nettrace-redis-"));
  const port = await freePort();
  const stop = launch(redis, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
  ], dir);
  return await started(port, stop, "redis-server");
}

/**
 * Starts MariaDB (`mariadb-install-db` + `mariadbd`) on 127.0.0.1; user
 * `root` with no password over TCP.
 *
 * @returns The server, or why not.
 */
export async function startMariadb(): Promise<Started> {
  const install = which("mariadb-install-db", PATH_DIRS);
  const server = which("mariadbd", PATH_DIRS);
  if (install === undefined || server === undefined) {
    return { ok: false, reason: "MariaDB not installed (mariadbd)" };
  }
  const dir = mkdtempSync(join(tmpdir(), "nettrace-mariadb-"));
  const data = join(dir, "data");
  const user = isRoot ? ["--user=root"] : [];
  const failed = run(install, [
    `--datadir=${data}`,
    "--auth-root-authentication-method=normal",
    "--skip-test-db",
    ...user,
  ]);
  if (failed !== null) {
    rmSync(dir, { recursive: true, force: true });
    return { ok: false, reason: failed };
  }
  const port = await freePort();
  const stop = launch(server, [
    "--no-defaults",
    `--datadir=${data}`,
    `--socket=${join(dir, "s")}`,
    `--port=${port}`,
    "--bind-address=127.0.0.1",
    "--skip-name-resolve",
    "--innodb-flush-log-at-trx-commit=0",
    ...user,
  ], dir);
  return await started(port, stop, "mariadbd");
}

/**
 * Imports an npm client, or says why it cannot be.
 *
 * @param name The package.
 * @returns The module, or the reason to skip.
 */
export async function importClient<T>(
  name: string,
): Promise<{ ok: true; module: T } | { ok: false; reason: string }> {
  try {
    return { ok: true, module: await import(name) as T };
  } catch (err) {
    return {
      ok: false,
      reason: `npm package ${name} not installed (${
        (err as Error).message.split("\n")[0]
      })`,
    };
  }
}
