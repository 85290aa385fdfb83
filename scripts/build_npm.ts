// The npm package beside JSR: `npm run build` (scripts/build.sh) runs this
// with the pinned Node 24. It writes dist/ (gitignored):
//   - ESM JavaScript and .d.ts for every entry point of deno.json "exports"
//     and what they import, emitted by the pinned tsc (TypeScript 7) with
//     rewriteRelativeImportExtensions (`./x.ts` -> `./x.js` in the .js files);
//   - the same rewrite in the .d.ts files (tsc keeps `.ts` there);
//   - dist/package.json: name, version and license from deno.json, the
//     description from package.json, and an exports map derived from
//     deno.json "exports" (so an entry point added there is in the npm
//     package too); npm: imports of deno.json become optional peer
//     dependencies (only the entry point that imports them needs them);
//   - README.md, LICENSE, CHANGELOG.md.
// The type check is deno check's and tsc -p tsconfig.core.json's job
// (scripts/check.sh); here tsc only emits (noCheck), which is sound because
// JSR's no-slow-types rule already makes every exported type explicit.
//
//   node scripts/build_npm.ts [OUT_DIR]     (default dist)

import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = resolve(root, process.argv[2] ?? "dist");

interface DenoJson {
  name: string;
  version: string;
  license?: string;
  exports: Record<string, string>;
  imports?: Record<string, string>;
}
const deno = JSON.parse(
  readFileSync(join(root, "deno.json"), "utf8"),
) as DenoJson;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  description?: string;
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// ── emit ──────────────────────────────────────────────────────────────────
const entries = Object.entries(deno.exports);
const tsc = join(root, "node_modules", ".bin", "tsc");
execFileSync(tsc, [
  ...entries.map(([, file]) => join(root, file)),
  "--target",
  "ES2022",
  "--lib",
  "ESNext,DOM,DOM.Iterable",
  "--types",
  "",
  "--module",
  "NodeNext",
  "--moduleResolution",
  "NodeNext",
  "--rewriteRelativeImportExtensions",
  "--verbatimModuleSyntax",
  "--erasableSyntaxOnly",
  "--declaration",
  "--noCheck",
  "--skipLibCheck",
  "--rootDir",
  root,
  "--outDir",
  out,
], { cwd: root, stdio: "inherit" });

// tsc keeps `./x.ts` in declaration files; a consumer resolves `./x.js` to
// `./x.d.ts`, so rewrite relative specifiers the way the .js files have them.
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
const relativeTs =
  /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*?)\.ts(["'])/g;
let rewritten = 0;
for (const file of walk(out)) {
  if (!file.endsWith(".d.ts")) continue;
  const text = readFileSync(file, "utf8");
  const next = text.replace(relativeTs, "$1$2.js$3");
  if (next !== text) {
    writeFileSync(file, next);
    rewritten++;
  }
}

// ── package.json ──────────────────────────────────────────────────────────
const exportsMap: Record<string, { types: string; default: string }> = {};
for (const [key, file] of entries) {
  const js = "./" + file.replace(/^\.\//, "").replace(/\.ts$/, ".js");
  const dts = js.replace(/\.js$/, ".d.ts");
  for (const path of [js, dts]) {
    if (!existsSync(join(out, path))) {
      throw new Error(`build: ${key} -> ${file}: ${path} was not emitted`);
    }
  }
  exportsMap[key] = { types: dts, default: js };
}
const peers: Record<string, string> = {};
for (const [name, target] of Object.entries(deno.imports ?? {})) {
  const m = /^npm:((?:@[^/]+\/)?[^@]+)@(.+)$/.exec(target);
  if (m && m[1] === name) peers[name] = m[2];
}
// ./undici and ./fetch use undici from the user's
// node_modules (bare `undici/index.js`, not a deno.json import): both
// majors work (see docs/fetch.md).
peers["undici"] ??= "^7.0.0 || ^8.0.0";
const manifest = {
  name: deno.name,
  version: deno.version,
  description: pkg.description,
  license: deno.license,
  type: "module",
  exports: exportsMap,
  engines: { node: ">=24" },
  ...(Object.keys(peers).length > 0
    ? {
      peerDependencies: peers,
      peerDependenciesMeta: Object.fromEntries(
        Object.keys(peers).map((name) => [name, { optional: true }]),
      ),
    }
    : {}),
};
writeFileSync(
  join(out, "package.json"),
  JSON.stringify(manifest, null, 2) + "\n",
);
for (const name of ["README.md", "LICENSE", "CHANGELOG.md"]) {
  if (existsSync(join(root, name))) {
    copyFileSync(join(root, name), join(out, name));
  }
}
// The README links its docs/ pages: ship them so the links hold.
cpSync(join(root, "docs"), join(out, "docs"), { recursive: true });

const count = walk(out).length;
console.log(
  `build: ${relative(root, out) || "."}: ${count} files, ` +
    `${entries.length} entry points (${Object.keys(exportsMap).join(" ")}), ` +
    `${rewritten} declaration files' imports rewritten to .js`,
);
