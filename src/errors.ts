/**
 * Error types, with Go's `net` package texts so users can grep for them.
 *
 * @module
 */

/**
 * An address that cannot be parsed or used, like Go's `net.AddrError`.
 *
 * The message is Go's: `address example.com: missing port in address`.
 *
 * @example Catching a malformed address
 * ```ts
 * import { AddrError, splitHostPort } from "@nettrace/nettrace";
 *
 * try {
 *   splitHostPort("example.com");
 * } catch (err) {
 *   if (err instanceof AddrError) console.log(err.addr, err.reason);
 * }
 * ```
 */
export class AddrError extends Error {
  /** The address as given. */
  readonly addr: string;
  /** What is wrong with it, Go's text (`"missing port in address"`). */
  readonly reason: string;

  /**
   * Creates an address error.
   *
   * @param reason What is wrong, Go's text.
   * @param addr The address as given.
   */
  constructor(reason: string, addr: string) {
    super(addr === "" ? reason : `address ${addr}: ${reason}`);
    this.name = "AddrError";
    this.addr = addr;
    this.reason = reason;
  }
}

/**
 * Options for {@linkcode DNSError}.
 *
 * @example A timed-out lookup
 * ```ts
 * import { DNSError, type DNSErrorOptions } from "@nettrace/nettrace";
 *
 * const options: DNSErrorOptions = {
 *   server: "127.0.0.1:53",
 *   isTimeout: true,
 *   isTemporary: true,
 * };
 * const err = new DNSError("i/o timeout", "slow.test", options);
 * console.log(err.message); // "lookup slow.test on 127.0.0.1:53: i/o timeout"
 * ```
 */
export interface DNSErrorOptions {
  /**
   * The name server asked, as `host:port`, if known.
   * @default {undefined}
   */
  server?: string;
  /**
   * The name does not exist (NXDOMAIN or no address at all).
   * @default {false}
   */
  isNotFound?: boolean;
  /**
   * The lookup timed out.
   * @default {false}
   */
  isTimeout?: boolean;
  /**
   * The failure may go away if tried again (SERVFAIL, a timeout).
   * @default {false}
   */
  isTemporary?: boolean;
  /**
   * The underlying error.
   * @default {undefined}
   */
  cause?: unknown;
}

/**
 * A failed lookup, like Go's `net.DNSError`.
 *
 * The message is Go's: `lookup nosuch.test: no such host`, or
 * `lookup nosuch.test on 127.0.0.1:53: no such host` when the server is known.
 *
 * @example Telling NXDOMAIN from other failures
 * ```ts
 * import { DNSError } from "@nettrace/nettrace";
 *
 * const err = new DNSError("no such host", "nosuch.test", { isNotFound: true });
 * console.log(err.message); // "lookup nosuch.test: no such host"
 * console.log(err.isNotFound); // true
 * console.log(err.code); // "ENOTFOUND", as Node's dns.lookup says it
 * ```
 */
export class DNSError extends Error {
  /** The host name looked up. */
  readonly host: string;
  /** What went wrong, Go's text (`"no such host"`). */
  readonly reason: string;
  /** The name server asked, if known. */
  readonly server: string | undefined;
  /** The name does not exist. */
  readonly isNotFound: boolean;
  /** The lookup timed out. */
  readonly isTimeout: boolean;
  /** The failure may go away if tried again. */
  readonly isTemporary: boolean;
  /**
   * The code Node's `dns.lookup` gives such a failure: `"ENOTFOUND"` (the
   * name does not exist), `"EAI_AGAIN"` (a timeout or a temporary failure),
   * `"ABORT_ERR"` (cancelled), else `"EAI_FAIL"`.
   */
  readonly code: string;
  /** `"getaddrinfo"`, as on Node's lookup errors. */
  readonly syscall: string;

