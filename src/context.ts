/**
 * A context, as in Go: an immutable chain of values plus an abort signal,
 * handed down explicitly (`options.context`) or held ambiently for the code
 * running inside {@linkcode runWithContext}.
 *
 * @module
 */

/**
 * A typed key for {@linkcode withValue}. Keys compare by identity, so two
 * keys with the same description never collide.
 *
 * @typeParam T The type of the value stored under the key.
 *
 * @example A typed key
 * ```ts
 * import {
 *   background,
 *   type ContextKey,
 *   createContextKey,
 *   withValue,
 * } from "@nettrace/nettrace";
 *
 * const UserId: ContextKey<number> = createContextKey<number>("user id");
 * const ctx = withValue(background, UserId, 7);
 * const id: number | undefined = ctx.value(UserId); // 7
 * ```
 */
export interface ContextKey<T> {
  /** What the key is for, shown when debugging. */
  readonly description: string;
  /** Never set: only carries the type parameter. */
  readonly __type?: T;
}

/**
 * Creates a key for values of type `T`.
 *
 * @typeParam T The type of the value stored under the key.
 * @param description What the key is for.
 * @returns A new key, distinct from every other.
 *
 * @example Storing a request id on a context
 * ```ts
 * import { background, createContextKey, withValue } from "@nettrace/nettrace";
 *
 * const RequestId = createContextKey<string>("request id");
 * const ctx = withValue(background, RequestId, "r-42");
 * console.log(ctx.value(RequestId)); // "r-42"
 * ```
 */
export function createContextKey<T>(description: string): ContextKey<T> {
  return Object.freeze({ description }) as ContextKey<T>;
}

/**
 * Values and an abort signal carried down a call chain.
 *
 * @example Reading values and the signal from a context
 * ```ts
 * import {
 *   background,
 *   type Context,
 *   createContextKey,
 *   withSignal,
 *   withValue,
 * } from "@nettrace/nettrace";
 *
 * const Tenant = createContextKey<string>("tenant");
 *
 * function tenantOf(ctx: Context): string {
 *   ctx.signal?.throwIfAborted();
 *   return ctx.value(Tenant) ?? "default";
 * }
 *
 * const controller = new AbortController();
 * const ctx = withSignal(
 *   withValue(background, Tenant, "acme"),
 *   controller.signal,
 * );
 * console.log(tenantOf(ctx)); // "acme"
 * ```
 */
export interface Context {
  /** Aborts when this context or any of its parents is cancelled. */
  readonly signal: AbortSignal | undefined;
  /**
   * Looks a key up, the newest value first.
   *
   * @param key The key.
   * @returns The value, or `undefined` when no context in the chain has it.
   */
  value<T>(key: ContextKey<T>): T | undefined;
}

class ValueContext implements Context {
  readonly #parent: Context;
  readonly #key: ContextKey<unknown>;
  readonly #value: unknown;
  readonly signal: AbortSignal | undefined;

  constructor(
    parent: Context,
    key: ContextKey<unknown>,
    value: unknown,
    signal: AbortSignal | undefined,
  ) {
    this.#parent = parent;
    this.#key = key;
    this.#value = value;
    this.signal = signal;
  }

