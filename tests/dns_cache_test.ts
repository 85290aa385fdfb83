// Exact-time tests of cachingResolver() on a virtual clock: expiry, TTL
// limits, negative caching, the LRU bound, coalescing, connectFailed and
// the counters. Expiry is exclusive: an entry stored at t with TTL s
// seconds is a hit up to t + 1000 s - 1 ms and a miss at t + 1000 s.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  cachingResolver,
  type CachingResolverOptions,
  type DNSAnswerInfo,
  type DNSDoneInfo,
  DNSError,
  type Family,
  type IPAddr,
  type LookupOptions,
  type Resolver,
} from "../mod.ts";
import { dial } from "../mod.ts";
import { isCached } from "../src/_cached_answer.ts";
import {
  type FakeConn,
  FakeDialer,
  FakeResolver,
  flush,
  VirtualClock,
} from "./_virtual_clock.ts";

type Reply = IPAddr[] | Error;

/** A lookup the stub received; settle it by hand when it has no reply. */
interface StubCall {
  host: string;
  family: Family;
  signal: AbortSignal;
  resolve(addrs: IPAddr[]): void;
  reject(error: unknown): void;
}

/**
 * A resolver that answers at once from `replies` (keyed `family host`), or
 * leaves the lookup pending for the test to settle. It rejects on abort
 * unless `ignoreAbort` is set.
 */
class StubResolver implements Resolver {
  readonly calls: StubCall[] = [];
  readonly failed: string[] = [];
  replies: Record<string, Reply>;
  ignoreAbort = false;

  constructor(replies: Record<string, Reply> = {}) {
    this.replies = replies;
  }

  lookup(
    host: string,
    family: Family,
    { signal }: LookupOptions,
  ): Promise<IPAddr[]> {
    return new Promise<IPAddr[]>((resolve, reject) => {
      this.calls.push({ host, family, signal, resolve, reject });
      if (!this.ignoreAbort) {
        signal.addEventListener("abort", () => reject(signal.reason), {
          once: true,
        });
      }
      const reply = this.replies[`${family} ${host}`];
      if (reply === undefined) return;
      if (reply instanceof Error) reject(reply);
      else resolve(reply.map((a) => ({ ...a })));
    });
  }

  connectFailed(host: string, address: IPAddr): void {
    this.failed.push(`${host} ${address.address}`);
  }
}

const v4 = (address: string, ttl?: number): IPAddr =>
  ttl === undefined ? { address, family: 4 } : { address, family: 4, ttl };
const v6 = (address: string, ttl?: number): IPAddr =>
  ttl === undefined ? { address, family: 6 } : { address, family: 6, ttl };

const nxdomain = (host: string) =>
  new DNSError("no such host", host, { isNotFound: true, server: "ns:53" });

function signal(): AbortSignal {
  return new AbortController().signal;
}

function setup(
  replies: Record<string, Reply>,
  options: Omit<CachingResolverOptions, "clock"> = {},
) {
  const clock = new VirtualClock();
  const stub = new StubResolver(replies);
  const cache = cachingResolver(stub, { clock, ...options });
  const lookup = (host: string, family: Family = 4) =>
    cache.lookup(host, family, { signal: signal() });
  return { clock, stub, cache, lookup };
}

test("cachingResolver serves a hit before expiry and asks again at the expiry instant", async () => {
  const { clock, stub, cache, lookup } = setup({
    "4 db.test": [v4("127.0.0.1", 60)],
  });
  await clock.advanceTo(1000);
  assert.deepEqual(await lookup("db.test"), [v4("127.0.0.1", 60)]);
  await clock.advanceTo(1000 + 60_000 - 1);
  const hit = await lookup("db.test");
  assert.deepEqual(hit, [v4("127.0.0.1", 0)]);
  assert.equal(isCached(hit), true);
  assert.equal(stub.calls.length, 1);
  await clock.advanceTo(1000 + 60_000);
  const miss = await lookup("db.test");
  assert.equal(isCached(miss), false);
  assert.equal(stub.calls.length, 2);
  assert.deepEqual(cache.stats(), {
    hits: 1,
    misses: 2,
    inFlightHits: 0,
    negativeHits: 0,
    size: 1,
    evictions: 0,
    errors: 0,
  });
});

