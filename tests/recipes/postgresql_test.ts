// Recipes for PostgreSQL clients against a real PostgreSQL 15 on loopback
// (tests/recipes/_servers.ts): pg (Client, Pool, SSL) through its `stream`
// option and postgres.js through its `socket` option, both with
// createConnection() from the Node adapter. docs/recipes.md shows the same
// snippets.

import { test } from "../_test.ts";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createConnection } from "../../runtimes/node.ts";
import { closedPort, startHangingListener } from "../_tcp_fixtures.ts";
import { TEST_CA } from "../_tls_fixtures.ts";
import { importClient, startPostgres } from "./_servers.ts";
import {
  DB_NAME,
  dialByName,
  type RecipeEnv,
  recipeEnv,
  TLS_NAME,
  UNKNOWN_NAME,
} from "./_env.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const TLS_DIR = new URL("../fixtures/tls/", import.meta.url);
const pgModule = await importClient<Any>("pg");
const postgresModule = await importClient<Any>("postgres");
const server = await startPostgres({
  cert: readFileSync(new URL("server.pem", TLS_DIR), "utf8"),
  key: readFileSync(new URL("server.key", TLS_DIR), "utf8"),
});
const PORT = server.ok ? server.port : 0;
const serverSkip = server.ok ? false : server.reason;
const pgSkip = serverSkip || (pgModule.ok ? false : pgModule.reason);
const postgresSkip = serverSkip ||
  (postgresModule.ok ? false : postgresModule.reason);
const pg = pgModule.ok ? (pgModule.module.default ?? pgModule.module) : null;
const postgres = postgresModule.ok
  ? (postgresModule.module.default ?? postgresModule.module)
  : null;

async function withEnv(fn: (env: RecipeEnv) => Promise<void>): Promise<void> {
  const env = await recipeEnv();
  try {
    await fn(env);
  } finally {
    await env.close();
  }
}

// ── pg ─────────────────────────────────────────────────────────────────────

function pgConfig(env: RecipeEnv, extra: Record<string, unknown> = {}) {
  return {
    host: DB_NAME,
    port: PORT,
    user: "postgres",
    database: "postgres",
    // The recipe: pg calls stream(config) and then .connect(port, host).
    stream: () =>
      createConnection({ resolver: env.resolver, trace: env.trace }),
    ...extra,
  };
}

test("pg Client: a round trip by name through createConnection, hooks seen", {
  skip: pgSkip,
}, () =>
  withEnv(async (env) => {
    const client = new pg.Client(pgConfig(env));
    await client.connect();
    try {
      const { rows } = await client.query("select 1 + 1 as two");
      assert.equal(rows[0].two, 2);
    } finally {
      await client.end();
    }
    assert.deepEqual(env.events, dialByName(PORT));
  }));

test("pg Client with SSL: verified against the test CA, by name", {
  skip: pgSkip,
}, () =>
  withEnv(async (env) => {
    const client = new pg.Client(
      pgConfig(env, { host: TLS_NAME, ssl: { ca: TEST_CA } }),
    );
    await client.connect();
    try {
      const { rows } = await client.query(
        "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
      );
      assert.equal(rows[0].ssl, true);
    } finally {
      await client.end();
    }
  }));

test("pg Pool: concurrent connects share one lookup (coalesced)", {
  skip: pgSkip,
}, () =>
  withEnv(async (env) => {
    const pool = new pg.Pool(pgConfig(env, { max: 3 }));
    try {
      const clients = await Promise.all([1, 2, 3].map(() => pool.connect()));
      for (const c of clients) c.release();
      assert.equal(env.aQueries(), 1, "one A query for three connects");
      assert.ok(env.coalesced() >= 2, `coalesced: ${env.events}`);
    } finally {
      await pool.end();
    }
  }));

test("pg: server down is the client's usual error with code ECONNREFUSED", {
  skip: pgSkip,
}, () =>
  withEnv(async (env) => {
    const port = await closedPort();
    const client = new pg.Client(pgConfig(env, { port }));
    await assert.rejects(client.connect(), { code: "ECONNREFUSED" });
  }));

test(
  "pg: an unknown name fails with ENOTFOUND",
  { skip: pgSkip },
  () =>
    withEnv(async (env) => {
      const client = new pg.Client(pgConfig(env, { host: UNKNOWN_NAME }));
      await assert.rejects(client.connect(), { code: "ENOTFOUND" });
    }),
);

test("pg: connectionTimeoutMillis cancels a hanging dial", {
  skip: pgSkip,
}, () =>
  withEnv(async (env) => {
    const hanging = await startHangingListener();
    try {
      const client = new pg.Client(
        pgConfig(env, { port: hanging.port, connectionTimeoutMillis: 200 }),
      );
      await assert.rejects(client.connect(), /timeout/i);
      // The attempt to 127.0.0.1 was ended by the destroy, not left hanging.
      assert.ok(
        env.events.some((e) => e.startsWith(`connectDone 127.0.0.1`)),
        String(env.events),
      );
    } finally {
      await hanging.close();
    }
  }));

