// The one IP parser and formatter. Internal, except `parseIP`, which
// address.ts re-exports (and mod.ts from there) as the public face.
//
// - text → address: `parseIP` (text → canonical text + family + zone),
//   `ipBytes` (text → 16 bytes, IPv4 as IPv4-mapped `::ffff:a.b.c.d`). Both
//   run the same reader (`parseIPv4`, `parseIPv6Text`); IPv6 is read into
//   eight scratch groups.
// - 16 bytes → text: one formatter, `formatIP` (RFC 5952 for IPv6, dotted
//   for IPv4); `parseIP` formats through the same `formatIPv6`.
// - `addrKey`: the `address` or `address%zone` key of an address.
// - `ipBytes`: the bytes of an address text, kept in a small table keyed by
//   the text, so the NAT64, RFC 6724 and policy code reading the same
//   endpoint in one dial (and the next) find it parsed.
//   `parseIPAndKeep` parses and fills that table in one go.
//
// Everything is synchronous and linear in the input's length; `parseIP`
// allocates only its result, it runs on every dial.

import type { IPAddr } from "./types.ts";

// ── the scanner: text → 16 bytes ───────────────────────────────────────

/**
 * Scratch: the eight 16-bit groups of the last IPv6 text read
 * (groups, not bytes: parsing and RFC 5952 formatting work on groups, and
 * this is the hot path; `toBytes` makes the 16 bytes when asked).
 */
const GROUPS = new Uint16Array(8);

/**
 * The family of an IP literal's text, by its first `.` or `:` (as Go's
 * `netip.ParseAddr` decides), before anything is checked.
 *
 * @returns 4, 6, or 0 when a character before it is no hex digit.
 */
function familyOf(text: string): number {
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e /* . */) return 4;
    if (c === 0x3a /* : */) return 6;
    if (!isHexDigit(c)) return 0;
  }
  return 0;
}

/** Zones: one or more of `!`–`~` except `%`, `[`, `]`. */
function isValidZone(text: string, start: number): boolean {
  const length = text.length;
  if (start >= length) return false;
  for (let i = start; i < length; i++) {
    const c = text.charCodeAt(i);
    if (
      c < 0x21 || c > 0x7e || c === 0x25 /* % */ || c === 0x5b /* [ */ ||
      c === 0x5d /* ] */
    ) {
      return false;
    }
  }
  return true;
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) ||
    (c >= 0x41 && c <= 0x46);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Parses `text[start, end)` as a dotted-quad IPv4 address, Go's rules:
 * four decimal parts, each 0–255, no leading zeros.
 *
 * @returns The address as an unsigned 32-bit number, or -1 when invalid.
 */
function parseIPv4(text: string, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && octet === 0) return -1; // leading zero
      octet = octet * 10 + (c - 0x30);
      if (octet > 255) return -1;
      digits++;
    } else if (c === 0x2e /* . */) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/**
 * Parses `text[0, end)` as IPv6 text (RFC 4291 §2.2) into the eight groups
 * of `out`, Go's netip rules: 1–4 hex digits per group, at most one `::`
 * standing for at least one zero group, an optional dotted IPv4 tail in the
 * last 32 bits.
 *
 * @returns Whether the text was valid; `out` is filled only then.
 */
