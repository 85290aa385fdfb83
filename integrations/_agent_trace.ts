/**
 * The ClientTrace hooks of `HttpAgent` / `HttpsAgent`: what `node:http`
 * tells about a request's socket, fired on the agent's `trace` composed
 * with the ambient context's (the core's `withTrace`).
 *
 * @module
 */

import type { ClientRequest } from "node:http";
import type { Socket } from "node:net";
import { contextTrace, withTrace } from "../src/trace.ts";
import { currentContext } from "../src/context.ts";
import type { ConnAddr, HTTPTrace } from "./_fetch/http_trace.ts";
import { fire } from "./_fetch/attempt_trace.ts";

/** Per socket: the trace of its current request, since when it is idle. */
interface SocketState {
  trace: HTTPTrace | undefined;
  idleSince: number | undefined;
}

const SOCKETS = new WeakMap<object, SocketState>();
const AGENT_TRACE = new WeakMap<object, HTTPTrace>();

interface AgentInternals {
  on(event: "free", listener: (socket: Socket, options: object) => void): void;
  getName?(options: object): string;
  freeSockets?: Record<string, Socket[] | undefined>;
}

/**
 * Watches an agent's `'free'` events (after Node's own listener): a
 * socket that went to `freeSockets` fires `putIdleConn` on the trace of the
 * request it carried, and starts its idle time.
 */
export function traceAgent(agent: object, trace: HTTPTrace | undefined): void {
  if (trace !== undefined) AGENT_TRACE.set(agent, trace);
  const internals = agent as AgentInternals;
  internals.on("free", (socket, options) => {
    const name = internals.getName?.(options);
    const free = name === undefined ? undefined : internals.freeSockets?.[name];
    if (free === undefined || !free.includes(socket)) return;
    const state = SOCKETS.get(socket);
    if (state === undefined) return;
    state.idleSince = performance.now();
    const requestTrace = state.trace;
    state.trace = undefined;
    if (requestTrace !== undefined) {
      fire(requestTrace, "putIdleConn", { attempt: 0 });
    }
  });
}

function addrOf(address: string | undefined, port: number | undefined) {
  return { hostname: address ?? "", port: port ?? 0 } satisfies ConnAddr;
}

/**
 * Called from the agent's `addRequest`: resolves the request's trace (the
 * agent's, composed over the ambient context's) and fires its hooks.
 */
export function traceRequest(
  agent: object,
  req: ClientRequest,
  options: { host?: string | null; port?: number | string | null },
): void {
  const agentTrace = AGENT_TRACE.get(agent);
  const ctx = currentContext();
  const trace =
    (agentTrace === undefined
      ? contextTrace(ctx)
      : contextTrace(withTrace(ctx, agentTrace))) as HTTPTrace | undefined;
  if (trace === undefined) return;
  const r = req as ClientRequest & { protocol?: string };
  const port = options.port == null || options.port === ""
    ? (agent as { defaultPort?: number }).defaultPort ?? 80
    : Number(options.port);
  const host = String(options.host ?? "localhost").replace(/^\[(.*)\]$/, "$1");
  const hostPort = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  fire(trace, "getConn", {
    attempt: 0,
    hostPort,
    method: req.method,
    url: `${r.protocol ?? "http:"}//${hostPort}${req.path}`,
  });
  let gotConn = false;
  let wrote = false;
  const wroteRequest = (error?: Error) => {
    if (!gotConn || wrote) return;
    wrote = true;
    if (error === undefined) fire(trace, "wroteHeaders", { attempt: 0 });
    fire(
      trace,
      "wroteRequest",
      error === undefined ? { attempt: 0 } : {
        attempt: 0,
        error,
      },
    );
  };
  req.once("socket", (socket: Socket) => {
    gotConn = true;
    let state = SOCKETS.get(socket);
    const reused = state !== undefined;
    if (state === undefined) {
      state = { trace, idleSince: undefined };
      SOCKETS.set(socket, state);
    }
    const idleSince = state.idleSince;
    state.idleSince = undefined;
    state.trace = trace;
    const alpn = (socket as { alpnProtocol?: string | false }).alpnProtocol;
    fire(trace, "gotConn", {
      attempt: 0,
      reused,
      wasIdle: idleSince !== undefined,
      idleTime: idleSince === undefined ? 0 : performance.now() - idleSince,
      localAddr: addrOf(socket.localAddress, socket.localPort),
      remoteAddr: addrOf(socket.remoteAddress, socket.remotePort),
      alpnProtocol: typeof alpn === "string" ? alpn : null,
    });
  });
  req.once("finish", () => wroteRequest());
  // 'close' rather than 'error': a listener on 'error' would swallow it.
  req.once("close", () =>
    wroteRequest(
      (req as { errored?: Error | null }).errored ??
        new Error("the request was closed before it was written"),
    ));
  req.once(
    "response",
    () => fire(trace, "gotFirstResponseByte", { attempt: 0 }),
  );
}
