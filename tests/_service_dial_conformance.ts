/**
 * Happy Eyeballs v3 end to end on each runtime adapter: its own `dial()`
 * with `service: "https"`, its name-server resolver against the DNS
 * fixture of `_dns_server.ts` (which serves HTTPS records), and real
 * loopback sockets. The timing rules themselves are tested on the virtual
 * clock (happy_eyeballs_v3_test.ts); here: the HTTPS query goes out, the
 * record's port is dialled, a hint connects while the A answer is still
 * 2 s away, a dial without `service` asks nothing more, the returned
 * connection (plain or TLS) tells its record through `dialedService()`,
 * a target name's lookups are reported by `dnsAnswer`, and concurrent
 * dials share one HTTPS query. Each
 * `service_dial_<runtime>_test.ts` runs it on its own runtime.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type ConnectStartInfo,
  dialedService,
  type DialOptions,
  type DNSAnswerInfo,
  type Resolver,
} from "../mod.ts";
import type { ResolverOptions } from "../runtimes/_dns_common.ts";
import { startDnsServer } from "./_dns_server.ts";
import { startServer } from "./_tcp_fixtures.ts";
import { startTlsServer, TEST_CA } from "./_tls_fixtures.ts";

/** An ECHConfigList's bytes, as a record carries them (passed through). */
const ECH = [0xfe, 0x0d, 0x00, 0x01, 0x02];

/** The adapter under test. */
export interface ServiceDialRuntime {
  /** Prefixes every test name. */
  name: string;
  /** The adapter's `dial`. */
  dial(
    address: string,
    options: DialOptions & { resolver?: Resolver },
  ): Promise<{ close(): void; remoteAddr: { port: number } }>;
  /** The adapter's resolver factory. */
  createResolver(options?: ResolverOptions): Resolver;
  /** Registers one test. */
  test(name: string, fn: () => Promise<void>): void;
}

