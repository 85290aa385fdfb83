// The one IP parser (src/_ip.ts): text → 16 bytes, the RFC 5952 formatter,
// the address-key, and the table of bytes a dial reads through. parseIP's
// own rules are tested in address_test.ts; here, that the bytes, the text
// and the key agree with it and with independent references.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  addrKey,
  formatIP,
  ipBytes,
  isMapped,
  parseIP,
  parseIPAndKeep,
  withZone,
} from "../src/_ip.ts";
import { parseIP as publicParseIP } from "../src/address.ts";

const RUNS = 1000;

const bytesArb = fc.uint8Array({ minLength: 16, maxLength: 16 });

/** Some addresses whose bytes end in an IPv4 address, or are mapped. */
const nearMappedArb = fc.tuple(
  fc.constantFrom(
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], // ::ffff:0:0/96
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // ::/96
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe],
    [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], // 64:ff9b::/96
  ),
  fc.uint8Array({ minLength: 4, maxLength: 4 }),
).map(([head, tail]) => Uint8Array.from([...head, ...tail]));

/** The hex text of 16 bytes, eight groups, no compression. */
function fullHex(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) {
    groups.push(((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16));
  }
  return groups.join(":");
}

/**
 * The WHATWG URL parser's IPv6 serialisation: RFC 5952 compression (the
 * first longest run of two or more zero groups), lower case, no leading
 * zeros, an embedded IPv4 tail in hex. An independent formatter for every
 * address that is not IPv4-mapped.
 */
function urlFormat(bytes: Uint8Array): string {
  return new URL(`http://[${fullHex(bytes)}]/`).hostname.slice(1, -1);
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

test("formatIP() prints the RFC 5952 §4 examples", () => {
  const cases: [string, string][] = [
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // one 0: not "::"
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // the longest run
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // the first of equals
    ["2001:DB8::AAAA", "2001:db8::aaaa"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["::1.2.3.4", "::102:304"], // IPv4-compatible, in hex as Go prints it
    ["::ffff:1.2.3.4", "1.2.3.4"], // IPv4-mapped is IPv4
    ["192.0.2.1", "192.0.2.1"],
  ];
  for (const [text, expected] of cases) {
    const bytes = ipBytes(text);
    assert.ok(bytes !== undefined, text);
    assert.equal(formatIP(bytes), expected, text);
    assert.equal(parseIP(text)?.address, expected, text);
  }
});

test("formatIP() agrees with the WHATWG URL serialiser on every address that is not IPv4-mapped", () => {
  fc.assert(
    fc.property(fc.oneof(bytesArb, nearMappedArb), (bytes) => {
      fc.pre(!isMapped(bytes));
      assert.equal(formatIP(bytes), urlFormat(bytes), fullHex(bytes));
    }),
    { numRuns: RUNS },
  );
});

test("formatIP() prints an IPv4-mapped address as dotted IPv4", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (v4) => {
      const bytes = Uint8Array.from([...MAPPED_PREFIX, ...v4]);
      assert.ok(isMapped(bytes));
      assert.equal(formatIP(bytes), [...v4].join("."));
    }),
    { numRuns: RUNS },
  );
});

test("ipBytes(), formatIP() and parseIP() round-trip any 16 bytes", () => {
  fc.assert(
    fc.property(fc.oneof(bytesArb, nearMappedArb), (bytes) => {
      const text = formatIP(bytes);
      assert.deepEqual(ipBytes(text), bytes, text);
      assert.deepEqual(ipBytes(fullHex(bytes)), bytes, fullHex(bytes));
      assert.deepEqual(
        parseIP(text),
        { address: text, family: isMapped(bytes) ? 4 : 6 },
        text,
      );
    }),
    { numRuns: RUNS },
  );
});

