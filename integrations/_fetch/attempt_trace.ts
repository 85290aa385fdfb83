/**
 * One attempt of a traced request: fires the `HTTPTrace` hooks from what
 * undici tells the attempt's dispatch handler (`attempt_handler.ts`, in
 * either of undici's handler APIs) and, for the connection, from the
 * `sendHeaders` channel. The firing rules are in `http_trace.ts` and the
 * README.
 *
 * @module
 */

import { callHook, type HookName } from "../../src/trace.ts";
import {
  acquireConn,
  type ConnRecord,
  releaseConn,
  type SocketLike,
} from "./conn_records.ts";
import type { HTTPHookName, HTTPTrace } from "./http_trace.ts";

/** A header block as undici's new handler API gives it. */
export type HeaderRecord = Record<string, string | string[] | undefined>;

type Info<K extends HTTPHookName> = Parameters<NonNullable<HTTPTrace[K]>>[0];

/** Fires one HTTP hook, isolated like every hook (also `HttpAgent`'s). */
export function fire<K extends HTTPHookName>(
  trace: HTTPTrace,
  hook: K,
  info: Info<K>,
): void {
  if (trace[hook] !== undefined) {
    callHook(trace, hook as unknown as HookName, info as never);
  }
}

function toHeaders(raw: HeaderRecord): Headers {
  const headers = new Headers();
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      headers.append(key, v);
    }
  }
  return headers;
}

function headerValue(raw: HeaderRecord, name: string): string {
  const value = raw[name];
  return Array.isArray(value) ? value.join(",") : value ?? "";
}

/** Fires `wroteHeaderField` per field of undici's header block. */
function fireHeaderFields(
  trace: HTTPTrace,
  header: string,
  attempt: number,
): void {
  let key = "";
  let values: string[] = [];
  for (const line of header.split("\r\n")) {
    if (line === "") continue;
    const colon = line.indexOf(": ", line.startsWith(":") ? 1 : 0);
    if (colon <= 0) continue; // the request line of HTTP/1.1
    const name = line.slice(0, colon);
    if (name !== key && values.length > 0) {
      fire(trace, "wroteHeaderField", { attempt, key, value: values });
      values = [];
    }
    key = name;
    values.push(line.slice(colon + 2));
  }
  if (values.length > 0) {
    fire(trace, "wroteHeaderField", { attempt, key, value: values });
  }
}

/** Errors that mean the server closed (or reset) the connection. */
const CONNECTION_LOST = new Set([
  "UND_ERR_SOCKET",
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
]);

/**
 * Decides whether a failed attempt is retried: returns true when it has
 * started the next attempt (then the failure is not passed on).
 */
export type RetryAttempt = (error: Error) => boolean;

/**
 * The hooks of one attempt (see the module doc); the handler calls one
 * method per event, whichever API undici speaks.
 */
export class AttemptTrace {
  readonly #trace: HTTPTrace;
  readonly #attempt: number;
  readonly #expectContinue: boolean;
  readonly #retry: RetryAttempt | undefined;
  #record: ConnRecord | undefined;
  #reused = false;
  #h2 = false;
  #closeAfter = false;
  #waiting100 = false;
  #wrote = false;
  #firstByte = false;
  #released = false;

  constructor(
    trace: HTTPTrace,
    attempt: number,
    expectContinue: boolean,
    retry?: RetryAttempt,
  ) {
    this.#trace = trace;
    this.#attempt = attempt;
    this.#expectContinue = expectContinue;
    this.#retry = retry;
  }

