// lookup() / createLookup() on the Node adapter (Node, Bun, Deno): a
// dns.lookup-compatible function running nettrace's traced, coalesced
// lookup. Names come from an in-test resolver (nothing leaves the process).

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { promisify } from "node:util";
import {
  createLookup,
  DNSError,
  type Family,
  type IPAddr,
  type LookupAddress,
  type Resolver,
  type Trace,
} from "../runtimes/node.ts";
import { startEchoServer } from "./_tcp_fixtures.ts";

interface CountingResolver extends Resolver {
  calls: string[];
  release(): void;
}

/** db.test: ::1 and 127.0.0.1; v4only.test: 127.0.0.1; answers held until release(). */
function countingResolver(hold = false): CountingResolver {
  const calls: string[] = [];
  const gate = Promise.withResolvers<void>();
  if (!hold) gate.resolve();
  return {
    calls,
    release: () => gate.resolve(),
    async lookup(host: string, family: Family): Promise<IPAddr[]> {
      calls.push(`${host} ${family}`);
      await gate.promise;
      if (host === "db.test") {
        return family === 6
          ? [{ address: "::1", family: 6 }]
          : [{ address: "127.0.0.1", family: 4 }];
      }
      if (host === "v4only.test") {
        return family === 4 ? [{ address: "127.0.0.1", family: 4 }] : [];
      }
      if (host === "flaky.test") {
        throw new DNSError("server misbehaving", host, { isTemporary: true });
      }
      throw new DNSError("no such host", host, { isNotFound: true });
    },
  };
}

function call(
  lookup: ReturnType<typeof createLookup>,
  host: string,
  options: Parameters<ReturnType<typeof createLookup>["promise"]>[1],
): Promise<{ address: string | LookupAddress[]; family?: number }> {
  return new Promise((resolve, reject) => {
    lookup(host, options ?? {}, (err, address, family) => {
      if (err) reject(err);
      else resolve({ address, family });
    });
  });
}

test("lookup(host, cb) gives the first address, IPv6 first; all: true gives both", async () => {
  const lookup = createLookup({ resolver: countingResolver() });
  assert.deepEqual(await call(lookup, "db.test", {}), {
    address: "::1",
    family: 6,
  });
  assert.deepEqual(await call(lookup, "db.test", { all: true }), {
    address: [
      { address: "::1", family: 6 },
      { address: "127.0.0.1", family: 4 },
    ],
    family: undefined,
  });
  const first = await new Promise<unknown[]>((resolve) =>
    lookup("db.test", (...args) => resolve(args))
  );
  assert.deepEqual(first, [null, "::1", 6]);
});

test("family, order and verbatim are dns.lookup's", async () => {
  const resolver = countingResolver();
  const lookup = createLookup({ resolver });
  assert.deepEqual(await lookup.promise("db.test", 4), {
    address: "127.0.0.1",
    family: 4,
  });
  assert.deepEqual(await lookup.promise("db.test", { family: "IPv6" }), {
    address: "::1",
    family: 6,
  });
  assert.deepEqual(
    await lookup.promise("db.test", { all: true, order: "ipv4first" }),
    [{ address: "127.0.0.1", family: 4 }, { address: "::1", family: 6 }],
  );
  assert.deepEqual(
    await lookup.promise("db.test", { verbatim: false }),
    { address: "127.0.0.1", family: 4 },
  );
  // One family asked when one is wanted, both otherwise.
  assert.deepEqual(resolver.calls, [
    "db.test 4",
    "db.test 6",
    "db.test 6",
    "db.test 4",
    "db.test 6",
    "db.test 4",
  ]);
});

