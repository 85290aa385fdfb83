/**
 * Address policy: a hook that sees every endpoint after resolution and
 * before connect (Go's `Dialer.Control`), and a ready policy that refuses
 * every address that is not public — the standard defence against
 * server-side request forgery through DNS rebinding.
 *
 * @module
 */

import { addrKey, ipBytes, isMapped } from "./_ip.ts";
import type { Endpoint, IPAddr, Network } from "./types.ts";

/**
 * What a {@linkcode Control} hook receives.
 *
 * @example Logging every endpoint before its connect
 * ```ts
 * import type { ControlInfo, DialOptions } from "@nettrace/nettrace";
 *
 * function control({ host, addr }: ControlInfo): void {
 *   console.log(`${host} -> ${addr}`);
 * }
 * const options: DialOptions = { control };
 * ```
 */
export interface ControlInfo {
  /** The network as the user gave it. */
  network: Network;
  /** The host as dialled (a name or a literal). */
  host: string;
  /** `ip:port` or `[ipv6%zone]:port`. */
  addr: string;
  /** The endpoint about to be connected. */
  endpoint: Endpoint;
  /**
   * The IPv4 address a NAT64 endpoint stands for (synthesised by the dial,
   * or a DNS64 answer under a known prefix), so a policy judges what is
   * really reached.
   */
  ipv4?: string;
}

/**
 * Decides whether an endpoint may be connected, like Go's `Dialer.Control`.
 * Throw to refuse: the attempt then fails with that error (wrapped like any
 * attempt error, `dial tcp 10.0.0.1:80: …`), its `connectStart` and
 * `connectDone` report it, nothing is sent, and the next endpoint starts at
 * once.
 *
 * It must decide synchronously: a hook that returns a promise (an `async`
 * function) refuses every endpoint — its verdict would come after the
 * connect, so the dial fails closed.
 *
 * @param info The endpoint and where it came from.
 *
 * @example Allowing only loopback
 * ```ts
 * import type { Control, DialOptions } from "@nettrace/nettrace";
 *
 * const loopbackOnly: Control = ({ endpoint, addr }) => {
 *   if (endpoint.address !== "127.0.0.1" && endpoint.address !== "::1") {
 *     throw new Error(`refusing ${addr}: not loopback`);
 *   }
 * };
 * const options: DialOptions = { control: loopbackOnly };
 * ```
 */
export type Control = (info: ControlInfo) => void;

/**
 * Why an address is not public.
 *
 * @example Classifying an address
 * ```ts
 * import { type AddressClass, classifyAddress } from "@nettrace/nettrace";
 *
 * const cls: AddressClass = classifyAddress({ address: "10.0.0.1", family: 4 });
 * console.log(cls); // "private"
 * ```
 */
export type AddressClass =
  | "public"
  | "unspecified"
  | "loopback"
  | "private"
  | "shared" // 100.64.0.0/10, carrier-grade NAT
  | "link-local" // includes 169.254.169.254, the cloud metadata service
  | "unique-local"
  | "site-local"
  | "multicast"
  | "broadcast"
  | "documentation"
  | "benchmarking"
  | "reserved";

const ADDRESS_CLASSES: ReadonlySet<string> = new Set<AddressClass>([
  "public",
  "unspecified",
  "loopback",
  "private",
  "shared",
  "link-local",
  "unique-local",
  "site-local",
  "multicast",
  "broadcast",
  "documentation",
  "benchmarking",
  "reserved",
]);

