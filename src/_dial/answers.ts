/**
 * What a dial makes of its answers before the scheduler sees them: NAT64
 * (RFC 8305 §7: an empty or failed AAAA answer waits for the A answer and
 * the prefix, then the synthesised IPv6 addresses stand in for it; an IPv4
 * literal is dialled through its synthesised form too) and the source
 * address probes that let RFC 6724 sort an answer.
 *
 * @module
 */

import { AddrError } from "../errors.ts";
import { synthesizeNat64 } from "../nat64.ts";
import type { Family, IPAddr } from "../types.ts";
import type { FamilyEvent, Lookups } from "./lookups.ts";
import type { SourceAddressProbe } from "./options.ts";
import type { Order } from "./order.ts";

/** At most this many addresses of one answer are probed for their source. */
const MAX_PROBES = 32;

/** Where the answers go once ready. */
export interface AnswerSink {
  /** Whether the dial has ended. */
  readonly settled: boolean;
  /** How many attempts the scheduler has started. */
  readonly attemptsStarted: number;
  /** Hands an answer to the scheduler. */
  dispatch(event: FamilyEvent): void;
}

/** What the answers of a dial read from its plan. */
export interface AnswerPlan {
  readonly host: string;
  readonly families: readonly Family[];
  readonly literal: IPAddr | undefined;
}

/** The answers of one dial on their way to the scheduler. */
export class Answers {
  readonly #plan: AnswerPlan;
  readonly #order: Order;
  readonly #lookups: Lookups;
  readonly #sink: AnswerSink;
  readonly #probe: SourceAddressProbe | undefined;
  /** The A answer, kept for NAT64 synthesis. */
  #answer4: IPAddr[] | undefined;
  /** The AAAA outcome held back until the synthesis can run. */
  #held6: FamilyEvent | undefined;

  constructor(
    plan: AnswerPlan,
    parts: {
      order: Order;
      lookups: Lookups;
      sink: AnswerSink;
      probe: SourceAddressProbe | undefined;
    },
  ) {
    this.#plan = plan;
    this.#order = parts.order;
    this.#lookups = parts.lookups;
    this.#sink = parts.sink;
    this.#probe = parts.probe;
  }

  /**
   * Hands one family's lookup outcome on, after the NAT64 synthesis and
   * the source probes, where they apply.
   */
  deliver(event: FamilyEvent): void {
    const nat64 = this.#order.nat64;
    if (nat64 !== undefined && this.#plan.families.length === 2) {
      if (event.family === 4) {
        this.#answer4 = event.type === "answer" ? event.addrs.slice() : [];
      } else if (event.type === "lookupFailed" || event.addrs.length === 0) {
        this.#held6 = event;
        this.#maybeSynthesize();
        return;
      }
    }
    this.#probeAndDispatch(event);
    if (nat64 !== undefined && event.family === 4) this.#maybeSynthesize();
  }

  /** Whether the NAT64 prefixes are still to be discovered (RFC 7050). */
  get needsDiscovery(): boolean {
    const nat64 = this.#order.nat64;
    return nat64 !== undefined && nat64.prefixes === undefined &&
      this.#plan.families.length === 2;
  }

  /** Discovers the NAT64 prefixes, then synthesises what waits for them. */
  discover(): void {
    const nat64 = this.#order.nat64!;
    const asked = this.#lookups.discoverNat64((prefixes) => {
      nat64.prefixes = prefixes;
      this.#maybeSynthesize();
    });
    if (!asked) nat64.prefixes = [];
  }

  /** A dial of an IPv4 literal with NAT64: the literal, and its IPv6 form. */
  startNat64Literal(): void {
    const literal = this.#plan.literal!;
    this.#answer4 = [literal];
    this.#held6 = { type: "answer", family: 6, addrs: [] };
    if (this.#plan.families.includes(4)) {
      this.#order.offer({ type: "answer", family: 4, addrs: [literal] });
      this.#sink.dispatch({ type: "answer", family: 4, addrs: [literal] });
    }
    if (this.#order.nat64!.prefixes === undefined) this.discover();
    this.#maybeSynthesize();
  }

  /**
   * Once the AAAA outcome is held, the A answer is in and the prefixes are
   * known: hands the scheduler the synthesised IPv6 addresses in place of
   * the empty AAAA answer (or the held outcome when none can be made).
   */
  #maybeSynthesize(): void {
    const held = this.#held6;
    const answer4 = this.#answer4;
    const prefixes = this.#order.nat64?.prefixes;
    if (
      held === undefined || answer4 === undefined || prefixes === undefined ||
      this.#sink.settled
    ) return;
    this.#held6 = undefined;
    const synthesized: IPAddr[] = [];
    for (const prefix of prefixes) {
      for (const ip of answer4) {
        if (ip.family !== 4) continue;
        const six = synthesizeNat64(ip.address, prefix);
        if (six === undefined || !this.#order.addSynthesized(six, ip.address)) {
          continue;
        }
        synthesized.push(six);
      }
    }
    let event: FamilyEvent = held;
    if (synthesized.length > 0) {
      event = { type: "answer", family: 6, addrs: synthesized };
    } else if (
      this.#plan.literal !== undefined && !this.#plan.families.includes(4)
    ) {
      event = {
        type: "lookupFailed",
        family: 6,
        error: new AddrError("no suitable address found", this.#plan.host),
      };
    }
    this.#probeAndDispatch(event);
  }

  /**
   * Dispatches an answer, first probing the source address of its
   * addresses when that can change the order: an answer of two or more,
   * or one that arrives before any attempt while another family's is in
   * or awaited first.
   */
  #probeAndDispatch(event: FamilyEvent): void {
    const probe = this.#probe;
    const order = this.#order;
    if (
      probe === undefined || event.type !== "answer" ||
      event.addrs.length === 0 ||
      !(event.addrs.length > 1 ||
        (this.#sink.attemptsStarted === 0 &&
          (event.family !== order.gate || order.offeredAny)))
    ) {
      order.offer(event);
      this.#sink.dispatch(event);
      return;
    }
    const addrs = event.addrs.length > MAX_PROBES
      ? event.addrs.slice(0, MAX_PROBES)
      : event.addrs;
    const signal = this.#lookups.signal;
    const probes = addrs.map((ip) => {
      try {
        return Promise.resolve(probe(ip, { signal })).then(
          undefined,
          () => undefined,
        );
      } catch {
        return undefined;
      }
    });
    this.#lookups.working(1);
    Promise.all(probes).then((sources) => {
      this.#lookups.working(-1);
      if (this.#sink.settled) return;
      order.setSources(addrs, sources);
      order.offer(event);
      this.#sink.dispatch(event);
    });
  }
}