test("hints: V4MAPPED maps IPv4 answers for family 6 when there is no IPv6 one", async () => {
  const lookup = createLookup({ resolver: countingResolver() });
  assert.deepEqual(
    await lookup.promise("v4only.test", { family: 6, hints: 0x08 }),
    { address: "::ffff:127.0.0.1", family: 6 },
  );
  assert.deepEqual(
    await lookup.promise("db.test", { family: 6, hints: 0x08, all: true }),
    [{ address: "::1", family: 6 }],
  );
  assert.deepEqual(
    await lookup.promise("db.test", {
      family: 6,
      hints: 0x08 | 0x10,
      all: true,
    }),
    [{ address: "::1", family: 6 }, {
      address: "::ffff:127.0.0.1",
      family: 6,
    }],
  );
});

test("an IP literal is answered without a lookup", async () => {
  const resolver = countingResolver();
  const lookup = createLookup({ resolver });
  assert.deepEqual(await lookup.promise("127.0.0.1", { all: true }), [
    { address: "127.0.0.1", family: 4 },
  ]);
  assert.deepEqual(await lookup.promise("::1"), { address: "::1", family: 6 });
  assert.deepEqual(resolver.calls, []);
});

test("an unknown name fails with ENOTFOUND / getaddrinfo; a temporary failure with EAI_AGAIN", async () => {
  const lookup = createLookup({ resolver: countingResolver() });
  const err = await new Promise<Error | null>((resolve) =>
    lookup("nosuch.test", {}, (e) => resolve(e))
  );
  assert.ok(err instanceof DNSError);
  assert.equal(err.code, "ENOTFOUND");
  assert.equal(err.syscall, "getaddrinfo");
  assert.equal(err.message, "lookup nosuch.test: no such host");
  await assert.rejects(lookup.promise("flaky.test"), { code: "EAI_AGAIN" });
});

test("concurrent lookups of a name share one query per family (coalesced) and report it", async () => {
  const resolver = countingResolver(true);
  const done: boolean[] = [];
  const trace: Trace = { dnsDone: ({ coalesced }) => done.push(coalesced) };
  const lookup = createLookup({ resolver, trace });
  const all = Promise.all([1, 2, 3].map(() => lookup.promise("db.test")));
  resolver.release();
  const results = await all;
  assert.deepEqual(results, Array(3).fill({ address: "::1", family: 6 }));
  assert.deepEqual(resolver.calls, ["db.test 6", "db.test 4"]);
  assert.deepEqual(done, [true, true, true]);
});

test("the trace sees dnsStart, dnsAnswer per family and dnsDone", async () => {
  const events: string[] = [];
  const trace: Trace = {
    dnsStart: ({ host }) => events.push(`start ${host}`),
    dnsAnswer: ({ family, addrs }) =>
      events.push(`answer ${family} ${addrs.map((a) => a.address)}`),
    dnsDone: ({ addrs, error }) =>
      events.push(`done ${addrs.length} ${error?.message ?? "ok"}`),
  };
  const lookup = createLookup({ resolver: countingResolver(), trace });
  await lookup.promise("db.test");
  await lookup.promise("nosuch.test").catch(() => {});
  assert.deepEqual(events, [
    "start db.test",
    "answer 6 ::1",
    "answer 4 127.0.0.1",
    "done 2 ok",
    "start nosuch.test",
    "answer 6 ",
    "answer 4 ",
    "done 0 lookup nosuch.test: no such host",
  ]);
});

test("util.promisify(lookup) and net.connect({ lookup }) work with it", async () => {
  const server = await startEchoServer();
  try {
    const lookup = createLookup({ resolver: countingResolver() });
    const viaPromisify = promisify(lookup) as (
      host: string,
      options: object,
    ) => Promise<unknown>;
    assert.deepEqual(await viaPromisify("db.test", { family: 4 }), {
      address: "127.0.0.1",
      family: 4,
    });
    const socket = connect({
      host: "db.test",
      port: server.port,
      family: 4,
      lookup: lookup as never,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    assert.equal(socket.remoteAddress, "127.0.0.1");
    socket.destroy();
    await new Promise((resolve) => socket.once("close", resolve));
  } finally {
    await server.close();
  }
});
