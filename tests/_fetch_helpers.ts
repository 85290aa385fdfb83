// Helpers of the createFetch tests (tests/fetch_*_test.ts): a trace that
// logs the hooks as short lines, servers that misbehave on purpose, and
// ways to wait for a hook without sleeping.

import {
  createFetch,
  type HTTPTrace,
  type NettraceFetch,
} from "../integrations/fetch.ts";
import type { DnsServer } from "./_dns_server.ts";
import {
  type Handler,
  type HttpServer,
  startHttpServer,
} from "./_http_fixtures.ts";

/** Logs the hooks as short lines; the dial hooks too. */
export function logTrace(log: string[]): HTTPTrace {
  const err = (e?: Error) => (e === undefined ? "" : " error");
  return {
    getConn: ({ hostPort, attempt }) =>
      log.push(`getConn ${hostPort} #${attempt}`),
    dnsStart: ({ host }) => log.push(`dnsStart ${host}`),
    dnsDone: ({ addrs, error }) =>
      log.push(`dnsDone ${addrs.map((a) => a.address).join(",")}${err(error)}`),
    connectStart: ({ addr }) => log.push(`connectStart ${addr}`),
    connectDone: ({ addr, error }) =>
      log.push(`connectDone ${addr}${err(error)}`),
    tlsHandshakeStart: ({ serverName }) =>
      log.push(`tlsHandshakeStart ${serverName}`),
    tlsHandshakeDone: ({ alpnProtocol, error }) =>
      log.push(`tlsHandshakeDone ${error ? "error" : alpnProtocol}`),
    gotConn: ({ reused, wasIdle, alpnProtocol }) =>
      log.push(
        `gotConn reused=${reused} wasIdle=${wasIdle} alpn=${alpnProtocol}`,
      ),
    wroteHeaders: () => log.push("wroteHeaders"),
    wait100Continue: () => log.push("wait100Continue"),
    got100Continue: () => log.push("got100Continue"),
    got1xxResponse: ({ status }) => log.push(`got1xxResponse ${status}`),
    wroteRequest: ({ error }) => log.push(`wroteRequest${err(error)}`),
    gotFirstResponseByte: () => log.push("gotFirstResponseByte"),
    putIdleConn: ({ error }) => log.push(`putIdleConn${err(error)}`),
  };
}

/** Runs `fn` with the servers and the fetch, and always closes them. */
export async function using(
  servers: (HttpServer | DnsServer | { close(): Promise<void> | void })[],
  fetch: { close(): Promise<void> },
  fn: () => Promise<void>,
): Promise<void> {
  try {
    await fn();
  } finally {
    await fetch.close();
    for (const server of servers) await server.close();
  }
}

/** Answers `got <the request body>`. */
export const answerBody: Handler = (req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => (body += chunk));
  req.on("end", () => res.end(`got ${body}`));
};

/**
 * Answers `ok <url>`, but closes a connection when a second request comes
 * on it (a server that dropped an idle keep-alive connection just as the
 * client reused it).
 */
export function closeOnSecondUse(): Handler {
  const served = new WeakMap<object, number>();
  return (req, res) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n === 2) req.socket.destroy();
    else res.end(`ok ${req.url}`);
  };
}

/**
 * Runs `fn` once a `closeOnSecondUse` server's connection sits idle in the
 * pool of `fetch` (one request made on it).
 */
export async function withIdleConnToBeClosed(
  fn: (fetch: NettraceFetch, server: HttpServer) => Promise<void>,
): Promise<void> {
  const server = await startHttpServer(closeOnSecondUse());
  const fetch = createFetch();
  await using([server], fetch, async () => {
    await (await fetch(`http://127.0.0.1:${server.port}/1`)).text();
    await settle();
    await fn(fetch, server);
  });
}

/** The hooks of one exchange on a connection dialled to `ep` for it. */
export function freshExchange(ep: string): string[] {
  return [
    `connectStart ${ep}`,
    `connectDone ${ep}`,
    "gotConn reused=false wasIdle=false alpn=null",
    "wroteHeaders",
    "wroteRequest",
    "gotFirstResponseByte",
    "putIdleConn",
  ];
}

/** Resolves when `hook` of `trace` next fires (wrapping what it did). */
export function hookFired(
  trace: HTTPTrace,
  hook: "connectStart" | "connectDone" | "dialDone",
): Promise<void> {
  return new Promise((resolve) => {
    const previous = trace[hook] as ((info: never) => void) | undefined;
    trace[hook] = (info: never) => {
      previous?.(info);
      resolve();
    };
  });
}

/** Lets undici's pool see the connection free again (no timer). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