test("ipBytes() reads IPv4 as IPv4-mapped and ignores a zone", () => {
  const v4 = Uint8Array.from([...MAPPED_PREFIX, 192, 0, 2, 1]);
  assert.deepEqual(ipBytes("192.0.2.1"), v4);
  assert.deepEqual(ipBytes("::ffff:192.0.2.1"), v4);
  assert.deepEqual(ipBytes("::FFFF:c000:0201"), v4);
  const linkLocal = ipBytes("fe80::1");
  assert.deepEqual(
    linkLocal,
    Uint8Array.from([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
  );
  assert.deepEqual(ipBytes("fe80::1%eth0"), linkLocal);
  assert.deepEqual(ipBytes("FE80:0:0:0:0:0:0:1%2"), linkLocal);
});

test("ipBytes() refuses what parseIP() refuses", () => {
  for (
    const bad of [
      "",
      "localhost",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "256.0.0.1",
      "[::1]",
      "::1 ",
      " ::1",
      ":::",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7:8::",
      "12345::",
      "fe80::1%",
      "fe80::1%a%b",
      "fe80::1%[x]",
      "::ffff:1.2.3.4%eth0", // IPv4 has no zone
      "1.2.3.4%eth0",
      "::1.2.3",
      "::01.2.3.4",
    ]
  ) {
    assert.equal(parseIP(bad), undefined, bad);
    assert.equal(ipBytes(bad), undefined, bad);
    assert.equal(parseIPAndKeep(bad), undefined, bad);
  }
});

test("ipBytes(), parseIPAndKeep() and parseIP() agree on random text", () => {
  const text = fc.string({
    unit: fc.constantFrom(..."0123456789abcdefABCDEF:::..%xz"),
    maxLength: 24,
  });
  fc.assert(
    fc.property(text, (s) => {
      const ip = parseIP(s);
      assert.deepEqual(parseIPAndKeep(s), ip, s);
      const bytes = ipBytes(s);
      if (ip === undefined) {
        assert.equal(bytes, undefined, s);
        return;
      }
      assert.ok(bytes !== undefined, s);
      assert.equal(formatIP(bytes), ip.address, s);
      assert.equal(isMapped(bytes), ip.family === 4, s);
      assert.deepEqual(ipBytes(ip.address), bytes, s);
    }),
    { numRuns: RUNS * 3 },
  );
});

test("parseIP() in address.ts is the parser of _ip.ts", () => {
  assert.equal(publicParseIP, parseIP);
});

test("ipBytes() returns the same array for the same text; parseIPAndKeep() keeps the bytes under the canonical text", () => {
  const first = ipBytes("2001:db8::c0de");
  assert.ok(first !== undefined);
  assert.equal(ipBytes("2001:db8::c0de"), first);

  const ip = parseIPAndKeep("2001:DB8:0:0:0:0:0:BEEF%eth1");
  assert.deepEqual(ip, { address: "2001:db8::beef", family: 6, zone: "eth1" });
  const kept = ipBytes("2001:db8::beef");
  assert.deepEqual(kept, ipBytes("2001:db8:0::beef"));
  assert.equal(ipBytes("2001:db8::beef"), kept);

  const v4 = parseIPAndKeep("::ffff:198.51.100.7");
  assert.deepEqual(v4, { address: "198.51.100.7", family: 4 });
  assert.deepEqual(
    ipBytes("198.51.100.7"),
    Uint8Array.from([...MAPPED_PREFIX, 198, 51, 100, 7]),
  );
});

test("ipBytes() stays right when its table starts over", () => {
  // More distinct texts than the table holds (4096): it is cleared on the
  // way, and every answer must still be the address's bytes.
  const texts: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    texts.push(
      i % 2 === 0
        ? `2001:db8::${(i + 1).toString(16)}`
        : `10.0.${i >> 8}.${i & 0xff}`,
    );
  }
  for (let round = 0; round < 2; round++) {
    for (const text of texts) {
      const bytes = ipBytes(text);
      assert.ok(bytes !== undefined, text);
      assert.equal(formatIP(bytes), text, text);
    }
  }
});

test("addrKey() is the address, with %zone when there is one", () => {
  assert.equal(addrKey({ address: "192.0.2.1" }), "192.0.2.1");
  assert.equal(addrKey({ address: "2001:db8::1" }), "2001:db8::1");
  assert.equal(addrKey({ address: "fe80::1", zone: "eth0" }), "fe80::1%eth0");
  const ip = parseIP("fe80::1%lo0")!;
  assert.equal(addrKey(ip), "fe80::1%lo0");
  assert.deepEqual(parseIP(addrKey(ip)), ip);
});

test("addrKey() of a parsed address parses back to the same address", () => {
  fc.assert(
    fc.property(
      bytesArb,
      fc.option(fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/), { nil: undefined }),
      (bytes, zone) => {
        fc.pre(!isMapped(bytes));
        const text = zone === undefined
          ? fullHex(bytes)
          : `${fullHex(bytes)}%${zone}`;
        const ip = parseIP(text)!;
        assert.equal(
          addrKey(ip),
          text.replace(fullHex(bytes), formatIP(bytes)),
        );
        assert.deepEqual(parseIP(addrKey(ip)), ip);
      },
    ),
    { numRuns: RUNS },
  );
});

test("withZone() gives what parseIP() gives for address%zone", () => {
  const zone = fc.oneof(
    fc.constantFrom("", "eth0", "1", "%", "a%b", "[x]", "lo0 ", "é"),
    fc.string({ maxLength: 6 }),
  );
  const address = fc.constantFrom(
    "fe80::1",
    "2001:db8::1",
    "::1",
    "192.0.2.1",
    "::ffff:192.0.2.1",
  );
  fc.assert(
    fc.property(address, zone, (text, z) => {
      const ip = parseIP(text)!;
      assert.deepEqual(
        withZone(ip, z),
        parseIP(`${text}%${z}`),
        `${text}%${z}`,
      );
    }),
    { numRuns: RUNS },
  );
  assert.equal(
    withZone({ address: "fe80::1", family: 6, zone: "a" }, "b"),
    undefined,
  );
});
