/**
 * The staged race on loopback: a DNS server (the test fixture) answers
 * race.test with AAAA ::1 (late) and A 127.0.0.1; [::1]:P never accepts and
 * 127.0.0.1:P echoes (over TLS with --tls). And the echo through the
 * connection the dial returns.
 *
 * @module
 */

import type { Conn } from "../mod.ts";
import { startDnsServer } from "../tests/_dns_server.ts";
import {
  startEchoServer,
  startHangingListener,
} from "../tests/_tcp_fixtures.ts";
import { startTlsServer } from "../tests/_tls_fixtures.ts";

export const RACE_HOST = "race.test";
export const AAAA_DELAY = 20;

/** The staged race: DNS server, hanging [::1]:P, echoing 127.0.0.1:P. */
export interface Stage {
  port: number;
  nameServer: { address: string; port: number };
  close(): Promise<void>;
}

/** The ALPN protocols the TLS race offers and its server accepts. */
export const ALPN = ["h2", "http/1.1"];

export async function stageRace(tls: boolean): Promise<Stage> {
  const dns = await startDnsServer({
    zone: {
      [RACE_HOST]: {
        AAAA: ["::1"],
        A: ["127.0.0.1"],
        delay: { AAAA: AAAA_DELAY },
      },
    },
  });
  try {
    // The same port on both addresses, so one name:port races the two.
    for (let tries = 1;; tries++) {
      const hanging = await startHangingListener("::1");
      try {
        const echo = tls
          ? await startTlsServer({
            host: "127.0.0.1",
            port: hanging.port,
            alpnProtocols: ALPN,
          })
          : await startEchoServer({ host: "127.0.0.1", port: hanging.port });
        return {
          port: hanging.port,
          nameServer: dns.nameServer,
          async close() {
            await Promise.all([echo.close(), hanging.close(), dns.close()]);
          },
        };
      } catch (error) {
        await hanging.close();
        const code = (error as { code?: unknown }).code;
        if (code !== "EADDRINUSE" || tries === 10) throw error;
      }
    }
  } catch (error) {
    await dns.close();
    throw error;
  }
}

export async function echo(
  conn: Conn,
  line: string,
): Promise<{ sent: string; received: string; ms: number }> {
  const bytes = new TextEncoder().encode(line);
  const started = performance.now();
  const writer = conn.writable.getWriter();
  const reader = conn.readable.getReader();
  try {
    await writer.write(bytes);
    const decoder = new TextDecoder();
    let received = "";
    let length = 0;
    while (length < bytes.length) {
      const { value, done } = await reader.read();
      if (done) break;
      length += value.length;
      received += decoder.decode(value, { stream: true });
    }
    received += decoder.decode();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    return { sent: line, received, ms };
  } finally {
    writer.releaseLock();
    reader.releaseLock();
  }
}
