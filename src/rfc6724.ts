/**
 * RFC 6724 §6 destination address selection, with the history rules RFC
 * 8305 §4 adds: pure functions that order a host's addresses the way the
 * RFCs say a client should try them. {@linkcode dial} sorts every answer
 * with them; they are exported for anyone who wants the order without the
 * dial.
 *
 * The rules, in order (the first that tells two addresses apart decides):
 *
 * | rule | id                 | prefers                                                              | needs the source |
 * | ---- | ------------------ | -------------------------------------------------------------------- | ---------------- |
 * | 1    | `avoid-unusable`   | a destination with a source address (`source: null` is unusable)    | one side         |
 * | 1    | `avoid-failed`     | one not known to be unreachable (`failed`: failed recently, §4)      | no               |
 * | 2    | `matching-scope`   | Scope(D) = Scope(Source(D))                                          | yes              |
 * | 3    | `avoid-deprecated` | a non-deprecated source                                              | yes              |
 * | 4    | `home-address`     | a home (and care-of) source over a care-of one                       | yes              |
 * | 5    | `matching-label`   | Label(D) = Label(Source(D))                                          | yes              |
 * | 6    | `precedence`       | higher precedence in the policy table                                | no               |
 * | 7    | `native-transport` | a destination not reached through 6to4/Teredo encapsulation          | yes              |
 * | 8    | `smaller-scope`    | smaller scope                                                        | no               |
 * | §4   | `lower-rtt`        | the lower measured connect time, when both have one                  | no               |
 * | §4   | `used-before`      | an address that connected before                                     | no               |
 * | 9    | `longest-prefix`   | the longer prefix shared with its source (IPv6 only, ≤ 64 bits)      | yes              |
 * | 10   | `order`            | the order given                                                      | no               |
 *
 * Rules 2–5, 7 and 9 apply only when both sources are known. As in Go
 * (`net/addrselect.go`), rule 9 is applied to IPv6 only and compares at most
 * the 64 bits of the source's prefix (a 10/8 source must not favour 10/8
 * destinations over others). An IPv4 address is looked up in the policy
 * table as IPv4-mapped (`::ffff:a.b.c.d`), and so is a NAT64-synthesised
 * IPv6 address given with the `ipv4` it stands for.
 *
 * @module
 */

import { commonPrefixBits, hasPrefix, ipBytes, isMapped } from "./_ip.ts";
import type { IPAddr } from "./types.ts";

/**
 * One row of an RFC 6724 policy table.
 *
 * @example Adding a row to the policy table
 * ```ts
 * import {
 *   DEFAULT_POLICY_TABLE,
 *   type PolicyEntry,
 *   policyOf,
 * } from "@nettrace/nettrace";
 *
 * const table: PolicyEntry[] = [
 *   ...DEFAULT_POLICY_TABLE,
 *   { prefix: "2001:db8::/32", precedence: 60, label: 14 },
 * ];
 * console.log(policyOf("2001:db8::1", { policyTable: table }).precedence); // 60
 * ```
 */
export interface PolicyEntry {
  /** The prefix, `address/bits` (`"::ffff:0:0/96"`). */
  readonly prefix: string;
  /** Higher sorts first (rule 6). */
  readonly precedence: number;
  /** Source and destination with the same label go together (rule 5). */
  readonly label: number;
}

/**
 * The default policy table of RFC 6724 §2.1: IPv6 before IPv4, IPv4 before
 * 6to4, Teredo, unique-local and the deprecated prefixes (IPv4-compatible,
 * site-local, 6bone).
 *
 * @example Reading the table
 * ```ts
 * import { DEFAULT_POLICY_TABLE } from "@nettrace/nettrace";
 *
 * console.log(DEFAULT_POLICY_TABLE[0]); // { prefix: "::1/128", precedence: 50, label: 0 }
 * ```
 */
export const DEFAULT_POLICY_TABLE: readonly PolicyEntry[] = Object.freeze([
  { prefix: "::1/128", precedence: 50, label: 0 },
  { prefix: "::/0", precedence: 40, label: 1 },
  { prefix: "::ffff:0:0/96", precedence: 35, label: 4 },
  { prefix: "2002::/16", precedence: 30, label: 2 },
  { prefix: "2001::/32", precedence: 5, label: 5 },
  { prefix: "fc00::/7", precedence: 3, label: 13 },
  { prefix: "::/96", precedence: 1, label: 3 },
  { prefix: "fec0::/10", precedence: 1, label: 11 },
  { prefix: "3ffe::/16", precedence: 1, label: 12 },
].map((e) => Object.freeze(e)));