test("cachingResolver hits carry the seconds left, rounded down", async () => {
  const { clock, lookup } = setup({
    "4 db.test": [v4("127.0.0.1", 60), v4("127.0.0.2", 90)],
  });
  await lookup("db.test");
  await clock.advanceTo(1500);
  assert.deepEqual(await lookup("db.test"), [
    v4("127.0.0.1", 58),
    v4("127.0.0.2", 58),
  ]);
});

test("cachingResolver keeps an answer for the smallest TTL of its addresses", async () => {
  const { clock, stub, lookup } = setup({
    "6 db.test": [v6("::1", 30), v6("::2", 10), v6("::3", 20)],
  });
  await lookup("db.test", 6);
  await clock.advanceTo(9_999);
  await lookup("db.test", 6);
  assert.equal(stub.calls.length, 1);
  await clock.advanceTo(10_000);
  await lookup("db.test", 6);
  assert.equal(stub.calls.length, 2);
});

test("cachingResolver caps a TTL at maxTtl", async () => {
  const { clock, stub, lookup } = setup(
    { "4 db.test": [v4("127.0.0.1", 86_400)] },
    { maxTtl: 120 },
  );
  await lookup("db.test");
  await clock.advanceTo(119_999);
  assert.deepEqual(await lookup("db.test"), [v4("127.0.0.1", 0)]);
  await clock.advanceTo(120_000);
  await lookup("db.test");
  assert.equal(stub.calls.length, 2);
});

test("cachingResolver keeps an answer without ttl for defaultTtl and adds none", async () => {
  const { clock, stub, lookup } = setup(
    { "4 db.test": [v4("127.0.0.1")] },
    { defaultTtl: 7 },
  );
  await lookup("db.test");
  await clock.advanceTo(6_999);
  assert.deepEqual(await lookup("db.test"), [v4("127.0.0.1")]);
  await clock.advanceTo(7_000);
  await lookup("db.test");
  assert.equal(stub.calls.length, 2);
});

test("cachingResolver uses a 30 s defaultTtl, a 300 s maxTtl and a 5 s negativeTtl by default", async () => {
  const { clock, stub, lookup } = setup({
    "4 plain.test": [v4("127.0.0.1")],
    "4 long.test": [v4("127.0.0.2", 3600)],
    "4 gone.test": nxdomain("gone.test"),
  });
  await lookup("plain.test");
  await lookup("long.test");
  await assert.rejects(lookup("gone.test"));
  await clock.advanceTo(4_999);
  await assert.rejects(lookup("gone.test"));
  assert.equal(stub.calls.length, 3);
  await clock.advanceTo(5_000);
  await assert.rejects(lookup("gone.test"));
  assert.equal(stub.calls.length, 4);
  await clock.advanceTo(29_999);
  await lookup("plain.test");
  assert.equal(stub.calls.length, 4);
  await clock.advanceTo(30_000);
  await lookup("plain.test");
  assert.equal(stub.calls.length, 5);
  await clock.advanceTo(299_999);
  await lookup("long.test");
  assert.equal(stub.calls.length, 5);
  await clock.advanceTo(300_000);
  await lookup("long.test");
  assert.equal(stub.calls.length, 6);
});

test("cachingResolver does not cache an answer with TTL 0", async () => {
  const { stub, cache, lookup } = setup({
    "4 db.test": [v4("127.0.0.1", 300), v4("127.0.0.2", 0)],
  });
  await lookup("db.test");
  const again = await lookup("db.test");
  assert.equal(isCached(again), false);
  assert.equal(stub.calls.length, 2);
  assert.equal(cache.stats().size, 0);
});

test("cachingResolver caches no such host for negativeTtl and rejects with a fresh cached DNSError", async () => {
  const { clock, stub, cache, lookup } = setup(
    { "4 gone.test": nxdomain("gone.test") },
    { negativeTtl: 2 },
  );
  await assert.rejects(
    lookup("gone.test"),
    (e) => e === stub.replies["4 gone.test"],
  );
  await clock.advanceTo(1_999);
  await assert.rejects(lookup("GONE.test."), (error: unknown) => {
    assert.ok(error instanceof DNSError);
    assert.notEqual(error, stub.replies["4 gone.test"]);
    assert.equal(error.isNotFound, true);
    assert.equal(error.host, "GONE.test.");
    assert.equal(error.server, "ns:53");
    assert.equal(error.message, "lookup GONE.test. on ns:53: no such host");
    assert.equal(isCached(error), true);
    return true;
  });
  assert.equal(stub.calls.length, 1);
  await clock.advanceTo(2_000);
  await assert.rejects(lookup("gone.test"));
  assert.equal(stub.calls.length, 2);
  const stats = cache.stats();
  assert.equal(stats.hits, 1);
  assert.equal(stats.negativeHits, 1);
  assert.equal(stats.errors, 2);
});

