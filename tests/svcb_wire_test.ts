// The SVCB/HTTPS RDATA reader (runtimes/_svcb.ts) and the service answer
// decoder (runtimes/_dns_message.ts) on byte vectors written out by hand
// from RFC 9460 Appendix D (D.1 AliasMode, D.2 ServiceMode, D.3 failure
// cases, whose presentation forms are put into wire form here), plus the
// rules of §2.2, §2.4.3 and §8 that the appendix has no vector for.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  MAX_HINTS,
  MAX_SERVICE_RECORDS,
  parseServiceRdata,
  serviceQuestion,
  TYPE_HTTPS,
  TYPE_SVCB,
} from "../runtimes/_svcb.ts";
import { decodeServiceResponse } from "../runtimes/_dns_message.ts";

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));
/** A wire name: length-prefixed labels and the root label. */
const name = (text: string) => [
  ...text.split(".").filter((l) => l !== "").flatMap((l) => [
    l.length,
    ...ascii(l),
  ]),
  0,
];
const FOO_COM = name("foo.example.com");
const rdata = (...bytes: number[]) => Uint8Array.from(bytes);
/** Bytes written as the RFC writes them: hex pairs, any white space. */
const hex = (text: string) =>
  Uint8Array.from(text.trim().split(/\s+/).map((pair) => parseInt(pair, 16)));
/** One SvcParam: key, length, value. */
const param = (key: number, value: number[]) => [
  key >> 8,
  key & 0xff,
  value.length >> 8,
  value.length & 0xff,
  ...value,
];

function ok(bytes: Uint8Array) {
  const parsed = parseServiceRdata(bytes);
  assert.equal(parsed.error, undefined, parsed.error);
  return parsed.record;
}

function fails(bytes: Uint8Array, reason: RegExp) {
  const parsed = parseServiceRdata(bytes);
  assert.equal(parsed.record, undefined, JSON.stringify(parsed.record));
  assert.match(parsed.error!, reason);
}

// ── D.1 AliasMode ────────────────────────────────────────────────────────

test("parseServiceRdata reads RFC 9460 D.1: HTTPS 0 foo.example.com. (AliasMode)", () => {
  assert.deepEqual(
    ok(hex(`00 00
      03 66 6f 6f 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00`)),
    { priority: 0, target: "foo.example.com" },
  );
});

test("parseServiceRdata ignores every SvcParam of an AliasMode record, even a malformed one (§2.4.2)", () => {
  assert.deepEqual(
    ok(rdata(0, 0, ...FOO_COM, ...param(3, [0, 53]), ...param(1, []))),
    { priority: 0, target: "foo.example.com" },
  );
});

// ── D.2 ServiceMode ──────────────────────────────────────────────────────

test("parseServiceRdata reads RFC 9460 D.2: SVCB 1 . (the owner name, no params)", () => {
  assert.deepEqual(ok(hex("00 01 00")), { priority: 1, target: "." });
});

test("parseServiceRdata reads RFC 9460 D.2: SVCB 16 foo.example.com. port=53", () => {
  assert.deepEqual(
    ok(hex(`00 10
      03 66 6f 6f 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00
      00 03 00 02 00 35`)),
    { priority: 16, target: "foo.example.com", port: 53 },
  );
});

test('parseServiceRdata skips an unregistered key: RFC 9460 D.2 key667=hello and key667="hello\\210qoo"', () => {
  const hello = hex(`00 01
    03 66 6f 6f 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00
    02 9b 00 05 68 65 6c 6c 6f`);
  assert.deepEqual(ok(hello), { priority: 1, target: "foo.example.com" });
  const escaped = hex(`00 01
    03 66 6f 6f 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00
    02 9b 00 09 68 65 6c 6c 6f d2 71 6f 6f`);
  assert.deepEqual(ok(escaped), { priority: 1, target: "foo.example.com" });
});

test('parseServiceRdata reads RFC 9460 D.2: ipv6hint="2001:db8::1,2001:db8::53:1"', () => {
  const bytes = hex(`00 01
    03 66 6f 6f 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00
    00 06 00 20
    20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
    20 01 0d b8 00 00 00 00 00 00 00 00 00 53 00 01`);
  assert.equal(bytes.length, 55); // the vector's RDATA length
  assert.deepEqual(ok(bytes), {
    priority: 1,
    target: "foo.example.com",
    ipv6hint: ["2001:db8::1", "2001:db8::53:1"],
  });
});

test("parseServiceRdata reads RFC 9460 D.2: SVCB 1 example.com. ipv6hint with an embedded IPv4 tail, in RFC 5952 text", () => {
  const bytes = hex(`00 01
    07 65 78 61 6d 70 6c 65 03 63 6f 6d 00
    00 06 00 10
    20 01 0d b8 ff ff ff ff ff ff ff ff c6 33 64 64`);
  assert.equal(bytes.length, 35);
  assert.deepEqual(ok(bytes), {
    priority: 1,
    target: "example.com",
    ipv6hint: ["2001:db8:ffff:ffff:ffff:ffff:c633:6464"],
  });
});

