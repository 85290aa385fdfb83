/**
 * The service-record (HTTPS/SVCB, RFC 9460) half of the resolver
 * conformance suite: `lookupService` of the name-server resolver against
 * the loopback fixture of `_dns_server.ts`, and of the system resolver
 * built with an injected resolv.conf that points at the same fixture. The
 * machine's own resolv.conf is never used here: its name servers are off
 * the machine (the real system query runs in tests/netns/ only). Each
 * runtime's resolver test file calls {@linkcode serviceConformance}.
 *
 * @module
 */

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DNSError } from "../src/errors.ts";
import type { Resolver, ServiceRecord } from "../src/types.ts";
import type { ResolverOptions } from "../runtimes/_dns_common.ts";
import {
  SERVICE_IGNORED_CHANNEL,
  type ServiceIgnoredInfo,
} from "../runtimes/_dns_client.ts";
import { buildResolver } from "../runtimes/_resolver.ts";
import { MAX_HINTS, MAX_SERVICE_RECORDS } from "../runtimes/_svcb.ts";
import {
  type DnsServer,
  type DnsZone,
  type ServiceSpec,
  startDnsServer,
} from "./_dns_server.ts";

/** What a runtime adapter hands to the suite. */
export interface ServiceRuntime {
  /** Prefixes every test name (`"deno"`, `"bun"`, `"node"`). */
  name: string;
  /** The adapter's default system resolver (never asked here). */
  resolver: Resolver;
  /** The adapter's factory. */
  createResolver: (options?: ResolverOptions) => Resolver;
}

const ECH = Uint8Array.from([0x00, 0x06, 0xfe, 0x0d, 0x00, 0x02, 0xab, 0xcd]);
const FULL: ServiceSpec = {
  priority: 1,
  target: ".",
  mandatory: [1, 3],
  alpn: ["h2", "http/1.1"],
  noDefaultAlpn: true,
  port: 8443,
  ipv4hint: ["127.0.0.1", "127.0.0.2"],
  ech: ECH,
  ipv6hint: ["::1", "2001:DB8::1"],
};
const FULL_RECORD: ServiceRecord = {
  priority: 1,
  target: ".",
  alpn: ["h2", "http/1.1"],
  noDefaultAlpn: true,
  port: 8443,
  ipv4hint: ["127.0.0.1", "127.0.0.2"],
  ech: ECH,
  ipv6hint: ["::1", "2001:db8::1"],
  ttl: 120,
};

const HUGE = 40;
const ZONE: DnsZone = {
  "svc.test": {
    A: ["127.0.0.1"],
    AAAA: ["::1"],
    HTTPS: [FULL, { priority: 2, target: "backup.svc.test", alpn: ["h2"] }],
    ttl: { HTTPS: 120 },
  },
  "alias.test": { HTTPS: [{ priority: 0, target: "pool.svc.test" }] },
  "cname.test": { CNAME: "svc.test", ttl: 30 },
  "nodata.test": { A: ["127.0.0.1"] },
  "_8443._https.svc.test": {
    HTTPS: [{ priority: 1, target: ".", port: 9443 }],
  },
  "_5432._postgres.svc.test": {
    SVCB: [{ priority: 3, target: "db.svc.test", port: 5433 }],
  },
  "bad.test": {
    HTTPS: [
      Uint8Array.from([0, 1, 0, 0, 1, 0, 0]), // alpn without a value
      {
        priority: 1,
        target: ".",
        mandatory: [123],
        params: [[123, new Uint8Array(1)]],
      },
      { priority: 2, target: ".", port: 443 },
    ],
  },
  "huge.test": {
    HTTPS: Array.from({ length: HUGE }, (_, i) => ({
      priority: i + 1,
      target: ".",
      ipv4hint: Array.from({ length: 20 }, (_, j) => `10.0.${i}.${j}`),
    })),
  },
  "servfail65.test": { A: ["127.0.0.1"], rcode: { HTTPS: "SERVFAIL" } },
  "drop65.test": { A: ["127.0.0.1"], drop: { HTTPS: true } },
  "slow65.test": {
    A: ["127.0.0.1"],
    HTTPS: [{ priority: 1, target: "." }],
    delay: { HTTPS: 10_000 },
  },
  "hosts.test": { HTTPS: [{ priority: 1, target: "." }] },
  "late65.test": {
    A: ["127.0.0.1"],
    HTTPS: [{ priority: 1, target: ".", alpn: ["h2"] }],
    delay: { HTTPS: 150 },
  },
  "late4.test": {
    A: ["127.0.0.1"],
    HTTPS: [{ priority: 1, target: ".", alpn: ["h2"] }],
    delay: { A: 150 },
  },
};

