/**
 * The conformance suite every runtime resolver passes: the system resolver
 * (only `localhost` and IP literals — no other name ever goes to the
 * system's DNS) and the name-server resolver against the loopback fixture of
 * `_dns_server.ts`. Each runtime's test file calls
 * {@linkcode resolverConformance} with its own module.
 *
 * @module
 */

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import process from "node:process";
import { dial } from "../src/dial.ts";
import { DialError, DNSError } from "../src/errors.ts";
import type { DNSDoneInfo, Trace } from "../src/trace.ts";
import type { Dialer, Endpoint, IPAddr, Resolver } from "../src/types.ts";
import type { ResolvedAddr, ResolverOptions } from "../runtimes/_dns_common.ts";
import {
  decodeResponse,
  encodeQuery,
  queryAddrs,
} from "../runtimes/_dns_client.ts";
import { type DnsServer, type DnsZone, startDnsServer } from "./_dns_server.ts";

/** What a runtime adapter hands to the suite. */
export interface ResolverRuntime {
  /** Prefixes every test name (`"deno"`, `"bun"`, `"node"`). */
  name: string;
  /** The adapter's default system resolver. */
  resolver: Resolver;
  /** The adapter's factory. */
  createResolver: (options?: ResolverOptions) => Resolver;
}

const ZONE: DnsZone = {
  "dual.test": { A: ["127.0.0.1"], AAAA: ["::1"], ttl: 42 },
  "many.test": {
    A: ["127.0.0.3", "127.0.0.1", "127.0.0.2"],
    AAAA: ["2001:DB8:0:0:0:0:0:2", "::1", "2001:db8::1"],
  },
  "v4only.test": { A: ["127.0.0.1"] },
  "v6only.test": { AAAA: ["::1"] },
  "empty.test": {},
  "nodata.test": {},
  "one4.test": { A: ["127.0.0.1"] },
  "servfail.test": { rcode: "SERVFAIL" },
  "refused.test": { rcode: "REFUSED" },
  "drop.test": { drop: true },
  "slow.test": { A: ["127.0.0.1"], AAAA: ["::1"], delay: { A: 10_000 } },
  "localhost": { A: ["127.0.0.9"] },
};

/**
 * Registers the suite's tests, each named `"<runtime>: …"`.
 *
 * @param runtime The runtime's name, resolver and factory.
 */
