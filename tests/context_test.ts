import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import {
  background,
  type Context,
  type ContextKey,
  contextTrace,
  createContextKey,
  currentContext,
  dial,
  LookupIPAltResolverKey,
  runWithContext,
  setContextStorage,
  type Trace,
  withSignal,
  withTrace,
  withValue,
} from "../mod.ts";
import {
  FakeDialer,
  FakeResolver,
  recordingTrace,
  VirtualClock,
} from "./_virtual_clock.ts";

// ── keys and values ────────────────────────────────────────────────────

test("createContextKey() returns a new key on every call, even for the same description", () => {
  const a = createContextKey<string>("request id");
  const b = createContextKey<string>("request id");
  assert.notEqual(a, b);
  assert.equal(a.description, "request id");
  assert.equal(b.description, "request id");
  assert.ok(Object.isFrozen(a));

  const ctx = withValue(background, a, "from a");
  assert.equal(ctx.value(a), "from a");
  assert.equal(ctx.value(b), undefined);
});

test("withValue() makes a value visible to the child and its descendants only", () => {
  const key = createContextKey<number>("n");
  const other = createContextKey<string>("other");
  const parent = withValue(background, other, "kept");
  const child = withValue(parent, key, 1);
  const grandchild = withValue(child, other, "shadow");

  assert.equal(parent.value(key), undefined, "the parent is unchanged");
  assert.equal(background.value(key), undefined);
  assert.equal(child.value(key), 1);
  assert.equal(child.value(other), "kept");
  assert.equal(grandchild.value(key), 1);
  assert.equal(grandchild.value(other), "shadow");
});

test("withValue() shadows an older value under the same key without changing the parent", () => {
  const key = createContextKey<string>("tenant");
  const outer = withValue(background, key, "outer");
  const inner = withValue(outer, key, "inner");
  const sibling = withValue(outer, key, "sibling");

  assert.equal(outer.value(key), "outer");
  assert.equal(inner.value(key), "inner");
  assert.equal(sibling.value(key), "sibling");
});

test("withValue() stores undefined and falsy values as values", () => {
  const key = createContextKey<number | undefined>("maybe");
  const zero = withValue(background, key, 0);
  assert.equal(zero.value(key), 0);
  // An explicit undefined shadows an older value.
  const cleared = withValue(zero, key, undefined);
  assert.equal(cleared.value(key), undefined);
});

test("withValue() looks a key up through a long chain", () => {
  const first = createContextKey<string>("first");
  let ctx = withValue(background, first, "root");
  for (let i = 0; i < 10_000; i++) {
    ctx = withValue(ctx, createContextKey<number>(`k${i}`), i);
  }
  assert.equal(ctx.value(first), "root");
});

test("background has no signal, no value and cannot be changed", () => {
  assert.equal(background.signal, undefined);
  assert.equal(background.value(createContextKey("any")), undefined);
  assert.ok(Object.isFrozen(background));
});

test("withValue() keeps the parent's signal", () => {
  const controller = new AbortController();
  const parent = withSignal(background, controller.signal);
  const child = withValue(parent, createContextKey<number>("n"), 1);
  assert.equal(child.signal, parent.signal);
});

test("withValue() and withSignal() extend a user-written Context", () => {
  const userKey = createContextKey<string>("user");
  const controller = new AbortController();
  const custom: Context = {
    signal: controller.signal,
    value<T>(key: ContextKey<T>): T | undefined {
      return key === userKey ? "from custom" as T : undefined;
    },
  };
  const key = createContextKey<number>("n");
  const child = withSignal(
    withValue(custom, key, 7),
    new AbortController().signal,
  );
  assert.equal(child.value(key), 7);
  assert.equal(child.value(userKey), "from custom");
  controller.abort("custom parent aborted");
  assert.equal(child.signal?.reason, "custom parent aborted");
});

// ── signals ────────────────────────────────────────────────────────────

test("withSignal() aborts the context when its own signal aborts, with that reason", () => {
  const controller = new AbortController();
  const ctx = withSignal(background, controller.signal);
  assert.equal(ctx.signal?.aborted, false);
  const reason = new Error("own");
  controller.abort(reason);
  assert.equal(ctx.signal?.aborted, true);
  assert.equal(ctx.signal?.reason, reason);
});

