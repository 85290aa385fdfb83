/**
 * The runtime a namespace test runs on, and its adapter
 * (`runtimes/deno.ts`, `bun.ts` or `node.ts`).
 *
 * @module
 */

/** The runtime running this test. */
export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/**
 * Imports this runtime's adapter.
 *
 * @typeParam A The part of the adapter the test uses.
 * @returns The adapter module.
 */
export async function loadAdapter<A>(): Promise<A> {
  const module: unknown = runtime === "deno"
    ? await import("../../runtimes/deno.ts")
    : runtime === "bun"
    ? await import("../../runtimes/bun.ts")
    : await import("../../runtimes/node.ts");
  return module as A;
}
