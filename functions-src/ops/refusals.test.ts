/**
 * The two halves of the refusal shape stay in step: every code a capability's SQL can refuse with is mapped by that
 * capability's refusal table (an unmapped one would surface as a 500), and no table keeps a code SQL never answers.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { dashboardRefusals } from "../dashboard/refusals.ts";
import { keyRefusals } from "../identity/refusals.ts";
import { lockRefusals } from "../locks/refusals.ts";
import { memoryRefusals } from "../memory/refusals.ts";
import { verificationRefusals } from "../verification/refusals.ts";
import { workRefusals } from "../work/refusals.ts";
import { callOp, type Refusals } from "./call.ts";

const SCHEMAS = fileURLToPath(new URL("../../supabase/schemas/", import.meta.url));
const TABLES: Record<string, Refusals> = {
  dashboard: dashboardRefusals,
  foundation: keyRefusals,
  locks: lockRefusals,
  memory: memoryRefusals,
  verification: verificationRefusals,
  work: workRefusals,
};

function sqlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sqlFiles(join(dir, e.name)) : e.name.endsWith(".sql") ? [join(dir, e.name)] : [],
  );
}

/** The first argument of each `coord.refusal(…)` call: a literal, a case expression, or a variable. */
function refusalArguments(sql: string): string[] {
  const args: string[] = [];
  for (let at = sql.indexOf("coord.refusal("); at >= 0; at = sql.indexOf("coord.refusal(", at + 1)) {
    let depth = 0;
    let end = at + "coord.refusal(".length;
    for (; end < sql.length; end++) {
      const ch = sql[end];
      if (ch === "(") depth++;
      else if (ch === ")" && depth-- === 0) break;
      else if (ch === "," && depth === 0) break;
    }
    args.push(sql.slice(at + "coord.refusal(".length, end).trim());
  }
  return args;
}

/** The codes an expression can evaluate to: a literal, or the results of a case expression (`then`/`else`). */
function codesOf(expression: string): string[] {
  const literal = /^'([a-z_]+)'$/.exec(expression.trim());
  if (literal) return [literal[1]!];
  return [...expression.matchAll(/\b(?:then|else)\s+'([a-z_]+)'/g)].map((m) => m[1]!);
}

/** The codes a capability's SQL can refuse with: in the argument itself, or assigned to the variable it names. */
function refusalCodes(files: string[]): Set<string> {
  const codes = new Set<string>();
  for (const file of files) {
    const sql = readFileSync(file, "utf8");
    if (file.endsWith("refusal.sql")) continue; // the helper's own definition
    for (const arg of refusalArguments(sql)) {
      const assigned = /^[a-z_]+$/.test(arg)
        ? [...sql.matchAll(new RegExp(`\\b${arg}\\s*:=([^;]*);`, "g"))].map((m) => m[1]!)
        : [arg];
      for (const expression of assigned) for (const code of codesOf(expression)) codes.add(code);
    }
  }
  return codes;
}

describe("refusal tables", () => {
  for (const [capability, table] of Object.entries(TABLES)) {
    it(`${capability}: every code its SQL refuses with is mapped, and every mapped code is used`, () => {
      const codes = refusalCodes(sqlFiles(join(SCHEMAS, capability)));
      expect(codes.size).toBeGreaterThan(0);
      expect([...codes].filter((c) => !Object.hasOwn(table, c)).sort(), "codes without a mapping").toEqual([]);
      expect(
        Object.keys(table)
          .filter((c) => !codes.has(c))
          .sort(),
        "mappings SQL never uses",
      ).toEqual([]);
    });
  }

  it("the scanner finds codes in literals, case expressions and assigned variables", () => {
    const codes = refusalCodes([
      join(SCHEMAS, "work/api/complete_tasks.sql"),
      join(SCHEMAS, "work/api/renew_claims.sql"),
    ]);
    expect([...codes].sort()).toEqual(["already_completed", "cancelled", "lease_lost", "not_claimant", "not_found"]);
  });

  it("an unmapped refusal is an internal error, never a guess", async () => {
    const db = {
      query: async <T>() => [{ r: { error: { code: "mystery" } } }] as T[],
      exec: async () => {},
    };
    await expect(callOp(db, "coord.x", [], {})).rejects.toThrow(/coord\.x answered refusal mystery/);
  });
});