const V4_RANGES: readonly [number, number, AddressClass][] = [
  [0x00000000, 8, "unspecified"], // 0.0.0.0/8 "this network"
  [0x0a000000, 8, "private"], // 10/8
  [0x64400000, 10, "shared"], // 100.64/10 (also Alibaba's metadata)
  [0x7f000000, 8, "loopback"], // 127/8
  [0xa9fe0000, 16, "link-local"], // 169.254/16, cloud metadata
  [0xac100000, 12, "private"], // 172.16/12
  [0xc0000000, 24, "reserved"], // 192.0.0/24 IETF protocol assignments
  [0xc0000200, 24, "documentation"], // 192.0.2/24
  [0xc0586300, 24, "reserved"], // 192.88.99/24 6to4 relay anycast
  [0xc0a80000, 16, "private"], // 192.168/16
  [0xc6120000, 15, "benchmarking"], // 198.18/15
  [0xc6336400, 24, "documentation"], // 198.51.100/24
  [0xcb007100, 24, "documentation"], // 203.0.113/24
  [0xe0000000, 4, "multicast"], // 224/4
  [0xf0000000, 4, "reserved"], // 240/4
];

function classifyV4(n: number): AddressClass {
  if (n === 0xffffffff) return "broadcast";
  for (const [base, bits, cls] of V4_RANGES) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if (((n & mask) >>> 0) === base) return cls;
  }
  return "public";
}

/** The unsigned 32-bit IPv4 address in `b[at, at + 4)`. */
function v4At(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) +
    b[at + 3];
}

/**
 * Classifies an address: `"public"`, or why it is not. IPv4 embedded in
 * IPv6 (IPv4-mapped, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, IPv4-compatible
 * `::a.b.c.d`) is classified by the IPv4 address it carries.
 *
 * The text is parsed again, so any spelling works (`::FFFF:127.0.0.1` is
 * loopback); `family` is not trusted. Text that is no IP address is
 * `"reserved"`: never public.
 *
 * @param ip The address (any text `parseIP` accepts; a zone is ignored).
 * @returns Its class.
 *
 * @example Classifying addresses
 * ```ts
 * import { classifyAddress } from "@nettrace/nettrace";
 *
 * classifyAddress({ address: "169.254.169.254", family: 4 }); // "link-local"
 * classifyAddress({ address: "64:ff9b::a00:1", family: 6 }); // "private"
 * ```
 */
export function classifyAddress(ip: IPAddr): AddressClass {
  const bytes = typeof ip?.address === "string"
    ? ipBytes(ip.address)
    : undefined;
  return bytes === undefined ? "reserved" : classifyBytes(bytes);
}

/**
 * {@linkcode classifyAddress} on the 16 bytes of an address (IPv4 as
 * IPv4-mapped). Not part of the public API.
 *
 * @param b The bytes, as `ipBytes` in _ip.ts gives them.
 * @returns Its class.
 */
export function classifyBytes(b: Uint8Array): AddressClass {
  if (isMapped(b)) return classifyV4(v4At(b, 12));
  const g0 = (b[0] << 8) | b[1];
  const g1 = (b[2] << 8) | b[3];
  const g2 = (b[4] << 8) | b[5];
  const g3 = (b[6] << 8) | b[7];
  if (g0 === 0 && g1 === 0 && zeroBytes(b, 4, 12)) {
    const low = v4At(b, 12);
    if (low === 0) return "unspecified";
    if (low === 1) return "loopback";
    return classifyV4(low); // IPv4-compatible ::a.b.c.d (deprecated)
  }
  if (g0 === 0x64 && g1 === 0xff9b) {
    if (zeroBytes(b, 4, 12)) {
      return classifyV4(v4At(b, 12)); // NAT64 well-known prefix
    }
    return "private"; // 64:ff9b:1::/48 local-use NAT64
  }
  if (g0 === 0x2002) return classifyV4(v4At(b, 2)); // 6to4
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) {
    return "reserved"; // 100::/64 discard
  }
  if (g0 === 0x2001 && g1 === 0x0db8) return "documentation";
  if (g0 === 0x3fff && g1 < 0x1000) return "documentation"; // 3fff::/20, RFC 9637
  if (g0 === 0x2001 && g1 === 0x0002 && g2 === 0) {
    return "benchmarking"; // 2001:2::/48
  }
  if (g0 === 0x2001 && g1 < 0x0200) return "reserved"; // 2001::/23 IETF (Teredo…)
  if (g0 === 0x5f00) return "reserved"; // 5f00::/16 SRv6 SIDs, RFC 9602
  if ((g0 & 0xfe00) === 0xfc00) return "unique-local"; // fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return "link-local"; // fe80::/10
  if ((g0 & 0xffc0) === 0xfec0) return "site-local"; // fec0::/10
  if ((g0 & 0xff00) === 0xff00) return "multicast"; // ff00::/8
  if ((g0 & 0xe000) !== 0x2000) return "reserved"; // outside 2000::/3
  return "public";
}