test("withSignal() aborts the child when the parent's signal aborts, with the parent's reason", () => {
  const parentController = new AbortController();
  const ownController = new AbortController();
  const parent = withSignal(background, parentController.signal);
  const child = withSignal(parent, ownController.signal);
  const reason = { why: "parent gave up" };
  parentController.abort(reason);
  assert.equal(child.signal?.aborted, true);
  assert.equal(child.signal?.reason, reason);
  assert.equal(ownController.signal.aborted, false);
});

test("withSignal() aborting the child leaves the parent running", () => {
  const parentController = new AbortController();
  const ownController = new AbortController();
  const parent = withSignal(background, parentController.signal);
  const child = withSignal(parent, ownController.signal);
  const reason = new Error("child only");
  ownController.abort(reason);
  assert.equal(child.signal?.reason, reason);
  assert.equal(parent.signal?.aborted, false);
});

test("withSignal() gives the event to abort listeners of the combined signal", () => {
  const parentController = new AbortController();
  const ctx = withSignal(
    withSignal(background, parentController.signal),
    new AbortController().signal,
  );
  const seen: unknown[] = [];
  ctx.signal!.addEventListener("abort", () => seen.push(ctx.signal!.reason), {
    once: true,
  });
  parentController.abort("stop");
  assert.deepEqual(seen, ["stop"]);
});

test("withSignal() with an already aborted signal is aborted at once", () => {
  const reason = new Error("early");
  const ctx = withSignal(background, AbortSignal.abort(reason));
  assert.equal(ctx.signal?.aborted, true);
  assert.equal(ctx.signal?.reason, reason);

  const parent = withSignal(background, AbortSignal.abort("parent first"));
  const child = withSignal(parent, new AbortController().signal);
  assert.equal(child.signal?.reason, "parent first");
});

test("withSignal() keeps the parent's values", () => {
  const key = createContextKey<string>("k");
  const parent = withValue(background, key, "v");
  const child = withSignal(parent, new AbortController().signal);
  assert.equal(child.value(key), "v");
  const grandchild = withValue(child, key, "w");
  assert.equal(grandchild.signal, child.signal);
  assert.equal(child.value(key), "v");
});

// ── the ambient context ────────────────────────────────────────────────

/** Whether the installed storage carries the context across an await. */
async function hasAsyncStorage(): Promise<boolean> {
  const probe = withValue(background, createContextKey("probe"), 1);
  return await runWithContext(probe, async () => {
    await null;
    return currentContext() === probe;
  });
}

/**
 * Runs `fn` with the synchronous fallback storage, then puts back an
 * equivalent of what was installed before (a runtime adapter imported by
 * another test file may have installed an AsyncLocalStorage).
 */
async function withFallbackStorage(fn: () => Promise<void> | void) {
  const hadAsync = await hasAsyncStorage();
  setContextStorage(undefined);
  try {
    await fn();
  } finally {
    setContextStorage(
      hadAsync ? new AsyncLocalStorage<Context>() : undefined,
    );
  }
}

/** Runs `fn` with an AsyncLocalStorage installed, then restores as above. */
async function withAsyncStorage(fn: () => Promise<void> | void) {
  const hadAsync = await hasAsyncStorage();
  setContextStorage(new AsyncLocalStorage<Context>());
  try {
    await fn();
  } finally {
    setContextStorage(
      hadAsync ? new AsyncLocalStorage<Context>() : undefined,
    );
  }
}

test("currentContext() is background outside any runWithContext()", async () => {
  await withFallbackStorage(() => {
    assert.equal(currentContext(), background);
  });
  await withAsyncStorage(() => {
    assert.equal(currentContext(), background);
  });
});

test("runWithContext() makes ctx current for fn and returns what fn returns", async () => {
  await withFallbackStorage(() => {
    const ctx = withValue(background, createContextKey<number>("n"), 1);
    const result = runWithContext(ctx, () => {
      assert.equal(currentContext(), ctx);
      return 42;
    });
    assert.equal(result, 42);
    assert.equal(currentContext(), background);
  });
});

test("runWithContext() nests and restores the outer context (synchronous fallback)", async () => {
  await withFallbackStorage(() => {
    const key = createContextKey<string>("level");
    const outer = withValue(background, key, "outer");
    const inner = withValue(outer, key, "inner");
    const seen: (string | undefined)[] = [];
    runWithContext(outer, () => {
      seen.push(currentContext().value(key));
      runWithContext(inner, () => {
        seen.push(currentContext().value(key));
      });
      seen.push(currentContext().value(key));
    });
    seen.push(currentContext().value(key));
    assert.deepEqual(seen, ["outer", "inner", "outer", undefined]);
  });
});

