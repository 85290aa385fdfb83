import { test } from "./_test.ts";
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import { Singleflight, type SingleflightResult } from "../src/singleflight.ts";

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise reaction run (no timers involved). */
async function flush(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

interface Observed<T> {
  state: "pending" | "fulfilled" | "rejected";
  value?: T;
  reason?: unknown;
  settlements: number;
}

/** Records how (and how many times) a promise settles. */
function observe<T>(promise: Promise<T>): Observed<T> {
  const seen: Observed<T> = { state: "pending", settlements: 0 };
  promise.then(
    (value) => {
      seen.settlements++;
      seen.state = "fulfilled";
      seen.value = value;
    },
    (reason) => {
      seen.settlements++;
      seen.state = "rejected";
      seen.reason = reason;
    },
  );
  return seen;
}

interface ListenerProbe {
  /** Abort listeners added and not removed yet. */
  active: Set<unknown>;
  added: number;
  /** Whether every abort listener was added with `{ once: true }`. */
  allOnce: boolean;
}

/** Counts the abort listeners put on and taken off `signal`. */
function probeListeners(signal: AbortSignal): ListenerProbe {
  const probe: ListenerProbe = { active: new Set(), added: 0, allOnce: true };
  type Listener = EventListenerOrEventListenerObject;
  const add: (
    type: string,
    listener: Listener,
    options?: boolean | AddEventListenerOptions,
  ) => void = signal.addEventListener.bind(signal);
  const remove: (
    type: string,
    listener: Listener,
    options?: boolean | EventListenerOptions,
  ) => void = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((
    type: string,
    listener: Listener,
    options?: boolean | AddEventListenerOptions,
  ) => {
    if (type === "abort") {
      probe.added++;
      probe.active.add(listener);
      if (typeof options !== "object" || options.once !== true) {
        probe.allOnce = false;
      }
    }
    add(type, listener, options);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((
    type: string,
    listener: Listener,
    options?: boolean | EventListenerOptions,
  ) => {
    if (type === "abort") probe.active.delete(listener);
    remove(type, listener, options);
  }) as typeof signal.removeEventListener;
  return probe;
}

test("Singleflight.do() calls fn once for concurrent callers and shares the value", async () => {
  const group = new Singleflight<string>();
  const work = deferred<string>();
  let calls = 0;
  const fn = () => {
    calls++;
    return work.promise;
  };
  const callers = Array.from({ length: 5 }, () => group.do("k", fn));
  assert.equal(calls, 1);
  assert.equal(group.waiters("k"), 5);
  work.resolve("v");
  const results = await Promise.all(callers);
  for (const result of results) {
    assert.deepEqual(result, { value: "v", shared: true });
  }
  assert.equal(calls, 1);
  assert.equal(group.waiters("k"), 0);
});

test("Singleflight.do() reports shared false for a lone caller", async () => {
  const group = new Singleflight<number>();
  const result = await group.do("k", () => Promise.resolve(7));
  assert.deepEqual(result, { value: 7, shared: false });
});

test("Singleflight.do() keeps different keys apart", async () => {
  const group = new Singleflight<string>();
  const seen: string[] = [];
  const fn = (key: string) => () => {
    seen.push(key);
    return Promise.resolve(key);
  };
  const [a, b] = await Promise.all([
    group.do("a", fn("a")),
    group.do("b", fn("b")),
  ]);
  assert.deepEqual(seen, ["a", "b"]);
  assert.deepEqual(a, { value: "a", shared: false });
  assert.deepEqual(b, { value: "b", shared: false });
});

test("Singleflight.do() gives fn a signal of its own, not the caller's", async () => {
  const group = new Singleflight<number>();
  const controller = new AbortController();
  let workSignal: AbortSignal | undefined;
  const result = await group.do("k", (signal) => {
    workSignal = signal;
    return Promise.resolve(1);
  }, { signal: controller.signal });
  assert.equal(result.value, 1);
  assert.ok(workSignal instanceof AbortSignal);
  assert.notEqual(workSignal, controller.signal);
  assert.equal(workSignal.aborted, false);
});

test("Singleflight.do() rejects every caller with fn's error", async () => {
  const group = new Singleflight<number>();
  const work = deferred<number>();
  const error = new Error("lookup failed");
  const callers = [1, 2, 3].map(() => group.do("k", () => work.promise));
  work.reject(error);
  for (const caller of callers) {
    await assert.rejects(caller, (reason) => reason === error);
  }
  assert.equal(group.waiters("k"), 0);
});

test("Singleflight.do() starts fresh work once the previous flight settled", async () => {
  const group = new Singleflight<number>();
  let calls = 0;
  const fn = () => Promise.resolve(++calls);
  assert.equal((await group.do("k", fn)).value, 1);
  assert.equal((await group.do("k", fn)).value, 2);
  await assert.rejects(group.do("k", () => Promise.reject(new Error("x"))));
  assert.equal((await group.do("k", fn)).value, 3);
});

test("Singleflight.do() rejects only the aborting caller, at once, with its reason", async () => {
  const group = new Singleflight<string>();
  const work = deferred<string>();
  const leaving = new AbortController();
  const staying = new AbortController();
  let workSignal!: AbortSignal;
  const first = observe(group.do("k", (signal) => {
    workSignal = signal;
    return work.promise;
  }, { signal: leaving.signal }));
  const second = observe(
    group.do("k", () => work.promise, { signal: staying.signal }),
  );
  const third = observe(group.do("k", () => work.promise));

  const reason = { why: "caller gave up" };
  leaving.abort(reason);
  await flush();
  assert.equal(first.state, "rejected");
  assert.equal(first.reason, reason);
  assert.equal(second.state, "pending");
  assert.equal(third.state, "pending");
  assert.equal(workSignal.aborted, false);
  assert.equal(group.waiters("k"), 2);

  work.resolve("v");
  await flush();
  assert.deepEqual(second.value, { value: "v", shared: true });
  assert.deepEqual(third.value, { value: "v", shared: true });
  assert.equal(first.settlements, 1);
});

test("Singleflight.do() keeps shared true after the joiner left", async () => {
  const group = new Singleflight<string>();
  const work = deferred<string>();
  const joiner = new AbortController();
  const first = group.do("k", () => work.promise);
  const second = observe(
    group.do("k", () => work.promise, { signal: joiner.signal }),
  );
  joiner.abort(new Error("bye"));
  work.resolve("v");
  assert.deepEqual(await first, { value: "v", shared: true });
  assert.equal(second.state, "rejected");
});

// ── onSettled: whether a flight was shared, for errors too ───────────────────

test("Singleflight.do() tells onSettled(true) to every caller of a shared flight that failed, with the reason unchanged", async () => {
  const group = new Singleflight<string>();
  const work = deferred<string>();
  const failure = new Error("no such host");
  const events: string[] = [];
  const callers = ["a", "b", "c"].map((name) =>
    group.do("k", () => work.promise, {
      onSettled: (shared) => events.push(`${name} onSettled ${shared}`),
    }).then(
      () => events.push(`${name} fulfilled`),
      (reason) => {
        assert.equal(reason, failure);
        events.push(`${name} rejected`);
      },
    )
  );
  assert.deepEqual(events, []);
  work.reject(failure);
  await Promise.all(callers);
  assert.deepEqual(events, [
    "a onSettled true",
    "b onSettled true",
    "c onSettled true",
    "a rejected",
    "b rejected",
    "c rejected",
  ]);
});

test("Singleflight.do() tells onSettled(false) to a lone caller whose work failed", async () => {
  const group = new Singleflight<string>();
  const failure = new Error("refused");
  const seen: boolean[] = [];
  await assert.rejects(
    group.do("k", () => Promise.reject(failure), {
      onSettled: (shared) => seen.push(shared),
    }),
    (reason) => reason === failure,
  );
  assert.deepEqual(seen, [false]);
});

test("Singleflight.do() tells onSettled the same shared as the value it resolves", async () => {
  const group = new Singleflight<number>();
  const seen: boolean[] = [];
  const onSettled = (shared: boolean) => seen.push(shared);
  const alone = await group.do("k", () => Promise.resolve(1), { onSettled });
  assert.deepEqual(alone, { value: 1, shared: false });
  const work = deferred<number>();
  const both = Promise.all([
    group.do("k", () => work.promise, { onSettled }),
    group.do("k", () => work.promise, { onSettled }),
  ]);
  work.resolve(2);
  for (const result of await both) {
    assert.deepEqual(result, { value: 2, shared: true });
  }
  assert.deepEqual(seen, [false, true, true]);
});

test("Singleflight.do() keeps shared true for a failure after the joiner left, and never calls the leaver's onSettled", async () => {
  const group = new Singleflight<string>();
  const work = deferred<string>();
  const joiner = new AbortController();
  const bye = new Error("bye");
  const failure = new Error("timeout");
  const seen: string[] = [];
  const first = observe(group.do("k", () => work.promise, {
    onSettled: (shared) => seen.push(`first ${shared}`),
  }));
  const second = observe(group.do("k", () => work.promise, {
    signal: joiner.signal,
    onSettled: (shared) => seen.push(`second ${shared}`),
  }));
  joiner.abort(bye);
  await flush();
  assert.equal(second.state, "rejected");
  assert.equal(second.reason, bye);
  work.reject(failure);
  await flush();
  assert.equal(first.state, "rejected");
  assert.equal(first.reason, failure);
  assert.deepEqual(seen, ["first true"]);
});

test("Singleflight.do() never calls onSettled for an already aborted signal or a flight everyone left", async () => {
  const group = new Singleflight<string>();
  const seen: boolean[] = [];
  const onSettled = (shared: boolean) => seen.push(shared);
  const reason = new Error("gone");
  await assert.rejects(
    group.do("k", () => Promise.reject(new Error("x")), {
      signal: AbortSignal.abort(reason),
      onSettled,
    }),
    (error) => error === reason,
  );
  const work = deferred<string>();
  const controller = new AbortController();
  const left = observe(
    group.do("k", () => work.promise, { signal: controller.signal, onSettled }),
  );
  controller.abort(reason);
  work.reject(new Error("late"));
  await flush();
  assert.equal(left.state, "rejected");
  assert.equal(left.reason, reason);
  assert.deepEqual(seen, []);
});

test("Singleflight.do() rejects only the caller whose onSettled threw, with what it threw", async () => {
  const group = new Singleflight<string>();
  const work = deferred<string>();
  const thrown = new Error("callback broke");
  const seen: boolean[] = [];
  const broken = observe(group.do("k", () => work.promise, {
    onSettled: () => {
      throw thrown;
    },
  }));
  const fine = observe(group.do("k", () => work.promise, {
    onSettled: (shared) => seen.push(shared),
  }));
  work.resolve("v");
  await flush();
  assert.equal(broken.state, "rejected");
  assert.equal(broken.reason, thrown);
  assert.equal(broken.settlements, 1);
  assert.equal(fine.state, "fulfilled");
  assert.deepEqual(fine.value, { value: "v", shared: true });
  assert.deepEqual(seen, [true]);
});

test("Singleflight.forget() leaves each flight's onSettled with that flight's sharing", async () => {
  const group = new Singleflight<string>();
  const old = deferred<string>();
  const fresh = deferred<string>();
  const seen: string[] = [];
  const a = observe(group.do("k", () => old.promise, {
    onSettled: (shared) => seen.push(`old ${shared}`),
  }));
  group.forget("k");
  const b = observe(group.do("k", () => fresh.promise, {
    onSettled: (shared) => seen.push(`fresh ${shared}`),
  }));
  const c = observe(group.do("k", () => fresh.promise, {
    onSettled: (shared) => seen.push(`fresh ${shared}`),
  }));
  old.reject(new Error("old failed"));
  fresh.reject(new Error("fresh failed"));
  await flush();
  for (const caller of [a, b, c]) assert.equal(caller.state, "rejected");
  assert.deepEqual(seen, ["old false", "fresh true", "fresh true"]);
});

test("Singleflight.do() aborts the work's signal only when the last caller leaves", async () => {
  const group = new Singleflight<string>();
  const controllers = [1, 2, 3].map(() => new AbortController());
  let workSignal!: AbortSignal;
  let calls = 0;
  const fn = (signal: AbortSignal) => {
    calls++;
    workSignal = signal;
    return new Promise<string>((_, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason), {
        once: true,
      });
    });
  };
  const callers = controllers.map((c) =>
    observe(group.do("k", fn, { signal: c.signal }))
  );
  const reasons = controllers.map((_, i) => new Error(`leave ${i}`));

  controllers[1].abort(reasons[1]);
  controllers[0].abort(reasons[0]);
  await flush();
  assert.equal(workSignal.aborted, false);
  assert.equal(group.waiters("k"), 1);

  controllers[2].abort(reasons[2]);
  assert.equal(workSignal.aborted, true);
  assert.equal(workSignal.reason, reasons[2]);
  assert.equal(group.waiters("k"), 0);
  await flush();
  callers.forEach((caller, i) => {
    assert.equal(caller.state, "rejected");
    assert.equal(caller.reason, reasons[i]);
    assert.equal(caller.settlements, 1);
  });
  assert.equal(calls, 1);
});

test("Singleflight.do() starts fresh work for a caller that comes after everyone left", async () => {
  const group = new Singleflight<number>();
  const signals: AbortSignal[] = [];
  const works: Deferred<number>[] = [];
  const fn = (signal: AbortSignal) => {
    signals.push(signal);
    const work = deferred<number>();
    works.push(work);
    return work.promise;
  };
  const controller = new AbortController();
  const gone = group.do("k", fn, { signal: controller.signal });
  controller.abort(new Error("gone"));
  await assert.rejects(gone);

  const fresh = group.do("k", fn);
  assert.equal(signals.length, 2);
  assert.equal(signals[0].aborted, true);
  assert.equal(signals[1].aborted, false);
  works[0].resolve(1); // the abandoned flight's late value is dropped
  works[1].resolve(2);
  assert.deepEqual(await fresh, { value: 2, shared: false });
});

test("Singleflight.do() rejects an already aborted caller without calling or joining", async () => {
  const group = new Singleflight<number>();
  const reason = new Error("already aborted");
  let calls = 0;
  const fn = () => {
    calls++;
    return Promise.resolve(1);
  };
  const signal = AbortSignal.abort(reason);
  const probe = probeListeners(signal);
  await assert.rejects(group.do("k", fn, { signal }), (e) => e === reason);
  assert.equal(calls, 0);
  assert.equal(group.waiters("k"), 0);
  assert.equal(probe.added, 0);

  // Not joining a flight in progress either: the lone caller stays unshared.
  const work = deferred<number>();
  const alone = group.do("k", () => work.promise);
  await assert.rejects(group.do("k", fn, { signal }), (e) => e === reason);
  assert.equal(group.waiters("k"), 1);
  work.resolve(5);
  assert.deepEqual(await alone, { value: 5, shared: false });
  assert.equal(calls, 0);
});

test("Singleflight.do() rejects with TypeError when fn is not a function", async () => {
  const group = new Singleflight<number>();
  await assert.rejects(
    // @ts-expect-error: testing a wrong argument
    group.do("k", "nope"),
    TypeError,
  );
  assert.equal(group.waiters("k"), 0);
});

test("Singleflight.forget() makes the next call start fresh while old callers get the old result", async () => {
  const group = new Singleflight<string>();
  const oldWork = deferred<string>();
  const newWork = deferred<string>();
  let calls = 0;
  const old1 = group.do("k", () => {
    calls++;
    return oldWork.promise;
  });
  const old2 = group.do("k", () => oldWork.promise);
  group.forget("k");
  assert.equal(group.waiters("k"), 0);
  const new1 = group.do("k", () => {
    calls++;
    return newWork.promise;
  });
  assert.equal(calls, 2);

  oldWork.resolve("old");
  assert.deepEqual(await old1, { value: "old", shared: true });
  assert.deepEqual(await old2, { value: "old", shared: true });
  // The old flight finishing left the new entry in place: this joins it.
  assert.equal(group.waiters("k"), 1);
  const new2 = group.do("k", () => {
    calls++;
    return Promise.resolve("wrong");
  });
  assert.equal(calls, 2);
  newWork.resolve("new");
  assert.deepEqual(await new1, { value: "new", shared: true });
  assert.deepEqual(await new2, { value: "new", shared: true });
});

test("Singleflight.forget() of a key with nothing in flight does nothing", async () => {
  const group = new Singleflight<number>();
  group.forget("none");
  assert.deepEqual(await group.do("none", () => Promise.resolve(1)), {
    value: 1,
    shared: false,
  });
});

test("Singleflight.forget() then everyone leaving the old flight aborts only the old work", async () => {
  const group = new Singleflight<number>();
  const signals: AbortSignal[] = [];
  const work = deferred<number>();
  const fn = (signal: AbortSignal) => {
    signals.push(signal);
    return work.promise;
  };
  const controller = new AbortController();
  const old = group.do("k", fn, { signal: controller.signal });
  group.forget("k");
  const fresh = group.do("k", fn);
  controller.abort(new Error("leave"));
  await assert.rejects(old);
  assert.equal(signals[0].aborted, true);
  assert.equal(signals[1].aborted, false);
  assert.equal(group.waiters("k"), 1);
  work.resolve(3);
  assert.deepEqual(await fresh, { value: 3, shared: false });
});

test("Singleflight.do() treats a synchronous throw from fn as a rejection", async () => {
  const group = new Singleflight<number>();
  const error = new Error("sync");
  const fn = (): Promise<number> => {
    throw error;
  };
  const a = group.do("k", fn);
  const b = group.do("k", fn);
  await assert.rejects(a, (e) => e === error);
  await assert.rejects(b, (e) => e === error);
  assert.equal(group.waiters("k"), 0);
  assert.deepEqual(await group.do("k", () => Promise.resolve(1)), {
    value: 1,
    shared: false,
  });
});

test("Singleflight.do() accepts fn returning a plain value", async () => {
  const group = new Singleflight<number>();
  const fn = (() => 9) as unknown as () => Promise<number>;
  assert.deepEqual(await group.do("k", fn), { value: 9, shared: false });
});

test("Singleflight.do() drops a late outcome after everyone left without an unhandled rejection", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    const group = new Singleflight<number>();
    for (const outcome of ["resolve", "reject"] as const) {
      const work = deferred<number>();
      const controller = new AbortController();
      const caller = group.do(`k-${outcome}`, () => work.promise, {
        signal: controller.signal,
      });
      const reason = new Error(`left before ${outcome}`);
      controller.abort(reason);
      await assert.rejects(caller, (e) => e === reason);
      if (outcome === "resolve") work.resolve(1);
      else work.reject(new Error("late failure"));
    }
    // One macrotask turn: runtimes report unhandled rejections after the
    // microtask queue drains. The timer fires at once; nothing is left.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("Singleflight.do() adds caller listeners with once and removes them on every outcome", async () => {
  const group = new Singleflight<number>();

  // Resolved.
  const resolved = new AbortController();
  const resolvedProbe = probeListeners(resolved.signal);
  const w1 = deferred<number>();
  const p1 = group.do("a", () => w1.promise, { signal: resolved.signal });
  const p1b = group.do("a", () => w1.promise, { signal: resolved.signal });
  assert.equal(resolvedProbe.active.size, 2);
  w1.resolve(1);
  await Promise.all([p1, p1b]);
  assert.equal(resolvedProbe.active.size, 0);
  assert.equal(resolvedProbe.added, 2);
  assert.equal(resolvedProbe.allOnce, true);

  // Rejected.
  const rejected = new AbortController();
  const rejectedProbe = probeListeners(rejected.signal);
  const w2 = deferred<number>();
  const p2 = group.do("b", () => w2.promise, { signal: rejected.signal });
  assert.equal(rejectedProbe.active.size, 1);
  w2.reject(new Error("no"));
  await assert.rejects(p2);
  assert.equal(rejectedProbe.active.size, 0);
  assert.equal(rejectedProbe.allOnce, true);

  // Aborted (while another caller stays).
  const aborted = new AbortController();
  const abortedProbe = probeListeners(aborted.signal);
  const w3 = deferred<number>();
  const stay = group.do("c", () => w3.promise);
  const p3 = group.do("c", () => w3.promise, { signal: aborted.signal });
  aborted.abort(new Error("bye"));
  await assert.rejects(p3);
  assert.equal(abortedProbe.active.size, 0);
  assert.equal(abortedProbe.allOnce, true);
  w3.resolve(3);
  assert.equal((await stay).value, 3);

  // Synchronous throw.
  const thrown = new AbortController();
  const thrownProbe = probeListeners(thrown.signal);
  await assert.rejects(
    group.do("d", () => {
      throw new Error("sync");
    }, { signal: thrown.signal }),
  );
  assert.equal(thrownProbe.active.size, 0);
});