/**
 * The policy table of RFC 6724 §10.3 that prefers IPv4: the default one
 * with `::ffff:0:0/96` at precedence 100. `dial()` uses it when
 * `preferredFamily` is 4.
 *
 * @example Sorting with IPv4 first
 * ```ts
 * import { PREFER_IPV4_POLICY_TABLE, sortDestinations } from "@nettrace/nettrace";
 *
 * const sorted = sortDestinations([
 *   { address: "2001:db8::1", family: 6 },
 *   { address: "192.0.2.1", family: 4 },
 * ], { policyTable: PREFER_IPV4_POLICY_TABLE });
 * console.log(sorted[0].address); // "192.0.2.1"
 * ```
 */
export const PREFER_IPV4_POLICY_TABLE: readonly PolicyEntry[] = Object.freeze(
  DEFAULT_POLICY_TABLE.map((e) =>
    e.prefix === "::ffff:0:0/96" ? Object.freeze({ ...e, precedence: 100 }) : e
  ),
);

// RFC 4007 / RFC 6724 §3.1 scope values.
const SCOPE_LINK_LOCAL = 0x2;
const SCOPE_SITE_LOCAL = 0x5;
const SCOPE_GLOBAL = 0xe;

/**
 * Source(D): the address the system would send from to a destination, with
 * what RFC 6724 knows of it. Only `address` and `family` are needed; the
 * flags feed rules 3, 4, 7 and 9 when the caller knows them.
 *
 * @example Telling the sort which source would be used
 * ```ts
 * import {
 *   type Destination,
 *   sortDestinations,
 *   type SourceAddress,
 * } from "@nettrace/nettrace";
 *
 * const source: SourceAddress = {
 *   address: "2001:db8::100",
 *   family: 6,
 *   prefixLength: 64,
 * };
 * const destinations: Destination[] = [
 *   { address: "192.0.2.1", family: 4, source: null },
 *   { address: "2001:db8::1", family: 6, source },
 * ];
 * console.log(sortDestinations(destinations)[0]?.address); // "2001:db8::1"
 * ```
 */
export interface SourceAddress extends IPAddr {
  /**
   * A deprecated address (RFC 4862): rule 3 avoids it.
   * @default {false}
   */
  deprecated?: boolean;
  /**
   * A Mobile IPv6 home address: rule 4 prefers it.
   * @default {false}
   */
  home?: boolean;
  /**
   * A Mobile IPv6 care-of address.
   * @default {false}
   */
  careOf?: boolean;
  /**
   * The destination is reached through an encapsulating transition
   * mechanism (a tunnel): rule 7 avoids it.
   * @default {true for a 6to4 (`2002::/16`) or Teredo (`2001::/32`) source}
   */
  encapsulated?: boolean;
  /**
   * The length of the source's prefix: rule 9 compares at most this many
   * bits (and never more than 64).
   * @default {64}
   */
  prefixLength?: number;
}

/**
 * A destination to sort, with what is known about it.
 *
 * @example Sorting an address that failed last
 * ```ts
 * import { type Destination, sortDestinations } from "@nettrace/nettrace";
 *
 * const answers: Destination[] = [
 *   { address: "2001:db8::1", family: 6, failed: true },
 *   { address: "192.0.2.1", family: 4 },
 * ];
 * console.log(sortDestinations(answers).map((d) => d.address));
 * // ["192.0.2.1", "2001:db8::1"]
 * ```
 */
export interface Destination extends IPAddr {
  /**
   * Source(D): `null` when the system has no source address for it (no
   * route: rule 1 makes it unusable), undefined when not known (rules 2–5,
   * 7 and 9 are skipped).
   * @default {undefined}
   */
  source?: SourceAddress | null;
  /**
   * Known to be unreachable: a connect to it failed recently (RFC 8305 §4);
   * rule 1 sorts it after every address not known to fail.
   * @default {false}
   */
  failed?: boolean;
  /**
   * The measured connect time in ms (RFC 8305 §4's "lower RTT" rule,
   * between rules 8 and 9).
   * @default {undefined}
   */
  rtt?: number;
  /**
   * It connected before (RFC 8305 §4's "used" rule, after the RTT rule).
   * @default {false}
   */
  used?: boolean;
  /**
   * For a NAT64/DNS64-synthesised IPv6 address: the IPv4 address it stands
   * for. The address is then sorted as that IPv4 address (RFC 8305 §7).
   * @default {undefined}
   */
  ipv4?: string;
}