function parseIPv6(text: string, end: number, out: Uint16Array): boolean {
  let pos = 0;
  let count = 0; // groups parsed
  let ellipsis = -1; // group index where "::" stands, if any

  if (end >= 2 && text.charCodeAt(0) === 0x3a && text.charCodeAt(1) === 0x3a) {
    ellipsis = 0;
    pos = 2;
  }
  while (pos < end) {
    // One group of 1–4 hex digits.
    const fieldStart = pos;
    let acc = 0;
    while (pos < end) {
      const digit = hexValue(text.charCodeAt(pos));
      if (digit < 0) break;
      if (pos - fieldStart === 4) return false; // 5th digit
      acc = acc * 16 + digit;
      pos++;
    }
    if (pos === fieldStart) return false; // empty group (":::", ":1", "1:")

    if (pos < end && text.charCodeAt(pos) === 0x2e /* . */) {
      // The IPv4 tail, reread from the group's start as decimal.
      if ((ellipsis < 0 && count !== 6) || count > 6) return false;
      const v4 = parseIPv4(text, fieldStart, end);
      if (v4 < 0) return false;
      out[count++] = v4 >>> 16;
      out[count++] = v4 & 0xffff;
      pos = end;
      break;
    }

    out[count++] = acc;
    if (pos === end) break;
    if (text.charCodeAt(pos) !== 0x3a /* : */) return false;
    pos++;
    if (pos === end) return false; // trailing single ':'
    if (text.charCodeAt(pos) === 0x3a) {
      if (ellipsis >= 0) return false; // second "::"
      ellipsis = count;
      pos++;
      if (pos === end) break;
    }
    if (count === 8) return false; // more after eight groups
  }

  if (count < 8) {
    if (ellipsis < 0) return false; // too short
    // Move the groups after "::" to the end and zero the gap.
    const shift = 8 - count;
    for (let j = count - 1; j >= ellipsis; j--) out[j + shift] = out[j];
    for (let j = ellipsis; j < ellipsis + shift; j++) out[j] = 0;
  } else if (ellipsis >= 0) {
    return false; // "::" must stand for at least one group
  }
  return true;
}

/** Whether eight groups are an IPv4-mapped address (`::ffff:0:0/96`). */
function isMappedGroups(g: Uint16Array): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 &&
    g[5] === 0xffff;
}

/** A new 16-byte array of eight groups. */
function toBytes(g: Uint16Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = g[i] >> 8;
    out[2 * i + 1] = g[i] & 0xff;
  }
  return out;
}

/** A new 16-byte IPv4-mapped address for an unsigned 32-bit IPv4 value. */
function mappedBytes(v4: number): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out[12] = v4 >>> 24;
  out[13] = (v4 >>> 16) & 0xff;
  out[14] = (v4 >>> 8) & 0xff;
  out[15] = v4 & 0xff;
  return out;
}

// ── the formatter: 16 bytes → text ─────────────────────────────────────

/** `n.toString(16)` and its two-digit form for every byte value. */
const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, n) => n.toString(16),
);
const HEX2: readonly string[] = Array.from(
  { length: 256 },
  (_, n) => n.toString(16).padStart(2, "0"),
);

/** `group.toString(16)`, without `Number.prototype.toString`'s cost. */
function hex(group: number): string {
  return group < 0x100 ? HEX[group] : HEX[group >> 8] + HEX2[group & 0xff];
}

/** RFC 5952 §4 text of eight groups (never dotted). */
function formatIPv6(g: Uint16Array): string {
  // The longest run of two or more zero groups, the first on ties.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) {
    return hex(g[0]) + ":" + hex(g[1]) + ":" + hex(g[2]) + ":" + hex(g[3]) +
      ":" + hex(g[4]) + ":" + hex(g[5]) + ":" + hex(g[6]) + ":" + hex(g[7]);
  }
  let s = bestStart === 0 ? ":" : "";
  for (let i = 0; i < bestStart; i++) s += hex(g[i]) + ":";
  s += ":";
  const after = bestStart + bestLength;
  for (let i = after; i < 8; i++) {
    s += i === after ? hex(g[i]) : ":" + hex(g[i]);
  }
  return s;
}

/**
 * The dotted text of the four bytes of `bytes` from `at`.
 *
 * @param bytes The bytes.
 * @param at Where the IPv4 address starts (12 in an IPv4-mapped address).
 * @returns `a.b.c.d`.
 */