export function resolverConformance(runtime: ResolverRuntime): void {
  const { name, resolver, createResolver } = runtime;
  const signal = () => new AbortController().signal;

  // ── system resolver: localhost and literals only ─────────────────────

  test(`${name}: system resolver answers localhost with 127.0.0.1 for family 4`, async () => {
    assert.deepEqual(
      await resolver.lookup("localhost", 4, { signal: signal() }),
      [{ address: "127.0.0.1", family: 4 }],
    );
  });

  test(`${name}: system resolver answers localhost with ::1 for family 6`, async () => {
    assert.deepEqual(
      await resolver.lookup("localhost", 6, { signal: signal() }),
      [{ address: "::1", family: 6 }],
    );
  });

  test(`${name}: system resolver answers LOCALHOST. and names under localhost locally`, async () => {
    for (
      const host of [
        "LOCALHOST.",
        "LocalHost",
        "app.localhost",
        "a.b.LOCALHOST.",
      ]
    ) {
      assert.deepEqual(
        await resolver.lookup(host, 4, { signal: signal() }),
        [{ address: "127.0.0.1", family: 4 }],
        host,
      );
      assert.deepEqual(
        await resolver.lookup(host, 6, { signal: signal() }),
        [{ address: "::1", family: 6 }],
        host,
      );
    }
  });

  test(`${name}: createResolver() without options is a system resolver too`, async () => {
    const own = createResolver();
    assert.deepEqual(
      await own.lookup("localhost", 6, { signal: signal() }),
      [{ address: "::1", family: 6 }],
    );
  });

  test(`${name}: system resolver returns an IP literal as it is, [] for the other family`, async () => {
    assert.deepEqual(
      await resolver.lookup("127.0.0.1", 4, { signal: signal() }),
      [{ address: "127.0.0.1", family: 4 }],
    );
    assert.deepEqual(
      await resolver.lookup("127.0.0.1", 6, { signal: signal() }),
      [],
    );
    assert.deepEqual(
      await resolver.lookup("0:0::1", 6, { signal: signal() }),
      [{ address: "::1", family: 6 }],
    );
  });

  test(`${name}: system resolver rejects with the reason of an already aborted signal`, async () => {
    const controller = new AbortController();
    const reason = new Error("gave up before");
    controller.abort(reason);
    await assert.rejects(
      resolver.lookup("localhost", 4, { signal: controller.signal }),
      (err) => err === reason,
    );
  });

  test(`${name}: system resolver rejects with the reason of an abort during the lookup`, async () => {
    const controller = new AbortController();
    const reason = new Error("gave up during");
    const lookup = resolver.lookup("localhost", 6, {
      signal: controller.signal,
    });
    controller.abort(reason);
    await assert.rejects(lookup, (err) => err === reason);
  });

  // ── name-server resolver against the fixture ─────────────────────────

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

  const strip = (addrs: IPAddr[]) =>
    addrs.map(({ address, family }) => ({ address, family }));

  test(`${name}: name-server resolver answers A and AAAA of a dual-stack name`, async () => {
    await withServer(async (server, ns) => {
      const [v4, v6] = await Promise.all([
        ns.lookup("dual.test", 4, { signal: signal() }),
        ns.lookup("dual.test", 6, { signal: signal() }),
      ]);
      assert.deepEqual(strip(v4), [{ address: "127.0.0.1", family: 4 }]);
      assert.deepEqual(strip(v6), [{ address: "::1", family: 6 }]);
      assert.deepEqual(
        server.queries.map((q) => `${q.name} ${q.type}`).sort(),
        ["dual.test A", "dual.test AAAA"],
      );
    });
  });

  test(`${name}: name-server resolver gives each address its TTL`, async () => {
    await withServer(async (_server, ns) => {
      const v4: ResolvedAddr[] = await ns.lookup("dual.test", 4, {
        signal: signal(),
      });
      const v6: ResolvedAddr[] = await ns.lookup("dual.test", 6, {
        signal: signal(),
      });
      assert.deepEqual(v4, [{ address: "127.0.0.1", family: 4, ttl: 42 }]);
      assert.deepEqual(v6, [{ address: "::1", family: 6, ttl: 42 }]);
    });
  });

  test(`${name}: name-server resolver keeps the server's order and canonicalizes`, async () => {
    await withServer(async (_server, ns) => {
      assert.deepEqual(
        strip(await ns.lookup("many.test", 4, { signal: signal() })),
        [
          { address: "127.0.0.3", family: 4 },
          { address: "127.0.0.1", family: 4 },
          { address: "127.0.0.2", family: 4 },
        ],
      );
      assert.deepEqual(
        strip(await ns.lookup("many.test", 6, { signal: signal() })),
        [
          { address: "2001:db8::2", family: 6 },
          { address: "::1", family: 6 },
          { address: "2001:db8::1", family: 6 },
        ],
      );
    });
  });

  test(`${name}: name-server resolver matches names case-insensitively, trailing dot allowed`, async () => {
    await withServer(async (_server, ns) => {
      assert.deepEqual(
        strip(await ns.lookup("Dual.TEST.", 4, { signal: signal() })),
        [{ address: "127.0.0.1", family: 4 }],
      );
    });
  });

  test(`${name}: name-server resolver resolves [] for NODATA (no record of the family) and names its server`, async () => {
    await withServer(async (server, ns) => {
      for (
        const [host, family] of [
          ["v4only.test", 6],
          ["v6only.test", 4],
          ["empty.test", 4],
          ["nodata.test", 4],
          ["nodata.test", 6],
        ] as const
      ) {
        assert.deepEqual(
          await ns.lookup(host, family, { signal: signal() }),
          [],
          `${host} family ${family}`,
        );
      }
      // What a dial that finds no address names (Go's DNSError.Server).
      assert.equal(ns.server, `127.0.0.1:${server.port}`);
    });
  });

  test(`${name}: a dial through the name-server resolver names the server for NODATA, in Go's words`, async () => {
    await withServer(async (server, ns) => {
      const at = `127.0.0.1:${server.port}`;
      const dialer: Dialer<Endpoint> = {
        connect: (endpoint) => Promise.resolve(endpoint),
        close: () => {},
      };
      const done: DNSDoneInfo[] = [];
      const trace: Trace = { dnsDone: (info) => void done.push(info) };
      const rejectsWith = (dialing: Promise<unknown>, message: string) =>
        assert.rejects(dialing, (err: unknown) => {
          assert.ok(err instanceof DialError, String(err));
          assert.equal(err.message, message);
          return true;
        });
      await rejectsWith(
        dial("nodata.test:80", { resolver: ns, dialer, trace }),
        `dial tcp: lookup nodata.test on ${at}: no such host`,
      );
      assert.equal(
        done[0]?.error?.message,
        `lookup nodata.test on ${at}: no such host`,
      );
      // Go: dial tcp6: lookup one4.test on 127.0.0.1:53: no such host
      await rejectsWith(
        dial("one4.test:80", { network: "tcp6", resolver: ns, dialer }),
        `dial tcp6: lookup one4.test on ${at}: no such host`,
      );
      // The family without records is ignored when the other has some.
      const endpoint = await dial("one4.test:80", { resolver: ns, dialer });
      assert.equal(endpoint.address, "127.0.0.1");
      assert.equal(endpoint.port, 80);
    });
  });

  test(`${name}: name-server resolver rejects NXDOMAIN with DNSError "no such host"`, async () => {
    await withServer(async (server, ns) => {
      for (const family of [4, 6] as const) {
        await assert.rejects(
          ns.lookup("nosuch.test", family, { signal: signal() }),
          (err) => {
            assert.ok(err instanceof DNSError, String(err));
            assert.equal(
              err.message,
              `lookup nosuch.test on 127.0.0.1:${server.port}: no such host`,
            );
            assert.equal(err.host, "nosuch.test");
            assert.equal(err.server, `127.0.0.1:${server.port}`);
            assert.equal(err.isNotFound, true);
            assert.equal(err.isTimeout, false);
            assert.equal(err.isTemporary, false);
            return true;
          },
        );
      }
    });
  });

  test(`${name}: name-server resolver rejects SERVFAIL as a temporary "server misbehaving"`, async () => {
    await withServer(async (server, ns) => {
      await assert.rejects(
        ns.lookup("servfail.test", 4, { signal: signal() }),
        (err) => {
          assert.ok(err instanceof DNSError, String(err));
          assert.equal(
            err.message,
            `lookup servfail.test on 127.0.0.1:${server.port}: server misbehaving`,
          );
          assert.equal(err.isTemporary, true);
          assert.equal(err.isNotFound, false);
          return true;
        },
      );
    });
  });

  test(`${name}: name-server resolver rejects REFUSED as "server misbehaving"`, async () => {
    await withServer(async (_server, ns) => {
      await assert.rejects(
        ns.lookup("refused.test", 6, { signal: signal() }),
        (err) => {
          assert.ok(err instanceof DNSError, String(err));
          assert.equal(err.reason, "server misbehaving");
          assert.equal(err.isNotFound, false);
          return true;
        },
      );
    });
  });

  test(`${name}: name-server resolver rejects an unanswered query with DNSError "i/o timeout"`, async () => {
    await withServer(async (server, ns) => {
      const start = performance.now();
      await assert.rejects(
        ns.lookup("drop.test", 4, { signal: signal() }),
        (err) => {
          assert.ok(err instanceof DNSError, String(err));
          assert.equal(
            err.message,
            `lookup drop.test on 127.0.0.1:${server.port}: i/o timeout`,
          );
          assert.equal(err.isTimeout, true);
          assert.equal(err.isTemporary, true);
          return true;
        },
      );
      // The 200 ms timeout is used, not the 5 s default (bound kept loose).
      assert.ok(performance.now() - start < 2500);
    }, { timeout: 200 });
  });

  test(`${name}: name-server resolver rejects with the exact reason at once when aborted during a delayed answer`, async () => {
    await withServer(async (server, ns) => {
      const controller = new AbortController();
      const reason = new Error("caller left");
      const asked = server.nextQuery();
      const lookup = ns.lookup("slow.test", 4, { signal: controller.signal });
      assert.equal((await asked).name, "slow.test");
      const start = performance.now();
      controller.abort(reason);
      await assert.rejects(lookup, (err) => err === reason);
      // The answer would come after 10 s; the abort must not wait for it.
      assert.ok(performance.now() - start < 1000);
    });
  });

  test(`${name}: name-server resolver rejects with the reason of an already aborted signal and sends nothing`, async () => {
    await withServer(async (server, ns) => {
      const controller = new AbortController();
      const reason = new Error("gave up before");
      controller.abort(reason);
      await assert.rejects(
        ns.lookup("dual.test", 4, { signal: controller.signal }),
        (err) => err === reason,
      );
      assert.deepEqual(server.queries, []);
    });
  });

  test(`${name}: name-server resolver still answers after a sibling lookup was aborted`, async () => {
    await withServer(async (server, ns) => {
      const controller = new AbortController();
      const asked = server.nextQuery();
      const slow = ns.lookup("slow.test", 4, { signal: controller.signal });
      await asked;
      const fast = ns.lookup("slow.test", 6, { signal: signal() });
      controller.abort(new Error("only the A query"));
      await assert.rejects(slow);
      assert.deepEqual(strip(await fast), [{ address: "::1", family: 6 }]);
    });
  });

  test(`${name}: name-server resolver rejects with DNSError when no server listens on the port`, async () => {
    const port = await closedUdpPort();
    const ns = createResolver({
      nameServer: { address: "127.0.0.1", port },
      timeout: 200,
    });
    await assert.rejects(
      ns.lookup("dual.test", 4, { signal: signal() }),
      (err) => {
        assert.ok(err instanceof DNSError, String(err));
        assert.equal(err.server, `127.0.0.1:${port}`);
        // Node and Bun hear the ICMP port unreachable; Deno's node:dgram
        // does not, so there it is a timeout.
        assert.match(err.reason, /^(read: connection refused|i\/o timeout)$/);
        assert.equal(err.isNotFound, false);
        return true;
      },
    );
  });

  test(`${name}: name-server resolver fails both families' lookups of a dial when no server listens, not one then a timeout`, async () => {
    const port = await closedUdpPort();
    const ns = createResolver({
      nameServer: { address: "127.0.0.1", port },
      timeout: 300,
    });
    // As a dial asks: AAAA and A at once, sharing the client's socket (the
    // second send hears the first datagram's ICMP port unreachable).
    const outcomes = await Promise.allSettled([
      ns.lookup("dual.test", 6, { signal: signal() }),
      ns.lookup("dual.test", 4, { signal: signal() }),
    ]);
    const reasons = outcomes.map((outcome) => {
      assert.equal(outcome.status, "rejected");
      const err = (outcome as PromiseRejectedResult).reason;
      assert.ok(err instanceof DNSError, String(err));
      return err.reason;
    });
    // Deno's node:dgram never hears the ICMP error: a timeout, for both.
    assert.deepEqual(
      reasons,
      "Deno" in globalThis
        ? ["i/o timeout", "i/o timeout"]
        : ["read: connection refused", "read: connection refused"],
    );
  });

  test(`${name}: name-server resolver asks the server, not /etc/hosts, even for localhost`, async () => {
    await withServer(async (server, ns) => {
      assert.deepEqual(
        strip(await ns.lookup("localhost", 4, { signal: signal() })),
        [{ address: "127.0.0.9", family: 4 }],
      );
      assert.deepEqual(server.queries.map((q) => q.name), ["localhost"]);
    });
  });

  test(`${name}: name-server resolver answers an IP literal without asking`, async () => {
    await withServer(async (server, ns) => {
      assert.deepEqual(
        await ns.lookup("::1", 6, { signal: signal() }),
        [{ address: "::1", family: 6 }],
      );
      assert.deepEqual(await ns.lookup("::1", 4, { signal: signal() }), []);
      assert.deepEqual(server.queries, []);
    });
  });

  test(`${name}: name-server resolver rejects an invalid name as "no such host" without asking`, async () => {
    await withServer(async (server, ns) => {
      for (
        const host of [
          "a..test",
          "-",
          "a-.test",
          "bad name.test",
          "123",
          "x".repeat(64),
          ".",
        ]
      ) {
        await assert.rejects(
          ns.lookup(host, 4, { signal: signal() }),
          (err) => err instanceof DNSError && err.isNotFound,
          host,
        );
      }
      assert.deepEqual(server.queries, []);
    });
  });

  test(`${name}: name-server resolver serves an IPv6 name server`, async () => {
    const server = await startDnsServer({ zone: ZONE, address: "::1" });
    try {
      const ns = createResolver({ nameServer: server.nameServer });
      assert.deepEqual(
        strip(await ns.lookup("dual.test", 6, { signal: signal() })),
        [{ address: "::1", family: 6 }],
      );
      await assert.rejects(
        ns.lookup("nosuch.test", 4, { signal: signal() }),
        (err) =>
          err instanceof DNSError &&
          err.message ===
            `lookup nosuch.test on [::1]:${server.port}: no such host`,
      );
    } finally {
      await server.close();
    }
  });

  test(`${name}: createResolver() rejects a bad name server or timeout`, () => {
    assert.throws(
      () => createResolver({ nameServer: { address: "dns.test" } }),
      TypeError,
    );
    for (const port of [0, -1, 65536, 1.5]) {
      assert.throws(
        () => createResolver({ nameServer: { address: "127.0.0.1", port } }),
        RangeError,
      );
    }
    for (const timeout of [0, -5, Number.NaN]) {
      assert.throws(() => createResolver({ timeout }), RangeError);
    }
  });

  /** Runs every kind of outcome once, each lookup through `lookup`. */
  async function everyOutcome(
    lookup: (
      server: { address: string; port: number },
      host: string,
      family: 4 | 6,
      options: { signal: AbortSignal; timeout: number },
    ) => Promise<IPAddr[]>,
  ): Promise<void> {
    const port = await closedUdpPort();
    const server = await startDnsServer({ zone: ZONE });
    try {
      const at = server.nameServer;
      // Long timeouts where the lookup must not time out, so that a timer
      // left behind would still be pending at the end.
      const long = (s: AbortSignal) => ({ signal: s, timeout: 30_000 });
      const aborted = new AbortController();
      aborted.abort(new Error("before"));
      const during = new AbortController();
      const asked = server.nextQuery();
      const slow = lookup(at, "slow.test", 4, long(during.signal));
      await asked;
      during.abort(new Error("during"));
      const outcomes = await Promise.allSettled([
        slow,
        lookup(at, "dual.test", 6, long(signal())),
        lookup(at, "v4only.test", 6, long(signal())),
        lookup(at, "nosuch.test", 4, long(signal())),
        lookup(at, "servfail.test", 4, long(signal())),
        lookup(at, "drop.test", 4, { signal: signal(), timeout: 100 }),
        lookup(at, "dual.test", 4, long(aborted.signal)),
        lookup({ address: "127.0.0.1", port }, "dual.test", 4, {
          signal: signal(),
          timeout: 100,
        }),
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.status),
        [
          "rejected",
          "fulfilled",
          "fulfilled",
          "rejected",
          "rejected",
          "rejected",
          "rejected",
          "rejected",
        ],
      );
    } finally {
      await server.close();
    }
  }

  test(`${name}: resolvers leave no timer or socket behind, whatever the outcome`, async () => {
    const before = await settledResources();
    await everyOutcome((nameServer, host, family, { signal, timeout }) =>
      createResolver({ nameServer, timeout }).lookup(host, family, { signal })
    );
    const aborted = new AbortController();
    aborted.abort(new Error("before"));
    await resolver.lookup("localhost", 6, { signal: signal() });
    await assert.rejects(
      resolver.lookup("localhost", 4, { signal: aborted.signal }),
    );
    assert.deepEqual(await settledResources(before), before);
  });

  test(`${name}: DNS client leaves no timer or socket behind, whatever the outcome`, async () => {
    const before = await settledResources();
    await everyOutcome(
      ({ address, port }, host, family, options) =>
        queryAddrs(host, family, {
          ...options,
          server: {
            ip: address,
            address,
            port,
            family: 4,
            text: `${address}:${port}`,
          },
        }),
    );
    assert.deepEqual(await settledResources(before), before);
  });

  // ── the wire format of the own UDP client (used by all three) ───────

  test(`${name}: DNS client encodes a recursive query with an EDNS(0) record`, () => {
    const packet = encodeQuery(0x1234, "dual.test", 28);
    assert.deepEqual(
      [...packet],
      [
        0x12,
        0x34,
        0x01,
        0x00,
        0,
        1,
        0,
        0,
        0,
        0,
        0,
        1,
        4,
        ...ascii("dual"),
        4,
        ...ascii("test"),
        0,
        0,
        28,
        0,
        1,
        0,
        0,
        41,
        0x04,
        0xd0,
        0,
        0,
        0,
        0,
        0,
        0,
      ],
    );
  });

  test(`${name}: DNS client follows a CNAME chain through compressed names`, () => {
    // www.alias.test CNAME target.alias.test (compressed), then its A.
    const message = response(0x0102, 0x8180, "www.alias.test", 1, [
      ...rr([0xc0, 12], 5, 10, [6, ...ascii("target"), 0xc0, 16]),
      ...rr([0xc0, 44], 1, 300, [127, 0, 0, 7]),
      ...rr([5, ...ascii("other"), 0xc0, 22], 1, 300, [127, 0, 0, 8]),
    ], 3);
    assert.deepEqual(
      decodeResponse(message, { id: 0x0102, name: "www.alias.test", qtype: 1 }),
      {
        rcode: 0,
        truncated: false,
        malformed: false,
        records: [{ address: "127.0.0.7", ttl: 10 }],
      },
    );
  });

  test(`${name}: DNS client ignores datagrams that do not answer its question`, () => {
    const query = { id: 7, name: "dual.test", qtype: 1 };
    const answer = rr([0xc0, 12], 1, 60, [127, 0, 0, 1]);
    assert.equal(
      decodeResponse(response(8, 0x8180, "dual.test", 1, answer, 1), query),
      undefined,
    );
    assert.equal(
      decodeResponse(response(7, 0x0100, "dual.test", 1, answer, 1), query),
      undefined,
    );
    assert.equal(
      decodeResponse(response(7, 0x8180, "other.test", 1, answer, 1), query),
      undefined,
    );
    assert.equal(
      decodeResponse(response(7, 0x8180, "dual.test", 28, [], 0), query),
      undefined,
    );
    assert.equal(decodeResponse(new Uint8Array(5), query), undefined);
    assert.ok(
      decodeResponse(response(7, 0x8180, "DUAL.test", 1, answer, 1), query),
    );
  });

  test(`${name}: DNS client reports truncation, rcode and malformed answers`, () => {
    const query = { id: 7, name: "dual.test", qtype: 1 };
    assert.equal(
      decodeResponse(response(7, 0x8380, "dual.test", 1, [], 0), query)
        ?.truncated,
      true,
    );
    assert.equal(
      decodeResponse(response(7, 0x8183, "dual.test", 1, [], 0), query)?.rcode,
      3,
    );
    // An owner name that points at itself.
    const loop = response(
      7,
      0x8180,
      "dual.test",
      1,
      rr([0xc0, 27], 1, 60, [127, 0, 0, 1]),
      1,
    );
    assert.equal(decodeResponse(loop, query)?.malformed, true);
    // An answer cut short.
    const short = response(
      7,
      0x8180,
      "dual.test",
      1,
      rr([0xc0, 12], 1, 60, [127, 0, 0, 1]),
      1,
    );
    assert.equal(
      decodeResponse(short.subarray(0, short.length - 2), query)?.malformed,
      true,
    );
    // An A record whose data is not 4 bytes.
    const odd = response(
      7,
      0x8180,
      "dual.test",
      1,
      rr([0xc0, 12], 1, 60, [127, 0, 0]),
      1,
    );
    assert.equal(decodeResponse(odd, query)?.malformed, true);
  });
}

