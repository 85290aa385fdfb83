// Recipes for Redis clients against a real redis-server on loopback
// (tests/recipes/_servers.ts): ioredis through a Connector returning
// createConnection(), and node-redis through a `lookup` only (its caveat:
// DNS hooks, no connect hooks; Node's own net.connect dials).

import { test } from "../_test.ts";
import assert from "node:assert/strict";
import { createConnection, createLookup } from "../../runtimes/node.ts";
import { closedPort, startHangingListener } from "../_tcp_fixtures.ts";
import { importClient, startRedis } from "./_servers.ts";
import {
  DB_NAME,
  dialByName,
  type RecipeEnv,
  recipeEnv,
  UNKNOWN_NAME,
} from "./_env.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const ioredisModule = await importClient<Any>("ioredis");
const redisModule = await importClient<Any>("redis");
const server = await startRedis();
const PORT = server.ok ? server.port : 0;
const serverSkip = server.ok ? false : server.reason;
const ioredisSkip = serverSkip ||
  (ioredisModule.ok ? false : ioredisModule.reason);
const redisSkip = serverSkip || (redisModule.ok ? false : redisModule.reason);
const Redis = ioredisModule.ok
  ? (ioredisModule.module.default ?? ioredisModule.module.Redis)
  : null;
const createClient = redisModule.ok ? redisModule.module.createClient : null;

async function withEnv(fn: (env: RecipeEnv) => Promise<void>): Promise<void> {
  const env = await recipeEnv();
  try {
    await fn(env);
  } finally {
    await env.close();
  }
}

// ── ioredis ────────────────────────────────────────────────────────────────

/** The recipe: a Connector whose stream is createConnection()'s socket. */
function nettraceConnector(env: RecipeEnv) {
  return class NettraceConnector {
    options: { host?: string; port?: number };
    connecting = false;
    stream: ReturnType<typeof createConnection> | undefined;
    firstError: Error | undefined;
    constructor(options: { host?: string; port?: number }) {
      this.options = options;
    }
    check(): boolean {
      return true;
    }
    connect() {
      this.connecting = true;
      const stream = createConnection({
        host: this.options.host,
        port: this.options.port,
        resolver: env.resolver,
        trace: env.trace,
      });
      stream.once("error", (err: Error) => this.firstError = err);
      this.stream = stream;
      return Promise.resolve(stream);
    }
    disconnect(): void {
      this.connecting = false;
      this.stream?.end();
    }
  };
}

function ioredisFor(env: RecipeEnv, extra: Record<string, unknown> = {}) {
  return new Redis({
    host: DB_NAME,
    port: PORT,
    lazyConnect: true,
    Connector: nettraceConnector(env),
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    ...extra,
  });
}

test("ioredis: a round trip by name through a Connector, hooks seen", {
  skip: ioredisSkip,
}, () =>
  withEnv(async (env) => {
    const redis = ioredisFor(env);
    try {
      await redis.connect();
      await redis.set("nettrace", "ok");
      assert.equal(await redis.get("nettrace"), "ok");
    } finally {
      await redis.quit();
    }
    assert.deepEqual(env.events, dialByName(PORT));
  }));

