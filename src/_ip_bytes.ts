// IP addresses as 16 bytes, for prefix matching (RFC 6724 policy table,
// RFC 6052 NAT64 prefixes). Internal: not re-exported by mod.ts.

import { parseIP } from "./address.ts";

/** Scratch space for the groups of one IPv6 address. */
const GROUPS = new Array<number>(8).fill(0);

/**
 * The 16 bytes of an IP address; an IPv4 address as IPv4-mapped
 * (`::ffff:a.b.c.d`), as RFC 6724 §6 looks it up. A zone is ignored.
 *
 * @param text Any text `parseIP` accepts.
 * @returns The bytes, or undefined when `text` is no IP address.
 */
export function ipBytes(text: string): Uint8Array | undefined {
  const ip = parseIP(text);
  if (ip === undefined) return undefined;
  const out = new Uint8Array(16);
  if (ip.family === 4) {
    out[10] = 0xff;
    out[11] = 0xff;
    const parts = ip.address.split(".");
    for (let i = 0; i < 4; i++) out[12 + i] = Number(parts[i]);
    return out;
  }
  // Canonical RFC 5952 text: hex groups, at most one "::", no dotted tail.
  const canon = ip.address;
  const groups = GROUPS;
  let count = 0;
  let gap = -1;
  let acc = 0;
  let digits = 0;
  for (let i = 0; i < canon.length; i++) {
    const c = canon.charCodeAt(i);
    if (c === 0x3a /* : */) {
      if (digits > 0) groups[count++] = acc;
      acc = 0;
      digits = 0;
      if (i + 1 < canon.length && canon.charCodeAt(i + 1) === 0x3a) {
        gap = count;
        i++;
      }
      continue;
    }
    acc = acc * 16 + (c <= 0x39 ? c - 0x30 : c - 0x57);
    digits++;
  }
  if (digits > 0) groups[count++] = acc;
  const shift = gap < 0 ? 0 : 8 - count;
  for (let g = 0; g < count; g++) {
    const at = gap >= 0 && g >= gap ? g + shift : g;
    out[2 * at] = groups[g]! >> 8;
    out[2 * at + 1] = groups[g]! & 0xff;
  }
  return out;
}

/** Whether `bytes` is an IPv4-mapped address (`::ffff:0:0/96`). */
export function isMapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** The canonical text of 16 bytes (IPv4-mapped ones as IPv4). */
export function bytesToText(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (i > 0) s += ":";
    s += ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16);
  }
  return parseIP(s)!.address;
}

/** The dotted text of four bytes of `bytes` from `at`. */
export function v4Text(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/** How many leading bits `a` and `b` share, at most `limit`. */
export function commonPrefixBits(
  a: Uint8Array,
  b: Uint8Array,
  limit = 128,
): number {
  let bits = 0;
  for (let i = 0; i < 16 && bits < limit; i++) {
    const x = a[i]! ^ b[i]!;
    if (x === 0) {
      bits += 8;
      continue;
    }
    bits += Math.clz32(x) - 24;
    break;
  }
  return Math.min(bits, limit);
}

/** Whether the first `bits` bits of `a` and `prefix` agree. */
export function hasPrefix(
  a: Uint8Array,
  prefix: Uint8Array,
  bits: number,
): boolean {
  return commonPrefixBits(a, prefix, bits) >= bits;
}
