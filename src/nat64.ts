/**
 * NAT64 (RFC 8305 §7): IPv4-embedded IPv6 addresses (RFC 6052), the
 * discovery of the NAT64 prefix from `ipv4only.arpa` (RFC 7050), and the
 * recognition of DNS64-synthesised answers. Pure functions: the lookup of
 * `ipv4only.arpa` is the caller's (`dial()` does it through its resolver
 * when `nat64: true`).
 *
 * @module
 */

import { AddrError } from "./errors.ts";
import { formatIP, hasPrefix, ipBytes, isMapped } from "./_ip.ts";
import { classifyBytes } from "./policy.ts";
import type { IPAddr } from "./types.ts";

/**
 * The prefix lengths RFC 6052 §2.2 defines.
 *
 * @example The length of a parsed prefix
 * ```ts
 * import { type Nat64PrefixLength, parseNat64Prefix } from "@nettrace/nettrace";
 *
 * const length: Nat64PrefixLength = parseNat64Prefix("2001:db8:100::/40").length;
 * console.log(length); // 40
 * ```
 */
export type Nat64PrefixLength = 32 | 40 | 48 | 56 | 64 | 96;

/**
 * A NAT64 prefix (Pref64::/n).
 *
 * @example Synthesising under a network-specific prefix
 * ```ts
 * import {
 *   type Nat64Prefix,
 *   parseNat64Prefix,
 *   synthesizeNat64,
 * } from "@nettrace/nettrace";
 *
 * const prefix: Nat64Prefix = parseNat64Prefix("2001:db8:64::/96");
 * console.log(synthesizeNat64("198.51.100.10", prefix)?.address);
 * // "2001:db8:64::c633:640a"
 * ```
 */
export interface Nat64Prefix {
  /** The prefix's address, canonical text, bits past `length` zero. */
  readonly address: string;
  /** Its length: 32, 40, 48, 56, 64 or 96. */
  readonly length: Nat64PrefixLength;
}

/**
 * The Well-Known Prefix of RFC 6052 §2.1.
 *
 * @example Reading the IPv4 address out of a 64:ff9b:: address
 * ```ts
 * import { extractNat64, NAT64_WELL_KNOWN_PREFIX } from "@nettrace/nettrace";
 *
 * console.log(extractNat64("64:ff9b::c000:221", NAT64_WELL_KNOWN_PREFIX));
 * // "192.0.2.33"
 * ```
 */
export const NAT64_WELL_KNOWN_PREFIX: Nat64Prefix = Object.freeze({
  address: "64:ff9b::",
  length: 96,
});

/**
 * The name whose AAAA answers reveal the NAT64 prefix (RFC 7050 §2).
 *
 * @example Discovering the prefix through a resolver
 * ```ts
 * import {
 *   discoverNat64Prefixes,
 *   IPV4ONLY_ARPA,
 *   type Resolver,
 * } from "@nettrace/nettrace";
 *
 * // A DNS64 resolver answers ipv4only.arpa with 192.0.0.170 under its prefix.
 * const resolver: Resolver = {
 *   lookup: () => Promise.resolve([{ address: "64:ff9b::c000:aa", family: 6 }]),
 * };
 * const answers = await resolver.lookup(IPV4ONLY_ARPA, 6, {
 *   signal: new AbortController().signal,
 * });
 * console.log(discoverNat64Prefixes(answers)); // [{ address: "64:ff9b::", length: 96 }]
 * ```
 */
export const IPV4ONLY_ARPA = "ipv4only.arpa";

const LENGTHS: readonly Nat64PrefixLength[] = [96, 64, 56, 48, 40, 32];

/** The well-known IPv4 addresses of `ipv4only.arpa` (RFC 7050 §2.2). */
const WKA = ["192.0.0.170", "192.0.0.171"];

/**
 * Where RFC 6052 §2.2 puts the four IPv4 bytes for each prefix length
 * (byte 8, the "u" octet, is always skipped and zero).
 */
const POSITIONS: Record<Nat64PrefixLength, readonly number[]> = {
  32: [4, 5, 6, 7],
  40: [5, 6, 7, 9],
  48: [6, 7, 9, 10],
  56: [7, 9, 10, 11],
  64: [9, 10, 11, 12],
  96: [12, 13, 14, 15],
};

function prefixText(prefix: Nat64Prefix): string {
  return `${prefix.address}/${prefix.length}`;
}

