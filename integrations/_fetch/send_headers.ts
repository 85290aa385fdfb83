/**
 * The one undici diagnostics channel the fetch integration listens on:
 * `undici:client:sendHeaders`, the only place undici tells which
 * connection a request was given (and the header block it writes). The
 * subscription is shared by every `createFetch` instance that traces and
 * dropped when the last one closes.
 *
 * @module
 */

import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { SocketLike } from "./conn_records.ts";

/** What is told a request's headers are being written on `socket`. */
export interface SendHeadersListener {
  sentHeaders(header: string, socket: SocketLike): void;
}

interface SendHeadersMessage {
  request: object;
  headers: string;
  socket: SocketLike;
}

const CHANNEL = "undici:client:sendHeaders";

let users = 0;
/** undici's `kHandler` symbol on its `Request`, found on first use. */
let handlerKey: symbol | undefined;

function findHandler(request: object): unknown {
  if (handlerKey === undefined) {
    handlerKey = Object.getOwnPropertySymbols(request).find((s) =>
      s.description === "handler"
    );
    if (handlerKey === undefined) return undefined;
  }
  return (request as Record<symbol, unknown>)[handlerKey];
}

function onSendHeaders(message: unknown): void {
  const { request, headers, socket } = message as SendHeadersMessage;
  const handler = findHandler(request);
  if (handler !== undefined && handlers.has(handler as object)) {
    (handler as SendHeadersListener).sentHeaders(headers, socket);
  }
}

/** Handlers of requests being traced (only these are told). */
const handlers = new WeakSet<object>();

/** Marks `handler` as one to tell when its request's headers are sent. */
export function watchHandler(handler: SendHeadersListener): void {
  handlers.add(handler);
}

/** One more user of the channel: subscribes on the first. */
export function retainSendHeaders(): void {
  if (users++ === 0) subscribe(CHANNEL, onSendHeaders);
}

/** One user fewer: unsubscribes after the last. */
export function releaseSendHeaders(): void {
  if (users > 0 && --users === 0) unsubscribe(CHANNEL, onSendHeaders);
}