test("parseServiceRdata reads RFC 9460 D.2: 16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1", () => {
  const bytes = hex(`00 10
    03 66 6f 6f 07 65 78 61 6d 70 6c 65 03 6f 72 67 00
    00 00 00 04 00 01 00 04
    00 01 00 09 02 68 32 05 68 33 2d 31 39
    00 04 00 04 c0 00 02 01`);
  assert.equal(bytes.length, 48);
  assert.deepEqual(ok(bytes), {
    priority: 16,
    target: "foo.example.org",
    alpn: ["h2", "h3-19"],
    ipv4hint: ["192.0.2.1"],
  });
});

test('parseServiceRdata reads RFC 9460 D.2: alpn="f\\\\\\\\oo\\\\,bar,h2" as the ids f\\oo,bar and h2', () => {
  const bytes = hex(`00 10
    03 66 6f 6f 07 65 78 61 6d 70 6c 65 03 6f 72 67 00
    00 01 00 0c 08 66 5c 6f 6f 2c 62 61 72 02 68 32`);
  assert.equal(bytes.length, 35);
  assert.deepEqual(ok(bytes), {
    priority: 16,
    target: "foo.example.org",
    alpn: ["f\\oo,bar", "h2"],
  });
});

test("parseServiceRdata reads every understood key: no-default-alpn, ech as bytes, and the TTL", () => {
  const ech = [0x00, 0x08, 0xfe, 0x0d, 1, 2, 3, 4, 5, 6];
  const parsed = parseServiceRdata(
    rdata(
      0,
      2,
      ...name("svc.example"),
      ...param(0, [0, 3]),
      ...param(1, [2, ...ascii("h2")]),
      ...param(2, []),
      ...param(3, [0x20, 0xfb]),
      ...param(4, [127, 0, 0, 1, 127, 0, 0, 2]),
      ...param(5, ech),
      ...param(6, [...new Array(15).fill(0), 1]),
    ),
    300,
  );
  assert.deepEqual(parsed.record, {
    priority: 2,
    target: "svc.example",
    alpn: ["h2"],
    noDefaultAlpn: true,
    port: 8443,
    ipv4hint: ["127.0.0.1", "127.0.0.2"],
    ech: Uint8Array.from(ech),
    ipv6hint: ["::1"],
    ttl: 300,
  });
  assert.equal(Object.getPrototypeOf(parsed.record!.ech), Uint8Array.prototype);
});

test("parseServiceRdata lower-cases the TargetName", () => {
  assert.equal(
    ok(rdata(0, 1, ...name("Foo.EXAMPLE.com"))).target,
    "foo.example.com",
  );
});

// ── D.3 failure cases, in wire form ──────────────────────────────────────

test("parseServiceRdata rejects RFC 9460 D.3: the same SvcParamKey twice (key123=abc key123=def)", () => {
  fails(
    rdata(
      0,
      1,
      ...FOO_COM,
      ...param(123, ascii("abc")),
      ...param(123, ascii("def")),
    ),
    /key123 appears twice/,
  );
});

test("parseServiceRdata rejects RFC 9460 D.3: mandatory, alpn, port, ipv4hint and ipv6hint without a value", () => {
  for (const key of [0, 1, 3, 4, 6]) {
    fails(
      rdata(0, 1, ...FOO_COM, ...param(key, [])),
      /malformed value|length of 0/,
    );
  }
});

test("parseServiceRdata rejects RFC 9460 D.3: no-default-alpn=abc (its value must be empty)", () => {
  fails(
    rdata(
      0,
      1,
      ...FOO_COM,
      ...param(1, [2, ...ascii("h2")]),
      ...param(2, ascii("abc")),
    ),
    /no-default-alpn has a malformed value/,
  );
});

test("parseServiceRdata rejects RFC 9460 D.3: mandatory=key123 (not understood, and missing)", () => {
  fails(
    rdata(0, 1, ...FOO_COM, ...param(0, [0, 123])),
    /mandatory key key123 is not understood/,
  );
});

test("parseServiceRdata rejects RFC 9460 D.3: mandatory=mandatory", () => {
  fails(rdata(0, 1, ...FOO_COM, ...param(0, [0, 0])), /mandatory lists itself/);
});

test("parseServiceRdata rejects RFC 9460 D.3: mandatory=key123,key123 key123=abc", () => {
  fails(
    rdata(
      0,
      1,
      ...FOO_COM,
      ...param(0, [0, 123, 0, 123]),
      ...param(123, ascii("abc")),
    ),
    /mandatory lists key123 twice/,
  );
});