/**
 * Which rule put one destination before another; see the module doc.
 *
 * @example Which rule ordered two addresses
 * ```ts
 * import { type OrderRule, orderRule } from "@nettrace/nettrace";
 *
 * const rule: OrderRule = orderRule(
 *   { address: "::1", family: 6 },
 *   { address: "2001:db8::1", family: 6 },
 * );
 * console.log(rule); // "precedence"
 * ```
 */
export type OrderRule =
  | "avoid-unusable"
  | "avoid-failed"
  | "matching-scope"
  | "avoid-deprecated"
  | "home-address"
  | "matching-label"
  | "precedence"
  | "native-transport"
  | "smaller-scope"
  | "lower-rtt"
  | "used-before"
  | "longest-prefix"
  | "order";

/**
 * Options for {@linkcode sortDestinations} and {@linkcode compareDestinations}.
 *
 * @example Preferring IPv4
 * ```ts
 * import {
 *   PREFER_IPV4_POLICY_TABLE,
 *   sortDestinations,
 *   type SortOptions,
 * } from "@nettrace/nettrace";
 *
 * const options: SortOptions = { policyTable: PREFER_IPV4_POLICY_TABLE };
 * const sorted = sortDestinations([
 *   { address: "2001:db8::1", family: 6 },
 *   { address: "192.0.2.1", family: 4 },
 * ], options);
 * console.log(sorted.map((d) => d.address)); // ["192.0.2.1", "2001:db8::1"]
 * ```
 */
export interface SortOptions {
  /**
   * The policy table (RFC 6724 §2.1).
   * @default {DEFAULT_POLICY_TABLE}
   */
  policyTable?: readonly PolicyEntry[];
}

const RULES: readonly OrderRule[] = [
  "order",
  "avoid-unusable",
  "avoid-failed",
  "matching-scope",
  "avoid-deprecated",
  "home-address",
  "matching-label",
  "precedence",
  "native-transport",
  "smaller-scope",
  "lower-rtt",
  "used-before",
  "longest-prefix",
];

interface CompiledEntry {
  readonly bytes: Uint8Array;
  readonly bits: number;
  readonly entry: PolicyEntry;
}

const compiled = new WeakMap<readonly PolicyEntry[], CompiledEntry[]>();

function compile(table: readonly PolicyEntry[]): CompiledEntry[] {
  let out = compiled.get(table);
  if (out !== undefined) return out;
  out = [];
  for (const entry of table) {
    const slash = entry.prefix.lastIndexOf("/");
    const bytes = slash < 0 ? undefined : ipBytes(entry.prefix.slice(0, slash));
    const bits = Number(entry.prefix.slice(slash + 1));
    if (
      bytes === undefined || !Number.isInteger(bits) || bits < 0 || bits > 128
    ) {
      throw new TypeError(
        `Cannot use policy table entry ${
          JSON.stringify(entry.prefix)
        }: it is not an IPv6 prefix (address/bits)`,
      );
    }
    out.push({ bytes, bits, entry });
  }
  // Longest prefix first: the first match is the one that counts.
  out.sort((a, b) => b.bits - a.bits);
  compiled.set(table, out);
  return out;
}

const NO_ENTRY: PolicyEntry = Object.freeze({
  prefix: "::/0",
  precedence: 0,
  label: 0,
});

function lookup(bytes: Uint8Array, table: readonly PolicyEntry[]): PolicyEntry {
  for (const c of compile(table)) {
    if (hasPrefix(bytes, c.bytes, c.bits)) return c.entry;
  }
  return NO_ENTRY;
}