function v4Text(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/**
 * The canonical text of 16 bytes: dotted IPv4 for an IPv4-mapped address
 * (as `parseIP` reports it), RFC 5952 §4 for the rest (lower case, no
 * leading zeros, the longest run of two or more zero groups as `::`, the
 * first on ties, an embedded IPv4 tail in hex as Go prints it).
 *
 * @param bytes 16 bytes.
 * @returns The text; no zone.
 */
export function formatIP(bytes: Uint8Array): string {
  if (isMapped(bytes)) return v4Text(bytes, 12);
  const g = FORMAT_GROUPS;
  for (let i = 0; i < 8; i++) g[i] = (bytes[2 * i] << 8) | bytes[2 * i + 1];
  return formatIPv6(g);
}

/** Scratch for {@linkcode formatIP} (not `GROUPS`: a scan may be in use). */
const FORMAT_GROUPS = new Uint16Array(8);

/**
 * The key of an address in tables and its text with a zone: `address`, or
 * `address%zone` when a zone is given.
 *
 * @param ip The address, canonical text, and its zone.
 * @returns The key.
 */
export function addrKey(ip: { address: string; zone?: string }): string {
  return ip.zone === undefined ? ip.address : `${ip.address}%${ip.zone}`;
}

// ── parsing for callers ────────────────────────────────────────────────

/**
 * Parses an IP literal: dotted-quad IPv4, or IPv6 in any RFC 4291 text form
 * with an optional `%zone`. Returns `undefined` for anything else (host
 * names, brackets, whitespace, ports).
 *
 * - IPv4 needs exactly four decimal parts, each 0–255 without leading zeros
 *   (Go ≥ 1.17 rejects `010.0.0.1`); no hex, octal or short forms.
 * - IPv6 accepts `::`, upper case, and a dotted IPv4 tail in the last 32
 *   bits. `address` is the canonical RFC 5952 text: lower case, no leading
 *   zeros, the longest run of two or more zero groups compressed (the first
 *   on ties). An embedded IPv4 tail that is not IPv4-mapped is printed in
 *   hex, as Go prints it (`::1.2.3.4` → `::102:304`).
 * - An IPv4-mapped address (`::ffff:a.b.c.d`, in any spelling) is IPv4, as
 *   in Go: it yields `{ address: "a.b.c.d", family: 4 }`. With a zone it is
 *   rejected.
 * - A zone is allowed on IPv6 only and must be non-empty printable ASCII
 *   without `%`, `[` or `]` (Go accepts any bytes; these would make the
 *   address unusable in `[host%zone]:port`).
 *
 * @param text The text to parse.
 * @returns The address, or `undefined` when `text` is not an IP literal.
 *
 * @example Telling IP literals from host names
 * ```ts
 * import { parseIP } from "@nettrace/nettrace";
 *
 * parseIP("127.0.0.1"); // { address: "127.0.0.1", family: 4 }
 * parseIP("2001:DB8:0:0:0:0:0:1"); // { address: "2001:db8::1", family: 6 }
 * parseIP("fe80::1%eth0"); // { address: "fe80::1", family: 6, zone: "eth0" }
 * parseIP("::ffff:10.0.0.1"); // { address: "10.0.0.1", family: 4 }
 * parseIP("localhost"); // undefined
 * ```
 */
export function parseIP(text: string): IPAddr | undefined {
  // familyOf, inlined by hand: this runs on every dial.
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e /* . */) {
      return parseIPv4(text, 0, length) < 0
        ? undefined
        : { address: text, family: 4 };
    }
    if (c === 0x3a /* : */) return parseIPv6Text(text);
    if (!isHexDigit(c)) return undefined;
  }
  return undefined;
}

/**
 * `parseIP` of IPv6 text, with an optional `%zone`: reads it into `GROUPS`
 * (and leaves it there, for `toBytes`), then formats it.
 */
function parseIPv6Text(text: string): IPAddr | undefined {
  let end = text.indexOf("%");
  let zone: string | undefined;
  if (end < 0) {
    end = text.length;
  } else {
    if (!isValidZone(text, end + 1)) return undefined;
    zone = text.slice(end + 1);
  }
  if (!parseIPv6(text, end, GROUPS)) return undefined;
  const g = GROUPS;
  if (isMappedGroups(g)) {
    if (zone !== undefined) return undefined;
    return {
      address: `${g[6] >> 8}.${g[6] & 0xff}.${g[7] >> 8}.${g[7] & 0xff}`,
      family: 4,
    };
  }
  const address = formatIPv6(g);
  return zone === undefined
    ? { address, family: 6 }
    : { address, family: 6, zone };
}

/**
 * An IPv6 address with a zone added, exactly what
 * `parseIP(`${ip.address}%${zone}`)` gives, without reading the address
 * again: for a resolver answer that gives the zone apart (`{ address, zone }`).
 *
 * @param ip A parsed address without a zone.
 * @param zone The zone.
 * @returns The address with its zone, or undefined when `ip` is IPv4 or
 * the zone is not valid (empty, or not printable ASCII without `%[]`).
 */
