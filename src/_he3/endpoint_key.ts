/**
 * The key of an endpoint in Happy Eyeballs v3's tables: one address may go
 * with several ports (one per service record), so the port is part of it.
 *
 * @module
 */

import { addrKey } from "../_ip.ts";

/**
 * `address|port`, or `address%zone|port`.
 *
 * @param endpoint The address, its zone and the port.
 * @returns The key.
 */
export function endpointKey(
  endpoint: { address: string; zone?: string; port: number },
): string {
  return `${addrKey(endpoint)}|${endpoint.port}`;
}