  /** From the `sendHeaders` channel: the connection is this attempt's. */
  sentHeaders(header: string, socket: SocketLike): void {
    if (this.#record !== undefined) return;
    const trace = this.#trace;
    const attempt = this.#attempt;
    const { info, record } = acquireConn(socket, attempt, performance.now());
    this.#record = record;
    this.#reused = info.reused;
    this.#h2 = info.alpnProtocol === "h2";
    this.#closeAfter = !this.#h2 && header.includes("\r\nconnection: close");
    fire(trace, "gotConn", info);
    if (trace.wroteHeaderField !== undefined) {
      fireHeaderFields(trace, header, attempt);
    }
    fire(trace, "wroteHeaders", { attempt });
    // undici waits for 100 Continue only on HTTP/2 (see the README).
    if (this.#expectContinue && this.#h2) {
      this.#waiting100 = true;
      fire(trace, "wait100Continue", { attempt });
    }
  }

  /** undici wrote (part of) the request body. */
  bodySent(): void {
    this.#continued();
  }

  /** undici wrote the whole request. */
  requestSent(): void {
    this.#continued();
    this.#wroteRequest(undefined);
  }

  /** The first byte of the response arrived. */
  responseStarted(): void {
    this.#gotFirstByte();
  }

  /** A response head arrived (a 1xx or the final one). */
  responseHead(statusCode: number, headers: HeaderRecord): void {
    this.#gotFirstByte();
    if (statusCode < 200) {
      const attempt = this.#attempt;
      if (statusCode === 100) {
        this.#waiting100 = false;
        fire(this.#trace, "got100Continue", { attempt });
      }
      if (this.#trace.got1xxResponse !== undefined) {
        const status = statusCode;
        fire(this.#trace, "got1xxResponse", {
          attempt,
          status,
          headers: toHeaders(headers),
        });
      }
    } else if (/\bclose\b/i.test(headerValue(headers, "connection"))) {
      this.#closeAfter = true;
    }
  }

  /** The response is complete. */
  responseEnd(): void {
    if (this.#release() && !this.#h2 && !this.#closeAfter) {
      fire(this.#trace, "putIdleConn", { attempt: this.#attempt });
    }
  }

  /**
   * The attempt failed; true when it is retried (then the handler does not
   * pass the failure on).
   */
  responseError(error: Error): boolean {
    this.#wroteRequest(error);
    this.#release();
    // Go's rule (persistConn.shouldRetryRequest): a reused connection the
    // server closed before any byte of the response came back.
    return this.#retry !== undefined && this.#reused && !this.#firstByte &&
      CONNECTION_LOST.has((error as { code?: string }).code ?? "") &&
      this.#retry(error);
  }

  /** The connection was upgraded (it leaves undici's pool). */
  upgraded(): void {
    this.#release();
  }

  /**
   * HTTP/2 writes the body only once 100 Continue arrived (undici does not
   * pass that 100 to the handler; as in Go, it counts as a 1xx too).
   */
  #continued(): void {
    if (!this.#waiting100) return;
    this.#waiting100 = false;
    // The 100 is the first byte of the response (undici 7 reports none
    // before the final response's head).
    this.#gotFirstByte();
    const attempt = this.#attempt;
    fire(this.#trace, "got100Continue", { attempt });
    if (this.#trace.got1xxResponse !== undefined) {
      const headers = new Headers();
      fire(this.#trace, "got1xxResponse", { attempt, status: 100, headers });
    }
  }

  #gotFirstByte(): void {
    if (this.#firstByte) return;
    this.#firstByte = true;
    fire(this.#trace, "gotFirstResponseByte", { attempt: this.#attempt });
  }

  /** Exactly once per attempt that got a connection. */
  #wroteRequest(error: Error | undefined): void {
    if (this.#wrote || this.#record === undefined) return;
    this.#wrote = true;
    const attempt = this.#attempt;
    fire(
      this.#trace,
      "wroteRequest",
      error === undefined ? { attempt } : { attempt, error },
    );
  }

  /** The attempt is done with its connection; true the first time. */
  #release(): boolean {
    if (this.#released || this.#record === undefined) return false;
    this.#released = true;
    releaseConn(this.#record, performance.now());
    return true;
  }
}
