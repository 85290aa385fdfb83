/**
 * The `factory` of the fetch integration's undici `Agent`: its clients
 * multiplex HTTP/2 streams on one connection, as Go's HTTP/2 transport
 * does. undici 8 does that by itself; undici 7 caps every connection, h2
 * too, at its `pipelining` (1 unless set), so a second request to a busy
 * HTTP/2 origin opened a second connection. Once a connection is up as
 * HTTP/2, unsetting `pipelining` leaves the cap to the protocol: unlimited
 * (Node's session queues streams past the server's
 * `maxConcurrentStreams`). HTTP/1.1 keeps 1: no pipelining, as in Go.
 *
 * @module
 */

import { Client, Pool } from "undici/index.js";

/** The part of undici's client options read here. */
interface FactoryOptions {
  connections?: number | null;
  [key: string]: unknown;
}

/** The protocol of a client's connection (undici's `kHTTPContext`). */
function version(client: Client): string | undefined {
  const key = Object.getOwnPropertySymbols(client).find((s) =>
    s.description === "http context"
  );
  const context = key === undefined
    ? undefined
    : (client as unknown as Record<symbol, { version?: string } | null>)[key];
  return context?.version;
}

function muxClient(origin: URL | string, options: object): Client {
  const client = new Client(origin, options as never);
  const settable = client as unknown as { pipelining: number | undefined };
  client.on("connect", () => {
    // HTTP/1.1 keeps `pipelining: 1`: undici keeps a connection alive only
    // while it is set.
    settable.pipelining = version(client) === "h2" ? undefined : 1;
  });
  return client;
}

/** Makes the dispatcher of one origin, as undici's default factory does. */
export function muxFactory(
  origin: URL | string,
  options: FactoryOptions,
): Client | Pool {
  if (options.connections === 1) return muxClient(origin, options);
  return new Pool(origin, { ...options, factory: muxClient } as never);
}
