/**
 * Turns a `fetch` input that undici's `fetch` would not understand — a
 * `Request` of the runtime's own fetch (on Node that is the undici bundled
 * with Node, a different class) — into a URL and an init undici takes.
 *
 * @module
 */

/** The part of a foreign `Request` copied over. */
interface RequestLike {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
  readonly redirect?: RequestRedirect;
  readonly signal?: AbortSignal;
  readonly keepalive?: boolean;
  readonly integrity?: string;
  readonly referrerPolicy?: ReferrerPolicy;
}

function isRequestLike(input: unknown): input is RequestLike {
  return typeof input === "object" && input !== null &&
    !(input instanceof URL) &&
    typeof (input as RequestLike).url === "string" &&
    typeof (input as RequestLike).method === "string";
}

/**
 * `[input, init]` for undici's `fetch`: as given, unless `input` is a
 * `Request` that is not `ownRequest`'s — then its URL, and its fields
 * under `init`'s (which win, as in `new Request(input, init)`).
 */
export function undiciInput<I>(
  input: unknown,
  init: I & RequestInit,
  ownRequest: abstract new (...args: never[]) => unknown,
): [unknown, I & RequestInit] {
  if (!isRequestLike(input) || input instanceof ownRequest) {
    return [input, init];
  }
  const body = input.body;
  const copied: RequestInit & { duplex?: "half" } = {
    method: input.method,
    headers: input.headers,
    redirect: input.redirect,
    signal: input.signal,
    keepalive: input.keepalive,
    integrity: input.integrity,
    referrerPolicy: input.referrerPolicy,
  };
  if (body !== null) {
    copied.body = body;
    copied.duplex = "half";
  }
  return [input.url, { ...copied, ...init }];
}
