// TTLs end to end on this runtime: the adapter's name-server resolver
// (createResolver({ nameServer }) against the loopback DNS fixture) reports
// each record's TTL, the system resolver's hosts-file answers carry none,
// and cachingResolver() over the name-server resolver answers repeats
// without a query.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  cachingResolver,
  type DNSDoneInfo,
  DNSError,
  type Resolver,
  type Trace,
} from "../mod.ts";
import type { ResolverOptions } from "../runtimes/_dns_common.ts";
import { isCached } from "../src/_cached_answer.ts";
import { type DnsZone, startDnsServer } from "./_dns_server.ts";
import { startEchoServer } from "./_tcp_fixtures.ts";

interface Adapter {
  createResolver(options?: ResolverOptions): Resolver;
  dial(
    address: string,
    options?: { resolver?: Resolver; trace?: Trace },
  ): Promise<{ close(): void }>;
}

const RUNTIME = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** This runtime's adapter (computed: each type-checks on its runtime only). */
async function adapter(): Promise<Adapter> {
  const path = `../runtimes/${RUNTIME}.ts`;
  return await import(path) as Adapter;
}

const ZONE: DnsZone = {
  "ttl.test": {
    A: ["127.0.0.1", "127.0.0.2"],
    AAAA: ["::1"],
    ttl: { A: 120, AAAA: 30 },
  },
  "zero.test": { A: ["127.0.0.1"], ttl: 0 },
  "v4only.test": { A: ["127.0.0.1"] },
  "broken.test": { rcode: "SERVFAIL" },
};

function signal(): AbortSignal {
  return AbortSignal.timeout(5_000);
}

/** Runs `fn` with the fixture and this runtime's name-server resolver. */
async function withNameServer(
  fn: (
    server: Awaited<ReturnType<typeof startDnsServer>>,
    resolver: Resolver,
    runtime: Adapter,
  ) => Promise<void>,
): Promise<void> {
  const server = await startDnsServer({ zone: ZONE });
  try {
    const runtime = await adapter();
    const resolver = runtime.createResolver({
      nameServer: server.nameServer,
      timeout: 2_000,
    });
    await fn(server, resolver, runtime);
  } finally {
    await server.close();
  }
}

test(`${RUNTIME} name-server resolver gives each address its record's TTL`, async () => {
  await withNameServer(async (_server, resolver) => {
    assert.deepEqual(
      await resolver.lookup("ttl.test", 4, { signal: signal() }),
      [
        { address: "127.0.0.1", family: 4, ttl: 120 },
        { address: "127.0.0.2", family: 4, ttl: 120 },
      ],
    );
    assert.deepEqual(
      await resolver.lookup("TTL.test.", 6, { signal: signal() }),
      [{ address: "::1", family: 6, ttl: 30 }],
    );
  });
});

test(`${RUNTIME} name-server resolver keeps a TTL of 0, which cachingResolver does not cache`, async () => {
  await withNameServer(async (server, upstream) => {
    assert.deepEqual(
      await upstream.lookup("zero.test", 4, { signal: signal() }),
      [{ address: "127.0.0.1", family: 4, ttl: 0 }],
    );
    const resolver = cachingResolver(upstream);
    await resolver.lookup("zero.test", 4, { signal: signal() });
    const again = await resolver.lookup("zero.test", 4, { signal: signal() });
    assert.equal(isCached(again), false);
    assert.equal(server.queries.length, 3);
    assert.equal(resolver.stats().size, 0);
  });
});

test(`${RUNTIME} cachingResolver over the name-server resolver answers a repeat without a query`, async () => {
  await withNameServer(async (server, upstream) => {
    const resolver = cachingResolver(upstream);
    const first = await resolver.lookup("ttl.test", 4, { signal: signal() });
    assert.equal(isCached(first), false);
    const second = await resolver.lookup("Ttl.Test.", 4, { signal: signal() });
    assert.equal(isCached(second), true);
    assert.deepEqual(second.map((a) => a.address), ["127.0.0.1", "127.0.0.2"]);
    for (const addr of second) {
      assert.ok(addr.ttl !== undefined && addr.ttl >= 119 && addr.ttl <= 120);
    }
    assert.deepEqual(server.queries.map((q) => `${q.type} ${q.name}`), [
      "A ttl.test",
    ]);
    assert.deepEqual(resolver.stats(), {
      hits: 1,
      misses: 1,
      inFlightHits: 0,
      negativeHits: 0,
      size: 1,
      evictions: 0,
      errors: 0,
    });
  });
});

test(`${RUNTIME} cachingResolver over the name-server resolver caches NXDOMAIN and NODATA, not SERVFAIL`, async () => {
  await withNameServer(async (server, upstream) => {
    const resolver = cachingResolver(upstream);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        resolver.lookup("nosuch.test", 4, { signal: signal() }),
        (error: unknown) =>
          error instanceof DNSError && error.isNotFound &&
          isCached(error) === (i === 1),
      );
      // NODATA resolves [] (kept for negativeTtl like NXDOMAIN); the cache
      // still names the inner resolver's server for a dial's error.
      assert.deepEqual(
        await resolver.lookup("v4only.test", 6, { signal: signal() }),
        [],
      );
      assert.equal(
        resolver.server,
        `${server.nameServer.address}:${server.port}`,
      );
      await assert.rejects(
        resolver.lookup("broken.test", 4, { signal: signal() }),
        (error: unknown) => error instanceof DNSError && error.isTemporary,
      );
    }
    assert.deepEqual(server.queries.map((q) => `${q.type} ${q.name}`), [
      "A nosuch.test",
      "AAAA v4only.test",
      "A broken.test",
      "A broken.test",
    ]);
    assert.equal(resolver.stats().negativeHits, 2);
  });
});

test(`${RUNTIME} system resolver answers from the hosts file carry no TTL`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "nettrace-ttl-"));
  try {
    const path = join(dir, "hosts");
    writeFileSync(path, "127.0.0.5 hosts-ttl.test\n::5 hosts-ttl.test\n");
    const resolver = (await adapter()).createResolver({ hostsFile: path });
    assert.deepEqual(
      await resolver.lookup("hosts-ttl.test", 4, { signal: signal() }),
      [{ address: "127.0.0.5", family: 4 }],
    );
    assert.deepEqual(
      await resolver.lookup("hosts-ttl.test", 6, { signal: signal() }),
      [{ address: "::5", family: 6 }],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`${RUNTIME} dial() with cachingResolver reports the second dial's DNS as cached`, async () => {
  const echo = await startEchoServer();
  try {
    await withNameServer(async (server, upstream, runtime) => {
      server.setZone({ "echo.test": { A: ["127.0.0.1"], ttl: 60 } });
      const resolver = cachingResolver(upstream);
      const done: DNSDoneInfo[] = [];
      const trace: Trace = { dnsDone: (info) => void done.push(info) };
      for (let i = 0; i < 2; i++) {
        const conn = await runtime.dial(`echo.test:${echo.port}`, {
          resolver,
          trace,
        });
        conn.close();
      }
      assert.deepEqual(done.map((d) => d.cached), [false, true]);
      assert.deepEqual(
        server.queries.map((q) => `${q.type} ${q.name}`).sort(),
        ["A echo.test", "AAAA echo.test"],
      );
      await echo.until(() => echo.eofs === 2);
    });
  } finally {
    await echo.close();
  }
});