/**
 * Parses a NAT64 prefix, `address/length` (`"64:ff9b::/96"`,
 * `"2001:db8:64::/48"`). Bits past the length are cleared.
 *
 * @param text The prefix.
 * @returns The prefix.
 * @throws {AddrError} If the address is not an IPv6 address.
 * @throws {RangeError} If the length is not one RFC 6052 defines, or bits
 * 64–71 (the "u" octet, RFC 6052 §2.2) are set in a /96 prefix.
 *
 * @example Parsing prefixes
 * ```ts
 * import { parseNat64Prefix } from "@nettrace/nettrace";
 *
 * parseNat64Prefix("64:ff9b::/96"); // { address: "64:ff9b::", length: 96 }
 * parseNat64Prefix("2001:db8:122:344::1/56"); // { address: "2001:db8:122:300::", length: 56 }
 * ```
 */
export function parseNat64Prefix(text: string): Nat64Prefix {
  if (typeof text !== "string") {
    throw new TypeError(
      `Cannot use NAT64 prefix ${String(text)}: not a string`,
    );
  }
  let prefix = PREFIXES.get(text);
  if (prefix === undefined) {
    prefix = readPrefix(text);
    if (PREFIXES.size >= MAX_PREFIXES) PREFIXES.clear();
    PREFIXES.set(text, prefix);
  }
  return prefix;
}

/**
 * The prefixes {@linkcode parseNat64Prefix} read, by text: a dial with
 * `nat64: { prefix }` asks for the same few again and again. Only valid
 * ones are kept; at most {@linkcode MAX_PREFIXES}, then the table starts
 * over.
 */
const PREFIXES = new Map<string, Nat64Prefix>();
const MAX_PREFIXES = 64;

function readPrefix(text: string): Nat64Prefix {
  const slash = text.lastIndexOf("/");
  const address = slash < 0 ? "" : text.slice(0, slash);
  const shared = slash < 0 || address.includes("%")
    ? undefined
    : ipBytes(address);
  if (shared === undefined || isMapped(shared)) {
    throw new AddrError(
      "invalid NAT64 prefix (want an IPv6 prefix such as 64:ff9b::/96)",
      text,
    );
  }
  const length = Number(text.slice(slash + 1)) as Nat64PrefixLength;
  if (!LENGTHS.includes(length) || text.slice(slash + 1) !== String(length)) {
    throw new RangeError(
      `Cannot use NAT64 prefix ${
        JSON.stringify(text)
      }: its length must be 32, 40, 48, 56, 64 or 96 (RFC 6052)`,
    );
  }
  const bytes = new Uint8Array(shared);
  if (length === 96 && bytes[8] !== 0) {
    throw new RangeError(
      `Cannot use NAT64 prefix ${
        JSON.stringify(text)
      }: bits 64–71 must be zero (RFC 6052 §2.2)`,
    );
  }
  for (let bit = length; bit < 128; bit++) {
    bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  }
  return makePrefix(bytes, length);
}

/** A frozen prefix of its bytes (bits past `length` zero), bytes kept. */
function makePrefix(bytes: Uint8Array, length: Nat64PrefixLength): Nat64Prefix {
  const prefix: Nat64Prefix = Object.freeze({
    address: formatIP(bytes),
    length,
  });
  PREFIX_BYTES.set(prefix, bytes);
  return prefix;
}

/** The dotted IPv4 address RFC 6052 §2.2 puts in `bytes` under `length`. */
function embedded(bytes: Uint8Array, length: Nat64PrefixLength): string {
  const at = POSITIONS[length];
  return `${bytes[at[0]]}.${bytes[at[1]]}.${bytes[at[2]]}.${bytes[at[3]]}`;
}

function toPrefix(prefix: Nat64Prefix | string): Nat64Prefix {
  return typeof prefix === "string" ? parseNat64Prefix(prefix) : prefix;
}

/**
 * The bytes of each frozen prefix object seen, set when
 * {@linkcode parseNat64Prefix} makes one: a prefix is read once, not on
 * every dial.
 */
const PREFIX_BYTES = new WeakMap<Nat64Prefix, Uint8Array>();

/** The bytes of a prefix (shared: copy them before writing). */
function prefixBytes(prefix: Nat64Prefix): Uint8Array {
  let bytes = PREFIX_BYTES.get(prefix);
  if (bytes === undefined || bytes.length !== 16) {
    const parsed = typeof prefix?.address === "string"
      ? ipBytes(prefix.address)
      : undefined;
    if (parsed === undefined || !LENGTHS.includes(prefix.length)) {
      throw new TypeError(
        `Cannot use NAT64 prefix ${prefixText(prefix)}: not a NAT64 prefix`,
      );
    }
    bytes = parsed;
    if (Object.isFrozen(prefix)) PREFIX_BYTES.set(prefix, bytes);
  }
  return bytes;
}