  /**
   * Creates a lookup error.
   *
   * @param reason What went wrong, Go's text.
   * @param host The host name looked up.
   * @param options The server and the flags.
   */
  constructor(reason: string, host: string, options: DNSErrorOptions = {}) {
    super(
      `lookup ${host}${
        options.server === undefined ? "" : ` on ${options.server}`
      }: ${reason}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "DNSError";
    this.host = host;
    this.reason = reason;
    this.server = options.server;
    this.isNotFound = options.isNotFound ?? false;
    this.isTimeout = options.isTimeout ?? false;
    this.isTemporary = options.isTemporary ?? this.isTimeout;
    this.code = this.isNotFound
      ? "ENOTFOUND"
      : reason === CANCELED
      ? "ABORT_ERR"
      : this.isTimeout || this.isTemporary
      ? "EAI_AGAIN"
      : "EAI_FAIL";
    this.syscall = "getaddrinfo";
  }
}

/**
 * A failed system call, with the OS error code and Go's text for it:
 * `connect: connection refused`. Runtime adapters turn their native errors
 * into this.
 *
 * @example Wrapping a native error
 * ```ts
 * import { SyscallError } from "@nettrace/nettrace";
 *
 * const err = new SyscallError("connect", "ECONNREFUSED");
 * console.log(err.message); // "connect: connection refused"
 * ```
 */
export class SyscallError extends Error {
  /** The call that failed (`"connect"`). */
  readonly syscall: string;
  /** The errno name (`"ECONNREFUSED"`), or `"UNKNOWN"`. */
  readonly code: string;

  /**
   * Creates a system call error.
   *
   * @param syscall The call that failed.
   * @param code The errno name; its text follows Go's (Linux `strerror`).
   * @param options The native error, as `cause`.
   */
  constructor(syscall: string, code: string, options?: { cause?: unknown }) {
    super(`${syscall}: ${errnoText(code, options?.cause)}`, options);
    this.name = "SyscallError";
    this.syscall = syscall;
    this.code = code;
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  ECONNABORTED: "software caused connection abort",
  ETIMEDOUT: "connection timed out",
  ENETUNREACH: "network is unreachable",
  EHOSTUNREACH: "no route to host",
  ENETDOWN: "network is down",
  EHOSTDOWN: "host is down",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EADDRNOTAVAIL: "cannot assign requested address",
  EADDRINUSE: "address already in use",
  EAFNOSUPPORT: "address family not supported by protocol",
  EINVAL: "invalid argument",
  EMFILE: "too many open files",
  ENOBUFS: "no buffer space available",
  EPIPE: "broken pipe",
};

function errnoText(code: string, cause: unknown): string {
  const text = ERRNO_TEXT[code];
  if (text !== undefined) return text;
  if (cause instanceof Error && cause.message !== "") return cause.message;
  return code.toLowerCase();
}

/**
 * Why a TLS handshake failed, as {@linkcode TLSError.kind} tells it.
 *
 * @example Telling a bad certificate from the rest
 * ```ts
 * import type { TLSErrorKind } from "@nettrace/nettrace";
 *
 * function isCertificateProblem(kind: TLSErrorKind): boolean {
 *   return kind === "hostname" || kind === "untrusted" || kind === "expired";
 * }
 * ```
 */
export type TLSErrorKind =
  /** The certificate is not valid for the server name. */
  | "hostname"
  /** The certificate chain does not lead to a trusted root. */
  | "untrusted"
  /** The certificate has expired or is not valid yet. */
  | "expired"
  /** The server accepted none of the offered ALPN protocols. */
  | "alpn"
  /** Anything else: a bad record, an alert, the peer closing mid-handshake. */
  | "handshake";

/**
 * Options for {@linkcode TLSError}.
 *
 * @example A name mismatch with the runtime's own error kept
 * ```ts
 * import type { TLSErrorOptions } from "@nettrace/nettrace";
 *
 * const options: TLSErrorOptions = {
 *   kind: "hostname",
 *   cause: new Error("Hostname/IP does not match certificate's altnames"),
 * };
 * ```
 */
export interface TLSErrorOptions {
  /**
   * What went wrong.
   * @default {"handshake"}
   */
  kind?: TLSErrorKind;
  /**
   * The runtime's own error.
   * @default {undefined}
   */
  cause?: unknown;
}

/**
 * A failed TLS handshake. The message reads like Go's
 * (`tls: failed to verify certificate: x509: certificate signed by unknown
 * authority`); the runtime's own error is `cause`. A dial wraps it in an
 * {@linkcode OpError} inside its {@linkcode DialError}.
 *
 * @example Finding the TLS error of a failed dial
 * ```ts
 * import { DialError, OpError, TLSError } from "@nettrace/nettrace";
 *
 * function tlsErrorOf(err: unknown): TLSError | undefined {
 *   if (!(err instanceof DialError)) return undefined;
 *   for (const e of err.errors) {
 *     if (e instanceof OpError && e.cause instanceof TLSError) return e.cause;
 *   }
 *   return undefined;
 * }
 * ```
 */
export class TLSError extends Error {
  /** What went wrong. */
  readonly kind: TLSErrorKind;

  /**
   * Creates a TLS error.
   *
   * @param message The text, starting `tls: ` as Go's do.
   * @param options The kind and the runtime's error.
   */
  constructor(message: string, options: TLSErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "TLSError";
    this.kind = options.kind ?? "handshake";
  }
}

/**
 * Options for {@linkcode OpError}.
 *
 * @example A refused connect
 * ```ts
 * import {
 *   OpError,
 *   type OpErrorOptions,
 *   SyscallError,
 * } from "@nettrace/nettrace";
 *
 * const options: OpErrorOptions = { op: "dial", addr: "127.0.0.1:1" };
 * const cause = new SyscallError("connect", "ECONNREFUSED");
 * const err = new OpError("tcp4", cause, options);
 * console.log(err.message); // "dial tcp4 127.0.0.1:1: connect: connection refused"
 * ```
 */
export interface OpErrorOptions {
  /**
   * The operation (`"dial"`).
   * @default {"dial"}
   */
  op?: string;
  /**
   * The address, `joinHostPort` form; absent for a failed lookup.
   * @default {undefined}
   */
  addr?: string;
}

/**
 * One failed operation, like Go's `net.OpError`:
 * `dial tcp [::1]:1: connect: connection refused`, or for a lookup
 * `dial tcp: lookup nosuch.test: no such host`. The underlying error is
 * `cause`.
 *
 * @example Reading an attempt's error
 * ```ts
 * import { OpError, SyscallError } from "@nettrace/nettrace";
 *
 * const err = new OpError("tcp", new SyscallError("connect", "ECONNREFUSED"), {
 *   addr: "[::1]:1",
 * });
 * console.log(err.message); // "dial tcp [::1]:1: connect: connection refused"
 * ```
 */
export class OpError extends Error {
  /** The operation (`"dial"`). */
  readonly op: string;
  /** The network as the user gave it. */
  readonly net: string;
  /** The address, if there was one. */
  readonly addr: string | undefined;
  /** The underlying error: a `SyscallError`, a `DNSError`, an `AddrError`… */
  declare readonly cause: Error;
  /**
   * The cause's Node-style code (`"ECONNREFUSED"`, `"ENOTFOUND"`, a TLS
   * error's code…), or `undefined` when it has none.
   */
  readonly code: string | undefined;
  /** The cause's system call (`"connect"`, `"getaddrinfo"`), if any. */
  readonly syscall: string | undefined;

  /**
   * Creates an operation error.
   *
   * @param net The network as the user gave it.
   * @param cause The underlying error.
   * @param options The operation and address.
   */
  constructor(net: string, cause: Error, options: OpErrorOptions = {}) {
    const op = options.op ?? "dial";
    super(
      `${op} ${net}${
        options.addr === undefined ? "" : ` ${options.addr}`
      }: ${cause.message}`,
      { cause },
    );
    this.name = "OpError";
    this.op = op;
    this.net = net;
    this.addr = options.addr;
    this.code = errorCode(cause);
    this.syscall = errorSyscall(cause);
  }
}

/**
 * A dial that failed: every attempt failed, or the lookup did.
 *
 * `errors` holds one {@linkcode OpError} per attempt, in the order the
 * attempts started (or the lookup's errors when no attempt was made); the
 * message is the first of them, as Go reports it.
 *
 * `code` and `syscall` are chosen as Node chooses them for the
 * `AggregateError` of a `net.connect` whose every address failed: the
 * first error's (`"ECONNREFUSED"` / `"connect"`, `"ENOTFOUND"` /
 * `"getaddrinfo"`…), or when the first has none the first error that has
 * one. So clients that look at `err.code` (retry policies, error texts) read
 * it as they read Node's own connect errors.
 *
 * @example Listing every attempt's error
 * ```ts
 * import { DialError } from "@nettrace/nettrace";
 *
 * function explain(err: unknown): string[] {
 *   return err instanceof DialError ? err.errors.map((e) => e.message) : [];
 * }
 * ```
 *
 * @example Retrying on a refused connect, as Node code does
 * ```ts
 * import { DialError, OpError, SyscallError } from "@nettrace/nettrace";
 *
 * const err = new DialError([
 *   new OpError("tcp", new SyscallError("connect", "ECONNREFUSED"), {
 *     addr: "127.0.0.1:1",
 *   }),
 * ]);
 * console.log(err.code, err.syscall); // "ECONNREFUSED" "connect"
 * ```
 */
export class DialError extends AggregateError {
  /** The errors, first error first: one `OpError` per attempt. */
  declare readonly errors: Error[];
  /**
   * The Node-style code: the first error's, as Node's `AggregateError`
   * has it (`"ECONNREFUSED"`, `"EHOSTUNREACH"`, `"ENETUNREACH"`,
   * `"ETIMEDOUT"`, `"ENOTFOUND"`, `"EAI_AGAIN"`, `"ABORT_ERR"`…).
   */
  readonly code: string | undefined;
  /** The system call of the error the code came from, if any. */
  readonly syscall: string | undefined;

  /**
   * Creates a dial error.
   *
   * @param errors The errors, first first; at least one.
   * @param message Defaults to the first error's message.
   */
  constructor(errors: Error[], message?: string) {
    super(errors, message ?? errors[0]?.message ?? "dial failed");
    this.name = "DialError";
    let code: string | undefined;
    let syscall: string | undefined;
    for (const e of errors) {
      code = errorCode(e);
      if (code !== undefined) {
        syscall = errorSyscall(e);
        break;
      }
    }
    this.code = code;
    this.syscall = syscall;
  }
}

const CODE = /^[A-Z][A-Z0-9_]*$/;

/**
 * The Node-style code of an error: its own `code` when that is a name
 * (`"ECONNREFUSED"`; DOMException's legacy numbers are not), `ABORT_ERR` /
 * `ETIMEDOUT` for an abort / a timeout, else its cause's.
 */
function errorCode(err: unknown, depth = 0): string | undefined {
  if (typeof err !== "object" || err === null || depth > 4) return undefined;
  const { code, name, cause } = err as {
    code?: unknown;
    name?: unknown;
    cause?: unknown;
  };
  if (typeof code === "string" && CODE.test(code)) return code;
  if (name === "AbortError") return "ABORT_ERR";
  if (name === "TimeoutError") return "ETIMEDOUT";
  return errorCode(cause, depth + 1);
}

/** The `syscall` of an error or of its cause, if any. */
function errorSyscall(err: unknown, depth = 0): string | undefined {
  if (typeof err !== "object" || err === null || depth > 4) return undefined;
  const { syscall, cause } = err as { syscall?: unknown; cause?: unknown };
  if (typeof syscall === "string") return syscall;
  return errorSyscall(cause, depth + 1);
}

/**
 * The text Go uses for a cancelled operation.
 *
 * @internal
 */
export const CANCELED = "operation was canceled";
