// Happy Eyeballs v3 on the virtual clock, with exact times: what a dial
// with `service` tells about its DNS and its winner — dialedService() on
// the returned connection, dnsAnswer for the lookups of service target
// names, and the service query shared among concurrent dials.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  cachingResolver,
  dial,
  dialedService,
  type DNSAnswerInfo,
  type DNSDoneInfo,
} from "../mod.ts";
import { type FakeConn, flush } from "./_virtual_clock.ts";
import { watch } from "./_dial_env.ts";
import {
  answerLine,
  DUAL,
  finish,
  svc,
  v3dial,
  v3env,
  V4A,
  V4B,
  V6A,
  V6B,
} from "./_service_env.ts";

const ECH = new Uint8Array([0xfe, 0x0d, 0, 1]);

// ── dialedService(): the record on the returned connection ─────────────────

test("dialedService() of a plain dial won on a record's hint is that record: priority, target, port, alpn, ech", async () => {
  const t = v3env(
    { "example.test": { 6: { hang: true }, 4: { hang: true } } },
    {
      "example.test": {
        at: 5,
        records: [
          svc(1, ".", { alpn: ["h2"], port: 8443, ipv6hint: [V6A], ech: ECH }),
        ],
      },
    },
    { [`[${V6A}]:8443`]: { after: 10, connect: true } },
  );
  const d = v3dial(t);
  await t.clock.advanceTo(20);
  assert.equal(d.state, "resolved");
  assert.equal(d.at, 15);
  const conn = d.value!;
  // No tls: nothing is offered, so no alpn.
  assert.deepEqual(dialedService(conn), {
    priority: 1,
    target: ".",
    port: 8443,
    ech: ECH,
  });
  conn.closed = true;
  await finish(t);
});

test("dialedService() is set on the winner only: a loser's connection (successPoint tls) has none", async () => {
  const t = v3env(
    { "example.test": { 6: { hang: true }, 4: { hang: true } } },
    {
      "example.test": {
        at: 5,
        records: [
          svc(1, ".", { port: 8443, ipv6hint: [V6A] }),
          svc(2, ".", { port: 9443, ipv6hint: [V6A], ech: ECH }),
        ],
      },
    },
    {
      [`[${V6A}]:8443`]: { after: 5, connect: true },
      [`[${V6A}]:9443`]: { after: 5, connect: true },
    },
  );
  // The first record's handshake stalls; the second's completes.
  t.dialer.tls = {
    [`[${V6A}]:8443`]: { hang: true },
    [`[${V6A}]:9443`]: { after: 1 },
  };
  const d = v3dial(t, { tls: { successPoint: "tls" } });
  await t.clock.advanceTo(300);
  assert.deepEqual(t.dialer.starts, [`[${V6A}]:8443@5`, `[${V6A}]:9443@255`]);
  assert.equal(d.state, "resolved");
  assert.equal(d.at, 261);
  const winner = d.value!;
  assert.equal(winner.addr, `[${V6A}]:9443`);
  assert.deepEqual(dialedService(winner), {
    priority: 2,
    target: ".",
    port: 9443,
    ech: ECH,
  });
  const others = t.dialer.conns.filter((c) => c !== winner);
  assert.equal(others.length, 2); // both TCP connections
  for (const conn of others) assert.equal(dialedService(conn), undefined);
  winner.closed = true;
  await finish(t);
});