// ── §2.2, §2.4.3, §8 beyond the appendix ─────────────────────────────────

test("parseServiceRdata rejects SvcParamKeys out of order (§2.2)", () => {
  fails(
    rdata(0, 1, 0, ...param(3, [0, 53]), ...param(1, [2, ...ascii("h2")])),
    /not in increasing order \(alpn after port\)/,
  );
});

test("parseServiceRdata rejects a SvcParam cut short and RDATA shorter than its header (§2.2)", () => {
  fails(rdata(0, 1, 0, 0, 3, 0, 2, 0), /runs past the RDATA/);
  fails(rdata(0, 1, 0, 0, 3), /ends inside a SvcParam/);
  fails(rdata(0, 1), /ends before SvcPriority and TargetName/);
  fails(rdata(0, 1, 3, ...ascii("fo")), /TargetName runs past/);
});

test("parseServiceRdata rejects a compressed TargetName and one whose label is no host name", () => {
  fails(rdata(0, 1, 0xc0, 12), /compressed/);
  fails(rdata(0, 1, 3, ...ascii("a.b"), 0), /not a host name/);
  fails(rdata(0, 1, 2, 0x00, 0x41, 0), /not a host name/);
});

test("parseServiceRdata rejects an alpn list with an empty id or a length past the value", () => {
  fails(
    rdata(0, 1, 0, ...param(1, [2, ...ascii("h2"), 0])),
    /empty protocol id/,
  );
  fails(
    rdata(0, 1, 0, ...param(1, [3, ...ascii("h2")])),
    /alpn has a malformed value/,
  );
});

test("parseServiceRdata rejects port, ipv4hint and ipv6hint of the wrong length", () => {
  fails(
    rdata(0, 1, 0, ...param(3, [0, 0, 53])),
    /port has a malformed value \(3 octets\)/,
  );
  fails(
    rdata(0, 1, 0, ...param(4, [127, 0, 0])),
    /ipv4hint has a malformed value/,
  );
  fails(
    rdata(0, 1, 0, ...param(6, new Array(17).fill(0))),
    /ipv6hint has a malformed value/,
  );
});

test("parseServiceRdata rejects a record that is not self-consistent (§2.4.3)", () => {
  // mandatory=alpn without alpn; no-default-alpn without alpn.
  fails(
    rdata(0, 1, 0, ...param(0, [0, 1]), ...param(3, [0, 53])),
    /mandatory key alpn is missing/,
  );
  fails(rdata(0, 1, 0, ...param(2, [])), /no-default-alpn without alpn/);
  fails(
    rdata(
      0,
      1,
      0,
      ...param(0, [0, 3, 0, 1]),
      ...param(1, [2, ...ascii("h2")]),
      ...param(3, [0, 1]),
    ),
    /not in increasing order/,
  );
});

test("parseServiceRdata accepts a mandatory list of understood keys that are present", () => {
  assert.deepEqual(
    ok(
      rdata(
        0,
        1,
        0,
        ...param(0, [0, 1, 0, 3]),
        ...param(1, [2, ...ascii("h3")]),
        ...param(3, [1, 0xbb]),
      ),
    ),
    { priority: 1, target: ".", alpn: ["h3"], port: 443 },
  );
});

test(`parseServiceRdata keeps at most ${MAX_HINTS} addresses per hint and drops IPv4-mapped IPv6 hints`, () => {
  const v4 = Array.from({ length: 40 }, (_, i) => [10, 0, 0, i]).flat();
  const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1];
  const real = [...new Array(15).fill(0), 1];
  const record = ok(
    rdata(0, 1, 0, ...param(4, v4), ...param(6, [...mapped, ...real])),
  );
  assert.equal(record.ipv4hint!.length, MAX_HINTS);
  assert.deepEqual(record.ipv4hint!.slice(0, 2), ["10.0.0.0", "10.0.0.1"]);
  assert.deepEqual(record.ipv6hint, ["::1"]);
});

// ── the question of a service lookup ─────────────────────────────────────

test("serviceQuestion asks HTTPS of the host for https:443, of _PORT._https.host on another port (§9.1)", () => {
  assert.deepEqual(serviceQuestion("svc.test", "https", 443), {
    name: "svc.test",
    qtype: TYPE_HTTPS,
  });
  assert.deepEqual(serviceQuestion("svc.test", "HTTPS", 8443), {
    name: "_8443._https.svc.test",
    qtype: TYPE_HTTPS,
  });
});

test("serviceQuestion asks SVCB of _PORT._scheme.host for other schemes (§2.3)", () => {
  assert.deepEqual(serviceQuestion("db.test", "postgres", 5432), {
    name: "_5432._postgres.db.test",
    qtype: TYPE_SVCB,
  });
  assert.deepEqual(serviceQuestion("a.test", "Foo", 443), {
    name: "_443._foo.a.test",
    qtype: TYPE_SVCB,
  });
});

