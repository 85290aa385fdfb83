/**
 * Living with what comes from outside a dial: values a resolver, a dialer
 * or a hook threw or returned, shown in messages and turned into `Error`s
 * without ever throwing again.
 *
 * @module
 */

import { DNSError } from "../errors.ts";
import type { Dialer } from "../types.ts";

/** Text for any thrown value, also one whose `toString` throws. */
export function describeValue(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return "a value that cannot be printed";
    }
  }
}

/**
 * What a resolver rejected with, as a `DNSError` about `name`: itself if it
 * is one, else one with its message and the value as `cause`.
 */
export function toDNSError(reason: unknown, name: string): DNSError {
  return reason instanceof DNSError
    ? reason
    : new DNSError(toError(reason).message, name, { cause: reason });
}

/** `value` if it is an `Error`, else an `Error` that describes it. */
export function toError(value: unknown): Error {
  return value instanceof Error
    ? value
    : new Error(describeValue(value), { cause: value });
}

/** How a wrong option value is shown in an error message. */
export function shown(value: unknown): string {
  return typeof value === "string"
    ? JSON.stringify(value)
    : typeof value === "bigint"
    ? `${value}n`
    : describeValue(value);
}

/** Whether `value` can be listened to like an `AbortSignal`. */
export function isSignal(value: unknown): value is AbortSignal {
  const signal = value as AbortSignal | null;
  return typeof signal === "object" && signal !== null &&
    typeof signal.aborted === "boolean" &&
    typeof signal.addEventListener === "function" &&
    typeof signal.removeEventListener === "function";
}

/** Closes a connection; a close that throws has nothing left to release. */
export function closeQuietly<C>(dialer: Dialer<C>, conn: C): void {
  try {
    dialer.close(conn);
  } catch {
    // Nothing to do: the connection is as closed as it gets.
  }
}

/**
 * Calls a resolver's or dialer's method: what it returns as a promise, a
 * synchronous throw as a rejection, so one handler sees both.
 */
export function settled<T>(call: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
}