test("cachingResolver caches an empty (NODATA) answer for negativeTtl", async () => {
  const { clock, stub, cache, lookup } = setup(
    { "6 v4only.test": [] },
    { negativeTtl: 3 },
  );
  assert.deepEqual(await lookup("v4only.test", 6), []);
  await clock.advanceTo(2_999);
  const hit = await lookup("v4only.test", 6);
  assert.deepEqual(hit, []);
  assert.equal(isCached(hit), true);
  assert.equal(stub.calls.length, 1);
  assert.equal(cache.stats().negativeHits, 1);
  await clock.advanceTo(3_000);
  await lookup("v4only.test", 6);
  assert.equal(stub.calls.length, 2);
});

test("cachingResolver caps negativeTtl at maxTtl and negativeTtl 0 caches no failure", async () => {
  const capped = setup({ "4 gone.test": nxdomain("gone.test") }, {
    negativeTtl: 10,
    maxTtl: 1,
  });
  await assert.rejects(capped.lookup("gone.test"));
  await capped.clock.advanceTo(999);
  await assert.rejects(capped.lookup("gone.test"));
  assert.equal(capped.stub.calls.length, 1);
  await capped.clock.advanceTo(1_000);
  await assert.rejects(capped.lookup("gone.test"));
  assert.equal(capped.stub.calls.length, 2);

  const off = setup({ "4 gone.test": nxdomain("gone.test"), "4 e.test": [] }, {
    negativeTtl: 0,
  });
  await assert.rejects(off.lookup("gone.test"));
  await assert.rejects(off.lookup("gone.test"));
  await off.lookup("e.test");
  await off.lookup("e.test");
  assert.equal(off.stub.calls.length, 4);
});

test("cachingResolver does not cache SERVFAIL, timeouts or other failures", async () => {
  const servfail = new DNSError("server misbehaving", "sf.test", {
    isTemporary: true,
  });
  const timeout = new DNSError("i/o timeout", "slow.test", { isTimeout: true });
  const { stub, cache, lookup } = setup({
    "4 sf.test": servfail,
    "4 slow.test": timeout,
    "4 odd.test": new Error("resolver bug"),
  });
  for (const host of ["sf.test", "slow.test", "odd.test"]) {
    await assert.rejects(lookup(host));
    await assert.rejects(lookup(host));
  }
  assert.equal(stub.calls.length, 6);
  assert.deepEqual(cache.stats(), {
    hits: 0,
    misses: 6,
    inFlightHits: 0,
    negativeHits: 0,
    size: 0,
    evictions: 0,
    errors: 6,
  });
});

test("cachingResolver keys by family and by name without case or trailing dot", async () => {
  const { stub, lookup } = setup({
    "4 Db.Test.": [v4("127.0.0.1", 60)],
    "6 Db.Test.": [v6("::1", 60)],
  });
  await lookup("Db.Test.", 4);
  await lookup("Db.Test.", 6);
  assert.deepEqual(await lookup("db.test", 4), [v4("127.0.0.1", 60)]);
  assert.deepEqual(await lookup("DB.TEST", 6), [v6("::1", 60)]);
  assert.equal(stub.calls.length, 2);
});

test("cachingResolver evicts the least recently used entry beyond maxEntries", async () => {
  const { stub, cache, lookup } = setup({
    "4 a.test": [v4("127.0.0.1", 60)],
    "4 b.test": [v4("127.0.0.2", 60)],
    "4 c.test": [v4("127.0.0.3", 60)],
  }, { maxEntries: 2 });
  await lookup("a.test");
  await lookup("b.test");
  await lookup("a.test"); // a is now the most recently used
  await lookup("c.test"); // evicts b
  assert.equal(stub.calls.length, 3);
  assert.equal(cache.stats().evictions, 1);
  assert.equal(cache.stats().size, 2);
  await lookup("a.test");
  await lookup("c.test");
  assert.equal(stub.calls.length, 3);
  await lookup("b.test");
  assert.equal(stub.calls.length, 4);
  assert.equal(cache.stats().evictions, 2); // a went to make room for b
});