test("dialedService() is undefined for the host's own address, a dial without service, an IP literal, and non-connections", async () => {
  const own = v3env(
    { "example.test": { 6: { at: 0, addrs: [V6A] }, 4: { at: 0, addrs: [] } } },
    { "example.test": { at: 0, records: [] } },
    { [`[${V6A}]:443`]: { after: 1, connect: true } },
  );
  const d1 = v3dial(own);
  await own.clock.advanceTo(10);
  assert.equal(d1.state, "resolved");
  assert.equal(dialedService(d1.value), undefined);
  d1.value!.closed = true;
  await finish(own);

  const off = v3env(
    { "example.test": { 6: { hang: true }, 4: { at: 0, addrs: [V4A] } } },
    {
      "example.test": {
        at: 0,
        records: [svc(1, ".", { ipv4hint: [V4A] })],
      },
    },
    { [`${V4A}:443`]: { after: 1, connect: true } },
  );
  off.dialer.outcomes[`${V4B}:443`] = { after: 1, connect: true };
  const d2 = v3dial(off, { service: false });
  const d3 = v3dial(off, {}, `${V4B}:443`);
  await off.clock.advanceTo(100);
  assert.equal(d2.state, "resolved");
  assert.equal(d3.state, "resolved");
  assert.equal(dialedService(d2.value), undefined);
  assert.equal(dialedService(d3.value), undefined);
  d2.value!.closed = true;
  d3.value!.closed = true;
  await finish(off);

  for (const value of [undefined, null, 5, "conn", {}]) {
    assert.equal(dialedService(value), undefined);
  }
});

// ── dnsAnswer for the lookups of service target names ──────────────────────

const ALT = "alt.example.test";

test("dial() with service fires dnsAnswer for each target-name lookup, name = the target, failures with their error; dnsDone stays the host's", async () => {
  const t = v3env(
    {
      ...DUAL(10, 10),
      [ALT]: {
        6: { at: 60, addrs: ["2001:db8::99"] },
        4: { at: 70, error: "nxdomain" },
      },
    },
    {
      "example.test": { at: 30, records: [svc(2, "."), svc(1, ALT)] },
    },
  );
  const d = v3dial(t, {
    trace: {
      ...traceOf(t),
      dnsDone: (i: DNSDoneInfo) =>
        t.log.push(
          `${t.clock.now()} dnsDone ${i.addrs.map((a) => a.address).join(",")}${
            i.error ? ` error=${i.error.message}` : ""
          }`,
        ),
    },
  });
  await t.clock.advanceTo(100);
  assert.deepEqual(t.log, [
    "10 dnsAnswer 6",
    "10 dnsAnswer 4",
    `10 dnsDone ${V6A},${V6B},${V4A},${V4B}`,
    "30 dnsAnswer service records=2",
    `30 connectStart [${V6A}]:443`,
    `60 dnsAnswer 6 ${ALT} [2001:db8::99]`,
    `70 dnsAnswer 4 ${ALT} [] error=lookup ${ALT}: no such host`,
  ]);
  assert.deepEqual(t.resolver.queries, [
    "HTTPS example.test@0",
    "AAAA example.test@0",
    "A example.test@0",
    `AAAA ${ALT}@30`,
    `A ${ALT}@30`,
  ]);
  await finish(t);
  assert.equal(d.state, "rejected");
});

/** The v3dial log's dnsAnswer lines and bare connectStart lines. */
function traceOf(t: ReturnType<typeof v3env>) {
  return {
    dnsAnswer: (i: DNSAnswerInfo) => t.log.push(answerLine(t.clock.now(), i)),
    connectStart: (i: { addr: string }) =>
      t.log.push(`${t.clock.now()} connectStart ${i.addr}`),
  };
}

