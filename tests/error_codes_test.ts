// Node-style `code` / `syscall` on nettrace's errors (issue 14): what
// Node-API clients (got's retry, axios's error.code) read.
import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  AddrError,
  DialError,
  DNSError,
  OpError,
  SyscallError,
  TLSError,
} from "../mod.ts";

const refused = () =>
  new OpError("tcp", new SyscallError("connect", "ECONNREFUSED"), {
    addr: "[::1]:1",
  });

test("DNSError.code is dns.lookup's: ENOTFOUND, EAI_AGAIN, ABORT_ERR, else EAI_FAIL", () => {
  const cases: [DNSError, string][] = [
    [new DNSError("no such host", "a.test", { isNotFound: true }), "ENOTFOUND"],
    [new DNSError("i/o timeout", "a.test", { isTimeout: true }), "EAI_AGAIN"],
    [
      new DNSError("server misbehaving", "a.test", { isTemporary: true }),
      "EAI_AGAIN",
    ],
    [new DNSError("operation was canceled", "a.test"), "ABORT_ERR"],
    [new DNSError("server misbehaving", "a.test"), "EAI_FAIL"],
  ];
  for (const [err, code] of cases) {
    assert.equal(err.code, code, err.message);
    assert.equal(err.syscall, "getaddrinfo");
  }
});

test("OpError.code and .syscall are its cause's", () => {
  const op = refused();
  assert.equal(op.code, "ECONNREFUSED");
  assert.equal(op.syscall, "connect");
  const dns = new OpError(
    "tcp",
    new DNSError("no such host", "a.test", { isNotFound: true }),
  );
  assert.equal(dns.code, "ENOTFOUND");
  assert.equal(dns.syscall, "getaddrinfo");
  const addr = new OpError("tcp", new AddrError("missing port", "a.test"));
  assert.equal(addr.code, undefined);
  assert.equal(addr.syscall, undefined);
});

test("OpError.code of a TLS failure is the runtime error's code", () => {
  const native = Object.assign(new Error("self-signed"), {
    code: "DEPTH_ZERO_SELF_SIGNED_CERT",
  });
  const op = new OpError(
    "tcp",
    new TLSError("tls: failed to verify certificate", {
      kind: "untrusted",
      cause: native,
    }),
    { addr: "127.0.0.1:443" },
  );
  assert.equal(op.code, "DEPTH_ZERO_SELF_SIGNED_CERT");
});

test("DialError.code is the first attempt's, as Node's AggregateError has it", () => {
  const unreachable = new OpError(
    "tcp",
    new SyscallError("connect", "EHOSTUNREACH"),
    { addr: "192.0.2.1:1" },
  );
  const err = new DialError([unreachable, refused()]);
  assert.equal(err.code, "EHOSTUNREACH");
  assert.equal(err.syscall, "connect");
  assert.equal(err.message, unreachable.message, "the message is unchanged");
  assert.equal(new DialError([refused(), unreachable]).code, "ECONNREFUSED");
});

test("DialError.code skips errors without a code; undefined when none has one", () => {
  const addr = new OpError("tcp", new AddrError("no suitable address", "h"));
  const err = new DialError([addr, refused()]);
  assert.equal(err.code, "ECONNREFUSED");
  assert.equal(err.syscall, "connect");
  assert.equal(err.message, addr.message);
  const none = new DialError([addr]);
  assert.equal(none.code, undefined);
  assert.equal(none.syscall, undefined);
});

test("DialError.code maps an aborted or timed-out attempt to ABORT_ERR / ETIMEDOUT", () => {
  const abort = new OpError(
    "tcp",
    new DOMException("aborted", "AbortError"),
  );
  assert.equal(new DialError([abort]).code, "ABORT_ERR");
  const timeout = new OpError(
    "tcp",
    new DOMException("timed out", "TimeoutError"),
  );
  assert.equal(new DialError([timeout]).code, "ETIMEDOUT");
  const kernel = new OpError("tcp", new SyscallError("connect", "ETIMEDOUT"));
  assert.equal(new DialError([kernel]).code, "ETIMEDOUT");
  const net = new OpError("tcp", new SyscallError("connect", "ENETUNREACH"));
  assert.equal(new DialError([net]).code, "ENETUNREACH");
});

test("a lookup failure's DialError carries ENOTFOUND / getaddrinfo", () => {
  const err = new DialError([
    new OpError(
      "tcp",
      new DNSError("no such host", "nosuch.test", { isNotFound: true }),
    ),
  ]);
  assert.equal(err.code, "ENOTFOUND");
  assert.equal(err.syscall, "getaddrinfo");
  assert.equal(err.message, "dial tcp: lookup nosuch.test: no such host");
});