const HTTPS = { scheme: "https", port: 443 };

/**
 * Registers the suite's tests, each named `"<runtime>: …"`.
 *
 * @param runtime The runtime's name, resolver and factory.
 */
export function serviceConformance(runtime: ServiceRuntime): void {
  const { name, createResolver } = runtime;
  const signal = () => new AbortController().signal;

  async function withServer(
    fn: (server: DnsServer, ns: Resolver) => Promise<void>,
    options: ResolverOptions = {},
  ): Promise<void> {
    const server = await startDnsServer({ zone: ZONE });
    try {
      const ns = createResolver({ ...options, nameServer: server.nameServer });
      await fn(server, ns);
    } finally {
      await server.close();
    }
  }

  /** The diagnostics published while `fn` runs. */
  async function ignoredDuring(fn: () => Promise<void>) {
    const seen: ServiceIgnoredInfo[] = [];
    const onMessage = (message: unknown) =>
      void seen.push(message as ServiceIgnoredInfo);
    subscribe(SERVICE_IGNORED_CHANNEL, onMessage);
    try {
      await fn();
    } finally {
      unsubscribe(SERVICE_IGNORED_CHANNEL, onMessage);
    }
    return seen;
  }

  test(`${name}: both resolvers have lookupService`, () => {
    assert.equal(typeof runtime.resolver.lookupService, "function");
    const ns = createResolver({ nameServer: { address: "127.0.0.1" } });
    assert.equal(typeof ns.lookupService, "function");
  });

  test(`${name}: name-server lookupService reads a ServiceMode HTTPS record with every SvcParam and its TTL`, async () => {
    await withServer(async (server, ns) => {
      const records = await ns.lookupService!("svc.test", {
        signal: signal(),
        ...HTTPS,
      });
      assert.deepEqual(records, [
        FULL_RECORD,
        { priority: 2, target: "backup.svc.test", alpn: ["h2"], ttl: 120 },
      ]);
      assert.equal(
        Object.getPrototypeOf(records[0]!.ech),
        Uint8Array.prototype,
      );
      assert.deepEqual(
        server.queries.map((q) => `${q.name} ${q.type}`),
        ["svc.test HTTPS"],
      );
    });
  });

  test(`${name}: name-server lookupService returns an AliasMode record as it is`, async () => {
    await withServer(async (_server, ns) => {
      assert.deepEqual(
        await ns.lookupService!("alias.test", { signal: signal(), ...HTTPS }),
        [{ priority: 0, target: "pool.svc.test", ttl: 60 }],
      );
    });
  });

  test(`${name}: name-server lookupService follows a CNAME, keeping the smaller TTL`, async () => {
    await withServer(async (_server, ns) => {
      const records = await ns.lookupService!("CNAME.test.", {
        signal: signal(),
        ...HTTPS,
      });
      assert.deepEqual(records.map((r) => [r.priority, r.ttl]), [[1, 30], [
        2,
        30,
      ]]);
    });
  });

  test(`${name}: name-server lookupService resolves [] for NODATA and for an IP literal (which it does not ask)`, async () => {
    await withServer(async (server, ns) => {
      assert.deepEqual(
        await ns.lookupService!("nodata.test", { signal: signal(), ...HTTPS }),
        [],
      );
      for (const host of ["127.0.0.1", "::1"]) {
        assert.deepEqual(
          await ns.lookupService!(host, { signal: signal(), ...HTTPS }),
          [],
        );
      }
      assert.deepEqual(server.queries.map((q) => q.name), ["nodata.test"]);
    });
  });

  test(`${name}: name-server lookupService rejects NXDOMAIN with DNSError "no such host", in Go's words`, async () => {
    await withServer(async (server, ns) => {
      for (
        const [scheme, port, queried] of [
          ["https", 443, "nosuch.test"],
          ["https", 8443, "_8443._https.nosuch.test"],
          ["postgres", 5432, "_5432._postgres.nosuch.test"],
        ] as const
      ) {
        await assert.rejects(
          ns.lookupService!("nosuch.test", { signal: signal(), scheme, port }),
          (err) => {
            assert.ok(err instanceof DNSError, String(err));
            assert.equal(
              err.message,
              `lookup ${queried} on 127.0.0.1:${server.port}: no such host`,
            );
            assert.equal(err.server, `127.0.0.1:${server.port}`);
            assert.equal(err.isNotFound, true);
            assert.equal(err.isTemporary, false);
            return true;
          },
        );
      }
    });
  });

  test(`${name}: name-server lookupService asks _PORT._https.host off port 443 and SVCB of _PORT._scheme.host for other schemes`, async () => {
    await withServer(async (server, ns) => {
      assert.deepEqual(
        await ns.lookupService!("svc.test", {
          signal: signal(),
          scheme: "https",
          port: 8443,
        }),
        [{ priority: 1, target: ".", port: 9443, ttl: 60 }],
      );
      assert.deepEqual(
        await ns.lookupService!("svc.test.", {
          signal: signal(),
          scheme: "postgres",
          port: 5432,
        }),
        [{ priority: 3, target: "db.svc.test", port: 5433, ttl: 60 }],
      );
      assert.deepEqual(
        server.queries.map((q) => `${q.name} ${q.type}`),
        ["_8443._https.svc.test HTTPS", "_5432._postgres.svc.test SVCB"],
      );
    });
  });

  test(`${name}: name-server lookupService ignores malformed and incompatible records with a diagnostic, keeping the good one`, async () => {
    await withServer(async (server, ns) => {
      let records: ServiceRecord[] = [];
      const seen = await ignoredDuring(async () => {
        records = await ns.lookupService!("bad.test", {
          signal: signal(),
          ...HTTPS,
        });
      });
      assert.deepEqual(records, [{
        priority: 2,
        target: ".",
        port: 443,
        ttl: 60,
      }]);
      const at = `127.0.0.1:${server.port}`;
      assert.deepEqual(seen, [
        {
          host: "bad.test",
          name: "bad.test",
          type: "HTTPS",
          server: at,
          reason: "record 1 of bad.test: alpn has a malformed value (0 octets)",
        },
        {
          host: "bad.test",
          name: "bad.test",
          type: "HTTPS",
          server: at,
          reason:
            "record 2 of bad.test: mandatory key key123 is not understood (RFC 9460 §8)",
        },
      ]);
    });
  });

  test(`${name}: name-server lookupService bounds a huge answer to ${MAX_SERVICE_RECORDS} records of ${MAX_HINTS} hints each`, async () => {
    await withServer(async (_server, ns) => {
      let records: ServiceRecord[] = [];
      const seen = await ignoredDuring(async () => {
        records = await ns.lookupService!("huge.test", {
          signal: signal(),
          ...HTTPS,
        });
      });
      assert.equal(records.length, MAX_SERVICE_RECORDS);
      assert.deepEqual(records[0]!.ipv4hint!.slice(0, 2), [
        "10.0.0.0",
        "10.0.0.1",
      ]);
      for (const record of records) {
        assert.equal(record.ipv4hint!.length, MAX_HINTS);
      }
      assert.deepEqual(seen.map((s) => s.reason), [
        `${
          HUGE - MAX_SERVICE_RECORDS
        } records beyond the first ${MAX_SERVICE_RECORDS} dropped`,
      ]);
    });
  });

  test(`${name}: name-server lookupService rejects SERVFAIL on type 65 as temporary, while A still answers`, async () => {
    await withServer(async (server, ns) => {
      await assert.rejects(
        ns.lookupService!("servfail65.test", { signal: signal(), ...HTTPS }),
        (err) => {
          assert.ok(err instanceof DNSError, String(err));
          assert.equal(
            err.message,
            `lookup servfail65.test on 127.0.0.1:${server.port}: server misbehaving`,
          );
          assert.equal(err.isTemporary, true);
          assert.equal(err.isNotFound, false);
          return true;
        },
      );
      const v4 = await ns.lookup("servfail65.test", 4, { signal: signal() });
      assert.deepEqual(v4.map((a) => a.address), ["127.0.0.1"]);
    });
  });

  test(`${name}: name-server lookupService times out an unanswered type 65 query with "i/o timeout"`, async () => {
    await withServer(async (server, ns) => {
      await assert.rejects(
        ns.lookupService!("drop65.test", { signal: signal(), ...HTTPS }),
        (err) => {
          assert.ok(err instanceof DNSError, String(err));
          assert.equal(
            err.message,
            `lookup drop65.test on 127.0.0.1:${server.port}: i/o timeout`,
          );
          assert.equal(err.isTimeout, true);
          return true;
        },
      );
    }, { timeout: 200 });
  });

  test(`${name}: the fixture stages the HTTPS answer after or before the addresses (per-type delay)`, async () => {
    await withServer(async (_server, ns) => {
      for (
        const [host, first] of [
          ["late65.test", "A"],
          ["late4.test", "HTTPS"],
        ] as const
      ) {
        const order: string[] = [];
        await Promise.all([
          ns.lookupService!(host, { signal: signal(), ...HTTPS }).then(
            (records) => {
              assert.equal(records.length, 1);
              order.push("HTTPS");
            },
          ),
          ns.lookup(host, 4, { signal: signal() }).then((addrs) => {
            assert.equal(addrs.length, 1);
            order.push("A");
          }),
        ]);
        assert.equal(order[0], first, host);
      }
    });
  });

  test(`${name}: name-server lookupService rejects with the exact reason when aborted before or during the query`, async () => {
    await withServer(async (server, ns) => {
      const before = new AbortController();
      const early = new Error("gave up before");
      before.abort(early);
      await assert.rejects(
        ns.lookupService!("svc.test", { signal: before.signal, ...HTTPS }),
        (err) => err === early,
      );
      assert.deepEqual(server.queries, []);
      const during = new AbortController();
      const late = new Error("gave up during");
      const asked = server.nextQuery();
      const lookup = ns.lookupService!("slow65.test", {
        signal: during.signal,
        ...HTTPS,
      });
      assert.equal((await asked).type, "HTTPS");
      const start = performance.now();
      during.abort(late);
      await assert.rejects(lookup, (err) => err === late);
      assert.ok(performance.now() - start < 1000);
    });
  });

  test(`${name}: lookupService rejects a scheme that is no DNS label and a port out of range`, async () => {
    await withServer(async (server, ns) => {
      await assert.rejects(
        ns.lookupService!("svc.test", {
          signal: signal(),
          scheme: "a b",
          port: 443,
        }),
        TypeError,
      );
      await assert.rejects(
        ns.lookupService!("svc.test", {
          signal: signal(),
          scheme: "https",
          port: 0,
        }),
        RangeError,
      );
      assert.deepEqual(server.queries, []);
    });
  });

  // ── the system resolver, with an injected resolv.conf ─────────────────

  async function withSystem(
    resolvConf: (server: DnsServer) => string,
    fn: (server: DnsServer, system: Resolver) => Promise<void>,
  ): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), "nettrace-resolv-"));
    const server = await startDnsServer({ zone: ZONE });
    try {
      writeFileSync(join(dir, "resolv.conf"), resolvConf(server));
      writeFileSync(join(dir, "hosts"), "127.0.0.1 hosts.test\n");
      const system = buildResolver(
        () => Promise.reject(new Error("getaddrinfo must not be called")),
        { hostsFile: join(dir, "hosts") },
        { resolvConf: join(dir, "resolv.conf"), resolvPort: server.port },
      );
      await fn(server, system);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test(`${name}: system lookupService asks the resolv.conf name server for HTTPS records`, async () => {
    await withSystem(
      () =>
        "# fixture\nsearch example.test\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
      async (server, system) => {
        assert.deepEqual(
          await system.lookupService!("svc.test", {
            signal: signal(),
            ...HTTPS,
          }),
          [FULL_RECORD, {
            priority: 2,
            target: "backup.svc.test",
            alpn: ["h2"],
            ttl: 120,
          }],
        );
        assert.deepEqual(
          await system.lookupService!("nodata.test", {
            signal: signal(),
            ...HTTPS,
          }),
          [],
        );
        await assert.rejects(
          system.lookupService!("nosuch.test", { signal: signal(), ...HTTPS }),
          (err) =>
            err instanceof DNSError && err.isNotFound &&
            err.message ===
              `lookup nosuch.test on 127.0.0.1:${server.port}: no such host`,
        );
        assert.deepEqual(
          server.queries.map((q) => `${q.name} ${q.type}`),
          ["svc.test HTTPS", "nodata.test HTTPS", "nosuch.test HTTPS"],
        );
      },
    );
  });

  test(`${name}: system lookupService answers [] without asking for hosts-file names, localhost and IP literals`, async () => {
    await withSystem(
      () => "nameserver 127.0.0.1\n",
      async (server, system) => {
        for (
          const host of [
            "hosts.test",
            "HOSTS.test.",
            "localhost",
            "app.localhost",
            "127.0.0.1",
            "::1",
          ]
        ) {
          assert.deepEqual(
            await system.lookupService!(host, { signal: signal(), ...HTTPS }),
            [],
            host,
          );
        }
        assert.deepEqual(server.queries, []);
      },
    );
  });

  test(`${name}: system lookupService moves on to the next name server when one fails`, async () => {
    // 127.0.0.2 has no server on the port: refused (Node, Bun) or, on
    // Deno, whose node:dgram does not report it, a 1 s timeout.
    await withSystem(
      () =>
        "nameserver 127.0.0.2\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
      async (server, system) => {
        assert.deepEqual(
          await system.lookupService!("_8443._https.svc.test", {
            signal: signal(),
            ...HTTPS,
          }),
          [{ priority: 1, target: ".", port: 9443, ttl: 60 }],
        );
        assert.deepEqual(server.queries.map((q) => q.name), [
          "_8443._https.svc.test",
        ]);
      },
    );
  });

  test(`${name}: system lookupService rejects with the last failure when no name server answers`, async () => {
    await withSystem(
      () => "nameserver 127.0.0.1\noptions timeout:1 attempts:2\n",
      async (server, system) => {
        await assert.rejects(
          system.lookupService!("servfail65.test", {
            signal: signal(),
            ...HTTPS,
          }),
          (err) =>
            err instanceof DNSError && err.isTemporary &&
            err.reason === "server misbehaving",
        );
        // attempts:2 → asked twice.
        assert.deepEqual(server.queries.map((q) => q.name), [
          "servfail65.test",
          "servfail65.test",
        ]);
      },
    );
  });
}