function scopeOf(bytes: Uint8Array): number {
  if (isMapped(bytes)) {
    // RFC 6724 §3.2: IPv4 loopback and link-local are link-local.
    const a = bytes[12]!;
    if (a === 127 || (a === 169 && bytes[13] === 254)) return SCOPE_LINK_LOCAL;
    return SCOPE_GLOBAL;
  }
  if (bytes[0] === 0xff) return bytes[1]! & 0x0f; // multicast
  if (bytes[0] === 0xfe) {
    const b = bytes[1]! & 0xc0;
    if (b === 0x80) return SCOPE_LINK_LOCAL; // fe80::/10
    if (b === 0xc0) return SCOPE_SITE_LOCAL; // fec0::/10
  }
  let loopback = bytes[15] === 1;
  for (let i = 0; i < 15 && loopback; i++) if (bytes[i] !== 0) loopback = false;
  if (loopback) return SCOPE_LINK_LOCAL; // ::1, RFC 4007 §4
  return SCOPE_GLOBAL;
}

function bytesOf(address: string, what: string): Uint8Array {
  const bytes = ipBytes(address);
  if (bytes === undefined) {
    throw new TypeError(
      `Cannot sort ${what} ${JSON.stringify(address)}: it is not an IP address`,
    );
  }
  return bytes;
}

/**
 * The scope of an address (RFC 6724 §3.1, RFC 4007): 2 for link-local
 * (`fe80::/10`, `::1`, `127.0.0.0/8`, `169.254.0.0/16`), 5 for site-local
 * (`fec0::/10`), a multicast address's own scope, 14 (global) for the rest.
 *
 * @param address An IP address in any text `parseIP` accepts.
 * @returns Its scope, 1–15.
 * @throws {TypeError} If `address` is not an IP address.
 *
 * @example Scopes
 * ```ts
 * import { addressScope } from "@nettrace/nettrace";
 *
 * addressScope("fe80::1"); // 2
 * addressScope("127.0.0.1"); // 2
 * addressScope("2001:db8::1"); // 14
 * ```
 */
export function addressScope(address: string): number {
  return scopeOf(bytesOf(address, "address"));
}

/**
 * The policy-table row an address falls under (the longest prefix that
 * matches it; IPv4 as IPv4-mapped).
 *
 * @param address An IP address in any text `parseIP` accepts.
 * @param options The policy table.
 * @returns The row: its prefix, precedence and label.
 * @throws {TypeError} If `address` is not an IP address.
 *
 * @example Precedence and label
 * ```ts
 * import { policyOf } from "@nettrace/nettrace";
 *
 * policyOf("2002:c633:6401::1"); // { prefix: "2002::/16", precedence: 30, label: 2 }
 * policyOf("192.0.2.1").precedence; // 35
 * ```
 */
export function policyOf(address: string, options?: SortOptions): PolicyEntry {
  return lookup(
    bytesOf(address, "address"),
    options?.policyTable ?? DEFAULT_POLICY_TABLE,
  );
}

/** What the rules read of one destination, computed once per sort. */
interface Attrs {
  readonly bytes: Uint8Array;
  readonly v4: boolean;
  readonly precedence: number;
  readonly label: number;
  readonly scope: number;
  /** null: no source; undefined: unknown. */
  readonly src: SourceAttrs | null | undefined;
  readonly failed: boolean;
  readonly rtt: number | undefined;
  readonly used: boolean;
}

interface SourceAttrs {
  readonly bytes: Uint8Array;
  readonly v4: boolean;
  readonly scope: number;
  readonly label: number;
  readonly deprecated: boolean;
  readonly home: boolean;
  readonly careOf: boolean;
  readonly encapsulated: boolean;
  readonly prefixLength: number;
}

const TEREDO = ipBytes("2001::")!;
const SIX_TO_FOUR = ipBytes("2002::")!;

function attrs(d: Destination, table: readonly PolicyEntry[]): Attrs {
  if (d === null || typeof d !== "object" || typeof d.address !== "string") {
    throw new TypeError("Cannot sort a destination that is not an IPAddr");
  }
  const bytes = d.ipv4 !== undefined
    ? bytesOf(d.ipv4, "the IPv4 address of")
    : bytesOf(d.address, "destination");
  const policy = lookup(bytes, table);
  let src: SourceAttrs | null | undefined;
  if (d.source === null) src = null;
  else if (d.source !== undefined) {
    const s = d.source;
    const sb = bytesOf(s.address, "source address");
    const tunnel = hasPrefix(sb, SIX_TO_FOUR, 16) || hasPrefix(sb, TEREDO, 32);
    src = {
      bytes: sb,
      v4: isMapped(sb),
      scope: scopeOf(sb),
      label: lookup(sb, table).label,
      deprecated: s.deprecated === true,
      home: s.home === true,
      careOf: s.careOf === true,
      encapsulated: s.encapsulated ?? tunnel,
      prefixLength: Math.min(64, s.prefixLength ?? 64),
    };
  }
  return {
    bytes,
    v4: isMapped(bytes),
    precedence: policy.precedence,
    label: policy.label,
    scope: scopeOf(bytes),
    src,
    failed: d.failed === true,
    rtt: typeof d.rtt === "number" && d.rtt >= 0 ? d.rtt : undefined,
    used: d.used === true,
  };
}