export function withZone(ip: IPAddr, zone: string): IPAddr | undefined {
  if (ip.family !== 6 || ip.zone !== undefined || !isValidZone(zone, 0)) {
    return undefined;
  }
  return { address: ip.address, family: 6, zone };
}

/** Addresses `ipBytes` has seen, by text: the bytes, shared. */
const BYTES = new Map<string, Uint8Array>();
/** When `BYTES` holds this many, it starts over. */
const MAX_BYTES = 4096;

function keep(text: string, bytes: Uint8Array): void {
  if (BYTES.size >= MAX_BYTES) BYTES.clear();
  BYTES.set(text, bytes);
}

/**
 * The 16 bytes of an IP address, IPv4 as IPv4-mapped (`::ffff:a.b.c.d`, as
 * RFC 6724 §6 looks it up); a zone is ignored. Each text is parsed once:
 * the bytes are kept (up to a few thousand texts) and the same array is
 * returned next time — never write to it (copy it first).
 *
 * @param text Any text `parseIP` accepts.
 * @returns The bytes (shared, read-only), or undefined when `text` is no IP
 * address.
 */
export function ipBytes(text: string): Uint8Array | undefined {
  let bytes = BYTES.get(text);
  if (bytes !== undefined) return bytes;
  const family = familyOf(text);
  if (family === 4) {
    const v4 = parseIPv4(text, 0, text.length);
    if (v4 < 0) return undefined;
    bytes = mappedBytes(v4);
  } else {
    // Formats the text too, unused: only once per text, and one IPv6 reader.
    if (family === 0 || parseIPv6Text(text) === undefined) return undefined;
    bytes = toBytes(GROUPS);
  }
  keep(text, bytes);
  return bytes;
}

/**
 * `parseIP`, keeping the bytes for `ipBytes(ip.address)`: what a dial
 * calls on each address it receives (the literal dialled, each answer), so
 * that the later look-ups of the same endpoint (NAT64, RFC 6724 ordering,
 * the address policy) find it parsed.
 *
 * @param text The text to parse.
 * @returns The address, or `undefined` when `text` is not an IP literal.
 */
export function parseIPAndKeep(text: string): IPAddr | undefined {
  const family = familyOf(text);
  if (family === 0) return undefined;
  if (family === 4) {
    const v4 = parseIPv4(text, 0, text.length);
    if (v4 < 0) return undefined;
    if (!BYTES.has(text)) keep(text, mappedBytes(v4));
    return { address: text, family: 4 };
  }
  const ip = parseIPv6Text(text); // leaves the groups in GROUPS
  if (ip !== undefined && !BYTES.has(ip.address)) {
    keep(ip.address, toBytes(GROUPS));
  }
  return ip;
}

// ── bytes ──────────────────────────────────────────────────────────────

/**
 * Whether 16 bytes are an IPv4-mapped address (`::ffff:0:0/96`).
 *
 * @param bytes 16 bytes.
 * @returns True for IPv4.
 */
export function isMapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * How many leading bits two addresses share.
 *
 * @param a 16 bytes.
 * @param b 16 bytes.
 * @param limit The most bits to count.
 * @returns The bits, at most `limit`.
 */
export function commonPrefixBits(
  a: Uint8Array,
  b: Uint8Array,
  limit = 128,
): number {
  let bits = 0;
  for (let i = 0; i < 16 && bits < limit; i++) {
    const x = a[i] ^ b[i];
    if (x === 0) {
      bits += 8;
      continue;
    }
    bits += Math.clz32(x) - 24;
    break;
  }
  return Math.min(bits, limit);
}

/**
 * Whether the first `bits` bits of an address and a prefix agree.
 *
 * @param a 16 bytes.
 * @param prefix 16 bytes.
 * @param bits The prefix length.
 * @returns True when `a` is under `prefix/bits`.
 */
export function hasPrefix(
  a: Uint8Array,
  prefix: Uint8Array,
  bits: number,
): boolean {
  return commonPrefixBits(a, prefix, bits) >= bits;
}
