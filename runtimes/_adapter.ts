/**
 * What the three runtime entry files (`deno.ts`, `bun.ts`, `node.ts`)
 * share: the ambient-context storage they install and the bound `dial` they
 * export, built from a runtime's resolver, dialer and source-address probe
 * (Hono's shape: the core takes injected functions, the adapter only says
 * which). Not part of the public API.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import {
  type Context,
  type CoreDialOptions,
  dial as coreDial,
  type Dialer,
  type DialOptions,
  hasContextStorage,
  type Resolver,
  setContextStorage,
  type SourceAddressProbe,
} from "../mod.ts";
import { isTraceOnly, markPlain } from "../src/_dial/options.ts";
import { dialTraced } from "../src/dial.ts";
import { withDiagnostics } from "./_diagnostics.ts";
import { probeSourceAddress } from "./_source_probe.ts";

// Importing any adapter installs the storage, once per process, so that
// `runWithContext(ctx, fn)` reaches dials made anywhere inside `fn`.
if (!hasContextStorage()) setContextStorage(new AsyncLocalStorage<Context>());

/**
 * What one runtime brings to {@linkcode bindDial}.
 *
 * @example Deno's parts
 * ```ts ignore
 * import { bindDial, type RuntimeParts } from "./_adapter.ts";
 *
 * const parts: RuntimeParts<DenoConn> = { resolver, dialer };
 * const adapterDial = bindDial(parts);
 * ```
 */
export interface RuntimeParts<C> {
  /** The default resolver (the system's), replaced by `options.resolver`. */
  resolver: Resolver;
  /** The runtime's dialer; always this one. */
  dialer: Dialer<C>;
  /**
   * The default source-address probe, replaced by `options.sourceAddress`.
   * @default {probeSourceAddress}
   */
  sourceAddress?: SourceAddressProbe;
}

/** The options every adapter's `dial` takes: the core's and a resolver. */
export interface AdapterDialOptions extends DialOptions {
  /** The resolver; the runtime's system resolver when not given. */
  resolver?: Resolver;
}

/**
 * Binds the core's `dial` to one runtime's parts: the adapter's `dial`
 * publishes on the diagnostics channels when someone subscribes, then
 * calls the core with the runtime's dialer and the given or default
 * resolver and probe. The parts are read once here; a dial allocates
 * nothing of its own without options (the defaults object is shared) and
 * one options copy with them, as before.
 *
 * @param parts The runtime's resolver and dialer (and probe: the UDP one
 * of `_source_probe.ts` by default, which serves all three runtimes).
 * @returns The adapter's `dial`, before its per-runtime overloads.
 *
 * @example An entry file's dial
 * ```ts ignore
 * const adapterDial = bindDial({ resolver, dialer });
 *
 * export function dial(address: string, options?: RuntimeDialOptions) {
 *   return adapterDial(address, options);
 * }
 * ```
 */
export function bindDial<C>(
  parts: RuntimeParts<C>,
): (address: string, options?: AdapterDialOptions) => Promise<C> {
  const { resolver, dialer, sourceAddress = probeSourceAddress } = parts;
  // Checked once and frozen: dials with them skip the option checks.
  const defaults: CoreDialOptions<C> = markPlain({
    resolver,
    dialer,
    sourceAddress,
  });
  return (address, options) => {
    options = withDiagnostics(address, options);
    if (options === undefined) return coreDial(address, defaults);
    if (isTraceOnly(options)) {
      return dialTraced(address, defaults, options.trace);
    }
    return coreDial(address, {
      ...options,
      resolver: options.resolver ?? resolver,
      dialer,
      sourceAddress: options.sourceAddress ?? sourceAddress,
    });
  };
}
