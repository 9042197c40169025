/**
 * What an edge start loads before its first answer: the modules the edge entry reaches by static imports, as Deno
 * resolves them (`deno info --json`). A Supabase worker pays for every one of them on each cold start, so code only
 * some routes need is imported by its first request instead (`import()`): the MCP SDK and its JSON-schema validator
 * (mcp/server.ts), the glob, YAML and TOML parsers of a submission, the Standard Webhooks library of a callback, the
 * WordNet thesaurus of recall. A static import of any of them puts it back on every start; this says which.
 * `npm run bench` (scripts/bench/edge.ts) measures the start itself.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DENO = createRequire(new URL("../tools/deno/package.json", import.meta.url)).resolve("deno/bin.cjs");
const ENTRY = "supabase/functions/coordinator/index.ts";

interface Dependency {
  specifier: string;
  /** Absent for a type-only import, which loads nothing at run time. */
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface Info {
  roots: string[];
  modules: Array<{ specifier: string; dependencies?: Dependency[] }>;
  redirects: Record<string, string>;
}

/** The npm package a resolved specifier names: `npm:/@scope/name@^1/sub.js` → `@scope/name`. */
function npmPackage(specifier: string): string {
  const m = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)/.exec(specifier);
  if (!m) throw new Error(`not an npm specifier: ${specifier}`);
  return m[1]!;
}

/** The local modules and npm packages the entry loads at start: static imports only, from the entry outwards. */
function loadedAtStart(info: Info): { local: string[]; npm: string[] } {
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const local = new Set<string>();
  const npm = new Set<string>();
  const stack = [...info.roots];
  while (stack.length) {
    const next = stack.pop()!;
    const specifier = info.redirects[next] ?? next;
    if (local.has(specifier)) continue;
    local.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (!dep.code || dep.isDynamic) continue;
      const target = dep.code.specifier;
      if (target.startsWith("npm:")) npm.add(npmPackage(target));
      else if (target.startsWith("file:")) stack.push(target);
    }
  }
  return {
    local: [...local].map((s) => s.slice(`file://${ROOT}`.length)).sort(),
    npm: [...npm].sort(),
  };
}

describe("edge start", () => {
  const info = (): Info => {
    const out = execFileSync(process.execPath, [DENO, "info", "--json", ENTRY], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1" },
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(String(out)) as Info;
  };

  it("loads only hono, zod and postgres from npm, and none of the modules kept for their routes", () => {
    const { local, npm } = loadedAtStart(info());
    expect(local).toContain(ENTRY);
    expect(local).toContain("functions-src/app.ts");
    expect(npm, "an npm package is imported statically on the edge path; import() it where a route needs it").toEqual([
      "hono",
      "postgres",
      "zod",
    ]);
    for (const lazy of [
      "functions-src/mcp/server.ts",
      "functions-src/verification/routing.ts",
      "functions-src/verification/static.ts",
      "functions-src/memory/expansion.ts",
      "functions-src/memory/thesaurus-data.ts",
    ]) {
      expect(local, `${lazy} is loaded at start; import() it from the route that needs it`).not.toContain(lazy);
    }
  });
});
