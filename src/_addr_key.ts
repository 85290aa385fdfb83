/**
 * The key of an IP address in per-dial tables and history: its text, with
 * `%zone` when it has one.
 *
 * @module
 */

/** `address` or `address%zone`: the one way an address is keyed. */
export function addrKey(ip: { address: string; zone?: string }): string {
  return ip.zone === undefined ? ip.address : `${ip.address}%${ip.zone}`;
}

/** `addrKey|port`: an endpoint, as Happy Eyeballs v3 keys it (one address may go with several ports). */
export function endpointKey(
  endpoint: { address: string; zone?: string; port: number },
): string {
  return `${addrKey(endpoint)}|${endpoint.port}`;
}