test("cachingResolver does not count an expired entry dropped for room as an eviction", async () => {
  const { clock, cache, lookup } = setup({
    "4 a.test": [v4("127.0.0.1", 1)],
    "4 b.test": [v4("127.0.0.2", 60)],
  }, { maxEntries: 1 });
  await lookup("a.test");
  await clock.advanceTo(1_000);
  await lookup("b.test");
  assert.equal(cache.stats().evictions, 0);
  assert.equal(cache.stats().size, 1);
});

test("cachingResolver shares one query among concurrent lookups and counts inFlightHits", async () => {
  const { stub, cache, lookup } = setup({});
  const first = lookup("db.test");
  const second = lookup("DB.test.");
  assert.equal(stub.calls.length, 1);
  stub.calls[0].resolve([v4("127.0.0.1", 60)]);
  const [a, b] = await Promise.all([first, second]);
  assert.deepEqual(a, [v4("127.0.0.1", 60)]);
  assert.deepEqual(b, [v4("127.0.0.1", 60)]);
  assert.notEqual(a, b, "each caller gets its own array");
  assert.notEqual(a[0], b[0], "and its own address objects");
  assert.equal(isCached(a) || isCached(b), false);
  const stats = cache.stats();
  assert.equal(stats.misses, 1);
  assert.equal(stats.inFlightHits, 1);
  assert.equal(stats.hits, 0);
  assert.equal(stats.size, 1);
});

test("cachingResolver lets one caller leave a shared query without aborting it", async () => {
  const { clock, stub, cache } = setup({});
  const impatient = new AbortController();
  const reason = new Error("gave up");
  const first = cache.lookup("db.test", 4, { signal: impatient.signal });
  const second = cache.lookup("db.test", 4, { signal: signal() });
  impatient.abort(reason);
  await assert.rejects(first, (e) => e === reason);
  assert.equal(stub.calls[0].signal.aborted, false);
  stub.calls[0].resolve([v4("127.0.0.1", 60)]);
  assert.deepEqual(await second, [v4("127.0.0.1", 60)]);
  await clock.advanceTo(1_000);
  const hit = await cache.lookup("db.test", 4, { signal: signal() });
  assert.equal(isCached(hit), true);
  assert.equal(stub.calls.length, 1);
});

test("cachingResolver aborts the query when every caller left and caches nothing", async () => {
  const { stub, cache } = setup({});
  const one = new AbortController();
  const two = new AbortController();
  const first = cache.lookup("db.test", 4, { signal: one.signal });
  const second = cache.lookup("db.test", 4, { signal: two.signal });
  one.abort(new Error("one"));
  two.abort(new Error("two"));
  await assert.rejects(first, /one/);
  await assert.rejects(second, /two/);
  assert.equal(stub.calls[0].signal.aborted, true);
  assert.equal((stub.calls[0].signal.reason as Error).message, "two");
  assert.equal(cache.stats().size, 0);
  assert.equal(cache.stats().errors, 0, "an abort is not an error");
  stub.replies["4 db.test"] = [v4("127.0.0.1", 60)];
  const fresh = await cache.lookup("db.test", 4, { signal: signal() });
  assert.equal(isCached(fresh), false);
  assert.equal(stub.calls.length, 2);
});

test("cachingResolver stores nothing from a query that answers after it was aborted", async () => {
  const { stub, cache } = setup({});
  stub.ignoreAbort = true;
  const controller = new AbortController();
  const pending = cache.lookup("db.test", 4, { signal: controller.signal });
  controller.abort(new Error("left"));
  await assert.rejects(pending, /left/);
  stub.calls[0].resolve([v4("127.0.0.1", 60)]);
  await flush();
  assert.equal(cache.stats().size, 0);
  stub.calls.length = 0;
  const next = cache.lookup("db.test", 4, { signal: signal() });
  assert.equal(stub.calls.length, 1, "the next lookup asks again");
  stub.calls[0].resolve([v4("127.0.0.1", 60)]);
  await next;
});

