import { test } from "./_test.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatEndpoint,
  joinHostPort,
  parseIP,
  parsePort,
  splitHostPort,
} from "../src/address.ts";
import { AddrError, DNSError } from "../src/errors.ts";

const RUNS = 1000;

function assertAddrError(fn: () => unknown, addr: string, reason: string) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AddrError, `expected AddrError, got ${err}`);
    assert.equal(err.name, "AddrError");
    assert.equal(err.addr, addr);
    assert.equal(err.reason, reason);
    assert.equal(
      err.message,
      addr === "" ? reason : `address ${addr}: ${reason}`,
    );
    return true;
  });
}

// ── splitHostPort ──────────────────────────────────────────────────────

// Go's TestSplitHostPort success table (net/ip_test.go).
const SPLIT_OK: [string, string, string][] = [
  // Host name
  ["localhost:http", "localhost", "http"],
  ["localhost:80", "localhost", "80"],
  // Go-specific host name with zone identifier
  ["localhost%lo0:http", "localhost%lo0", "http"],
  ["localhost%lo0:80", "localhost%lo0", "80"],
  ["[localhost%lo0]:http", "localhost%lo0", "http"],
  ["[localhost%lo0]:80", "localhost%lo0", "80"],
  // IP literal
  ["127.0.0.1:http", "127.0.0.1", "http"],
  ["127.0.0.1:80", "127.0.0.1", "80"],
  ["[::1]:http", "::1", "http"],
  ["[::1]:80", "::1", "80"],
  // IP literal with zone identifier
  ["[::1%lo0]:http", "::1%lo0", "http"],
  ["[::1%lo0]:80", "::1%lo0", "80"],
  ["[fe80::1%eth0]:443", "fe80::1%eth0", "443"],
  // Wildcard host
  [":http", "", "http"],
  [":80", "", "80"],
  // Empty port
  ["golang.org:", "golang.org", ""],
  ["127.0.0.1:", "127.0.0.1", ""],
  ["[::1]:", "::1", ""],
  // Opaque service name
  ["golang.org:https%foo", "golang.org", "https%foo"],
  // Degenerate but accepted by Go
  [":", "", ""],
  ["[]:80", "", "80"],
  ["[]:", "", ""],
  ["a b:c d", "a b", "c d"],
];

for (const [input, host, port] of SPLIT_OK) {
  test(`splitHostPort() splits ${JSON.stringify(input)}`, () => {
    assert.deepEqual(splitHostPort(input), [host, port]);
  });
}

// Go's TestSplitHostPort failure table, plus the unbracketed '[' case.
const SPLIT_FAIL: [string, string][] = [
  ["golang.org", "missing port in address"],
  ["127.0.0.1", "missing port in address"],
  ["[::1]", "missing port in address"],
  ["[fe80::1%lo0]", "missing port in address"],
  ["[localhost%lo0]", "missing port in address"],
  ["localhost%lo0", "missing port in address"],
  ["", "missing port in address"],

  ["::1", "too many colons in address"],
  ["fe80::1%lo0", "too many colons in address"],
  ["fe80::1%lo0:80", "too many colons in address"],
  ["::1:80", "too many colons in address"],
  ["a:b:c", "too many colons in address"],

  ["[foo:bar]", "missing port in address"],
  ["[foo:bar]baz", "missing port in address"],
  ["[foo]bar:baz", "missing port in address"],

  ["[foo]:[bar]:baz", "too many colons in address"],

  ["[::1:80", "missing ']' in address"],
  ["[foo:bar", "missing ']' in address"],

  ["[foo]:[bar]baz", "unexpected '[' in address"],
  ["foo[bar]:baz", "unexpected '[' in address"],
  ["[a[b]:80", "unexpected '[' in address"],
  ["foo:[bar", "unexpected '[' in address"],

  ["foo]bar:baz", "unexpected ']' in address"],
  ["[foo]:bar]", "unexpected ']' in address"],
];