test("Singleflight.do() serves 10,000 callers on one key when half of them abort", async () => {
  const group = new Singleflight<{ answer: number }>();
  const work = deferred<{ answer: number }>();
  let calls = 0;
  let workSignal!: AbortSignal;
  const fn = (signal: AbortSignal) => {
    calls++;
    workSignal = signal;
    return work.promise;
  };
  const n = 10_000;
  const controllers: AbortController[] = [];
  const callers: Promise<SingleflightResult<{ answer: number }>>[] = [];
  for (let i = 0; i < n; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    callers.push(group.do("k", fn, { signal: controller.signal }));
  }
  assert.equal(group.waiters("k"), n);
  const reasons: Error[] = [];
  for (let i = 0; i < n; i += 2) {
    const reason = new Error(`caller ${i}`);
    reasons[i] = reason;
    controllers[i].abort(reason);
  }
  assert.equal(group.waiters("k"), n / 2);
  assert.equal(workSignal.aborted, false);
  const value = { answer: 42 };
  work.resolve(value);
  const outcomes = await Promise.allSettled(callers);
  assert.equal(calls, 1);
  outcomes.forEach((outcome, i) => {
    if (i % 2 === 0) {
      assert.equal(outcome.status, "rejected");
      assert.equal((outcome as PromiseRejectedResult).reason, reasons[i]);
    } else {
      assert.equal(outcome.status, "fulfilled");
      const result = (outcome as PromiseFulfilledResult<
        SingleflightResult<{ answer: number }>
      >).value;
      assert.equal(result.value, value);
      assert.equal(result.shared, true);
    }
  });
  assert.equal(group.waiters("k"), 0);
  assert.equal(workSignal.aborted, false);
});

