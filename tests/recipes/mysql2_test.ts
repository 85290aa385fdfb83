// Recipes for mysql2 against a real MariaDB 10.11 on loopback
// (tests/recipes/_servers.ts), through its `stream` option with
// createConnection() from the Node adapter.

import { test } from "../_test.ts";
import assert from "node:assert/strict";
import { createConnection } from "../../runtimes/node.ts";
import { closedPort, startHangingListener } from "../_tcp_fixtures.ts";
import { importClient, startMariadb } from "./_servers.ts";
import {
  DB_NAME,
  dialByName,
  type RecipeEnv,
  recipeEnv,
  UNKNOWN_NAME,
} from "./_env.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const mysqlModule = await importClient<Any>("mysql2/promise");
const server = await startMariadb();
const PORT = server.ok ? server.port : 0;
const skip = server.ok
  ? (mysqlModule.ok ? false : mysqlModule.reason)
  : server.reason;
const mysql = mysqlModule.ok
  ? (mysqlModule.module.default ?? mysqlModule.module)
  : null;

async function withEnv(fn: (env: RecipeEnv) => Promise<void>): Promise<void> {
  const env = await recipeEnv();
  try {
    await fn(env);
  } finally {
    await env.close();
  }
}

function config(env: RecipeEnv, extra: Record<string, unknown> = {}) {
  return {
    host: DB_NAME,
    port: PORT,
    user: "root",
    // The recipe: mysql2 calls stream({ config }) and reads from it at once.
    stream: ({ config }: { config: { host: string; port: number } }) =>
      createConnection({
        host: config.host,
        port: config.port,
        resolver: env.resolver,
        trace: env.trace,
      }),
    ...extra,
  };
}

test("mysql2: a round trip by name through createConnection, hooks seen", {
  skip,
}, () =>
  withEnv(async (env) => {
    const conn = await mysql.createConnection(config(env));
    try {
      const [rows] = await conn.query("select 1 + 1 as two");
      assert.equal(rows[0].two, 2);
    } finally {
      await conn.end();
    }
    assert.deepEqual(env.events, dialByName(PORT));
  }));

test("mysql2 pool: concurrent connects share one lookup (coalesced)", {
  skip,
}, () =>
  withEnv(async (env) => {
    const pool = mysql.createPool(config(env, { connectionLimit: 3 }));
    try {
      const conns = await Promise.all(
        [1, 2, 3].map(() => pool.getConnection()),
      );
      for (const c of conns) c.release();
      assert.equal(env.aQueries(), 1, "one A query for three connects");
      assert.ok(env.coalesced() >= 2, `coalesced: ${env.events}`);
    } finally {
      await pool.end();
    }
  }));

test(
  "mysql2: server down fails with code ECONNREFUSED",
  { skip },
  () =>
    withEnv(async (env) => {
      await assert.rejects(
        mysql.createConnection(config(env, { port: await closedPort() })),
        { code: "ECONNREFUSED" },
      );
    }),
);

test(
  "mysql2: an unknown name fails with ENOTFOUND",
  { skip },
  () =>
    withEnv(async (env) => {
      await assert.rejects(
        mysql.createConnection(config(env, { host: UNKNOWN_NAME })),
        { code: "ENOTFOUND" },
      );
    }),
);

test("mysql2: its connectTimeout cancels a hanging dial (ETIMEDOUT)", {
  skip,
}, () =>
  withEnv(async (env) => {
    const hanging = await startHangingListener();
    try {
      await assert.rejects(
        mysql.createConnection(
          config(env, { port: hanging.port, connectTimeout: 200 }),
        ),
        { code: "ETIMEDOUT" },
      );
    } finally {
      await hanging.close();
    }
  }));

test(
  "mysql2: a server-side KILL is noticed, nothing hangs",
  { skip },
  () =>
    withEnv(async (env) => {
      const victim = await mysql.createConnection(config(env));
      const killer = await mysql.createConnection(config(env));
      try {
        const lost = new Promise<{ code?: string }>((resolve) =>
          victim.connection.once("error", resolve)
        );
        await killer.query(`KILL ${victim.threadId}`);
        const err = await lost;
        assert.equal(err.code, "PROTOCOL_CONNECTION_LOST");
        await assert.rejects(victim.query("select 1"));
      } finally {
        await killer.end();
        victim.destroy();
      }
    }),
);
