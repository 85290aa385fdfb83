/**
 * The SVCB ALPN set of a service record (RFC 9460 §7.1.1) and what a
 * client can offer on it: a record whose set shares nothing with the
 * client's protocols is not tried (draft-ietf-happy-happyeyeballs-v3
 * "Handling Application Layer Protocol Negotiation").
 *
 * @module
 */

import type { ServiceRecord } from "../types.ts";

/**
 * The default ALPN of the schemes nettrace knows (RFC 9460 §7.1.1: the
 * scheme's mapping defines it; HTTPS records, §9.1: `http/1.1`). A scheme
 * not listed has none.
 */
const DEFAULT_ALPN: Readonly<Record<string, string>> = {
  https: "http/1.1",
  wss: "http/1.1",
};

/**
 * The scheme's default ALPN protocol id, if it has one.
 *
 * @param scheme The URI scheme (`"https"`).
 * @returns `"http/1.1"` for https, undefined for a scheme without one.
 */
export function defaultAlpn(scheme: string): string | undefined {
  return Object.hasOwn(DEFAULT_ALPN, scheme) ? DEFAULT_ALPN[scheme] : undefined;
}

/**
 * RFC 9460 §7.1.1: the record's `alpn` ids, plus the scheme's default
 * unless `no-default-alpn` is set. Ids that are not strings are dropped.
 *
 * @param record The ServiceMode record.
 * @param scheme The URI scheme the dial is for.
 * @returns The SVCB ALPN set, record order, default last.
 */
export function serviceAlpnSet(
  record: ServiceRecord,
  scheme: string,
): string[] {
  const out: string[] = [];
  const alpn = Array.isArray(record.alpn) ? record.alpn : [];
  for (const id of alpn) {
    if (typeof id === "string" && id !== "" && !out.includes(id)) out.push(id);
  }
  const fallback = defaultAlpn(scheme);
  if (
    record.noDefaultAlpn !== true && fallback !== undefined &&
    !out.includes(fallback)
  ) out.push(fallback);
  return out;
}

/**
 * What the TLS handshake offers on an endpoint of `record`: the caller's
 * ALPN protocols (its order: the client's preference) that are in the
 * record's SVCB ALPN set.
 *
 * Without a caller list (or an empty one) the client is taken to speak the scheme's default
 * ALPN only (an https client without ALPN speaks HTTP/1.1): the record is
 * usable when its set holds that default, and nothing is offered. For a
 * scheme without a default every record is usable then.
 *
 * @param record The ServiceMode record.
 * @param scheme The URI scheme the dial is for.
 * @param clientAlpn The caller's `tls.alpnProtocols`.
 * @returns `null` when the record is not usable (the sets are disjoint),
 *   `undefined` when usable with nothing to offer, else the list to offer.
 */
export function offeredAlpn(
  record: ServiceRecord,
  scheme: string,
  clientAlpn: readonly string[] | undefined,
): string[] | undefined | null {
  const set = serviceAlpnSet(record, scheme);
  if (clientAlpn === undefined || clientAlpn.length === 0) {
    const fallback = defaultAlpn(scheme);
    if (fallback === undefined) return undefined;
    return set.includes(fallback) ? undefined : null;
  }
  const offered = clientAlpn.filter((id) => set.includes(id));
  return offered.length === 0 ? null : offered;
}