test("serviceQuestion rejects a scheme that cannot be a label and a port out of range", () => {
  for (const scheme of ["", "a b", "x+y", "1abc", 7 as unknown as string]) {
    assert.throws(
      () => serviceQuestion("a.test", scheme, 443),
      TypeError,
      String(scheme),
    );
  }
  for (const port of [0, -1, 65536, 1.5, Number.NaN]) {
    assert.throws(
      () => serviceQuestion("a.test", "https", port),
      RangeError,
      String(port),
    );
  }
});

// ── a whole answer ───────────────────────────────────────────────────────

/** A response to one HTTPS question for svc.test with raw answer bytes. */
function response(
  answers: number[],
  ancount: number,
  flags = 0x8180,
): Uint8Array {
  return Uint8Array.from([
    0,
    7,
    flags >> 8,
    flags & 0xff,
    0,
    1,
    ancount >> 8,
    ancount & 0xff,
    0,
    0,
    0,
    0,
    ...name("svc.test"),
    0,
    65,
    0,
    1,
    ...answers,
  ]);
}
/** One RR of class IN. */
function rr(
  owner: number[],
  type: number,
  ttl: number,
  data: number[],
): number[] {
  return [
    ...owner,
    type >> 8,
    type & 0xff,
    0,
    1,
    (ttl >>> 24) & 0xff,
    (ttl >>> 16) & 0xff,
    (ttl >>> 8) & 0xff,
    ttl & 0xff,
    data.length >> 8,
    data.length & 0xff,
    ...data,
  ];
}
const QUERY = { id: 7, name: "svc.test", qtype: 65 };
const SERVICE = [0, 1, 0, ...param(3, [0x20, 0xfb])];

test("decodeServiceResponse follows a CNAME and takes the smaller TTL", () => {
  const answer = decodeServiceResponse(
    response([
      ...rr([0xc0, 12], 5, 30, name("cdn.test")),
      ...rr(name("cdn.test"), 65, 300, SERVICE),
      ...rr(name("other.test"), 65, 300, SERVICE),
    ], 3),
    QUERY,
  );
  assert.deepEqual(answer, {
    rcode: 0,
    truncated: false,
    malformed: false,
    records: [{ priority: 1, target: ".", port: 8443, ttl: 30 }],
    ignored: [],
  });
});

test("decodeServiceResponse leaves out a bad record with the reason, keeping the good ones", () => {
  const answer = decodeServiceResponse(
    response([
      ...rr([0xc0, 12], 65, 60, [0, 1, 0, ...param(1, [])]),
      ...rr([0xc0, 12], 65, 60, SERVICE),
    ], 2),
    QUERY,
  );
  assert.deepEqual(answer?.records, [{
    priority: 1,
    target: ".",
    port: 8443,
    ttl: 60,
  }]);
  assert.deepEqual(answer?.ignored, [
    "record 1 of svc.test: alpn has a malformed value (0 octets)",
  ]);
});

test(`decodeServiceResponse keeps the first ${MAX_SERVICE_RECORDS} records of a huge answer and says how many it dropped`, () => {
  const answers: number[] = [];
  for (let i = 0; i < 60; i++) {
    answers.push(
      ...rr([0xc0, 12], 65, 60, [0, i + 1, 0, ...param(4, [10, 0, 0, i])]),
    );
  }
  const answer = decodeServiceResponse(response(answers, 60), QUERY)!;
  assert.equal(answer.records.length, MAX_SERVICE_RECORDS);
  assert.deepEqual(
    answer.records.map((r) => r.priority),
    Array.from({ length: MAX_SERVICE_RECORDS }, (_, i) => i + 1),
  );
  assert.deepEqual(answer.ignored, [
    `${
      60 - MAX_SERVICE_RECORDS
    } records beyond the first ${MAX_SERVICE_RECORDS} dropped`,
  ]);
});

test("decodeServiceResponse reports NXDOMAIN, truncation and a cut message, and ignores other questions", () => {
  assert.equal(decodeServiceResponse(response([], 0, 0x8183), QUERY)?.rcode, 3);
  assert.equal(
    decodeServiceResponse(response([], 0, 0x8380), QUERY)?.truncated,
    true,
  );
  const cut = response(rr([0xc0, 12], 65, 60, SERVICE), 1);
  assert.equal(
    decodeServiceResponse(cut.subarray(0, cut.length - 3), QUERY)?.malformed,
    true,
  );
  assert.equal(decodeServiceResponse(cut, { ...QUERY, qtype: 64 }), undefined);
  assert.equal(decodeServiceResponse(cut, { ...QUERY, id: 8 }), undefined);
});
