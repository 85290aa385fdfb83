// The system resolver reads the hosts file itself (as Go does): parsing,
// nsswitch order, change detection, and the resolver answering names from
// a hosts file of the test's own — never a lookup of a real name.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { filesFirst, HostsFile, parseHosts } from "../runtimes/_hosts_file.ts";
import type { Resolver } from "../mod.ts";

const HOSTS = `# a comment line
127.0.0.1\tlocalhost
198.18.1.3   db.test Db-Alias.TEST   # trailing comment
::ffff:192.0.2.7 mapped.test
2001:db8::5 db.test
fe80::1%lo link.test
not-an-ip  broken.test
192.0.2.9
192.0.2.10 fqdn.test.
198.18.1.3 db.test
`;

type Adapter = {
  createResolver(options?: { hostsFile?: string | false }): Resolver;
};

async function adapter(): Promise<Adapter> {
  if ("Deno" in globalThis) return await import("../runtimes/deno.ts");
  if ("Bun" in globalThis) return await import("../runtimes/bun.ts");
  return await import("../runtimes/node.ts");
}

function tempFile(text: string): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "nettrace-hosts-"));
  const path = join(dir, "hosts");
  writeFileSync(path, text);
  return { path, dir };
}

test("parseHosts() reads addresses and names, skips comments, junk and bare addresses, keeps file order", () => {
  const table = parseHosts(HOSTS);
  assert.deepEqual(table.get("db.test"), [
    { address: "198.18.1.3", family: 4 },
    { address: "2001:db8::5", family: 6 },
  ]);
  assert.deepEqual(table.get("db-alias.test"), [
    { address: "198.18.1.3", family: 4 },
  ]);
  assert.deepEqual(table.get("mapped.test"), [
    { address: "192.0.2.7", family: 4 },
  ]);
  assert.deepEqual(table.get("link.test"), [
    { address: "fe80::1", family: 6, zone: "lo" },
  ]);
  assert.deepEqual(table.get("fqdn.test"), [
    { address: "192.0.2.10", family: 4 },
  ]);
  assert.equal(table.has("broken.test"), false);
  assert.equal(table.has("comment"), false);
});

test("filesFirst() follows the hosts: line of nsswitch.conf", () => {
  assert.equal(filesFirst("hosts: files dns\n"), true);
  assert.equal(
    filesFirst("passwd: files\nhosts:\tfiles mdns4_minimal dns"),
    true,
  );
  assert.equal(filesFirst("hosts: dns files\n"), false);
  assert.equal(
    filesFirst("hosts: resolve [!UNAVAIL=return] files myhostname dns"),
    false,
  );
  assert.equal(filesFirst("# hosts: dns\npasswd: files\n"), true);
  assert.equal(filesFirst(""), true);
});

test("HostsFile.lookup() answers listed names by family, case-insensitively and with a trailing dot, and undefined for others", () => {
  const { path, dir } = tempFile(HOSTS);
  try {
    const hosts = new HostsFile(path, { nsswitch: false });
    assert.deepEqual(hosts.lookup("DB.test.", 4), [
      { address: "198.18.1.3", family: 4 },
    ]);
    assert.deepEqual(hosts.lookup("db.test", 6), [
      { address: "2001:db8::5", family: 6 },
    ]);
    assert.deepEqual(hosts.lookup("db-alias.test", 6), []);
    assert.equal(hosts.lookup("elsewhere.test", 4), undefined);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("HostsFile re-reads the file when it changed, at most once per check interval", () => {
  const { path, dir } = tempFile("192.0.2.1 a.test\n");
  try {
    let now = 0;
    const hosts = new HostsFile(path, {
      nsswitch: false,
      checkInterval: 5000,
      now: () => now,
    });
    assert.deepEqual(hosts.lookup("a.test", 4), [
      { address: "192.0.2.1", family: 4 },
    ]);
    writeFileSync(path, "192.0.2.2 a.test b.test\n# longer than before\n");
    now = 4999;
    assert.deepEqual(hosts.lookup("a.test", 4), [
      { address: "192.0.2.1", family: 4 },
    ]);
    now = 5000;
    assert.deepEqual(hosts.lookup("a.test", 4), [
      { address: "192.0.2.2", family: 4 },
    ]);
    assert.deepEqual(hosts.lookup("b.test", 4), [
      { address: "192.0.2.2", family: 4 },
    ]);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("HostsFile is not used when nsswitch.conf puts another source first, nor when the file is missing", () => {
  const { path, dir } = tempFile("192.0.2.1 a.test\n");
  const nss = join(dir, "nsswitch.conf");
  writeFileSync(nss, "hosts: dns files\n");
  try {
    assert.equal(
      new HostsFile(path, { nsswitch: nss }).lookup("a.test", 4),
      undefined,
    );
    writeFileSync(nss, "hosts: files dns\n");
    assert.deepEqual(
      new HostsFile(path, { nsswitch: nss }).lookup("a.test", 4),
      [
        { address: "192.0.2.1", family: 4 },
      ],
    );
    assert.equal(
      new HostsFile(join(dir, "absent"), { nsswitch: false }).lookup(
        "a.test",
        4,
      ),
      undefined,
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("createResolver({ hostsFile }) answers names of that file per family without getaddrinfo", async () => {
  const { createResolver } = await adapter();
  const { path, dir } = tempFile(HOSTS);
  try {
    const resolver = createResolver({ hostsFile: path });
    const signal = new AbortController().signal;
    assert.deepEqual(await resolver.lookup("db.test", 4, { signal }), [
      { address: "198.18.1.3", family: 4 },
    ]);
    assert.deepEqual(await resolver.lookup("Db.Test.", 6, { signal }), [
      { address: "2001:db8::5", family: 6 },
    ]);
    // Listed, but with no address of that family: no such record, no query.
    assert.deepEqual(await resolver.lookup("mapped.test", 6, { signal }), []);
    // localhost stays the RFC 6761 answer.
    assert.deepEqual(await resolver.lookup("localhost", 6, { signal }), [
      { address: "::1", family: 6 },
    ]);
    const aborted = AbortSignal.abort(new Error("gone"));
    await assert.rejects(
      resolver.lookup("db.test", 4, { signal: aborted }),
      /gone/,
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("createResolver() rejects a hostsFile that is not a path or false", async () => {
  const { createResolver } = await adapter();
  for (const bad of ["", 42, true]) {
    assert.throws(
      () => createResolver({ hostsFile: bad as unknown as string }),
      TypeError,
    );
  }
  createResolver({ hostsFile: false });
});