/**
 * Compares two destinations: > 0 when `a` goes first, < 0 when `b` does, 0
 * when no rule tells them apart; the magnitude is the index of the deciding
 * rule in {@linkcode RULES}.
 */
function decide(a: Attrs, b: Attrs): number {
  // Rule 1: avoid unusable destinations (no source, or known to fail).
  const ua = a.src === null || a.failed;
  const ub = b.src === null || b.failed;
  if (ua !== ub) {
    const loser = ua ? a : b;
    const rule = loser.src === null ? 1 : 2;
    return ua ? -rule : rule;
  }
  const sa = a.src;
  const sb = b.src;
  const both = sa != null && sb != null;
  if (both) {
    // Rule 2: prefer matching scope.
    const ma = a.scope === sa.scope;
    const mb = b.scope === sb.scope;
    if (ma !== mb) return ma ? 3 : -3;
    // Rule 3: avoid deprecated addresses.
    if (sa.deprecated !== sb.deprecated) return sa.deprecated ? -4 : 4;
    // Rule 4: prefer home addresses.
    const ha = sa.home && sa.careOf;
    const hb = sb.home && sb.careOf;
    if (ha !== hb) return ha ? 5 : -5;
    if (sa.home && !sa.careOf && sb.careOf && !sb.home) return 5;
    if (sb.home && !sb.careOf && sa.careOf && !sa.home) return -5;
    // Rule 5: prefer matching label.
    const la = a.label === sa.label;
    const lb = b.label === sb.label;
    if (la !== lb) return la ? 6 : -6;
  }
  // Rule 6: prefer higher precedence.
  if (a.precedence !== b.precedence) {
    return a.precedence > b.precedence ? 7 : -7;
  }
  // Rule 7: prefer native transport.
  if (both && sa.encapsulated !== sb.encapsulated) {
    return sa.encapsulated ? -8 : 8;
  }
  // Rule 8: prefer smaller scope.
  if (a.scope !== b.scope) return a.scope < b.scope ? 9 : -9;
  // RFC 8305 §4: lower RTT, then used before.
  if (a.rtt !== undefined && b.rtt !== undefined && a.rtt !== b.rtt) {
    return a.rtt < b.rtt ? 10 : -10;
  }
  if (a.used !== b.used) return a.used ? 11 : -11;
  // Rule 9: use longest matching prefix (IPv6 only, as Go does).
  if (both && !a.v4 && !b.v4 && !sa.v4 && !sb.v4) {
    const ca = commonPrefixBits(sa.bytes, a.bytes, sa.prefixLength);
    const cb = commonPrefixBits(sb.bytes, b.bytes, sb.prefixLength);
    if (ca !== cb) return ca > cb ? 12 : -12;
  }
  // Rule 10: leave the order unchanged.
  return 0;
}

function checkTable(options: SortOptions | undefined): readonly PolicyEntry[] {
  const table = options?.policyTable ?? DEFAULT_POLICY_TABLE;
  if (!Array.isArray(table)) {
    throw new TypeError("Cannot sort with options.policyTable: not an array");
  }
  return table;
}

/**
 * Compares two destinations by RFC 6724 §6 and the RFC 8305 §4 history
 * rules, as an `Array.prototype.sort` comparator.
 *
 * @param a A destination.
 * @param b Another destination.
 * @param options The policy table.
 * @returns < 0 when `a` goes first, > 0 when `b` does, 0 when no rule tells
 * them apart (rule 10: keep the order).
 * @throws {TypeError} If an address is not an IP address.
 *
 * @example Global IPv6 before IPv4, IPv4 before 6to4
 * ```ts
 * import { compareDestinations } from "@nettrace/nettrace";
 *
 * compareDestinations({ address: "2001:db8::1", family: 6 }, { address: "192.0.2.1", family: 4 }); // < 0
 * compareDestinations({ address: "2002:c000:201::1", family: 6 }, { address: "192.0.2.1", family: 4 }); // > 0
 * ```
 */