function isWellKnown(prefix: Nat64Prefix): boolean {
  return prefix.length === 96 && prefix.address === "64:ff9b::";
}

/**
 * Whether an IPv4 address may be synthesised into an IPv6 one: never
 * 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16 or 255.255.255.255; with the
 * Well-Known Prefix, only global (public) addresses (RFC 6052 §3.1).
 *
 * @param ipv4 The IPv4 address.
 * @param prefix The prefix it would go under.
 * @returns True when it may be synthesised.
 *
 * @example Addresses never synthesised
 * ```ts
 * import { canSynthesizeNat64 } from "@nettrace/nettrace";
 *
 * canSynthesizeNat64("127.0.0.1", "2001:db8:64::/96"); // false
 * canSynthesizeNat64("10.0.0.1", "2001:db8:64::/96"); // true
 * canSynthesizeNat64("10.0.0.1", "64:ff9b::/96"); // false: not global
 * ```
 */
export function canSynthesizeNat64(
  ipv4: string,
  prefix: Nat64Prefix | string = NAT64_WELL_KNOWN_PREFIX,
): boolean {
  const v4 = typeof ipv4 === "string" ? ipBytes(ipv4) : undefined;
  if (v4 === undefined || !isMapped(v4)) return false;
  return canSynthesize(v4, prefix);
}

/** {@linkcode canSynthesizeNat64} on the bytes of an IPv4 address. */
function canSynthesize(
  v4: Uint8Array,
  prefix: Nat64Prefix | string,
): boolean {
  const a = v4[12];
  const b = v4[13];
  if (a === 0 || a === 127 || (a === 169 && b === 254)) return false;
  if (a === 255 && b === 255 && v4[14] === 255 && v4[15] === 255) {
    return false;
  }
  if (isWellKnown(toPrefix(prefix)) && classifyBytes(v4) !== "public") {
    return false;
  }
  return true;
}

/**
 * Synthesises the IPv6 address for an IPv4 one under a NAT64 prefix (RFC
 * 6052 §2.2), for dialling an IPv4 literal or an A-only name on an
 * IPv6-only network (RFC 8305 §7.1).
 *
 * @param ipv4 The IPv4 address.
 * @param prefix The NAT64 prefix.
 * @returns The IPv6 address, or undefined when `ipv4` must not be
 * synthesised (see {@linkcode canSynthesizeNat64}) or is not IPv4.
 * @throws {AddrError} If `prefix` is a string that is not a NAT64 prefix.
 * @throws {RangeError} If its length is not one RFC 6052 defines.
 *
 * @example The RFC 6052 §2.4 examples
 * ```ts
 * import { synthesizeNat64 } from "@nettrace/nettrace";
 *
 * synthesizeNat64("192.0.2.33", "64:ff9b::/96"); // undefined: not global
 * synthesizeNat64("192.0.2.33", "2001:db8:100::/40")?.address; // "2001:db8:1c0:2:21::"
 * synthesizeNat64("198.51.100.10", "2001:db8:64::/96")?.address; // "2001:db8:64::c633:640a"
 * ```
 */
export function synthesizeNat64(
  ipv4: string,
  prefix: Nat64Prefix | string,
): IPAddr | undefined {
  const p = toPrefix(prefix);
  const pb = prefixBytes(p);
  const v4 = typeof ipv4 === "string" ? ipBytes(ipv4) : undefined;
  if (v4 === undefined || !isMapped(v4) || !canSynthesize(v4, p)) {
    return undefined;
  }
  const bytes = new Uint8Array(pb);
  const positions = POSITIONS[p.length];
  for (let i = p.length >> 3; i < 16; i++) bytes[i] = 0;
  for (let i = 0; i < 4; i++) bytes[positions[i]!] = v4[12 + i]!;
  return { address: formatIP(bytes), family: 6 };
}

/**
 * The IPv4 address embedded in an IPv6 address under a NAT64 prefix (RFC
 * 6052 §2.2), or undefined when the address is not under that prefix.
 *
 * @param ipv6 The IPv6 address.
 * @param prefix The NAT64 prefix.
 * @returns The IPv4 address, dotted, or undefined.
 * @throws {AddrError} If `prefix` is a string that is not a NAT64 prefix.
 *
 * @example Extracting
 * ```ts
 * import { extractNat64 } from "@nettrace/nettrace";
 *
 * extractNat64("64:ff9b::c000:221", "64:ff9b::/96"); // "192.0.2.33"
 * extractNat64("2001:db8::1", "64:ff9b::/96"); // undefined
 * ```
 */
