/**
 * The dispatch handler of one attempt: wraps undici fetch's own handler,
 * forwards every callback to it unchanged and tells the attempt's
 * {@linkcode AttemptTrace} what happened. It speaks the API the wrapped
 * handler speaks: undici 8's fetch hands the dispatcher a handler of the
 * new API (`onRequestStart`, `onResponseStart`, ...), undici 7's one of
 * the legacy API (`onConnect`, `onHeaders`, `onData`, `onComplete`,
 * `onError`, ...). Speaking the same one matters: undici wraps a handler
 * of the other API in an adapter of its own, and the `sendHeaders`
 * channel then names that adapter, not this handler.
 *
 * @module
 */

import {
  AttemptTrace,
  type HeaderRecord,
  type RetryAttempt,
} from "./attempt_trace.ts";
import type { SocketLike } from "./conn_records.ts";
import { type SendHeadersListener, watchHandler } from "./send_headers.ts";
import type { HTTPTrace } from "./http_trace.ts";

/** undici's dispatch handler, either API, structurally. */
export interface UndiciHandler {
  // The new API (undici 7+; what undici 8's fetch uses).
  onRequestStart?(controller: unknown, context: unknown): void;
  onRequestUpgrade?(
    controller: unknown,
    statusCode: number,
    headers: HeaderRecord,
    socket: unknown,
  ): void;
  onResponseStart?(
    controller: unknown,
    statusCode: number,
    headers: HeaderRecord,
    statusMessage?: string,
  ): void;
  onResponseData?(controller: unknown, chunk: Uint8Array): void;
  onResponseEnd?(controller: unknown, trailers: unknown): void;
  onResponseError?(controller: unknown, error: Error): void;
  // The legacy API (what undici 7's fetch uses).
  onConnect?(abort: (reason?: unknown) => void, context?: unknown): void;
  onHeaders?(
    statusCode: number,
    rawHeaders: RawHeaders,
    resume: () => void,
    statusText?: string,
  ): boolean;
  onData?(chunk: Uint8Array): boolean;
  onComplete?(trailers: unknown): void;
  onError?(error: Error): void;
  onUpgrade?(statusCode: number, rawHeaders: RawHeaders, socket: unknown): void;
  // Both APIs.
  onResponseStarted?(): void;
  onBodySent?(chunk: unknown): void;
  onRequestSent?(): void;
}

/** A raw header block of the legacy API: name, value, name, value, ... */
type RawHeaders = ReadonlyArray<
  { toString(encoding?: string): string } | ReadonlyArray<unknown>
>;

function latin1(value: unknown): string {
  return (value as { toString(encoding: string): string }).toString("latin1");
}

/** A legacy raw header block as the new API gives it (undici's rule). */
function parseRawHeaders(raw: RawHeaders): HeaderRecord {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = latin1(raw[i]).toLowerCase();
    const item = raw[i + 1];
    const values = Array.isArray(item) ? item.map(latin1) : [latin1(item)];
    const old = headers[key];
    const all = old === undefined ? values : [old, ...values].flat();
    headers[key] = all.length === 1 ? all[0] : all;
  }
  return headers;
}

/** Forwards the callbacks both APIs share. */
abstract class BaseAttemptHandler implements SendHeadersListener {
  protected readonly inner: UndiciHandler;
  protected readonly attempt: AttemptTrace;

  constructor(inner: UndiciHandler, attempt: AttemptTrace) {
    this.inner = inner;
    this.attempt = attempt;
    watchHandler(this);
  }

  /** From the `sendHeaders` channel. */
  sentHeaders(header: string, socket: SocketLike): void {
    this.attempt.sentHeaders(header, socket);
  }

  onBodySent(chunk: unknown): void {
    this.attempt.bodySent();
    this.inner.onBodySent?.(chunk);
  }

  onRequestSent(): void {
    this.attempt.requestSent();
    this.inner.onRequestSent?.();
  }

  onResponseStarted(): void {
    this.attempt.responseStarted();
    this.inner.onResponseStarted?.();
  }
}

/** For a handler of the new API (undici 8's fetch). */
class NewApiHandler extends BaseAttemptHandler {
  onRequestStart(controller: unknown, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }

  onResponseStart(
    controller: unknown,
    statusCode: number,
    headers: HeaderRecord,
    statusMessage?: string,
  ): void {
    this.attempt.responseHead(statusCode, headers);
    this.inner.onResponseStart?.(
      controller,
      statusCode,
      headers,
      statusMessage,
    );
  }

  onResponseData(controller: unknown, chunk: Uint8Array): void {
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: unknown, trailers: unknown): void {
    this.attempt.responseEnd();
    this.inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: unknown, error: Error): void {
    if (this.attempt.responseError(error)) return;
    this.inner.onResponseError?.(controller, error);
  }

  onRequestUpgrade(
    controller: unknown,
    statusCode: number,
    headers: HeaderRecord,
    socket: unknown,
  ): void {
    this.attempt.upgraded();
    this.inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }
}

/** For a handler of the legacy API (undici 7's fetch). */
class LegacyApiHandler extends BaseAttemptHandler {
  onConnect(abort: (reason?: unknown) => void, context?: unknown): void {
    this.inner.onConnect?.(abort, context);
  }

  onHeaders(
    statusCode: number,
    rawHeaders: RawHeaders,
    resume: () => void,
    statusText?: string,
  ): boolean {
    this.attempt.responseHead(statusCode, parseRawHeaders(rawHeaders));
    return this.inner.onHeaders?.(statusCode, rawHeaders, resume, statusText) ??
      true;
  }

  onData(chunk: Uint8Array): boolean {
    return this.inner.onData?.(chunk) ?? true;
  }

  onComplete(trailers: unknown): void {
    this.attempt.responseEnd();
    this.inner.onComplete?.(trailers);
  }

  onError(error: Error): void {
    if (this.attempt.responseError(error)) return;
    if (this.inner.onError === undefined) throw error;
    this.inner.onError(error);
  }

  onUpgrade(statusCode: number, rawHeaders: RawHeaders, socket: unknown): void {
    this.attempt.upgraded();
    this.inner.onUpgrade?.(statusCode, rawHeaders, socket);
  }
}

/**
 * The handler of one attempt around undici fetch's `inner` (see the
 * module doc); `retry` decides whether a failed attempt is retried.
 */
export function attemptHandler(
  inner: UndiciHandler,
  trace: HTTPTrace,
  attempt: number,
  expectContinue: boolean,
  retry?: RetryAttempt,
): UndiciHandler {
  const hooks = new AttemptTrace(trace, attempt, expectContinue, retry);
  // undici's own test (WrapHandler.wrap, UnwrapHandler.unwrap).
  return typeof inner.onRequestStart === "function"
    ? new NewApiHandler(inner, hooks)
    : new LegacyApiHandler(inner, hooks);
}
