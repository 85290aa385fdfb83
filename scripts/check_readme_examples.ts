/**
 * Keeps the examples shown in README.md and docs/*.md equal to the files in
 * examples/ that CI runs (scripts/examples.sh). A code block shown as an
 * example file is preceded by a marker naming the file:
 *
 *   <!-- example: examples/deno_dial.ts -->
 *   ```ts ignore
 *   ...the file's text, verbatim...
 *   ```
 *
 * Fails when a block differs from its file, a marker names no file or is not
 * followed by a code block, or a block that imports `./_local.ts` (so it is
 * an example file) has no marker. Run from the clone's root:
 *
 *   node_modules/.bin/node scripts/check_readme_examples.ts [FILE.md ...]
 *
 * Prints one line per problem and "examples in docs: N blocks in sync" or
 * "examples in docs: N of M blocks FAILED"; exit status 1 on any problem.
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import process from "node:process";

const MARKER = /^<!--\s*example:\s*(\S+)\s*-->\s*$/;
const FENCE = /^(`{3,}|~{3,})(.*)$/;

interface Block {
  /** The line of the opening fence, from 1. */
  line: number;
  /** The fence's info string (`ts ignore`). */
  info: string;
  /** The block's text, lines joined with "\n", no trailing newline. */
  text: string;
  /** The example file named by a marker right before the block. */
  example?: string;
}

/** Splits a Markdown file into its fenced code blocks, with their markers. */
function blocks(markdown: string, problems: string[], file: string): Block[] {
  const lines = markdown.split("\n");
  const out: Block[] = [];
  let pending: { path: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i]);
    if (marker !== null) {
      if (pending !== undefined) {
        problems.push(`${file}:${pending.line}: marker with no code block`);
      }
      pending = { path: marker[1], line: i + 1 };
      continue;
    }
    const fence = FENCE.exec(lines[i]);
    if (fence === null) {
      if (pending !== undefined && lines[i].trim() !== "") {
        problems.push(
          `${file}:${pending.line}: marker not followed by a code block`,
        );
        pending = undefined;
      }
      continue;
    }
    const close = fence[1];
    let j = i + 1;
    while (j < lines.length && lines[j].trimEnd() !== close) j++;
    out.push({
      line: i + 1,
      info: fence[2].trim(),
      text: lines.slice(i + 1, j).join("\n"),
      example: pending?.path,
    });
    pending = undefined;
    i = j;
  }
  if (pending !== undefined) {
    problems.push(`${file}:${pending.line}: marker with no code block`);
  }
  return out;
}

/** The first line where two texts differ, for the report. */
function firstDifference(shown: string, actual: string): string {
  const a = shown.split("\n");
  const b = actual.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return `block line ${i + 1}: shown ${JSON.stringify(a[i] ?? null)}, ` +
        `file has ${JSON.stringify(b[i] ?? null)}`;
    }
  }
  return "";
}

function markdownFiles(): string[] {
  const files = ["README.md"];
  if (existsSync("docs")) {
    for (const name of readdirSync("docs").sort()) {
      if (name.endsWith(".md")) files.push(`docs/${name}`);
    }
  }
  return files.filter((f) => existsSync(f));
}

const files = process.argv.length > 2 ? process.argv.slice(2) : markdownFiles();
const problems: string[] = [];
let checked = 0;
for (const file of files) {
  for (const block of blocks(readFileSync(file, "utf8"), problems, file)) {
    const where = `${file}:${block.line}`;
    if (block.example === undefined) {
      if (/^ts\b/.test(block.info) && block.text.includes('"./_local.ts"')) {
        problems.push(
          `${where}: imports ./_local.ts but has no <!-- example: examples/… --> marker`,
        );
      }
      continue;
    }
    checked++;
    if (!existsSync(block.example)) {
      problems.push(`${where}: ${block.example} does not exist`);
      continue;
    }
    const actual = readFileSync(block.example, "utf8").replace(/\n+$/, "");
    if (block.text !== actual) {
      problems.push(
        `${where}: differs from ${block.example} (${
          firstDifference(block.text, actual)
        }); copy the file's text into the block`,
      );
    }
  }
}
for (const problem of problems) console.log(problem);
if (problems.length === 0) {
  console.log(`examples in docs: ${checked} blocks in sync`);
} else {
  console.log(
    `examples in docs: ${problems.length} problem(s) in ${checked} marked blocks FAILED`,
  );
  process.exit(1);
}
