/**
 * The edge boundary, checked: `functions-src/` is exactly what the edge entry (Supabase Edge Functions, Deno)
 * reaches. Code only the Node host, scripts or tests use lives in `scripts/` or `test/`, so a reader can trust that
 * everything in `functions-src/` runs on the edge, and nothing there pulls Node-only code into the bundle.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const EDGE_ENTRY = join(ROOT, "supabase/functions/coordinator/index.ts");
const SOURCE = join(ROOT, "functions-src");

/** Relative imports of a module: static `import`/`export … from` and dynamic `import()`, type-only ones included. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s));
}

function reachableFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const dep of relativeImports(file)) if (dep.endsWith(".ts")) stack.push(dep);
  }
  return seen;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [path] : [];
  });
}

describe("edge boundary", () => {
  const reachable = reachableFrom(EDGE_ENTRY);
  const rel = (f: string) => relative(ROOT, f);

  it("every module under functions-src/ is reached from the edge entry", () => {
    const unreached = sourceFiles(SOURCE).filter((f) => !reachable.has(f));
    expect(unreached.map(rel), "move Node-only code to scripts/ and test helpers to test/").toEqual([]);
  });

  it("the edge entry reaches nothing outside functions-src/ and its own folder", () => {
    const outside = [...reachable].filter((f) => !f.startsWith(SOURCE) && f !== EDGE_ENTRY);
    expect(outside.map(rel)).toEqual([]);
  });

  it("the checker sees through imports (a module that is not imported counts as unreached)", () => {
    const fromStatus = reachableFrom(join(SOURCE, "status/capability.ts"));
    expect([...fromStatus].map(rel)).toContain("functions-src/db/port.ts");
    expect(fromStatus.has(join(SOURCE, "locks/service.ts"))).toBe(false);
  });
});