test("runWithContext() restores the outer context when fn throws (synchronous fallback)", async () => {
  await withFallbackStorage(() => {
    const outer = withValue(background, createContextKey("o"), 1);
    const inner = withValue(background, createContextKey("i"), 2);
    const thrown = new Error("boom");
    runWithContext(outer, () => {
      assert.throws(
        () =>
          runWithContext(inner, () => {
            throw thrown;
          }),
        (error) => error === thrown,
      );
      assert.equal(currentContext(), outer);
    });
    assert.equal(currentContext(), background);
  });
});

test("runWithContext() without an async storage loses ctx after an await inside fn (documented limitation)", async () => {
  await withFallbackStorage(async () => {
    const ctx = withValue(background, createContextKey("c"), 1);
    const seen: Context[] = [];
    const done = runWithContext(ctx, async () => {
      seen.push(currentContext()); // synchronous part: ctx
      await null;
      seen.push(currentContext()); // after the await: ctx is gone
    });
    // runWithContext already returned: the context is restored here too.
    assert.equal(currentContext(), background);
    await done;
    assert.equal(seen[0], ctx);
    assert.equal(seen[1], background);
  });
});

test("dial() called synchronously inside runWithContext() uses the ambient trace (synchronous fallback)", async () => {
  await withFallbackStorage(async () => {
    const clock = new VirtualClock();
    const resolver = new FakeResolver(clock, {
      "ambient.test": {
        4: { at: 5, addrs: ["192.0.2.1"] },
        6: { at: 5, addrs: [] },
      },
    });
    const dialer = new FakeDialer(clock, {
      "192.0.2.1:80": { after: 10, connect: true },
    });
    const log: string[] = [];
    const ctx = withTrace(background, recordingTrace(clock, log));
    // The dial reads the ambient context when called; what it does after
    // its own awaits still reports to that context's trace.
    const pending = runWithContext(
      ctx,
      () => dial("ambient.test:80", { resolver, dialer, clock }),
    );
    await clock.runAll();
    const conn = await pending;
    assert.equal(conn.addr, "192.0.2.1:80");
    assert.deepEqual(log, [
      "0 dnsStart ambient.test",
      "5 dnsDone ambient.test [192.0.2.1]",
      "5 connectStart tcp 192.0.2.1:80",
      "15 connectDone tcp 192.0.2.1:80",
    ]);
  });
});

test("setContextStorage() with an AsyncLocalStorage carries ctx across awaits", async () => {
  await withAsyncStorage(async () => {
    const key = createContextKey<string>("k");
    const ctx = withValue(background, key, "v");
    const seen = await runWithContext(ctx, async () => {
      const out: (string | undefined)[] = [currentContext().value(key)];
      await null;
      out.push(currentContext().value(key));
      await new Promise<void>((resolve) => queueMicrotask(resolve));
      out.push(currentContext().value(key));
      return out;
    });
    assert.deepEqual(seen, ["v", "v", "v"]);
    assert.equal(currentContext(), background);
  });
});

test("setContextStorage() with an AsyncLocalStorage nests and restores after a throw", async () => {
  await withAsyncStorage(async () => {
    const outer = withValue(background, createContextKey("o"), 1);
    const inner = withValue(background, createContextKey("i"), 2);
    const thrown = new Error("async boom");
    await runWithContext(outer, async () => {
      await assert.rejects(
        runWithContext(inner, async () => {
          await null;
          assert.equal(currentContext(), inner);
          throw thrown;
        }),
        (error) => error === thrown,
      );
      assert.equal(currentContext(), outer);
      assert.throws(() =>
        runWithContext(inner, () => {
          throw thrown;
        })
      );
      assert.equal(currentContext(), outer);
    });
    assert.equal(currentContext(), background);
  });
});

test("setContextStorage() with an AsyncLocalStorage keeps concurrent runs apart", async () => {
  await withAsyncStorage(async () => {
    const key = createContextKey<number>("run");
    const gates = [
      Promise.withResolvers<void>(),
      Promise.withResolvers<void>(),
    ];
    const run = (n: 0 | 1) =>
      runWithContext(withValue(background, key, n), async () => {
        const before = currentContext().value(key);
        await gates[n]!.promise;
        return [before, currentContext().value(key)];
      });
    const a = run(0);
    const b = run(1);
    gates[1]!.resolve();
    gates[0]!.resolve();
    assert.deepEqual(await Promise.all([a, b]), [[0, 0], [1, 1]]);
  });
});