test("cachingResolver rejects at once for an aborted signal, counting nothing", async () => {
  const { stub, cache } = setup({ "4 db.test": [v4("127.0.0.1", 60)] });
  await cache.lookup("db.test", 4, { signal: signal() });
  const reason = new Error("already");
  await assert.rejects(
    cache.lookup("db.test", 4, { signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  await assert.rejects(
    cache.lookup("other.test", 4, { signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  assert.equal(stub.calls.length, 1);
  const stats = cache.stats();
  assert.equal(stats.hits + stats.misses + stats.inFlightHits, 1);
});

test("cachingResolver connectFailed drops the address and removes an emptied entry", async () => {
  const { stub, cache, lookup } = setup({
    "4 db.test": [v4("127.0.0.1", 60), v4("127.0.0.2", 60)],
    "6 db.test": [v6("::1", 60)],
  });
  await lookup("db.test", 4);
  await lookup("db.test", 6);
  cache.connectFailed("DB.test.", { address: "127.0.0.1", family: 4 });
  assert.deepEqual(await lookup("db.test", 4), [v4("127.0.0.2", 60)]);
  assert.deepEqual(await lookup("db.test", 6), [v6("::1", 60)]);
  assert.equal(stub.calls.length, 2);
  cache.connectFailed("db.test", { address: "::0001", family: 6 });
  assert.equal(cache.stats().size, 1);
  const again = await lookup("db.test", 6);
  assert.equal(isCached(again), false, "the emptied entry is asked again");
  assert.equal(stub.calls.length, 3);
  assert.deepEqual(stub.failed, ["DB.test. 127.0.0.1", "db.test ::0001"]);
});

test("cachingResolver connectFailed ignores unknown hosts, addresses and a throwing listener", async () => {
  const { cache, lookup, stub } = setup({
    "4 db.test": [v4("127.0.0.1", 60)],
  });
  stub.connectFailed = () => {
    throw new Error("listener bug");
  };
  await lookup("db.test");
  cache.connectFailed("other.test", { address: "127.0.0.1", family: 4 });
  cache.connectFailed("db.test", { address: "127.0.0.9", family: 4 });
  cache.connectFailed("db.test", { address: "not an ip", family: 4 });
  assert.equal(isCached(await lookup("db.test")), true);
});

test("cachingResolver returns copies, so a caller's changes do not reach the cache", async () => {
  const { stub, lookup } = setup({});
  const miss = lookup("db.test");
  const answer = [v4("127.0.0.1", 60)];
  stub.calls[0].resolve(answer);
  const first = await miss;
  first[0].address = "192.0.2.1";
  first.push(v4("192.0.2.2"));
  answer[0].address = "192.0.2.3";
  const hit = await lookup("db.test");
  hit[0].address = "192.0.2.4";
  hit.length = 0;
  const again = await lookup("db.test");
  assert.deepEqual(again, [v4("127.0.0.1", 60)]);
  assert.equal(isCached(again), true);
  assert.notEqual(hit, again);
});

test("cachingResolver passes an answer that is not a list of objects through uncached", async () => {
  const { stub, cache, lookup } = setup({});
  const garbage = [null, "127.0.0.1"] as unknown as IPAddr[];
  const pending = lookup("db.test");
  stub.calls[0].resolve(garbage);
  assert.equal(await pending, garbage);
  assert.equal(cache.stats().size, 0);
});

test("cachingResolver clear empties the cache, keeps the counters and drops answers in flight", async () => {
  const { stub, cache, lookup } = setup({ "4 a.test": [v4("127.0.0.1", 60)] });
  await lookup("a.test");
  await lookup("a.test");
  const pending = lookup("b.test");
  cache.clear();
  stub.calls[1].resolve([v4("127.0.0.2", 60)]);
  assert.deepEqual(await pending, [v4("127.0.0.2", 60)]);
  assert.deepEqual(cache.stats(), {
    hits: 1,
    misses: 2,
    inFlightHits: 0,
    negativeHits: 0,
    size: 0,
    evictions: 0,
    errors: 0,
  });
  await lookup("a.test");
  assert.equal(stub.calls.length, 3);
});

test("cachingResolver stats do not count expired entries in size", async () => {
  const { clock, cache, lookup } = setup({
    "4 a.test": [v4("127.0.0.1", 1)],
    "4 b.test": [v4("127.0.0.2", 2)],
  });
  await lookup("a.test");
  await lookup("b.test");
  assert.equal(cache.stats().size, 2);
  await clock.advanceTo(1_000);
  assert.equal(cache.stats().size, 1);
  await clock.advanceTo(2_000);
  assert.equal(cache.stats().size, 0);
});

test("cachingResolver rejects bad options with clear errors", () => {
  const stub = new StubResolver();
  assert.throws(
    () => cachingResolver({} as Resolver),
    new TypeError(
      "Cannot create a caching resolver: resolver.lookup is not a function",
    ),
  );
  assert.throws(
    () => cachingResolver(undefined as unknown as Resolver),
    TypeError,
  );
  for (const name of ["maxTtl", "defaultTtl", "negativeTtl"] as const) {
    assert.throws(
      () => cachingResolver(stub, { [name]: -1 }),
      new RangeError(
        `Cannot use -1 as ${name}: expected a finite number of seconds >= 0`,
      ),
    );
    assert.throws(() => cachingResolver(stub, { [name]: NaN }), RangeError);
    assert.throws(
      () => cachingResolver(stub, { [name]: Infinity }),
      RangeError,
    );
    assert.throws(
      () => cachingResolver(stub, { [name]: "5" as unknown as number }),
      new TypeError(`Cannot use 5 as ${name}: expected seconds as a number`),
    );
  }
  for (const maxEntries of [0, -1, 1.5, NaN]) {
    assert.throws(
      () => cachingResolver(stub, { maxEntries }),
      new RangeError(
        `Cannot use ${maxEntries} as maxEntries: expected an integer >= 1`,
      ),
    );
  }
  assert.throws(
    () => cachingResolver(stub, { maxEntries: "9" as unknown as number }),
    TypeError,
  );
  assert.throws(
    () => cachingResolver(stub, { clock: {} as VirtualClock }),
    new TypeError(
      "Cannot create a caching resolver: options.clock.now is not a function",
    ),
  );
});

// Through the core dial(): the driver reports cache hits and tells the
// cache about failed connects.

function dialEnv() {
  const clock = new VirtualClock();
  const upstream = new FakeResolver(clock, {
    "db.test": {
      4: { at: 5, addrs: ["192.0.2.1", "192.0.2.2"] },
      6: { at: 5, addrs: [] },
    },
  });
  const dialer = new FakeDialer(clock, {
    "192.0.2.1:80": { after: 1, connect: true },
    "192.0.2.2:80": { after: 1, connect: true },
  });
  const resolver = cachingResolver(upstream, { clock });
  const done: DNSDoneInfo[] = [];
  const answers: DNSAnswerInfo[] = [];
  const dialOnce = async () => {
    const pending = dial<FakeConn>("db.test:80", {
      resolver,
      dialer,
      clock,
      trace: {
        dnsDone: (info) => void done.push(info),
        dnsAnswer: (info) => void answers.push(info),
      },
    });
    await clock.runAll();
    return await pending;
  };
  return { clock, upstream, dialer, resolver, done, answers, dialOnce };
}

test("cachingResolver through dial(): the second dial's DNS is answered from the cache", async () => {
  const t = dialEnv();
  const first = await t.dialOnce();
  const second = await t.dialOnce();
  assert.equal(t.upstream.calls.length, 2, "one lookup per family in all");
  assert.deepEqual(t.done.map((d) => d.cached), [false, true]);
  assert.deepEqual(
    t.answers.map((a) => `${a.family} ${a.cached}`).sort(),
    ["4 false", "4 true", "6 false", "6 true"],
  );
  assert.equal(t.resolver.stats().hits, 2);
  t.dialer.close(first);
  t.dialer.close(second);
  assert.equal(t.clock.pending, 0);
});

test("cachingResolver through dial(): a failed connect evicts the address from the cache", async () => {
  const t = dialEnv();
  t.dialer.outcomes["192.0.2.1:80"] = { after: 1, fail: "ECONNREFUSED" };
  const first = await t.dialOnce();
  assert.equal(first.addr, "192.0.2.2:80");
  // The cached answer lost 192.0.2.1: the next dial tries 192.0.2.2 only.
  t.dialer.calls.length = 0;
  const second = await t.dialOnce();
  assert.equal(t.done[1].cached, true);
  assert.deepEqual(t.done[1].addrs.map((a) => a.address), ["192.0.2.2"]);
  assert.deepEqual(t.dialer.calls.map((c) => c.addr), ["192.0.2.2:80"]);
  assert.equal(t.upstream.calls.length, 2);
  t.dialer.close(first);
  t.dialer.close(second);
  assert.equal(t.clock.pending, 0);
});