for (const [input, reason] of SPLIT_FAIL) {
  test(`splitHostPort() rejects ${JSON.stringify(input)}: ${reason}`, () => {
    assertAddrError(() => splitHostPort(input), input, reason);
  });
}

test("splitHostPort() error message is Go's text", () => {
  assert.throws(() => splitHostPort("example.test"), {
    name: "AddrError",
    message: "address example.test: missing port in address",
  });
  assert.throws(() => splitHostPort("::1"), {
    message: "address ::1: too many colons in address",
  });
  // An empty address leaves only the reason, like Go's AddrError.
  assert.throws(() => splitHostPort(""), {
    message: "missing port in address",
  });
});

// ── joinHostPort ───────────────────────────────────────────────────────

// Go's splitJoinTests.
const JOIN: [string, string | number, string][] = [
  ["www.google.com", "80", "www.google.com:80"],
  ["127.0.0.1", "1234", "127.0.0.1:1234"],
  ["::1", "80", "[::1]:80"],
  ["fe80::1%lo0", "80", "[fe80::1%lo0]:80"],
  ["localhost%lo0", "80", "localhost%lo0:80"],
  ["", "0", ":0"],
  ["google.com", "https%foo", "google.com:https%foo"],
  ["127.0.0.1", "", "127.0.0.1:"],
  ["www.google.com", "", "www.google.com:"],
  ["127.0.0.1", 80, "127.0.0.1:80"],
  ["::1", 0, "[::1]:0"],
  ["::", 65535, "[::]:65535"],
];

for (const [host, port, joined] of JOIN) {
  test(
    `joinHostPort() joins ${JSON.stringify(host)} and ${JSON.stringify(port)}`,
    () => {
      assert.equal(joinHostPort(host, port), joined);
      assert.deepEqual(splitHostPort(joined), [host, String(port)]);
    },
  );
}

test("joinHostPort() and splitHostPort() round-trip any bracket-free host and colon-free port", () => {
  const text = fc.string({
    unit: fc.constantFrom(..."ab:%.0129 x"),
    maxLength: 12,
  });
  const port = fc.oneof(
    fc.string({ unit: fc.constantFrom(..."0189%ahtp-+"), maxLength: 6 }),
    fc.integer({ min: 0, max: 65535 }),
  );
  fc.assert(
    fc.property(text, port, (h, p) => {
      assert.deepEqual(splitHostPort(joinHostPort(h, p)), [h, String(p)]);
    }),
    { numRuns: RUNS },
  );
});

test("splitHostPort() accepts again whatever joinHostPort() makes of its result", () => {
  const input = fc.string({
    unit: fc.constantFrom(..."[]:ab%1"),
    maxLength: 12,
  });
  fc.assert(
    fc.property(input, (s) => {
      let parts: [string, string];
      try {
        parts = splitHostPort(s);
      } catch (err) {
        assert.ok(err instanceof AddrError);
        return;
      }
      assert.deepEqual(splitHostPort(joinHostPort(...parts)), parts);
    }),
    { numRuns: RUNS },
  );
});

// ── formatEndpoint ─────────────────────────────────────────────────────

test("formatEndpoint() prints Go's addr form for IPv4, IPv6 and zones", () => {
  assert.equal(
    formatEndpoint({ address: "127.0.0.1", family: 4, port: 80 }),
    "127.0.0.1:80",
  );
  assert.equal(
    formatEndpoint({ address: "::1", family: 6, port: 80 }),
    "[::1]:80",
  );
  assert.equal(
    formatEndpoint({ address: "fe80::1", family: 6, zone: "eth0", port: 80 }),
    "[fe80::1%eth0]:80",
  );
  assert.equal(
    formatEndpoint({ address: "::1", family: 6, zone: "", port: 0 }),
    "[::1]:0",
  );
});

test("formatEndpoint() output splits back into the parsed endpoint", () => {
  for (const text of ["10.1.2.3", "2001:db8::7", "fe80::1%eth0"]) {
    const ip = parseIP(text);
    assert.ok(ip);
    const [host, port] = splitHostPort(formatEndpoint({ ...ip, port: 8080 }));
    assert.deepEqual(parseIP(host), ip);
    assert.equal(parsePort(port), 8080);
  }
});