test(
  "pg: a server-side kill (pg_terminate_backend) is noticed, nothing hangs",
  {
    skip: pgSkip,
  },
  () =>
    withEnv(async (env) => {
      const victim = new pg.Client(pgConfig(env));
      const killer = new pg.Client(pgConfig(env));
      let victimEnded = false;
      const ended = new Promise<void>((resolve) =>
        victim.once("end", () => {
          victimEnded = true;
          resolve();
        })
      );
      await victim.connect();
      await killer.connect();
      try {
        // pg may emit 'error' twice (the FATAL, then the end).
        const errored = new Promise<Error>((resolve) =>
          victim.on("error", resolve)
        );
        const pid = (await victim.query("select pg_backend_pid() as pid"))
          .rows[0].pid;
        await killer.query("select pg_terminate_backend($1)", [pid]);
        // Idle when killed: pg reports the server's FATAL 57P01 or the
        // connection's end ("Connection terminated unexpectedly").
        const err = await errored;
        assert.match(err.message, /terminat/i);
        await ended;
        await assert.rejects(victim.query("select 1"));
      } finally {
        await killer.end();
        if (!victimEnded) await victim.end();
      }
    }),
);

// ── postgres (porsager) ────────────────────────────────────────────────────

function sqlFor(env: RecipeEnv, extra: Record<string, unknown> = {}) {
  return postgres({
    host: DB_NAME,
    port: PORT,
    user: "postgres",
    database: "postgres",
    max: 1,
    connect_timeout: 5,
    onnotice: () => {},
    // The recipe: a socket returned at once; postgres.js writes its startup
    // message into it and destroys it on its own connect_timeout.
    socket: (_options: unknown, host: string, port: number) =>
      createConnection({
        host,
        port,
        resolver: env.resolver,
        trace: env.trace,
      }),
    ...extra,
  });
}

test("postgres.js: a round trip by name through createConnection, hooks seen", {
  skip: postgresSkip,
}, () =>
  withEnv(async (env) => {
    const sql = sqlFor(env);
    try {
      const [row] = await sql`select 1 + 1 as two`;
      assert.equal(row.two, 2);
    } finally {
      await sql.end({ timeout: 1 });
    }
    assert.deepEqual(env.events, dialByName(PORT));
  }));

test(
  "postgres.js: concurrent connects of a pool share one lookup (coalesced)",
  {
    skip: postgresSkip,
  },
  () =>
    withEnv(async (env) => {
      const sql = sqlFor(env, { max: 3 });
      try {
        await Promise.all(
          [1, 2, 3].map(() => sql`select pg_sleep(0.05)`),
        );
        assert.equal(env.aQueries(), 1, "one A query for three connects");
        assert.ok(env.coalesced() >= 2, `coalesced: ${env.events}`);
      } finally {
        await sql.end({ timeout: 1 });
      }
    }),
);

test("postgres.js: server down fails with code ECONNREFUSED", {
  skip: postgresSkip,
}, () =>
  withEnv(async (env) => {
    const sql = sqlFor(env, { port: await closedPort() });
    try {
      await assert.rejects(sql`select 1`, { code: "ECONNREFUSED" });
    } finally {
      await sql.end({ timeout: 1 });
    }
  }));

test("postgres.js: an unknown name fails with ENOTFOUND", {
  skip: postgresSkip,
}, () =>
  withEnv(async (env) => {
    const sql = sqlFor(env, { host: UNKNOWN_NAME });
    try {
      await assert.rejects(sql`select 1`, { code: "ENOTFOUND" });
    } finally {
      await sql.end({ timeout: 1 });
    }
  }));

test("postgres.js: connect_timeout cancels a hanging dial", {
  skip: postgresSkip,
}, () =>
  withEnv(async (env) => {
    const hanging = await startHangingListener();
    const sql = sqlFor(env, { port: hanging.port, connect_timeout: 0.2 });
    try {
      await assert.rejects(sql`select 1`, { code: "CONNECT_TIMEOUT" });
    } finally {
      await sql.end({ timeout: 1 });
      await hanging.close();
    }
  }));

test("postgres.js: a server-side kill is noticed; the next query reconnects", {
  skip: postgresSkip,
}, () =>
  withEnv(async (env) => {
    const sql = sqlFor(env);
    const killer = sqlFor(env);
    try {
      const [{ pid }] = await sql`select pg_backend_pid() as pid`;
      await killer`select pg_terminate_backend(${pid})`;
      const [{ pid: next }] = await sql`select pg_backend_pid() as pid`
        .catch(() => sql`select pg_backend_pid() as pid`);
      assert.notEqual(next, pid);
    } finally {
      await killer.end({ timeout: 1 });
      await sql.end({ timeout: 1 });
    }
  }));