export function compareDestinations(
  a: Destination,
  b: Destination,
  options?: SortOptions,
): number {
  const table = checkTable(options);
  const d = decide(attrs(a, table), attrs(b, table));
  return d === 0 ? 0 : d > 0 ? -1 : 1;
}

/**
 * Which rule orders `a` and `b`: the id of the first rule that tells them
 * apart, or `"order"` when none does.
 *
 * @param a A destination.
 * @param b Another destination.
 * @param options The policy table.
 * @returns The deciding rule's id.
 * @throws {TypeError} If an address is not an IP address.
 *
 * @example Why one address goes first
 * ```ts
 * import { orderRule } from "@nettrace/nettrace";
 *
 * orderRule(
 *   { address: "2001:db8::1", family: 6, failed: true },
 *   { address: "192.0.2.1", family: 4, used: true },
 * ); // "avoid-failed"
 * ```
 */
export function orderRule(
  a: Destination,
  b: Destination,
  options?: SortOptions,
): OrderRule {
  const table = checkTable(options);
  return RULES[Math.abs(decide(attrs(a, table), attrs(b, table)))]!;
}

/**
 * Sorts destinations by RFC 6724 §6 and the RFC 8305 §4 history rules.
 * The sort is stable: destinations no rule tells apart keep their order
 * (rule 10). The input is not changed.
 *
 * @typeParam T The destination type; extra fields are kept.
 * @param destinations The destinations, in the order the resolver gave.
 * @param options The policy table.
 * @returns A new array, sorted.
 * @throws {TypeError} If an address is not an IP address.
 *
 * @example Matching scope (RFC 6724 §10.2, example 2)
 * ```ts
 * import { sortDestinations } from "@nettrace/nettrace";
 *
 * const sorted = sortDestinations([
 *   { address: "2001:db8:1::1", family: 6, source: { address: "fe80::1", family: 6 } },
 *   { address: "198.51.100.121", family: 4, source: { address: "198.51.100.117", family: 4 } },
 * ]);
 * console.log(sorted.map((d) => d.address)); // ["198.51.100.121", "2001:db8:1::1"]
 * ```
 */
export function sortDestinations<T extends Destination>(
  destinations: readonly T[],
  options?: SortOptions,
): T[] {
  const table = checkTable(options);
  if (destinations.length < 2) return destinations.slice();
  const keyed = destinations.map((d, i) => ({ d, a: attrs(d, table), i }));
  keyed.sort((x, y) => {
    const d = decide(x.a, y.a);
    return d === 0 ? x.i - y.i : d > 0 ? -1 : 1;
  });
  return keyed.map((k) => k.d);
}

/**
 * A destination with its rule inputs computed once (for {@linkcode dial},
 * which compares the same endpoints many times). Not part of the public
 * API.
 */
export interface PreparedDestination {
  /** The rule inputs. */
  readonly attrs: unknown;
}

/**
 * Computes the rule inputs of a destination once.
 *
 * @param d The destination.
 * @param options The policy table.
 * @returns What {@linkcode comparePrepared} reads.
 * @throws {TypeError} If an address is not an IP address.
 */
export function prepareDestination(
  d: Destination,
  options?: SortOptions,
): PreparedDestination {
  return { attrs: attrs(d, checkTable(options)) };
}

/**
 * {@linkcode compareDestinations} on prepared destinations.
 *
 * @param a A prepared destination.
 * @param b Another.
 * @returns < 0 when `a` goes first, > 0 when `b` does, 0 on a tie.
 */
export function comparePrepared(
  a: PreparedDestination,
  b: PreparedDestination,
): number {
  const d = decide(a.attrs as Attrs, b.attrs as Attrs);
  return d === 0 ? 0 : d > 0 ? -1 : 1;
}

/**
 * {@linkcode orderRule} on prepared destinations.
 *
 * @param a A prepared destination.
 * @param b Another.
 * @returns The deciding rule's id.
 */
export function preparedRule(
  a: PreparedDestination,
  b: PreparedDestination,
): OrderRule {
  return RULES[Math.abs(decide(a.attrs as Attrs, b.attrs as Attrs))]!;
}