// ── parseIP: IPv4 ──────────────────────────────────────────────────────

for (
  const text of [
    "0.0.0.0",
    "127.0.0.1",
    "1.2.3.4",
    "10.0.0.255",
    "192.168.100.200",
    "255.255.255.255",
    "249.250.251.252",
  ]
) {
  test(`parseIP() accepts IPv4 ${text}`, () => {
    assert.deepEqual(parseIP(text), { address: text, family: 4 });
  });
}

for (
  const text of [
    "010.0.0.1", // leading zero (Go >= 1.17)
    "127.0.0.01",
    "1.2.3.00",
    "00.0.0.0",
    "256.0.0.1",
    "1.2.3.256",
    "1.2.3.1000",
    "1.2.3.4.5", // five parts
    "1.2.3", // three parts
    "1.2",
    "1",
    "127.1",
    "1.2.3.",
    ".1.2.3",
    "1..2.3",
    "1.2.3.4.",
    "0x7f.0.0.1", // hex
    "0x7f000001",
    "2130706433", // a bare number
    "+1.2.3.4",
    "-1.2.3.4",
    "1.2.3.-4",
    " 1.2.3.4",
    "1.2.3.4 ",
    "1.2.3.4\n",
    "1.2. 3.4",
    "1.2.3.4:80",
    "1.2.3.4%eth0", // zones are IPv6-only
    "1.2.3.4/24",
    "1.2.3.a",
    "１.2.3.4", // a full-width digit
    "",
  ]
) {
  test(`parseIP() rejects ${JSON.stringify(text)}`, () => {
    assert.equal(parseIP(text), undefined);
  });
}

// ── parseIP: IPv6 ──────────────────────────────────────────────────────