// ── property: a model of flights, callers and their outcomes ───────────────

type Op =
  | {
    op: "join";
    key: number;
    signal: "none" | "live" | "aborted";
    throws: boolean;
  }
  | { op: "abort"; caller: number }
  | { op: "resolve"; flight: number }
  | { op: "reject"; flight: number }
  | { op: "forget"; key: number };

const KEYS = ["a", "b"];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant("join" as const),
      key: fc.integer({ min: 0, max: KEYS.length - 1 }),
      signal: fc.constantFrom(
        "none" as const,
        "live" as const,
        "aborted" as const,
      ),
      throws: fc.boolean(),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant("abort" as const),
      caller: fc.nat(),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant("resolve" as const),
      flight: fc.nat(),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      op: fc.constant("reject" as const),
      flight: fc.nat(),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      op: fc.constant("forget" as const),
      key: fc.integer({ min: 0, max: KEYS.length - 1 }),
    }),
    weight: 2,
  },
);

interface ModelFlight {
  key: string;
  work: Deferred<number> | undefined; // undefined when fn threw
  signal: AbortSignal;
  value: number;
  error: Error;
  joined: number;
  waiting: Set<ModelCaller>;
  settled: boolean;
  abandoned: boolean;
  lastReason: unknown;
}

interface ModelCaller {
  flight: ModelFlight | undefined;
  controller: AbortController | undefined;
  probe: ListenerProbe | undefined;
  seen: Observed<SingleflightResult<number>>;
  expected:
    | { state: "pending" }
    | { state: "fulfilled"; value: number; shared: boolean }
    | { state: "rejected"; reason: unknown };
  /** What onSettled received, in order. */
  onSettled: boolean[];
  /** What onSettled must have received: the flight's sharing, or nothing. */
  expectedOnSettled: boolean[];
}

