// Exact-time tests of cachingResolver().lookupService on a virtual clock:
// service (HTTPS/SVCB) records kept for their TTL, maxTtl and defaultTtl,
// negative caching of NODATA and NXDOMAIN, keys per scheme, port and name,
// coalescing, copies, and no lookupService over a resolver without one.
// (A file of its own: dns_cache_test.ts is at the size limit.) Expiry is
// exclusive: stored at t with TTL s seconds, a hit up to t + 1000 s - 1 ms.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  cachingResolver,
  type CachingResolverOptions,
  DNSError,
  type IPAddr,
  type LookupServiceOptions,
  type Resolver,
  type ServiceRecord,
} from "../mod.ts";
import { isCached } from "../src/_cached_answer.ts";
import { flush, VirtualClock } from "./_virtual_clock.ts";

type Reply = ServiceRecord[] | Error;

/** A lookupService call the stub received; settle it by hand if pending. */
interface Call {
  host: string;
  options: LookupServiceOptions;
  resolve(records: ServiceRecord[]): void;
}

/** Answers `scheme port host` from `replies`, or leaves the call pending. */
class StubResolver implements Resolver {
  readonly calls: Call[] = [];
  replies: Record<string, Reply>;

  constructor(replies: Record<string, Reply>) {
    this.replies = replies;
  }

  lookup(): Promise<IPAddr[]> {
    return Promise.resolve([{ address: "127.0.0.1", family: 4, ttl: 60 }]);
  }

  lookupService(
    host: string,
    options: LookupServiceOptions,
  ): Promise<ServiceRecord[]> {
    return new Promise((resolve, reject) => {
      this.calls.push({ host, options, resolve });
      const { signal } = options;
      signal.addEventListener("abort", () => reject(signal.reason), {
        once: true,
      });
      const reply = this.replies[`${options.scheme} ${options.port} ${host}`];
      if (reply === undefined) return;
      if (reply instanceof Error) reject(reply);
      else resolve(reply.map((r) => ({ ...r })));
    });
  }
}

const H2: ServiceRecord = {
  priority: 1,
  target: ".",
  alpn: ["h2"],
  ipv4hint: ["127.0.0.1"],
  ech: Uint8Array.from([1, 2, 3]),
  ttl: 60,
};
const signal = () => new AbortController().signal;

function setup(
  replies: Record<string, Reply>,
  options: Omit<CachingResolverOptions, "clock"> = {},
) {
  const clock = new VirtualClock();
  const stub = new StubResolver(replies);
  const cache = cachingResolver(stub, { clock, ...options });
  const lookup = (host: string, scheme = "https", port = 443) =>
    cache.lookupService!(host, { signal: signal(), scheme, port });
  return { clock, stub, cache, lookup };
}

test("cachingResolver keeps service records for their smallest TTL, with the seconds left, and asks again at expiry", async () => {
  const { clock, stub, cache, lookup } = setup({
    "https 443 svc.test": [H2, { priority: 2, target: "b.test", ttl: 30 }],
  });
  const first = await lookup("svc.test");
  assert.equal(isCached(first), false);
  await clock.advanceTo(12_500);
  const hit = await lookup("SVC.test.");
  assert.equal(isCached(hit), true);
  assert.deepEqual(hit, [{ ...H2, ttl: 17 }, {
    priority: 2,
    target: "b.test",
    ttl: 17,
  }]);
  await clock.advanceTo(29_999);
  await lookup("svc.test");
  assert.equal(stub.calls.length, 1);
  await clock.advanceTo(30_000);
  await lookup("svc.test");
  assert.equal(stub.calls.length, 2);
  assert.deepEqual(cache.stats(), {
    hits: 2,
    misses: 2,
    inFlightHits: 0,
    negativeHits: 0,
    size: 1,
    evictions: 0,
    errors: 0,
  });
});

test("cachingResolver caps service TTLs at maxTtl and keeps records without ttl for defaultTtl", async () => {
  const { clock, stub, lookup } = setup({
    "https 443 long.test": [{ ...H2, ttl: 86_400 }],
    "https 443 plain.test": [{ priority: 1, target: "." }],
  }, { maxTtl: 120, defaultTtl: 7 });
  await lookup("long.test");
  await lookup("plain.test");
  await clock.advanceTo(6_999);
  assert.deepEqual(await lookup("plain.test"), [{ priority: 1, target: "." }]);
  await clock.advanceTo(7_000);
  await lookup("plain.test");
  assert.equal(stub.calls.length, 3);
  await clock.advanceTo(119_999);
  assert.equal((await lookup("long.test"))[0]!.ttl, 0);
  await clock.advanceTo(120_000);
  await lookup("long.test");
  assert.equal(stub.calls.length, 4);
});

