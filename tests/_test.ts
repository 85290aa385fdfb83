// One way to register a test on Deno, Bun and Node.
//
// Bun and Node get `node:test` as it is. On Deno, `node:test` tests run
// without Deno's op and resource sanitizers (and since Deno 2.8 `Deno.test`
// has them off unless asked), so there the test is registered with
// `Deno.test({ sanitizeOps: true, sanitizeResources: true })`: a timer, an
// op or a socket left behind fails the test. The sanitizers are the referee
// for "nothing leaks".

import { test as nodeTest } from "node:test";

/** What a test function receives: the part of node:test's context we use. */
export interface TestContext {
  /** Prints a diagnostic line with the test's output. */
  diagnostic(message: string): void;
}

/** Options for {@linkcode test}. */
export interface TestOptions {
  /** Skip the test; a string says why. */
  skip?: boolean | string;
}

type TestFn = (t: TestContext) => void | Promise<void>;

interface DenoTestLike {
  test(definition: {
    name: string;
    ignore?: boolean;
    sanitizeOps?: boolean;
    sanitizeResources?: boolean;
    fn: () => void | Promise<void>;
  }): void;
}

const deno = (globalThis as { Deno?: DenoTestLike }).Deno;

/**
 * Registers a test: `test(name, fn)` or `test(name, { skip }, fn)`.
 *
 * @param name What the unit does, as a sentence.
 * @param optionsOrFn The options, or the test function.
 * @param maybeFn The test function when options are given.
 */
export function test(
  name: string,
  optionsOrFn: TestOptions | TestFn,
  maybeFn?: TestFn,
): void {
  const options = typeof optionsOrFn === "function" ? {} : optionsOrFn;
  const fn = typeof optionsOrFn === "function" ? optionsOrFn : maybeFn!;
  if (deno === undefined) {
    nodeTest(name, { skip: options.skip ?? false }, (t) => fn(t));
    return;
  }
  if (options.skip !== undefined && options.skip !== false) {
    const why = typeof options.skip === "string" ? ` (${options.skip})` : "";
    deno.test({ name: `${name}${why}`, ignore: true, fn: () => {} });
    return;
  }
  deno.test({
    name,
    sanitizeOps: true,
    sanitizeResources: true,
    fn: () => fn({ diagnostic: (message) => console.log(`# ${message}`) }),
  });
}
