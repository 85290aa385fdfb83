/**
 * The shared endpoints: one frozen `Endpoint` per zone-less address and
 * port, the same object in every dial of it (an IP literal's fast path and
 * a name's race alike), so a dialer can keep what it works out per endpoint
 * (the Node and Bun dialers: the remote address). Dials with a control hook
 * (which is handed the endpoint to judge) do not use them. Dialers see them:
 * the `Dialer.connect` contract says they are frozen and shared. At most
 * {@linkcode MAX_SHARED} of them, then the table starts over.
 *
 * @module
 */

import type { Endpoint, Family } from "../types.ts";

const SHARED = new Map<number, Map<string, Endpoint>>();
const MAX_SHARED = 1024;
let sharedCount = 0;

/**
 * The shared endpoint of a zone-less address and a port.
 *
 * @param address The address, as the parser formats it.
 * @param family Its family.
 * @param port The port.
 * @returns The frozen endpoint, the same object each time (until the table
 * starts over).
 *
 * @example Two dials, one endpoint
 * ```ts ignore
 * sharedEndpoint("::1", 6, 80) === sharedEndpoint("::1", 6, 80); // true
 * ```
 */
export function sharedEndpoint(
  address: string,
  family: Family,
  port: number,
): Endpoint {
  let byAddress = SHARED.get(port);
  if (byAddress === undefined) {
    byAddress = new Map();
    SHARED.set(port, byAddress);
  }
  let endpoint = byAddress.get(address);
  if (endpoint === undefined) {
    if (sharedCount >= MAX_SHARED) {
      SHARED.clear();
      sharedCount = 0;
      SHARED.set(port, byAddress = new Map());
    }
    endpoint = Object.freeze({ address, family, port });
    byAddress.set(address, endpoint);
    sharedCount++;
  }
  return endpoint;
}