test("ioredis: concurrent connects share one lookup (coalesced)", {
  skip: ioredisSkip,
}, () =>
  withEnv(async (env) => {
    const clients = [1, 2, 3].map(() => ioredisFor(env));
    try {
      await Promise.all(clients.map((c) => c.connect()));
      assert.equal(env.aQueries(), 1, "one A query for three connects");
      assert.ok(env.coalesced() >= 2, `coalesced: ${env.events}`);
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
  }));

test("ioredis: server down fails with code ECONNREFUSED", {
  skip: ioredisSkip,
}, () =>
  withEnv(async (env) => {
    const redis = ioredisFor(env, { port: await closedPort() });
    const errors: { code?: string }[] = [];
    redis.on("error", (err: { code?: string }) => errors.push(err));
    // As with its own sockets: connect() rejects "Connection is closed.",
    // the 'error' event carries the socket's error.
    await assert.rejects(redis.connect());
    assert.equal(errors[0]?.code, "ECONNREFUSED");
    redis.disconnect();
  }));

test("ioredis: an unknown name fails with ENOTFOUND", {
  skip: ioredisSkip,
}, () =>
  withEnv(async (env) => {
    const redis = ioredisFor(env, { host: UNKNOWN_NAME });
    const errors: { code?: string }[] = [];
    redis.on("error", (err: { code?: string }) => errors.push(err));
    await assert.rejects(redis.connect());
    assert.equal(errors[0]?.code, "ENOTFOUND");
    redis.disconnect();
  }));

test("ioredis: its connectTimeout cancels a hanging dial (ETIMEDOUT)", {
  skip: ioredisSkip,
}, () =>
  withEnv(async (env) => {
    const hanging = await startHangingListener();
    try {
      const redis = ioredisFor(env, {
        port: hanging.port,
        connectTimeout: 200,
      });
      const errors: { code?: string }[] = [];
      redis.on("error", (err: { code?: string }) => errors.push(err));
      await assert.rejects(redis.connect());
      assert.equal(errors[0]?.code, "ETIMEDOUT");
      redis.disconnect();
    } finally {
      await hanging.close();
    }
  }));

test(
  "ioredis: a server-side CLIENT KILL is noticed; it reconnects and the next command works",
  {
    skip: ioredisSkip,
  },
  () =>
    withEnv(async (env) => {
      const redis = ioredisFor(env, { retryStrategy: () => 10 });
      const killer = ioredisFor(env);
      try {
        await redis.connect();
        await killer.connect();
        const id = await redis.client("ID");
        const closed = new Promise<void>((resolve) =>
          redis.once("close", resolve)
        );
        await killer.client("KILL", "ID", String(id));
        await closed;
        assert.equal(await redis.ping(), "PONG");
        assert.notEqual(await redis.client("ID"), id, "a new connection");
      } finally {
        await killer.quit();
        await redis.quit();
      }
    }),
);

// ── node-redis (lookup only) ───────────────────────────────────────────────

function redisFor(env: RecipeEnv, socket: Record<string, unknown> = {}) {
  return createClient({
    // node-redis v6 asks dns.promises.lookup itself for its maintenance
    // notifications unless they are off.
    maintNotifications: "disabled",
    socket: {
      host: DB_NAME,
      port: PORT,
      // The recipe: nettrace's traced, coalesced lookup; Node's net.connect
      // then dials the addresses (no nettrace connect hooks).
      lookup: createLookup({ resolver: env.resolver, trace: env.trace }),
      reconnectStrategy: false,
      ...socket,
    },
  });
}

test("node-redis: a round trip by name through lookup; DNS hooks only", {
  skip: redisSkip,
}, () =>
  withEnv(async (env) => {
    const client = redisFor(env);
    try {
      await client.connect();
      await client.set("nettrace", "ok");
      assert.equal(await client.get("nettrace"), "ok");
    } finally {
      await client.close();
    }
    assert.deepEqual(env.events, [`dnsDone ${DB_NAME} ok`]);
  }));

test("node-redis: concurrent connects share one lookup (coalesced)", {
  skip: redisSkip,
}, () =>
  withEnv(async (env) => {
    const clients = [1, 2, 3].map(() => redisFor(env));
    try {
      await Promise.all(clients.map((c) => c.connect()));
      assert.equal(env.aQueries(), 1, "one A query for three connects");
      assert.ok(env.coalesced() >= 2, `coalesced: ${env.events}`);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }));

test("node-redis: server down fails with code ECONNREFUSED", {
  skip: redisSkip,
}, () =>
  withEnv(async (env) => {
    const client = redisFor(env, { port: await closedPort() });
    client.on("error", () => {});
    await assert.rejects(client.connect(), (err: unknown) => {
      const e = err as { code?: string; errors?: { code?: string }[] };
      assert.equal(e.code ?? e.errors?.[0]?.code, "ECONNREFUSED");
      return true;
    });
  }));

test("node-redis: an unknown name fails with ENOTFOUND", {
  skip: redisSkip,
}, () =>
  withEnv(async (env) => {
    const client = redisFor(env, { host: UNKNOWN_NAME });
    client.on("error", () => {});
    await assert.rejects(client.connect(), { code: "ENOTFOUND" });
  }));

test("node-redis: its connectTimeout ends a hanging connect", {
  skip: redisSkip,
}, () =>
  withEnv(async (env) => {
    const hanging = await startHangingListener();
    try {
      const client = redisFor(env, { port: hanging.port, connectTimeout: 200 });
      client.on("error", () => {});
      await assert.rejects(client.connect(), /timeout/i);
    } finally {
      await hanging.close();
    }
  }));

test("node-redis: a server-side CLIENT KILL is noticed (error, not a hang)", {
  skip: redisSkip,
}, () =>
  withEnv(async (env) => {
    const client = redisFor(env);
    const killer = redisFor(env);
    const errors: Error[] = [];
    client.on("error", (err: Error) => errors.push(err));
    try {
      await client.connect();
      await killer.connect();
      const id = await client.clientId();
      const lost = new Promise<void>((resolve) =>
        client.once("error", resolve)
      );
      await killer.sendCommand(["CLIENT", "KILL", "ID", String(id)]);
      await lost;
      assert.ok(errors.length >= 1, "the client reported the lost socket");
      assert.equal(client.isReady, false);
      await assert.rejects(client.ping());
    } finally {
      await killer.close();
      if (client.isOpen) await client.close().catch(() => {});
    }
  }));
