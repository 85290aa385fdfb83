/**
 * The hosts file, read by the system resolvers themselves, as Go's resolver
 * does: a name listed there is answered from a parsed copy without a
 * getaddrinfo call (which costs a thread-pool round trip per family), and
 * every other name still goes to getaddrinfo. Only used when the system
 * consults the file first (`hosts: files …` in `/etc/nsswitch.conf`, or no
 * such file, as with musl); the copy is checked for changes at most every
 * 5 seconds, like Go's.
 *
 * @module
 */

import { readFileSync, statSync } from "node:fs";
import process from "node:process";
import { parseIP } from "../src/address.ts";
import type { Family } from "../src/types.ts";
import type { ResolvedAddr } from "./_dns_common.ts";

/** How often the file is checked for changes, in milliseconds (Go: 5 s). */
export const HOSTS_CHECK_INTERVAL = 5_000;

/** Options for {@linkcode HostsFile}. */
export interface HostsFileOptions {
  /**
   * The nsswitch file that says whether the hosts file comes first;
   * `false`: assume it does.
   * @default {"/etc/nsswitch.conf"}
   */
  nsswitch?: string | false;
  /**
   * Milliseconds between checks of the files for changes.
   * @default {5000}
   */
  checkInterval?: number;
  /**
   * The clock, in milliseconds.
   * @default {performance.now}
   */
  now?: () => number;
}

function nameKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/**
 * Parses hosts-file text into name → addresses, in file order, each address
 * once per name.
 *
 * @param text The file's text.
 * @returns The table; names are lower case without a trailing dot.
 */
export function parseHosts(text: string): Map<string, ResolvedAddr[]> {
  const table = new Map<string, ResolvedAddr[]>();
  for (const rawLine of text.split("\n")) {
    const hash = rawLine.indexOf("#");
    const line = hash >= 0 ? rawLine.slice(0, hash) : rawLine;
    const fields = line.split(/[ \t\r]+/).filter((f) => f !== "");
    if (fields.length < 2) continue;
    const ip = parseIP(fields[0]!);
    if (ip === undefined) continue;
    for (const name of fields.slice(1)) {
      const key = nameKey(name);
      let list = table.get(key);
      if (list === undefined) {
        list = [];
        table.set(key, list);
      }
      if (!list.some((a) => a.address === ip.address && a.zone === ip.zone)) {
        list.push(ip);
      }
    }
  }
  return table;
}

/**
 * Whether an nsswitch.conf consults the hosts file before anything else.
 *
 * @param text The nsswitch.conf text.
 * @returns True when the `hosts:` line starts with `files` (or is absent).
 */
export function filesFirst(text: string): boolean {
  for (const rawLine of text.split("\n")) {
    const line = rawLine.replace(/#.*/, "").trim();
    if (!line.startsWith("hosts:")) continue;
    const sources = line.slice("hosts:".length).trim().split(/\s+/);
    return sources[0] === "files";
  }
  return true;
}

/**
 * A file's text, or `undefined` when it cannot be read.
 *
 * @param path The file.
 * @returns The UTF-8 text.
 */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * What changes when a file changes (mtime, size, inode), or `"absent"`.
 *
 * @param path The file.
 * @returns A string to compare with the previous one.
 */
export function stamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return "absent";
  }
}

/** A hosts file, parsed and kept up to date. */
export class HostsFile {
  readonly #path: string;
  readonly #nsswitch: string | false;
  readonly #interval: number;
  readonly #now: () => number;
  #checkedAt = -Infinity;
  #stamp = "";
  #table = new Map<string, ResolvedAddr[]>();
  #enabled = false;

  /**
   * Watches `path`.
   *
   * @param path The hosts file.
   * @param options Where nsswitch.conf is, how often to check.
   */
  constructor(path: string, options: HostsFileOptions = {}) {
    this.#path = path;
    this.#nsswitch = options.nsswitch ?? "/etc/nsswitch.conf";
    this.#interval = options.checkInterval ?? HOSTS_CHECK_INTERVAL;
    this.#now = options.now ?? (() => performance.now());
  }

  #refresh(): void {
    const now = this.#now();
    if (now - this.#checkedAt < this.#interval) return;
    this.#checkedAt = now;
    const next = `${stamp(this.#path)}|${
      this.#nsswitch === false ? "" : stamp(this.#nsswitch)
    }`;
    if (next === this.#stamp) return;
    this.#stamp = next;
    const nsswitch = this.#nsswitch === false
      ? undefined
      : readText(this.#nsswitch);
    this.#enabled = nsswitch === undefined || filesFirst(nsswitch);
    const text = this.#enabled ? readText(this.#path) : undefined;
    this.#table = text === undefined ? new Map() : parseHosts(text);
  }

  /**
   * The file's answer for `host`.
   *
   * @param host The name.
   * @param family The family asked for.
   * @returns The addresses of `family` (possibly none) when the file lists
   * the name, or `undefined` when it does not (ask getaddrinfo).
   */
  lookup(host: string, family: Family): ResolvedAddr[] | undefined {
    this.#refresh();
    const list = this.#table.get(nameKey(host));
    if (list === undefined) return undefined;
    const out: ResolvedAddr[] = [];
    for (const a of list) if (a.family === family) out.push({ ...a });
    return out;
  }
}

/**
 * The hosts file of this system, or `undefined` where the resolvers do not
 * read it themselves (Windows).
 *
 * @returns A watcher of `/etc/hosts`.
 */
export function systemHostsFile(): HostsFile | undefined {
  return process.platform === "win32" ? undefined : new HostsFile("/etc/hosts");
}