export function extractNat64(
  ipv6: string,
  prefix: Nat64Prefix | string,
): string | undefined {
  const bytes = ipBytes(ipv6);
  if (bytes === undefined) return undefined;
  return extractFrom(bytes, toPrefix(prefix));
}

function extractFrom(bytes: Uint8Array, p: Nat64Prefix): string | undefined {
  const pb = prefixBytes(p);
  if (isMapped(bytes)) return undefined;
  if (!hasPrefix(bytes, pb, p.length)) return undefined;
  // The "u" octet is zero in every RFC 6052 address.
  if (bytes[8] !== 0) return undefined;
  return embedded(bytes, p.length);
}

/**
 * Finds the NAT64 prefixes in the AAAA answers for `ipv4only.arpa` (RFC
 * 7050 §3): each answer is searched for the well-known IPv4 addresses
 * 192.0.0.170 and 192.0.0.171 at every RFC 6052 position. When some
 * prefix holds both (in different answers), only such prefixes count: RFC
 * 7050 has the second address so that a prefix whose own bits happen to
 * look like the first cannot mislead. Otherwise each answer gives its
 * longest candidate. Answers without them are ignored.
 *
 * @param answers The AAAA answers (anything not IPv6 is ignored).
 * @returns The prefixes, each once, in answer order; empty when there is no
 * NAT64 (a plain resolver has no AAAA for `ipv4only.arpa`).
 *
 * @example Discovery from a DNS64 answer
 * ```ts
 * import { discoverNat64Prefixes } from "@nettrace/nettrace";
 *
 * discoverNat64Prefixes([
 *   { address: "64:ff9b::c000:aa", family: 6 },
 *   { address: "64:ff9b::c000:ab", family: 6 },
 * ]); // [{ address: "64:ff9b::", length: 96 }]
 * ```
 */
export function discoverNat64Prefixes(
  answers: readonly IPAddr[],
): Nat64Prefix[] {
  const found: { candidates: Nat64Prefix[]; wka: string }[] = [];
  for (const answer of answers) {
    if (answer?.family !== 6 || typeof answer.address !== "string") continue;
    const bytes = ipBytes(answer.address);
    if (bytes === undefined || isMapped(bytes) || bytes[8] !== 0) continue;
    for (const wka of WKA) {
      const candidates: Nat64Prefix[] = [];
      for (const length of LENGTHS) {
        if (embedded(bytes, length) !== wka) continue;
        const p = new Uint8Array(bytes);
        for (let i = length >> 3; i < 16; i++) p[i] = 0;
        candidates.push(makePrefix(p, length));
      }
      if (candidates.length > 0) found.push({ candidates, wka });
    }
  }
  // A prefix at which both well-known addresses were found is the one: RFC
  // 7050 has two so that a prefix whose own bits happen to hold one of them
  // cannot mislead. Failing that, each answer's longest candidate.
  const both = new Set<string>();
  for (const a of found) {
    for (const c of a.candidates) {
      const key = prefixText(c);
      if (
        found.some((o) =>
          o.wka !== a.wka && o.candidates.some((x) => prefixText(x) === key)
        )
      ) both.add(key);
    }
  }
  const out: Nat64Prefix[] = [];
  const seen = new Set<string>();
  for (const { candidates } of found) {
    const pick = both.size > 0
      ? candidates.find((c) => both.has(prefixText(c)))
      : candidates[0]; // the longest: LENGTHS runs from 96 down
    if (pick === undefined) continue;
    const key = prefixText(pick);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(pick);
  }
  return out;
}

/**
 * Recognises a DNS64-synthesised (or locally synthesised) IPv6 address:
 * the IPv4 address it embeds under the first of `prefixes` that holds it.
 * The Well-Known Prefix is always recognised.
 *
 * @param address The IPv6 address.
 * @param prefixes The known NAT64 prefixes.
 * @returns The embedded IPv4 address, or undefined.
 *
 * @example Recognising synthesised answers
 * ```ts
 * import { nat64Embedded } from "@nettrace/nettrace";
 *
 * nat64Embedded("64:ff9b::808:808"); // "8.8.8.8"
 * nat64Embedded("2001:db8:64::c633:640a", [{ address: "2001:db8:64::", length: 96 }]); // "198.51.100.10"
 * nat64Embedded("2001:db8::1"); // undefined
 * ```
 */
export function nat64Embedded(
  address: string,
  prefixes: readonly Nat64Prefix[] = [],
): string | undefined {
  const bytes = ipBytes(address);
  if (bytes === undefined) return undefined;
  for (const p of prefixes) {
    const v4 = extractFrom(bytes, p);
    if (v4 !== undefined) return v4;
  }
  return extractFrom(bytes, NAT64_WELL_KNOWN_PREFIX);
}
