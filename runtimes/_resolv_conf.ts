/**
 * The name servers of `/etc/resolv.conf`, for the one query getaddrinfo
 * cannot make: the system resolver asks them for HTTPS/SVCB records
 * (RFC 9460) with the own DNS client. Read as glibc and Go read it:
 * `nameserver` lines (IPv6 with a `%zone` too; at most three), and
 * `options timeout:N attempts:N`; without a name server, 127.0.0.1 and ::1
 * (Go's default). The copy is checked for changes at most every 5 seconds,
 * like the hosts file. Not part of the public API.
 *
 * @module
 */

import { checkResolverOptions, type NameServer } from "./_dns_common.ts";
import { HOSTS_CHECK_INTERVAL, readText, stamp } from "./_hosts_file.ts";

/** glibc's MAXNS: name servers after the third are not used. */
const MAX_NAME_SERVERS = 3;
/** glibc's and Go's defaults: 5 s per query, 2 rounds over the servers. */
const DEFAULT_TIMEOUT = 5;
const DEFAULT_ATTEMPTS = 2;
/** glibc's limits: at most 30 s per query, at most 5 rounds. */
const MAX_TIMEOUT = 30;
const MAX_ATTEMPTS = 5;

/** What {@linkcode parseResolvConf} read. */
export interface ResolvConfig {
  /** The name servers' addresses, in file order (canonical, `%zone` kept). */
  nameServers: string[];
  /** Seconds to wait for one answer (`options timeout:N`). */
  timeout: number;
  /** Rounds over the name servers (`options attempts:N`). */
  attempts: number;
}

/**
 * Parses resolv.conf text. Lines starting with `#` or `;` are comments;
 * a `nameserver` whose address is no IP literal is skipped; option values
 * out of range are clamped as glibc does.
 *
 * @param text The file's text.
 * @returns The name servers (127.0.0.1 and ::1 when none is listed), the
 * timeout and the attempts.
 */
export function parseResolvConf(text: string): ResolvConfig {
  const config: ResolvConfig = {
    nameServers: [],
    timeout: DEFAULT_TIMEOUT,
    attempts: DEFAULT_ATTEMPTS,
  };
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (line.startsWith("#") || line.startsWith(";")) continue;
    const [keyword, ...fields] = line.split(/[ \t\r]+/);
    if (keyword === "nameserver" && fields.length > 0) {
      if (config.nameServers.length >= MAX_NAME_SERVERS) continue;
      const server = nameServer(fields[0]!, 53);
      if (server !== undefined) config.nameServers.push(server.address);
    } else if (keyword === "options") {
      for (const option of fields) {
        const [name, value] = option.split(":", 2);
        const n = Number.parseInt(value ?? "", 10);
        if (!Number.isFinite(n)) continue;
        if (name === "timeout") {
          config.timeout = Math.min(Math.max(n, 1), MAX_TIMEOUT);
        } else if (name === "attempts") {
          config.attempts = Math.min(Math.max(n, 1), MAX_ATTEMPTS);
        }
      }
    }
  }
  if (config.nameServers.length === 0) {
    config.nameServers.push("127.0.0.1", "::1");
  }
  return config;
}

/** A checked name server, or `undefined` for text that is no IP literal. */
function nameServer(address: string, port: number): NameServer | undefined {
  try {
    return checkResolverOptions({ nameServer: { address, port } }).nameServer;
  } catch {
    return undefined;
  }
}

/** Options for {@linkcode ResolvConf}. */
export interface ResolvConfOptions {
  /**
   * The port every name server is asked on (resolv.conf has none; tests
   * point it at a fixture).
   * @default {53}
   */
  port?: number;
  /**
   * Milliseconds between checks of the file for changes.
   * @default {5000}
   */
  checkInterval?: number;
  /**
   * The clock, in milliseconds.
   * @default {performance.now}
   */
  now?: () => number;
}

/** The servers to ask, in order, with the per-query timeout. */
export interface ResolvServers {
  /** The name servers, in file order. */
  servers: NameServer[];
  /** Milliseconds to wait for one answer. */
  timeout: number;
  /** Rounds over the servers. */
  attempts: number;
}

/** A resolv.conf, parsed and kept up to date. */
export class ResolvConf {
  readonly #path: string;
  readonly #port: number;
  readonly #interval: number;
  readonly #now: () => number;
  #checkedAt = -Infinity;
  #stamp = "";
  #current: ResolvServers | undefined;

  /**
   * Watches `path`.
   *
   * @param path The resolv.conf file.
   * @param options The port, how often to check, the clock.
   */
  constructor(path: string, options: ResolvConfOptions = {}) {
    this.#path = path;
    this.#port = options.port ?? 53;
    this.#interval = options.checkInterval ?? HOSTS_CHECK_INTERVAL;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * The name servers as the file says now (a missing file: the defaults).
   *
   * @returns The servers, the timeout in milliseconds and the attempts.
   */
  servers(): ResolvServers {
    const now = this.#now();
    if (this.#current !== undefined && now - this.#checkedAt < this.#interval) {
      return this.#current;
    }
    this.#checkedAt = now;
    const next = stamp(this.#path);
    if (this.#current !== undefined && next === this.#stamp) {
      return this.#current;
    }
    this.#stamp = next;
    const config = parseResolvConf(readText(this.#path) ?? "");
    this.#current = {
      servers: config.nameServers.map((a) => nameServer(a, this.#port)!),
      timeout: config.timeout * 1000,
      attempts: config.attempts,
    };
    return this.#current;
  }
}
