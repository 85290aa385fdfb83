// parseResolvConf() and the ResolvConf watcher (runtimes/_resolv_conf.ts):
// the name servers the system resolver asks for HTTPS/SVCB records.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseResolvConf, ResolvConf } from "../runtimes/_resolv_conf.ts";

test("parseResolvConf reads nameserver lines, IPv6 with a zone too, in file order", () => {
  const config = parseResolvConf(
    [
      "# generated",
      "; also a comment",
      "search example.test",
      "nameserver 192.0.2.53",
      "nameserver\t2001:DB8::53",
      "nameserver fe80::1%eth0",
      "",
    ].join("\n"),
  );
  assert.deepEqual(config, {
    nameServers: ["192.0.2.53", "2001:db8::53", "fe80::1%eth0"],
    timeout: 5,
    attempts: 2,
  });
});

test("parseResolvConf keeps three name servers at most and skips ones that are no IP literal", () => {
  const config = parseResolvConf(
    "nameserver dns.test\nnameserver 10.0.0.1\nnameserver 10.0.0.2\n" +
      "nameserver 10.0.0.3\nnameserver 10.0.0.4\n",
  );
  assert.deepEqual(config.nameServers, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
});

test("parseResolvConf reads options timeout and attempts, clamped as glibc does", () => {
  assert.deepEqual(
    parseResolvConf("options ndots:2 timeout:1 attempts:3 rotate\n"),
    { nameServers: ["127.0.0.1", "::1"], timeout: 1, attempts: 3 },
  );
  const clamped = parseResolvConf(
    "options timeout:0 attempts:9\noptions timeout:99\n",
  );
  assert.equal(clamped.timeout, 30);
  assert.equal(clamped.attempts, 5);
  assert.equal(parseResolvConf("options timeout:x\n").timeout, 5);
});

test("parseResolvConf falls back to 127.0.0.1 and ::1 without a name server (Go's default)", () => {
  assert.deepEqual(parseResolvConf("").nameServers, ["127.0.0.1", "::1"]);
  assert.deepEqual(parseResolvConf("# nameserver 10.0.0.1\n").nameServers, [
    "127.0.0.1",
    "::1",
  ]);
});

test("ResolvConf gives servers with the injected port and sees a change after the check interval", () => {
  const dir = mkdtempSync(join(tmpdir(), "nettrace-resolv-"));
  try {
    const path = join(dir, "resolv.conf");
    writeFileSync(path, "nameserver 127.0.0.1\noptions timeout:2\n");
    let now = 0;
    const conf = new ResolvConf(path, { port: 5353, now: () => now });
    const first = conf.servers();
    assert.deepEqual(first.servers.map((s) => s.text), ["127.0.0.1:5353"]);
    assert.equal(first.timeout, 2000);
    assert.equal(first.attempts, 2);
    writeFileSync(path, "nameserver ::1\nnameserver 127.0.0.2\n# longer\n");
    now = 4_999;
    assert.equal(conf.servers(), first);
    now = 5_000;
    assert.deepEqual(conf.servers().servers.map((s) => s.text), [
      "[::1]:5353",
      "127.0.0.2:5353",
    ]);
    const missing = new ResolvConf(join(dir, "absent"));
    assert.deepEqual(missing.servers().servers.map((s) => s.text), [
      "127.0.0.1:53",
      "[::1]:53",
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