test("setContextStorage() with an AsyncLocalStorage lets a dial() after an await see the ambient trace, signal and resolver", async () => {
  await withAsyncStorage(async () => {
    const clock = new VirtualClock();
    const unused = new FakeResolver(clock, {});
    const alt = new FakeResolver(clock, {
      "deep.test": {
        6: { at: 3, addrs: ["2001:db8::7"] },
        4: { at: 3, addrs: [] },
      },
    });
    const dialer = new FakeDialer(clock, {
      "[2001:db8::7]:443": { after: 4, connect: true },
    });
    const log: string[] = [];
    let ctx = withTrace(background, recordingTrace(clock, log));
    ctx = withValue(ctx, LookupIPAltResolverKey, alt);

    // A "library" that awaits before dialling, without a context option.
    async function library() {
      await null;
      await Promise.resolve();
      return dial("deep.test:https", { resolver: unused, dialer, clock });
    }
    const pending = runWithContext(ctx, library);
    await clock.runAll();
    const conn = await pending;
    assert.equal(conn.addr, "[2001:db8::7]:443");
    assert.equal(unused.calls.length, 0, "the context's resolver replaced it");
    assert.equal(alt.calls.length, 2);
    assert.deepEqual(log, [
      "0 dnsStart deep.test",
      "3 connectStart tcp [2001:db8::7]:443",
      "3 dnsDone deep.test [2001:db8::7]",
      "7 connectDone tcp [2001:db8::7]:443",
    ]);

    // The ambient signal aborts a dial made after an await.
    const controller = new AbortController();
    const hang = new FakeDialer(clock, {});
    const aborting = runWithContext(
      withSignal(ctx, controller.signal),
      async () => {
        await null;
        return dial("[2001:db8::9]:80", {
          resolver: unused,
          dialer: hang,
          clock,
        });
      },
    );
    await clock.advance(100);
    assert.equal(hang.calls.length, 1);
    const reason = new Error("caller left");
    controller.abort(reason);
    await assert.rejects(aborting, (error) => error === reason);
    assert.equal(hang.calls[0]!.abortedAt, clock.now());
    assert.equal(clock.pending, 0);
  });
});

test("dial() options.context overrides the ambient context", async () => {
  await withAsyncStorage(async () => {
    const clock = new VirtualClock();
    const resolver = new FakeResolver(clock, {});
    const dialer = new FakeDialer(clock, {
      "192.0.2.9:80": { after: 1, connect: true },
    });
    const ambient: string[] = [];
    const explicit: string[] = [];
    const explicitCtx = withTrace(background, recordingTrace(clock, explicit));
    const pending = runWithContext(
      withTrace(background, recordingTrace(clock, ambient)),
      async () => {
        await null;
        return dial("192.0.2.9:80", {
          resolver,
          dialer,
          clock,
          context: explicitCtx,
        });
      },
    );
    await clock.runAll();
    await pending;
    assert.deepEqual(ambient, []);
    assert.deepEqual(explicit, [
      "0 connectStart tcp 192.0.2.9:80",
      "1 connectDone tcp 192.0.2.9:80",
    ]);
  });
});

test("setContextStorage(undefined) goes back to the synchronous fallback", async () => {
  const hadAsync = await hasAsyncStorage();
  try {
    setContextStorage(new AsyncLocalStorage<Context>());
    assert.equal(await hasAsyncStorage(), true);
    setContextStorage(undefined);
    assert.equal(await hasAsyncStorage(), false);
    // The fallback still works synchronously.
    const ctx = withValue(background, createContextKey("s"), 1);
    assert.equal(runWithContext(ctx, () => currentContext()), ctx);
  } finally {
    setContextStorage(hadAsync ? new AsyncLocalStorage<Context>() : undefined);
  }
});

test("contextTrace() of a context with no trace is undefined, also through runWithContext()", () => {
  const trace: Trace = {};
  assert.equal(contextTrace(background), undefined);
  const ctx = withTrace(background, trace);
  assert.notEqual(contextTrace(ctx), undefined);
  runWithContext(ctx, () => {
    assert.notEqual(contextTrace(currentContext()), undefined);
  });
});