test("dial() with service: target-name lookups of concurrent dials are shared and say coalesced; through a cache, cached", async () => {
  const t = v3env(
    {
      "example.test": { 6: { at: 0, addrs: [] }, 4: { at: 0, addrs: [] } },
      [ALT]: {
        6: { at: 20, addrs: ["2001:db8::99"] },
        4: { at: 20, addrs: [] },
      },
    },
    {
      "example.test": {
        at: 10,
        records: [Object.assign(svc(1, ALT), { ttl: 60 })],
      },
    },
    { "[2001:db8::99]:443": { after: 1, connect: true } },
  );
  const seen: string[] = [];
  const record = (who: string) => (i: DNSAnswerInfo) => {
    if (i.name === ALT && i.family !== "service") {
      seen.push(
        `${t.clock.now()} ${who} ${i.family} coalesced=${i.coalesced} cached=${i.cached}`,
      );
    }
  };
  const a = v3dial(t, { trace: { dnsAnswer: record("a") } });
  const b = v3dial(t, { trace: { dnsAnswer: record("b") } });
  await t.clock.advanceTo(30);
  assert.equal(a.state, "resolved");
  assert.equal(b.state, "resolved");
  assert.deepEqual(seen, [
    "20 a 6 coalesced=true cached=false",
    "20 b 6 coalesced=true cached=false",
    "20 a 4 coalesced=true cached=false",
    "20 b 4 coalesced=true cached=false",
  ]);
  assert.equal(
    t.resolver.queries.filter((q) => q.includes(ALT)).length,
    2, // one AAAA, one A
  );
  a.value!.closed = true;
  b.value!.closed = true;

  // Lone dials through a cache (the script's times have passed: the inner
  // resolver answers at once): the second one's target answers are cached.
  const resolver = cachingResolver(t.resolver, { clock: t.clock });
  seen.length = 0;
  for (const who of ["c", "d"]) {
    const d = v3dial(t, { resolver, trace: { dnsAnswer: record(who) } });
    await t.clock.advance(30);
    assert.equal(d.state, "resolved");
    d.value!.closed = true;
  }
  assert.deepEqual(seen, [
    "30 c 6 coalesced=false cached=false",
    "30 c 4 coalesced=false cached=false",
    "60 d 6 coalesced=false cached=true",
    "60 d 4 coalesced=false cached=true",
  ]);
  await finish(t);
});

test("dial() with service: the target's dnsAnswer comes before its addresses join the race; a hook that aborts the dial starts nothing", async () => {
  const t = v3env(
    {
      "example.test": { 6: { at: 0, addrs: [] }, 4: { at: 0, addrs: [] } },
      [ALT]: {
        6: { at: 20, addrs: ["2001:db8::99"] },
        4: { at: 20, addrs: [] },
      },
    },
    { "example.test": { at: 10, records: [svc(1, ALT)] } },
  );
  const d = v3dial(t, {
    trace: {
      dnsAnswer: (i: DNSAnswerInfo) => {
        if (i.name === ALT) t.abort.abort(new Error("enough"));
      },
    },
  });
  await t.clock.advanceTo(100);
  assert.equal(d.state, "rejected");
  assert.equal((d.reason as Error).message, "enough");
  assert.deepEqual(t.dialer.starts, []);
  await finish(t);
});

// ── the service query shared among concurrent dials ─────────────────────────

test("dial() with service: concurrent dials of one host send one HTTPS query, and every dnsAnswer says coalesced", async () => {
  const t = v3env(DUAL(undefined, undefined), {
    "example.test": {
      at: 20,
      records: [svc(1, ".", { ipv6hint: [V6A] })],
    },
  }, { [`[${V6A}]:443`]: { after: 5, connect: true } });
  const seen: string[] = [];
  const dials = ["a", "b", "c"].map((who) =>
    v3dial(t, {
      trace: {
        dnsAnswer: (i: DNSAnswerInfo) => {
          if (i.family === "service") {
            seen.push(`${t.clock.now()} ${who} coalesced=${i.coalesced}`);
          }
        },
      },
    })
  );
  // Another port asks another name (_8443._https.example.test): its own query.
  const other = v3dial(t, { trace: {} }, "example.test:8443");
  await t.clock.advanceTo(30);
  assert.deepEqual(
    t.resolver.serviceCalls.map((c) => `${c.host} ${c.scheme} ${c.port}`),
    ["example.test https 443", "example.test https 8443"],
  );
  assert.deepEqual(seen, [
    "20 a coalesced=true",
    "20 b coalesced=true",
    "20 c coalesced=true",
  ]);
  for (const d of dials) {
    assert.equal(d.state, "resolved");
    assert.equal(d.at, 25);
    assert.equal(dialedService(d.value)?.port, 443);
    d.value!.closed = true;
  }
  assert.equal(other.state, "pending"); // [V6A]:8443 hangs
  await finish(t);
  assert.equal(other.state, "rejected");
});