  value<T>(key: ContextKey<T>): T | undefined {
    // Walk iteratively: chains can be long and recursion would be slower.
    // deno-lint-ignore no-this-alias
    let ctx: Context = this;
    while (ctx instanceof ValueContext) {
      if (ctx.#key === key) return ctx.#value as T;
      ctx = ctx.#parent;
    }
    return ctx.value(key);
  }
}

const NO_KEY: ContextKey<never> = createContextKey("nettrace.none");

/**
 * The empty root context: no values, never aborted.
 *
 * @example Starting a chain
 * ```ts
 * import { background } from "@nettrace/nettrace";
 *
 * console.log(background.signal); // undefined
 * ```
 */
export const background: Context = Object.freeze({
  signal: undefined,
  value: () => undefined,
});

/**
 * Returns a child of `parent` that also holds `value` under `key`.
 *
 * @typeParam T The value's type.
 * @param parent The context to extend.
 * @param key The key.
 * @param value The value.
 * @returns The new context; `parent` is unchanged.
 *
 * @example Adding a value
 * ```ts
 * import { background, createContextKey, withValue } from "@nettrace/nettrace";
 *
 * const Tenant = createContextKey<string>("tenant");
 * const ctx = withValue(background, Tenant, "acme");
 * ```
 */
export function withValue<T>(
  parent: Context,
  key: ContextKey<T>,
  value: T,
): Context {
  return new ValueContext(parent, key, value, parent.signal);
}

/**
 * Returns a child of `parent` that aborts when either `parent` or `signal`
 * aborts.
 *
 * @param parent The context to extend.
 * @param signal The extra signal.
 * @returns The new context.
 *
 * @example Giving a context a deadline
 * ```ts
 * import { background, withSignal } from "@nettrace/nettrace";
 *
 * const ctx = withSignal(background, AbortSignal.timeout(5_000));
 * ```
 */
export function withSignal(parent: Context, signal: AbortSignal): Context {
  const combined = parent.signal === undefined
    ? signal
    : AbortSignal.any([parent.signal, signal]);
  return new ValueContext(parent, NO_KEY, undefined, combined);
}

/**
 * Where the ambient context lives. `AsyncLocalStorage` from
 * `node:async_hooks` has this shape; the runtime adapters install one when
 * imported.
 *
 * @example AsyncLocalStorage is a ContextStorage
 * ```ts
 * import { AsyncLocalStorage } from "node:async_hooks";
 * import type { Context, ContextStorage } from "@nettrace/nettrace";
 *
 * const storage: ContextStorage = new AsyncLocalStorage<Context>();
 * ```
 */
export interface ContextStorage {
  /**
   * The context of the code running now.
   *
   * @returns The context, or `undefined` outside any `run`.
   */
  getStore(): Context | undefined;
  /**
   * Runs `fn` with `ctx` as the ambient context.
   *
   * @param ctx The context.
   * @param fn The function to run.
   * @returns What `fn` returns.
   */
  run<R>(ctx: Context, fn: () => R): R;
}

/**
 * The fallback storage: a plain variable, set for the synchronous part of
 * `fn` only. Code after an `await` inside `fn` no longer sees the context.
 */
function synchronousStorage(): ContextStorage {
  let current: Context | undefined;
  return {
    getStore: () => current,
    run<R>(ctx: Context, fn: () => R): R {
      const saved = current;
      current = ctx;
      try {
        return fn();
      } finally {
        current = saved;
      }
    },
  };
}

let storage: ContextStorage = synchronousStorage();
let installed = false;

/**
 * Whether an async-context storage has been installed with
 * {@linkcode setContextStorage} (the runtime adapters install one, once).
 *
 * @returns True when the ambient context survives `await`s.
 *
 * @example Checking before installing one
 * ```ts ignore
 * import { AsyncLocalStorage } from "node:async_hooks";
 * import { hasContextStorage, setContextStorage } from "@nettrace/nettrace";
 *
 * if (!hasContextStorage()) setContextStorage(new AsyncLocalStorage());
 * ```
 */
export function hasContextStorage(): boolean {
  return installed;
}

/**
 * Installs the storage that carries the ambient context across `await`s.
 * The runtime adapters call this with an `AsyncLocalStorage` when imported;
 * call it yourself only when using the core alone.
 *
 * @param store The storage, or `undefined` to go back to the synchronous
 * fallback.
 *
 * @example Using AsyncLocalStorage with the core alone
 * ```ts ignore
 * import { AsyncLocalStorage } from "node:async_hooks";
 * import { type Context, setContextStorage } from "@nettrace/nettrace";
 *
 * setContextStorage(new AsyncLocalStorage<Context>());
 * ```
 */
export function setContextStorage(store: ContextStorage | undefined): void {
  storage = store ?? synchronousStorage();
  installed = store !== undefined;
}

/**
 * Runs `fn` with `ctx` as the ambient context, so a {@linkcode dial} made
 * inside it without `options.context` — also deep inside a library — uses
 * `ctx` and its trace.
 *
 * Across `await`s this needs an async-context storage: importing any runtime
 * adapter installs one. With the core alone and no storage installed, only
 * the synchronous part of `fn` sees `ctx`.
 *
 * @typeParam R What `fn` returns.
 * @param ctx The context.
 * @param fn The function to run.
 * @returns What `fn` returns.
 *
 * @example Tracing dials made inside a library
 * ```ts
 * import { background, currentContext, runWithContext, withTrace } from "@nettrace/nettrace";
 *
 * const ctx = withTrace(background, { dnsStart: ({ host }) => console.log(host) });
 * runWithContext(ctx, () => {
 *   console.log(currentContext() === ctx); // true
 * });
 * ```
 */
export function runWithContext<R>(ctx: Context, fn: () => R): R {
  return storage.run(ctx, fn);
}

/**
 * The ambient context: the one given to the innermost
 * {@linkcode runWithContext}, or {@linkcode background}.
 *
 * @returns The ambient context.
 *
 * @example Outside any runWithContext
 * ```ts
 * import { background, currentContext } from "@nettrace/nettrace";
 *
 * console.log(currentContext() === background); // true
 * ```
 */
export function currentContext(): Context {
  return storage.getStore() ?? background;
}
