/**
 * Turns each runtime's native socket errors into errno names (`ECONNREFUSED`)
 * and {@linkcode SyscallError}s with Go's texts. Shared by the three dialers.
 *
 * The native shapes, as measured on Linux (Deno 2.9, Bun 1.4, Node 24):
 * - Node: `err.code` is the errno name, `err.errno` the negated number
 *   (`-111`), `err.syscall` `"connect"`.
 * - Bun: the same fields as Node (`code: "ECONNREFUSED"`, `errno: -111`,
 *   `syscall: "connect"`); the message is only `"Failed to connect"`.
 * - Deno: a `Deno.errors.*` class (`ConnectionRefused`), a `code` field with
 *   the errno name, and a message ending in `(os error 111)`.
 *
 * The code field comes first; the Deno class name and then the OS error
 * number in the message (read with the platform's own errno table) are the
 * fallbacks for runtimes or errors that lack it.
 *
 * @module
 */

import { SyscallError } from "../src/errors.ts";

/** Deno's error class names for the socket errors, by errno name. */
const DENO_ERROR_CLASS: Record<string, string> = {
  ConnectionRefused: "ECONNREFUSED",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNABORTED",
  NotConnected: "ENOTCONN",
  AddrInUse: "EADDRINUSE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  BrokenPipe: "EPIPE",
  TimedOut: "ETIMEDOUT",
  NetworkUnreachable: "ENETUNREACH",
  HostUnreachable: "EHOSTUNREACH",
};

/** errno numbers of the socket errors on Linux. */
const LINUX: Record<number, string> = {
  1: "EPERM",
  4: "EINTR",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  22: "EINVAL",
  24: "EMFILE",
  32: "EPIPE",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  100: "ENETDOWN",
  101: "ENETUNREACH",
  102: "ENETRESET",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  105: "ENOBUFS",
  107: "ENOTCONN",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  112: "EHOSTDOWN",
  113: "EHOSTUNREACH",
};

/** errno numbers of the socket errors on macOS and the BSDs. */
const DARWIN: Record<number, string> = {
  1: "EPERM",
  4: "EINTR",
  13: "EACCES",
  22: "EINVAL",
  24: "EMFILE",
  32: "EPIPE",
  35: "EAGAIN",
  47: "EAFNOSUPPORT",
  48: "EADDRINUSE",
  49: "EADDRNOTAVAIL",
  50: "ENETDOWN",
  51: "ENETUNREACH",
  52: "ENETRESET",
  53: "ECONNABORTED",
  54: "ECONNRESET",
  55: "ENOBUFS",
  57: "ENOTCONN",
  60: "ETIMEDOUT",
  61: "ECONNREFUSED",
  64: "EHOSTDOWN",
  65: "EHOSTUNREACH",
};

/** Winsock error numbers (Deno on Windows reports these). */
const WINDOWS: Record<number, string> = {
  10013: "EACCES",
  10024: "EMFILE",
  10047: "EAFNOSUPPORT",
  10048: "EADDRINUSE",
  10049: "EADDRNOTAVAIL",
  10050: "ENETDOWN",
  10051: "ENETUNREACH",
  10052: "ENETRESET",
  10053: "ECONNABORTED",
  10054: "ECONNRESET",
  10055: "ENOBUFS",
  10057: "ENOTCONN",
  10060: "ETIMEDOUT",
  10061: "ECONNREFUSED",
  10064: "EHOSTDOWN",
  10065: "EHOSTUNREACH",
};

/**
 * The errno name for an OS error number.
 *
 * @param errno The number; a negated one (Node's and Bun's `errno`) is
 *   accepted.
 * @param platform `"linux"`, `"darwin"`, `"windows"`/`"win32"`, or another
 *   `process.platform` / `Deno.build.os` value (BSDs use the macOS table).
 * @returns The name, or `undefined` when the number is not a socket error
 *   this module knows.
 */
export function errnoName(errno: number, platform: string): string | undefined {
  const n = Math.abs(errno);
  if (n >= 10000) return WINDOWS[n];
  if (platform === "linux" || platform === "android") return LINUX[n];
  if (platform === "windows" || platform === "win32") return undefined;
  return DARWIN[n];
}

const ERRNO_NAME = /^E[A-Z0-9]+$/;
const OS_ERROR = /\(os error (\d+)\)/;

/**
 * The errno name of a native socket error, whichever runtime threw it.
 *
 * @param err What the runtime threw.
 * @param platform The OS, for reading bare error numbers.
 * @returns The name (`"ECONNREFUSED"`), or `undefined` when `err` carries
 *   none (a `TypeError`, Deno's `NotCapable`…).
 */
export function errnoCode(err: unknown, platform: string): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const { code, errno, name, message } = err as {
    code?: unknown;
    errno?: unknown;
    name?: unknown;
    message?: unknown;
  };
  if (typeof code === "string" && ERRNO_NAME.test(code)) return code;
  if (typeof name === "string" && Object.hasOwn(DENO_ERROR_CLASS, name)) {
    return DENO_ERROR_CLASS[name];
  }
  if (typeof errno === "number" && Number.isInteger(errno) && errno !== 0) {
    const found = errnoName(errno, platform);
    if (found !== undefined) return found;
  }
  if (typeof message === "string") {
    const m = OS_ERROR.exec(message);
    if (m !== null) return errnoName(Number(m[1]), platform);
  }
  return undefined;
}

/**
 * Wraps a failed connect in a {@linkcode SyscallError}: `connect: connection
 * refused`, with the errno name as `code` and the native error as `cause`.
 *
 * Errors that carry no errno (bad arguments, a missing permission) are
 * returned as they are: they are not the network's answer.
 *
 * @param err What the runtime threw.
 * @param platform The OS, for reading bare error numbers.
 * @returns The error to reject the connect with.
 */
export function connectError(err: unknown, platform: string): Error {
  const code = errnoCode(err, platform);
  if (code !== undefined) {
    return new SyscallError("connect", code, { cause: err });
  }
  if (err instanceof Error) return err;
  return new SyscallError("connect", "UNKNOWN", { cause: err });
}