test("cachingResolver caches a NODATA service answer and NXDOMAIN for negativeTtl, SERVFAIL not at all", async () => {
  const gone = new DNSError("no such host", "gone.test", {
    isNotFound: true,
    server: "ns:53",
  });
  const flaky = new DNSError("server misbehaving", "flaky.test", {
    isTemporary: true,
    server: "ns:53",
  });
  const { clock, stub, cache, lookup } = setup({
    "https 443 none.test": [],
    "https 443 gone.test": gone,
    "https 443 flaky.test": flaky,
  }, { negativeTtl: 5 });
  await lookup("none.test");
  await assert.rejects(lookup("gone.test"), (err) => err === gone);
  await assert.rejects(lookup("flaky.test"), (err) => err === flaky);
  await clock.advanceTo(4_999);
  assert.deepEqual(await lookup("none.test"), []);
  await assert.rejects(lookup("gone.test"), (err) => {
    assert.ok(err instanceof DNSError && err !== gone);
    assert.equal(err.message, "lookup gone.test on ns:53: no such host");
    assert.equal(err.isNotFound, true);
    assert.equal(isCached(err), true);
    return true;
  });
  await assert.rejects(lookup("flaky.test"), (err) => err === flaky);
  assert.equal(stub.calls.length, 4);
  assert.equal(cache.stats().negativeHits, 2);
  await clock.advanceTo(5_000);
  await lookup("none.test");
  await assert.rejects(lookup("gone.test"));
  assert.equal(stub.calls.length, 6);
});

test("cachingResolver keys service records by scheme, port and name, apart from addresses", async () => {
  const { stub, cache, lookup } = setup({
    "https 443 svc.test": [H2],
    "https 8443 svc.test": [{ priority: 1, target: ".", port: 9443 }],
    "postgres 5432 svc.test": [{ priority: 1, target: "db.test" }],
  });
  await lookup("svc.test");
  await lookup("svc.test", "https", 8443);
  await lookup("svc.test", "postgres", 5432);
  assert.equal(stub.calls.length, 3);
  assert.deepEqual(
    (await lookup("svc.test", "HTTPS", 8443)).map((r) => r.port),
    [9443],
  );
  assert.deepEqual(
    (await lookup("Svc.Test", "postgres", 5432)).map((r) => r.target),
    ["db.test"],
  );
  assert.equal(stub.calls.length, 3);
  await cache.lookup("svc.test", 4, { signal: signal() });
  assert.equal(cache.stats().size, 4);
});

test("cachingResolver shares one service query among concurrent lookups", async () => {
  const { stub, cache, lookup } = setup({});
  const one = lookup("svc.test");
  const two = lookup("svc.test");
  await flush();
  assert.equal(stub.calls.length, 1);
  stub.calls[0]!.resolve([H2]);
  assert.deepEqual(await one, [H2]);
  assert.deepEqual(await two, [H2]);
  assert.notEqual(await one, await two);
  assert.equal(cache.stats().inFlightHits, 1);
  assert.equal(cache.stats().misses, 1);
});

test("cachingResolver aborts the service query when every caller left, and caches nothing", async () => {
  const { stub, cache } = setup({});
  const a = new AbortController();
  const b = new AbortController();
  const options = { scheme: "https", port: 443 };
  const first = cache.lookupService!("svc.test", {
    ...options,
    signal: a.signal,
  });
  const second = cache.lookupService!("svc.test", {
    ...options,
    signal: b.signal,
  });
  await flush();
  const reasonA = new Error("a left");
  const reasonB = new Error("b left");
  a.abort(reasonA);
  b.abort(reasonB);
  await assert.rejects(first, (err) => err === reasonA);
  await assert.rejects(second, (err) => err === reasonB);
  assert.equal(stub.calls[0]!.options.signal.aborted, true);
  assert.equal(cache.stats().size, 0);
});

test("cachingResolver returns copies of service records, their lists and ech", async () => {
  const { lookup } = setup({ "https 443 svc.test": [H2] });
  const first = await lookup("svc.test");
  first[0]!.alpn!.push("h3");
  first[0]!.ipv4hint![0] = "10.0.0.1";
  first[0]!.ech![0] = 99;
  first[0]!.priority = 7;
  const again = await lookup("svc.test");
  assert.deepEqual(again[0]!.alpn, ["h2"]);
  assert.deepEqual(again[0]!.ipv4hint, ["127.0.0.1"]);
  assert.deepEqual([...again[0]!.ech!], [1, 2, 3]);
  assert.equal(again[0]!.priority, 1);
});

test("cachingResolver has no lookupService over a resolver without one", () => {
  const plain: Resolver = { lookup: () => Promise.resolve([]) };
  const cache = cachingResolver(plain);
  assert.equal(cache.lookupService, undefined);
  assert.equal("lookupService" in cache, false);
});