const IPV6: [string, string][] = [
  ["::", "::"],
  ["::0", "::"],
  ["0:0:0:0:0:0:0:0", "::"],
  ["::1", "::1"],
  ["0:0:0:0:0:0:0:1", "::1"],
  ["1::", "1::"],
  ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"], // "::" may stand for one group
  ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
  ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
  ["1:2:3::6:7:8", "1:2:3::6:7:8"],
  ["fe80::1", "fe80::1"],
  ["FE80::ABCD:EF01", "fe80::abcd:ef01"],
  [
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
  ],
  ["2001:db8:85a3::8a2e:370:7334", "2001:db8:85a3::8a2e:370:7334"],
  ["2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:db8:85a3::8a2e:370:7334"],
  // RFC 5952 §4.1: no leading zeros.
  ["2001:0db8::0001", "2001:db8::1"],
  [
    "2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001",
    "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1",
  ],
  // RFC 5952 §4.2.1: "::" shortens as much as possible.
  ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
  ["2001:db8::0:1", "2001:db8::1"],
  // RFC 5952 §4.2.2: never for a single 16-bit 0 field.
  ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
  ["2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
  // RFC 5952 §4.2.3: the longest run, the first on ties.
  ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
  ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
  // RFC 5952 §4.3: lower case.
  ["2001:DB8::AAAA:BBBB", "2001:db8::aaaa:bbbb"],
  // RFC 5952 §2.1-2.3: many spellings of one address.
  ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
  ["2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
  ["2001:db8::1:0:0:1", "2001:db8::1:0:0:1"],
  ["2001:db8::0:1:0:0:1", "2001:db8::1:0:0:1"],
  ["2001:0db8::1:0:0:1", "2001:db8::1:0:0:1"],
  ["2001:db8:0:0:1::1", "2001:db8::1:0:0:1"],
  ["2001:db8:0000:0:1::1", "2001:db8::1:0:0:1"],
  ["2001:DB8:0:0:1::1", "2001:db8::1:0:0:1"],
  // Zero runs at the ends and in the middle.
  ["0:0:1:0:0:0:0:1", "0:0:1::1"],
  ["1:0:0:0:0:0:0:0", "1::"],
  ["0:0:0:0:0:0:0:1", "::1"],
  ["1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"],
  ["1:0:0:1:0:0:1:1", "1::1:0:0:1:1"],
  ["0:0:1:1:1:1:0:0", "::1:1:1:1:0:0"],
  // Embedded IPv4 that is not IPv4-mapped prints in hex, as in Go.
  ["::1.2.3.4", "::102:304"],
  ["::0.0.0.1", "::1"],
  ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
  ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
  ["::ffff:0:1.2.3.4", "::ffff:0:102:304"], // IPv4-translated, not mapped
  ["ffff::1.2.3.4", "ffff::102:304"],
  ["0:0:0:0:1:ffff:1.2.3.4", "::1:ffff:102:304"],
];

for (const [text, canonical] of IPV6) {
  test(`parseIP() reads IPv6 ${text} as ${canonical}`, () => {
    assert.deepEqual(parseIP(text), { address: canonical, family: 6 });
  });
}

const MAPPED: [string, string][] = [
  ["::ffff:1.2.3.4", "1.2.3.4"],
  ["::FFFF:127.0.0.1", "127.0.0.1"],
  ["0:0:0:0:0:ffff:10.0.0.1", "10.0.0.1"],
  ["0000:0000:0000:0000:0000:FFFF:0A00:0001", "10.0.0.1"],
  ["::ffff:7f00:1", "127.0.0.1"],
  ["::ffff:0:0", "0.0.0.0"],
  ["::ffff:ffff:ffff", "255.255.255.255"],
  ["0::ffff:c000:280", "192.0.2.128"],
];

for (const [text, v4] of MAPPED) {
  test(`parseIP() reads IPv4-mapped ${text} as IPv4 ${v4}`, () => {
    assert.deepEqual(parseIP(text), { address: v4, family: 4 });
  });
}

for (
  const text of [
    ":",
    ":::",
    "::::",
    "1:::2",
    "1::2::3",
    "::1::",
    ":1",
    ":1::",
    "1:",
    "1::2:",
    "1:2:3:4:5:6:7", // too short
    "1:2:3:4:5:6:7:8:9", // too long
    "1:2:3:4:5:6:7:8::", // "::" standing for nothing
    "::1:2:3:4:5:6:7:8",
    "1:2:3:4::5:6:7:8",
    "12345::", // five hex digits
    "::00000",
    "g::",
    "::g",
    "1:2:3:4:5:6:7:g",
    "::1.2.3", // short IPv4 tail
    "::1.2.3.4.5",
    "::1.2.3.",
    "::01.2.3.4", // leading zero in the tail
    "::1.2.3.04",
    "::256.0.0.1",
    "::1.2.3.4:5", // the tail must be last
    "::1.2.3.4::",
    "1:2:3:4:5:6:7:1.2.3.4", // no room for the tail
    "1:2:3:4:5:1.2.3.4", // tail without "::" must fill groups 7-8
    "1:2:3:4:5:6::1.2.3.4", // "::" standing for nothing
    "::1a.2.3.4",
    "::0x1.2.3.4",
    "1.2.3.4::", // the first '.' makes it IPv4
    "1.2.3.4::1",
    "[::1]", // no brackets
    "[::1]:80",
    " ::1",
    "::1 ",
    "::1\t",
    ":: 1",
    "::1\n",
    "::1/128",
    "::1:80:",
    "::-1",
    "::+1",
    "2001:db8::g1",
    "::１", // a full-width digit
    "localhost",
    "example.test",
    "-",
    "%",
    "%eth0",
    "::1%", // empty zone
    "fe80::1%", // empty zone
    "fe80::1%eth 0", // whitespace in the zone
    "fe80::1%eth0\n",
    "fe80::1% ",
    "fe80::1%a%b",
    "fe80::1%[0]",
    "fe80::1%eth0]",
    "fe80::1%ethé",
    "::ffff:1.2.3.4%eth0", // a zone on IPv4
    "::ffff:7f00:1%1",
    "1.2.3.4%1",
    "fe80:%eth0:1",
  ]
) {
  test(`parseIP() rejects IPv6 ${JSON.stringify(text)}`, () => {
    assert.equal(parseIP(text), undefined);
  });
}

const ZONED: [string, string, string][] = [
  ["fe80::1%eth0", "fe80::1", "eth0"],
  ["FE80::0001%lo0", "fe80::1", "lo0"],
  ["fe80::1%1", "fe80::1", "1"],
  ["::1%lo", "::1", "lo"],
  ["fe80:0:0:0:0:0:0:1%en0.100", "fe80::1", "en0.100"],
  ["fe80::1%br-3f2a_x:1", "fe80::1", "br-3f2a_x:1"],
  ["::1.2.3.4%x", "::102:304", "x"],
];

for (const [text, address, zone] of ZONED) {
  test(`parseIP() keeps the zone of ${text}`, () => {
    assert.deepEqual(parseIP(text), { address, family: 6, zone });
  });
}

test("parseIP() leaves zone unset when there is none", () => {
  const ip = parseIP("::1");
  assert.ok(ip);
  assert.equal("zone" in ip, false);
});

/** An independent RFC 5952 formatter, for the properties below. */
function referenceFormat(groups: number[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i >= 2 && j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${
    hex.slice(best + bestLen).join(":")
  }`;
}

const groupsArb = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constant(0xffff) },
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
  ),
  { minLength: 8, maxLength: 8 },
);

function isMapped(g: number[]): boolean {
  return g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
}

test("parseIP() gives the RFC 5952 form for any address in any spelling", () => {
  fc.assert(
    fc.property(
      groupsArb,
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 0, max: 8 }),
      (groups, upper, pad, cut) => {
        let full = groups.map((g) =>
          pad ? g.toString(16).padStart(4, "0") : g.toString(16)
        ).join(":");
        if (upper) full = full.toUpperCase();
        // Also compress the zero groups at `cut`, if there are any there.
        let end = cut;
        while (end < 8 && groups[end] === 0) end++;
        const spellings = [full];
        if (end - cut >= 1) {
          const hex = groups.map((g) => g.toString(16));
          spellings.push(
            `${hex.slice(0, cut).join(":")}::${hex.slice(end).join(":")}`,
          );
        }
        const v4tail = `${groups[6] >> 8}.${groups[6] & 0xff}.${
          groups[7] >> 8
        }.${groups[7] & 0xff}`;
        spellings.push(
          `${
            groups.slice(0, 6).map((g) => g.toString(16)).join(":")
          }:${v4tail}`,
        );
        const expected = isMapped(groups)
          ? { address: v4tail, family: 4 }
          : { address: referenceFormat(groups), family: 6 };
        for (const s of spellings) assert.deepEqual(parseIP(s), expected, s);
      },
    ),
    { numRuns: RUNS },
  );
});

test("parseIP() reads every dotted quad without leading zeros as itself", () => {
  const octet = fc.integer({ min: 0, max: 255 });
  fc.assert(
    fc.property(octet, octet, octet, octet, (a, b, c, d) => {
      const text = `${a}.${b}.${c}.${d}`;
      assert.deepEqual(parseIP(text), { address: text, family: 4 });
      assert.deepEqual(parseIP(`::ffff:${text}`), { address: text, family: 4 });
      assert.equal(parseIP(`${text}.${a}`), undefined);
      assert.equal(parseIP(`0${text}`), undefined);
    }),
    { numRuns: RUNS },
  );
});

/**
 * A second, independent IPv6 reader built on `split` and small regexes,
 * following RFC 4291 §2.2 with Go's limits (1–4 hex digits per group, one
 * "::" standing for at least one group, a dotted tail without leading zeros
 * only as the last 32 bits).
 */
function referenceParse(
  text: string,
): { address: string; family: number } | null {
  const dot = text.indexOf(".");
  if (dot >= 0 && dot < text.indexOf(":")) return null; // read as IPv4
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const split = (part: string) => part === "" ? [] : part.split(":");
  const fields = halves.map(split);
  const last = fields[fields.length - 1];
  const toGroups = (list: string[], isLast: boolean): number[] | null => {
    const out: number[] = [];
    for (let i = 0; i < list.length; i++) {
      const f = list[i];
      if (/^[0-9a-fA-F]{1,4}$/.test(f)) {
        out.push(parseInt(f, 16));
      } else if (
        isLast && i === list.length - 1 &&
        /^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/.test(f)
      ) {
        const o = f.split(".").map(Number);
        if (o.some((x) => x > 255)) return null;
        out.push(o[0] * 256 + o[1], o[2] * 256 + o[3]);
      } else {
        return null;
      }
    }
    return out;
  };
  const head = toGroups(fields[0], fields.length === 1);
  const tail = fields.length === 2 ? toGroups(last, true) : [];
  if (head === null || tail === null) return null;
  let groups: number[];
  if (fields.length === 1) {
    if (head.length !== 8) return null;
    groups = head;
  } else {
    const zeros = 8 - head.length - tail.length;
    if (zeros < 1) return null;
    groups = [...head, ...new Array<number>(zeros).fill(0), ...tail];
  }
  if (isMapped(groups)) {
    const [hi, lo] = [groups[6], groups[7]];
    return {
      address: `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`,
      family: 4,
    };
  }
  return { address: referenceFormat(groups), family: 6 };
}

test("parseIP() agrees with an independent reference reader on IPv6 text", () => {
  const token = fc.oneof(
    fc.constantFrom("", "", "0", "1", "ffff", "FFFF", "0000", "00000", "abcd"),
    fc.string({
      unit: fc.constantFrom(..."0123456789abcdefABCDEFg"),
      minLength: 1,
      maxLength: 5,
    }),
    fc.tuple(
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 2, max: 5 }),
      fc.boolean(),
    ).map(([a, b, c, d, parts, zero]) =>
      [a, b, c, d, a].slice(0, parts).map((n) => zero ? `0${n}` : n).join(".")
    ),
  );
  const text = fc.array(token, { minLength: 1, maxLength: 10 })
    .map((tokens) => tokens.join(":"))
    .filter((s) => s.includes(":"));
  fc.assert(
    fc.property(text, (s) => {
      assert.deepEqual(parseIP(s) ?? null, referenceParse(s), s);
    }),
    { numRuns: RUNS * 3 },
  );
});

test("parseIP() is linear on long inputs", () => {
  const long = "1:".repeat(200_000);
  assert.equal(parseIP(long), undefined);
  assert.equal(parseIP("1.".repeat(200_000)), undefined);
  assert.equal(parseIP(`${"0".repeat(200_000)}::`), undefined);
  const zone = "z".repeat(200_000);
  assert.deepEqual(parseIP(`fe80::1%${zone}`), {
    address: "fe80::1",
    family: 6,
    zone,
  });
});

// ── parsePort ──────────────────────────────────────────────────────────

const PORTS: [string, number][] = [
  ["", 0],
  ["0", 0],
  ["80", 80],
  ["+80", 80],
  ["080", 80],
  ["00000000000000000080", 80],
  ["-0", 0],
  ["+", 0], // Go: the sign alone is an empty number
  ["-", 0],
  ["65535", 65535],
  ["http", 80],
  ["HTTP", 80],
  ["Https", 443],
  ["ftp", 21],
  ["ftps", 990],
  ["gopher", 70],
  ["imap2", 143],
  ["imap3", 220],
  ["imaps", 993],
  ["pop3", 110],
  ["pop3s", 995],
  ["smtp", 25],
  ["SSH", 22],
  ["telnet", 23],
];

for (const [service, port] of PORTS) {
  test(`parsePort() reads ${JSON.stringify(service)} as ${port}`, () => {
    assert.equal(Object.is(parsePort(service), port), true);
  });
}

for (
  const service of [
    "-1",
    "65536",
    "-65536",
    "99999999999999999999",
    "-99999999999999999999",
    "1073741823",
    "1073741824",
    "4294967295",
    "4294967296",
    "4294967376", // Go wraps this to 80 (golang/go#80168); we do not
    "4294985376",
    "12345678901x", // Go stops reading once saturated
  ]
) {
  test(`parsePort() rejects ${JSON.stringify(service)}: invalid port`, () => {
    assertAddrError(() => parsePort(service), service, "invalid port");
  });
}

for (
  const service of [
    "1e3",
    "0x50",
    "80x",
    "8 0",
    " 80",
    "80 ",
    "+-80",
    "--80",
    "nosuchsvc",
    "http ",
    "https%foo",
    "domain", // Go's built-in table has it for UDP only
    "ＨＴＴＰ", // full-width letters are not ASCII
    "１",
    "1073741824x", // not yet saturated when the 'x' is read
  ]
) {
  test(`parsePort() rejects ${JSON.stringify(service)}: unknown port`, () => {
    assert.throws(
      () => parsePort(service),
      (err: unknown) => {
        assert.ok(err instanceof DNSError, `expected DNSError, got ${err}`);
        assert.equal(err.name, "DNSError");
        assert.equal(err.message, `lookup tcp/${service}: unknown port`);
        assert.equal(err.host, `tcp/${service}`);
        assert.equal(err.reason, "unknown port");
        assert.equal(err.isNotFound, true);
        assert.equal(err.isTimeout, false);
        return true;
      },
    );
  });
}

test("parsePort() names the network as tcp for tcp4 and tcp6, like Go", () => {
  for (const network of ["tcp", "tcp4", "tcp6"]) {
    assert.equal(parsePort("ssh", network), 22);
    assert.throws(() => parsePort("x", network), {
      name: "DNSError",
      message: "lookup tcp/x: unknown port",
    });
  }
});

test("parsePort() rejects a service name on an unknown network", () => {
  assertAddrError(() => parsePort("http", "sctp"), "sctp", "unknown network");
  // A number needs no network.
  assert.equal(parsePort("80", "sctp"), 80);
});

test("parsePort() on a numeric string agrees with a BigInt reference", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("", "+", "-"),
      fc.string({ unit: fc.constantFrom(..."0123456789"), maxLength: 12 }),
      (sign, digits) => {
        const service = sign + digits;
        if (service === "") return;
        const value = digits === "" ? 0n : BigInt(digits);
        const n = sign === "-" ? -value : value;
        if (n >= 0n && n <= 65535n) {
          assert.equal(parsePort(service), Number(n));
        } else {
          assertAddrError(() => parsePort(service), service, "invalid port");
        }
      },
    ),
    { numRuns: RUNS },
  );
});

// ── robustness ─────────────────────────────────────────────────────────

test("parseIP(), splitHostPort() and parsePort() only ever throw AddrError or DNSError", () => {
  // Any code point, lone surrogates included. (The built-in "binary" unit
  // costs a second of fast-check set-up.)
  const codePoint = fc.integer({ min: 0, max: 0x10ffff })
    .map((cp) => String.fromCodePoint(cp));
  const input = fc.oneof(
    fc.string({ unit: codePoint, maxLength: 40 }),
    fc.string({ unit: "grapheme", maxLength: 20 }),
    fc.string({
      unit: fc.constantFrom(..."[]:%.+-0123456789abcdefFhtpsx \u0000é"),
      maxLength: 40,
    }),
  );
  fc.assert(
    fc.property(input, (s) => {
      const ip = parseIP(s);
      if (ip !== undefined) {
        assert.ok(ip.family === 4 || ip.family === 6);
        // Canonical text parses to itself.
        assert.deepEqual(
          parseIP(
            ip.zone === undefined ? ip.address : `${ip.address}%${ip.zone}`,
          ),
          ip,
        );
      }
      for (const fn of [() => splitHostPort(s), () => parsePort(s)]) {
        try {
          fn();
        } catch (err) {
          assert.ok(
            err instanceof AddrError || err instanceof DNSError,
            `unexpected ${err}`,
          );
        }
      }
      try {
        const port = parsePort(s);
        assert.ok(Number.isInteger(port) && port >= 0 && port <= 65535);
      } catch {
        // checked above
      }
    }),
    { numRuns: RUNS },
  );
});
