/**
 * The shapes of the comparison's results: one measured variant (a row) and
 * what one scenario produced. Their own file so that compare.ts and the
 * scenario files it runs (_tls.ts, _undici.ts) and the report (_report.ts)
 * share them without importing each other.
 *
 * @module
 */

/** One measured variant of a scenario. */
export interface Row {
  name: string;
  /** Milliseconds. */
  median: number;
  /** Milliseconds. */
  p95: number;
  samples: number;
  /** Median ÷ the native row's median, measured in the same run. */
  ratio?: number;
  succeeded?: number;
  failed?: number;
  /** Anything else worth printing (queries sent, steps per second…). */
  extra?: Record<string, number | string>;
}

/** What one scenario produced on this runtime. */
export interface ScenarioResult {
  id: string;
  title: string;
  rows: Row[];
  /** How it was measured, in a sentence or two. */
  method: string;
  skipped?: string;
}