test("Singleflight keeps its invariants over random join/abort/resolve/reject/forget sequences", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(opArb, { maxLength: 40, size: "max" }),
      async (ops) => {
        const group = new Singleflight<number>();
        const flights: ModelFlight[] = [];
        const callers: ModelCaller[] = [];
        const current = new Map<string, ModelFlight>();
        let calls = 0;

        const settleFlight = (flight: ModelFlight, ok: boolean) => {
          if (flight.settled || flight.abandoned) return;
          flight.settled = true;
          if (current.get(flight.key) === flight) current.delete(flight.key);
          for (const caller of flight.waiting) {
            caller.expectedOnSettled = [flight.joined > 1];
            caller.expected = ok
              ? {
                state: "fulfilled",
                value: flight.value,
                shared: flight.joined > 1,
              }
              : { state: "rejected", reason: flight.error };
          }
          flight.waiting.clear();
        };

        for (const op of ops) {
          switch (op.op) {
            case "join": {
              const key = KEYS[op.key];
              const controller = op.signal === "none"
                ? undefined
                : new AbortController();
              const reason = new Error("pre-aborted");
              if (op.signal === "aborted") controller!.abort(reason);
              const probe = controller
                ? probeListeners(controller.signal)
                : undefined;
              let flight = op.signal === "aborted"
                ? undefined
                : current.get(key);
              let created: ModelFlight | undefined;
              const fn = (signal: AbortSignal) => {
                calls++;
                const index = flights.length;
                created = {
                  key,
                  work: op.throws ? undefined : deferred<number>(),
                  signal,
                  value: index,
                  error: new Error(`flight ${index}`),
                  joined: 0,
                  waiting: new Set(),
                  settled: false,
                  abandoned: false,
                  lastReason: undefined,
                };
                flights.push(created);
                if (op.throws) throw created.error;
                return created.work!.promise;
              };
              const onSettled: boolean[] = [];
              const seen = observe(
                group.do(key, fn, {
                  signal: controller?.signal,
                  onSettled: (shared) => onSettled.push(shared),
                }),
              );
              const caller: ModelCaller = {
                flight: undefined,
                controller,
                probe,
                seen,
                expected: { state: "pending" },
                onSettled,
                expectedOnSettled: [],
              };
              callers.push(caller);
              if (op.signal === "aborted") {
                assert.equal(
                  created,
                  undefined,
                  "pre-aborted caller called fn",
                );
                caller.expected = { state: "rejected", reason };
                break;
              }
              if (flight === undefined) {
                assert.ok(created, "a new flight must call fn");
                flight = created;
                current.set(key, flight);
              } else {
                assert.equal(created, undefined, "a joiner must not call fn");
              }
              flight.joined++;
              flight.waiting.add(caller);
              caller.flight = flight;
              if (op.throws && created) settleFlight(flight, false);
              break;
            }
            case "abort": {
              if (callers.length === 0) break;
              const caller = callers[op.caller % callers.length];
              if (!caller.controller || caller.controller.signal.aborted) break;
              const reason = { left: op.caller };
              caller.controller.abort(reason);
              const flight = caller.flight;
              if (flight && flight.waiting.delete(caller)) {
                caller.expected = { state: "rejected", reason };
                if (flight.waiting.size === 0 && !flight.settled) {
                  flight.abandoned = true;
                  flight.lastReason = reason;
                  if (current.get(flight.key) === flight) {
                    current.delete(flight.key);
                  }
                }
              }
              break;
            }
            case "resolve":
            case "reject": {
              const open = flights.filter((f) => f.work && !f.settled);
              if (open.length === 0) break;
              const flight = open[op.flight % open.length];
              const ok = op.op === "resolve";
              if (ok) flight.work!.resolve(flight.value);
              else flight.work!.reject(flight.error);
              if (flight.abandoned) {
                flight.work = undefined; // settled, outcome dropped
              } else {
                settleFlight(flight, ok);
              }
              break;
            }
            case "forget": {
              group.forget(KEYS[op.key]);
              current.delete(KEYS[op.key]);
              break;
            }
          }
          await flush();
          // Step invariants.
          for (const key of KEYS) {
            assert.equal(
              group.waiters(key),
              current.get(key)?.waiting.size ?? 0,
            );
          }
          assert.equal(calls, flights.length);
          for (const caller of callers) {
            assert.equal(caller.seen.state, caller.expected.state);
          }
        }

        // Settle whatever is still open, then check every caller and flight.
        for (const flight of flights) {
          if (flight.work && !flight.settled) {
            flight.work.resolve(flight.value);
            if (!flight.abandoned) settleFlight(flight, true);
          }
        }
        await flush();
        for (const caller of callers) {
          assert.equal(caller.seen.settlements, 1);
          assert.deepEqual(caller.onSettled, caller.expectedOnSettled);
          const expected = caller.expected;
          assert.equal(caller.seen.state, expected.state);
          if (expected.state === "fulfilled") {
            assert.deepEqual(caller.seen.value, {
              value: expected.value,
              shared: expected.shared,
            });
          } else if (expected.state === "rejected") {
            assert.equal(caller.seen.reason, expected.reason);
          }
          if (caller.probe) {
            assert.equal(caller.probe.active.size, 0);
            assert.equal(caller.probe.allOnce, true);
          }
        }
        for (const flight of flights) {
          assert.equal(flight.signal.aborted, flight.abandoned);
          if (flight.abandoned) {
            assert.equal(flight.signal.reason, flight.lastReason);
          }
        }
        for (const key of KEYS) assert.equal(group.waiters(key), 0);
      },
    ),
    { numRuns: 1000 },
  );
});