/** Registers the suite for one runtime. */
export function serviceDialConformance(runtime: ServiceDialRuntime): void {
  const { name, test } = runtime;

  test(`${name}: dial() with service dials the HTTPS record's port`, async () => {
    const server = await startServer();
    const dns = await startDnsServer({
      zone: {
        "svc.test": {
          A: ["127.0.0.1"],
          HTTPS: [{
            priority: 1,
            target: ".",
            port: server.port,
            alpn: ["h2"],
            ech: new Uint8Array(ECH),
          }],
        },
      },
    });
    const answers: string[] = [];
    const starts: ConnectStartInfo[] = [];
    try {
      const conn = await runtime.dial("svc.test:443", {
        network: "tcp4",
        service: "https",
        resolver: runtime.createResolver({ nameServer: dns.nameServer }),
        trace: {
          dnsAnswer: (i: DNSAnswerInfo) =>
            answers.push(`${i.family} ${i.records?.length ?? i.addrs.length}`),
          connectStart: (i) => starts.push(i),
        },
      });
      assert.equal(conn.remoteAddr.port, server.port);
      const service = dialedService(conn);
      conn.close();
      // No tls: no ALPN offered; the ech bytes passed through.
      assert.deepEqual(
        { ...service, ech: [...service?.ech ?? []] },
        { priority: 1, target: ".", port: server.port, ech: ECH },
      );
      assert.deepEqual(
        dns.queries.map((q) => `${q.type} ${q.name}`).sort(),
        ["A svc.test", "HTTPS svc.test"],
      );
      assert.ok(answers.includes("service 1"));
      assert.equal(starts.length, 1);
      assert.equal(starts[0]!.addr, `127.0.0.1:${server.port}`);
      assert.equal(starts[0]!.service?.port, server.port);
      assert.equal(starts[0]!.service?.target, ".");
    } finally {
      await dns.close();
      await server.close();
    }
  });

  test(`${name}: dial() with service connects to an ipv4hint while the A answer is 2 s late`, async () => {
    const server = await startServer();
    const dns = await startDnsServer({
      zone: {
        "late.test": {
          A: ["127.0.0.1"],
          HTTPS: [{
            priority: 1,
            target: ".",
            port: server.port,
            ipv4hint: ["127.0.0.1"],
          }],
          delay: { A: 2_000 },
        },
      },
    });
    const starts: ConnectStartInfo[] = [];
    try {
      const began = performance.now();
      const conn = await runtime.dial("late.test:443", {
        network: "tcp4",
        service: "https",
        resolver: runtime.createResolver({ nameServer: dns.nameServer }),
        trace: { connectStart: (i) => starts.push(i) },
      });
      const took = performance.now() - began;
      conn.close();
      assert.equal(starts[0]?.hint, true);
      assert.ok(took < 1_500, `connected after ${took.toFixed(0)} ms`);
    } finally {
      await dns.close();
      await server.close();
    }
  });

  test(`${name}: dial() without service sends no HTTPS query`, async () => {
    const server = await startServer();
    const dns = await startDnsServer({
      zone: {
        "plain.test": {
          A: ["127.0.0.1"],
          HTTPS: [{ priority: 1, target: ".", port: 1 }],
        },
      },
    });
    try {
      const conn = await runtime.dial(`plain.test:${server.port}`, {
        network: "tcp4",
        resolver: runtime.createResolver({ nameServer: dns.nameServer }),
      });
      assert.equal(dialedService(conn), undefined);
      conn.close();
      assert.deepEqual(dns.queries.map((q) => q.type), ["A"]);
    } finally {
      await dns.close();
      await server.close();
    }
  });
  for (const successPoint of ["tcp", "tls"] as const) {
    test(`${name}: dialedService() of a tls dial (successPoint ${successPoint}) is the record on the TLS connection; its ALPN was offered`, async () => {
      const server = await startTlsServer({
        alpnProtocols: ["http/1.1", "h2"],
      });
      const dns = await startDnsServer({
        zone: {
          "svc.tls.test": {
            A: ["127.0.0.1"],
            HTTPS: [{
              priority: 1,
              target: ".",
              port: server.port,
              alpn: ["h2"],
              noDefaultAlpn: true,
              ech: new Uint8Array(ECH),
            }],
          },
        },
      });
      try {
        const conn = await runtime.dial("svc.tls.test:443", {
          network: "tcp4",
          service: "https",
          resolver: runtime.createResolver({ nameServer: dns.nameServer }),
          tls: {
            caCerts: [TEST_CA],
            alpnProtocols: ["http/1.1", "h2"],
            successPoint,
          },
        });
        const service = dialedService(conn);
        await server.until(() => server.handshakes.length === 1);
        conn.close();
        assert.deepEqual(
          { ...service, ech: [...service?.ech ?? []] },
          {
            priority: 1,
            target: ".",
            port: server.port,
            alpn: ["h2"],
            ech: ECH,
          },
        );
        assert.deepEqual(server.handshakes, [
          { servername: "svc.tls.test", alpnProtocol: "h2" },
        ]);
      } finally {
        await dns.close();
        await server.close();
      }
    });
  }

  test(`${name}: dial() with service looks up a target name's address and reports it in dnsAnswer`, async () => {
    const server = await startServer();
    const dns = await startDnsServer({
      zone: {
        "owner.test": {
          HTTPS: [{ priority: 1, target: "pool.test", port: server.port }],
        },
        "pool.test": { A: ["127.0.0.1"] },
      },
    });
    const answers: string[] = [];
    const dones: string[] = [];
    try {
      const conn = await runtime.dial("owner.test:443", {
        network: "tcp4",
        service: "https",
        resolver: runtime.createResolver({ nameServer: dns.nameServer }),
        trace: {
          dnsAnswer: (i: DNSAnswerInfo) =>
            answers.push(
              `${i.family} ${i.name ?? i.host} [${
                i.addrs.map((a) => a.address).join(",")
              }]`,
            ),
          dnsDone: (i) => dones.push(`${i.addrs.length}`),
        },
      });
      const service = dialedService(conn);
      conn.close();
      assert.equal(conn.remoteAddr.port, server.port);
      assert.equal(service?.target, "pool.test");
      assert.ok(answers.includes("service owner.test []"), String(answers));
      assert.ok(answers.includes("4 pool.test [127.0.0.1]"), String(answers));
      // dnsDone is the dialled host's own lookup: owner.test has no A.
      assert.deepEqual(dones, ["0"]);
      assert.deepEqual(
        dns.queries.map((q) => `${q.type} ${q.name}`).sort(),
        ["A owner.test", "A pool.test", "HTTPS owner.test"],
      );
    } finally {
      await dns.close();
      await server.close();
    }
  });

  test(`${name}: concurrent dials with service send one HTTPS query and say it was coalesced`, async () => {
    const server = await startServer();
    const dns = await startDnsServer({
      zone: {
        "many.test": {
          A: ["127.0.0.1"],
          HTTPS: [{ priority: 1, target: ".", port: server.port }],
        },
      },
    });
    const coalesced: boolean[] = [];
    const resolver = runtime.createResolver({ nameServer: dns.nameServer });
    try {
      const conns = await Promise.all(
        [0, 1, 2].map(() =>
          runtime.dial("many.test:443", {
            network: "tcp4",
            service: "https",
            resolver,
            trace: {
              dnsAnswer: (i: DNSAnswerInfo) => {
                if (i.family === "service") coalesced.push(i.coalesced);
              },
            },
          })
        ),
      );
      for (const conn of conns) {
        assert.equal(conn.remoteAddr.port, server.port);
        assert.equal(dialedService(conn)?.port, server.port);
        conn.close();
      }
      assert.deepEqual(coalesced, [true, true, true]);
      assert.equal(dns.queries.filter((q) => q.type === "HTTPS").length, 1);
    } finally {
      await dns.close();
      await server.close();
    }
  });
}