test("dial() with service: a lone dial's service answer is not coalesced; another scheme is another query", async () => {
  const t = v3env(DUAL(0, 0), { "example.test": { at: 5, records: [] } });
  const seen: boolean[] = [];
  const d = v3dial(t, {
    trace: {
      dnsAnswer: (i: DNSAnswerInfo) => {
        if (i.family === "service") seen.push(i.coalesced);
      },
    },
  });
  const svcb = v3dial(t, { service: { scheme: "foo" } });
  await t.clock.advanceTo(10);
  assert.deepEqual(seen, [false]);
  assert.deepEqual(
    t.resolver.serviceCalls.map((c) => `${c.scheme} ${c.port}`),
    ["https 443", "foo 443"],
  );
  await finish(t);
  assert.equal(d.state, "rejected");
  assert.equal(svcb.state, "rejected");
});

test("dial() with service: aborting one dial leaves the shared HTTPS query to the others; the last one leaving aborts it", async () => {
  const t = v3env(DUAL(undefined, undefined), {
    "example.test": { at: 50, records: [svc(1, ".", { ipv6hint: [V6A] })] },
  });
  const mine = new AbortController();
  const answered: string[] = [];
  const trace = (who: string) => ({
    dnsAnswer: (i: DNSAnswerInfo) => {
      if (i.family === "service") answered.push(`${t.clock.now()} ${who}`);
    },
  });
  const a = v3dial(t, { signal: mine.signal, trace: trace("a") });
  const b = v3dial(t, { trace: trace("b") });
  await t.clock.advanceTo(20);
  mine.abort(new Error("a gave up"));
  await t.clock.advanceTo(60);
  assert.equal(a.state, "rejected");
  assert.equal(a.at, 20);
  assert.deepEqual(t.resolver.serviceAborts, []);
  assert.deepEqual(answered, ["50 b"]);
  assert.deepEqual(t.dialer.starts, [`[${V6A}]:443@50`]);
  await finish(t);
  assert.equal(b.state, "rejected");

  // Both leave before the answer: the query is aborted with the last.
  const u = v3env(DUAL(undefined, undefined), {
    "example.test": { hang: true },
  });
  const first = new AbortController();
  const c = v3dial(u, { signal: first.signal });
  const e = v3dial(u);
  await u.clock.advanceTo(10);
  first.abort(new Error("c gave up"));
  await flush();
  assert.deepEqual(u.resolver.serviceAborts, []);
  await u.clock.advanceTo(20);
  await finish(u);
  assert.deepEqual(u.resolver.serviceAborts, ["example.test@20"]);
  assert.equal(c.state, "rejected");
  assert.equal(e.state, "rejected");
});

test("dial() with service: a shared answer's records are each hook's own copy", async () => {
  const t = v3env(DUAL(0, 0), {
    "example.test": {
      at: 5,
      records: [svc(1, ".", { alpn: ["h2"], ipv6hint: [V6B], ech: ECH })],
    },
  });
  const seen: DNSAnswerInfo[] = [];
  const hook = (i: DNSAnswerInfo) => {
    if (i.family !== "service") return;
    seen.push(i);
    // A hook that scribbles on its records changes no one else's.
    i.records![0]!.alpn!.push("scribbled");
    i.records![0]!.ech![0] = 0;
    i.records![0]!.port = 1;
  };
  const dials = [0, 1].map(() =>
    watch(
      dial<FakeConn>("example.test:443", {
        resolver: t.resolver,
        dialer: t.dialer,
        clock: t.clock,
        signal: t.abort.signal,
        service: "https",
        trace: {
          dnsAnswer: hook,
          // connectStart's record is the hook's own copy too (ech included).
          connectStart: (i) => {
            if (i.service?.ech !== undefined) i.service.ech[1] = 0;
          },
        },
      }),
      t.clock,
    )
  );
  await t.clock.advanceTo(10);
  assert.equal(seen.length, 2);
  assert.ok(t.dialer.starts.length > 0, "attempts started");
  assert.notEqual(seen[0]!.records![0], seen[1]!.records![0]);
  assert.deepEqual(seen[1]!.records![0]!.alpn, ["h2", "scribbled"]);
  assert.equal(ECH[0], 0xfe);
  assert.notEqual(ECH[1], 0);
  // The race still dials the record's own port.
  assert.ok(t.dialer.starts.every((s) => s.includes(":443@")));
  await finish(t);
  for (const d of dials) assert.equal(d.state, "rejected");
});
