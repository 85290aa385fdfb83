/**
 * Happy Eyeballs v3 end to end on each runtime adapter: its own `dial()`
 * with `service: "https"`, its name-server resolver against the DNS
 * fixture of `_dns_server.ts` (which serves HTTPS records), and real
 * loopback sockets. The timing rules themselves are tested on the virtual
 * clock (happy_eyeballs_v3_test.ts); here: the HTTPS query goes out, the
 * record's port is dialled, a hint connects while the A answer is still
 * 2 s away, and a dial without `service` asks nothing more. Each
 * `service_dial_<runtime>_test.ts` runs it on its own runtime.
 *
 * @module
 */

import assert from "node:assert/strict";
import type {
  ConnectStartInfo,
  DialOptions,
  DNSAnswerInfo,
  Resolver,
} from "../mod.ts";
import type { ResolverOptions } from "../runtimes/_dns_common.ts";
import { startDnsServer } from "./_dns_server.ts";
import { startServer } from "./_tcp_fixtures.ts";

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
      conn.close();
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
      conn.close();
      assert.deepEqual(dns.queries.map((q) => q.type), ["A"]);
    } finally {
      await dns.close();
      await server.close();
    }
  });
}