/** Whether `b[from, to)` are all zero. */
function zeroBytes(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * The error a policy refusal is reported with.
 *
 * @example Recognising a refusal
 * ```ts
 * import { DialError, PolicyError } from "@nettrace/nettrace";
 *
 * function refusedByPolicy(err: unknown): boolean {
 *   return err instanceof DialError &&
 *     err.errors.some((e) => e.cause instanceof PolicyError);
 * }
 * ```
 */
export class PolicyError extends Error {
  /** The address refused. */
  readonly address: string;
  /** Why. */
  readonly addressClass: AddressClass;

  /**
   * Creates a policy error.
   *
   * @param address The address refused.
   * @param addressClass Its class.
   */
  constructor(address: string, addressClass: AddressClass) {
    super(
      `address ${address} is not public (${addressClass}): refused by policy`,
    );
    this.name = "PolicyError";
    this.address = address;
    this.addressClass = addressClass;
  }
}

/**
 * Options for {@linkcode publicAddressesOnly}.
 *
 * @example Letting loopback through in development
 * ```ts
 * import {
 *   type DialOptions,
 *   publicAddressesOnly,
 *   type PublicAddressesOnlyOptions,
 * } from "@nettrace/nettrace";
 *
 * const policy: PublicAddressesOnlyOptions = { allow: ["loopback"] };
 * const options: DialOptions = { control: publicAddressesOnly(policy) };
 * ```
 */
export interface PublicAddressesOnlyOptions {
  /**
   * Classes to let through anyway (say `["loopback"]` in development).
   * @default {[]}
   */
  allow?: readonly AddressClass[];
}

/**
 * A {@linkcode Control} that refuses loopback, private, shared (CGNAT),
 * link-local (cloud metadata), unique-local, multicast and every other
 * non-public address, in IPv4, IPv6, IPv4-mapped and NAT64 forms. Because it
 * runs on each resolved endpoint right before the connect, a name that
 * resolves to `169.254.169.254` (DNS rebinding) is refused too.
 *
 * @param options Classes to allow anyway.
 * @returns The control hook, for `DialOptions.control`.
 * @throws {RangeError} If `allow` names something that is not an
 * {@linkcode AddressClass} (a typo would otherwise allow nothing, silently).
 *
 * @example Refusing internal addresses for user-supplied URLs
 * ```ts ignore
 * import { dial, publicAddressesOnly } from "@nettrace/nettrace/node";
 *
 * const conn = await dial("example.com:443", { control: publicAddressesOnly() });
 * ```
 */
export function publicAddressesOnly(
  options: PublicAddressesOnlyOptions = {},
): Control {
  const allow = new Set<AddressClass>();
  for (const name of options.allow ?? []) {
    if (!ADDRESS_CLASSES.has(name)) {
      throw new RangeError(
        `Cannot allow ${JSON.stringify(name)}: not an address class (one of ${
          [...ADDRESS_CLASSES].join(", ")
        })`,
      );
    }
    allow.add(name);
  }
  return ({ endpoint, ipv4 }) => {
    let cls = classifyAddress(endpoint);
    let shown = addrKey(endpoint);
    if ((cls === "public" || allow.has(cls)) && ipv4 !== undefined) {
      // A NAT64 address under a network-specific prefix looks public;
      // what it reaches is the IPv4 address it carries.
      cls = classifyAddress({ address: ipv4, family: 4 });
      shown = `${shown} (NAT64 for ${ipv4})`;
    }
    if (cls !== "public" && !allow.has(cls)) throw new PolicyError(shown, cls);
  };
}
