import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { callJson } from "../db/port.ts";
import { forEachDatabase } from "../../test/helpers.ts";
import { CompiledPolicies, type ChangedFile, type Policy } from "./routing.ts";

const mod = (path: string): ChangedFile => ({ path, status: "modified" });

forEachDatabase("verification routing (default policies from seed.sql)", (get) => {
  let policies: CompiledPolicies;
  beforeAll(async () => {
    const p = await callJson<{ version: string; policies: Policy[] }>(get().db, "coord.routing_policies");
    policies = new CompiledPolicies(p.version, p.policies);
  });

  it.each([
    ["README.md", 0],
    ["docs/guide/intro.md", 0],
    ["src/index.ts", 1],
    ["lib/util.py", 1],
    ["unknown.bin", 1],
    ["supabase/migrations/0009_x.sql", 2],
    ["package.json", 2],
    ["package-lock.json", 2],
    ["web/package.json", 2],
    ["test/integration/db.test.ts", 2],
    ["Dockerfile", 3],
    ["docker-compose.yml", 3],
    ["infra/main.tf", 3],
    [".env", 4],
    [".env.production", 4],
    ["config/.env.local", 4],
    ["certs/server.pem", 4],
    [".github/workflows/ci.yml", 4],
    ["CODEOWNERS", 4],
    [".github/CODEOWNERS", 4],
    ["functions-src/identity/auth.ts", 4],
    ["functions-src/verification/routing.ts", 4],
    ["supabase/seed.sql", 4],
  ])("%s → tier %i (root-level files match **/ patterns)", (path, tier) => {
    expect(policies.route([mod(path)]).base_tier).toBe(tier);
  });

  it("takes the highest minimum and explains which policy matched which files", () => {
    const r = policies.route([mod("README.md"), mod("src/a.ts"), mod("supabase/migrations/1.sql")]);
    expect(r.base_tier).toBe(2);
    expect(r.floor_tier).toBe(0);
    expect(r.matches.map((m) => [m.policy, m.files])).toEqual([
      ["docs", ["README.md"]],
      ["integration", ["supabase/migrations/1.sql"]],
      ["source", ["src/a.ts"]],
    ]);
  });

  it("counts removed files, and both paths of a renamed file", () => {
    expect(policies.route([{ path: ".github/workflows/ci.yml", status: "removed" }]).base_tier).toBe(4);
    const renamed = policies.route([{ path: "docs/old-env.md", status: "renamed", previous_path: ".env.example" }]);
    expect(renamed.base_tier).toBe(4);
    expect(renamed.floor_tier).toBe(4);
  });

  it("a change with no known files (an empty push) needs tier 1, not tier 0", () => {
    expect(policies.route([]).base_tier).toBe(1);
  });

  it("unmatched files need tier 1 and are listed", () => {
    const r = policies.route([mod("assets/logo.svg")]);
    expect(r).toMatchObject({ base_tier: 1, unmatched: { count: 1, files: ["assets/logo.svg"] } });
  });

  it("routes 10,000 files in one call, the same answer each time (speed is the bench's: scripts/bench/verification.ts)", () => {
    const files = Array.from({ length: 10_000 }, (_, i) =>
      mod(`pkg${i % 50}/src/module${i}/file${i}.${["ts", "md", "sql", "json", "py"][i % 5]}`),
    );
    const first = policies.route(files);
    expect(first.base_tier).toBe(2);
    // Compiled matchers are reused: a second routing of the same files answers the same.
    expect(policies.route(files)).toEqual(first);
  });

  const pathArb = fc.oneof(
    fc.constantFrom(
      "README.md",
      "src/a.ts",
      ".env",
      "supabase/migrations/1.sql",
      "Dockerfile",
      ".github/workflows/x.yml",
      "x.bin",
      "docs/a.md",
    ),
    fc
      .array(fc.constantFrom("a", "src", "docs", ".github", "workflows", "infra", "migrations", "auth"), {
        minLength: 1,
        maxLength: 4,
      })
      .chain((dirs) =>
        fc.constantFrom(".ts", ".md", ".sql", ".yml", "", ".pem").map((ext) => `${dirs.join("/")}/f${ext}`),
      ),
  );
  const fileArb = fc.record({
    path: pathArb,
    status: fc.constantFrom("added", "modified", "removed") as fc.Arbitrary<ChangedFile["status"]>,
  });

  it("property: adding files to a change never lowers its tier or its floor", () => {
    fc.assert(
      fc.property(fc.array(fileArb, { minLength: 1, maxLength: 20 }), fc.array(fileArb, { maxLength: 20 }), (a, b) => {
        const before = policies.route(a);
        const after = policies.route([...a, ...b]);
        return after.base_tier >= before.base_tier && after.floor_tier >= before.floor_tier;
      }),
      { numRuns: 300 },
    );
  });

  it("property (SQL): trust moves the tier up, or down by at most one, never below the floor", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom(-1, 0, 1),
        async (base, floorRaw, adj) => {
          const floor = Math.min(floorRaw, base); // a floor comes from a matched policy, so it never exceeds the base
          const [{ t }] = (await get().db.query<{ t: number }>(
            "select coord.verification_final_tier($1, $2, $3) as t",
            [base, floor, adj],
          )) as [{ t: number }];
          return (
            t >= floor && t >= base - 1 && t <= 4 && (adj >= 0 ? t >= base : true) && (adj <= 0 ? t <= base : true)
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("glob semantics", () => {
  it("dot files match, ** crosses directories and also matches none", () => {
    const p = new CompiledPolicies("v", [
      { id: "p", description: "d", patterns: ["**/.env*", "a/**/b.ts"], min_tier: 4, is_floor: false },
    ]);
    expect(p.route([mod(".env")]).base_tier).toBe(4);
    expect(p.route([mod("x/y/.env.local")]).base_tier).toBe(4);
    expect(p.route([mod("a/b.ts")]).base_tier).toBe(4);
    expect(p.route([mod("a/x/y/b.ts")]).base_tier).toBe(4);
    expect(p.route([mod("b/a/b.ts")]).base_tier).toBe(1);
  });
});