/**
 * The kinds of timers and handles keeping the event loop alive, sorted.
 * Node lists timers and sockets, Deno timers only, Bun nothing: the check is
 * as strict as the runtime allows.
 */
function activeResources(): string[] {
  const info = (process as { getActiveResourcesInfo?: () => string[] })
    .getActiveResourcesInfo?.() ?? [];
  return info.filter((kind) => kind !== "TTYWrap").sort();
}

/**
 * {@linkcode activeResources} once closed sockets have left the handle list
 * (they do on a later turn of the event loop; no timers involved): when it
 * matches `expected`, or has no UDP socket left when nothing is expected.
 */
async function settledResources(expected?: string[]): Promise<string[]> {
  const done = (now: string[]) =>
    expected === undefined
      ? !now.includes("UDPWrap")
      : now.join() === expected.join();
  let now = activeResources();
  for (let i = 0; i < 50 && !done(now); i++) {
    await new Promise((resolve) => setImmediate(resolve));
    now = activeResources();
  }
  return now;
}

/** A UDP port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

function encodeName(name: string): number[] {
  return [
    ...name.split(".").flatMap((label) => [label.length, ...ascii(label)]),
    0,
  ];
}

/** A response header + one question + raw answer bytes. */
function response(
  id: number,
  flags: number,
  qname: string,
  qtype: number,
  answers: number[],
  ancount: number,
): Uint8Array {
  return Uint8Array.from([
    id >> 8,
    id & 0xff,
    flags >> 8,
    flags & 0xff,
    0,
    1,
    0,
    ancount,
    0,
    0,
    0,
    0,
    ...encodeName(qname),
    0,
    qtype,
    0,
    1,
    ...answers,
  ]);
}

/** One resource record of class IN. */
function rr(
  owner: number[],
  type: number,
  ttl: number,
  rdata: number[],
): number[] {
  return [
    ...owner,
    0,
    type,
    0,
    1,
    (ttl >>> 24) & 0xff,
    (ttl >>> 16) & 0xff,
    (ttl >>> 8) & 0xff,
    ttl & 0xff,
    rdata.length >> 8,
    rdata.length & 0xff,
    ...rdata,
  ];
}
