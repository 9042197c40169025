import { readdir, readFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgliteDb } from "../scripts/host/pglite.ts";
import { callJson, type Db } from "../functions-src/db/port.ts";
import { CompiledPolicies, type Policy } from "../functions-src/verification/routing.ts";
import {
  diffComments,
  diffDefinitions,
  diffPrivileges,
  readComments,
  readDefinitions,
  readObjects,
  readPrivileges,
} from "../scripts/db/catalog.ts";
import { checkDrift } from "../scripts/db/drift.ts";
import { applySchemaFiles, SUPABASE_DIR, schemaFiles } from "../scripts/db/schema-files.ts";
import { DATABASE_URL, pgliteFromTemplate } from "../test/helpers.ts";

const SCHEMAS_DIR = join(SUPABASE_DIR, "schemas");

async function sqlFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".sql")).map((e) => join(e.parentPath, e.name));
}

describe("supabase/schemas: one SQL object per file", () => {
  it("schema_paths in config.toml applies every schema file exactly once", async () => {
    const ordered = await schemaFiles();
    expect(new Set(ordered).size).toBe(ordered.length);
    expect([...ordered].sort()).toEqual((await sqlFilesUnder(SCHEMAS_DIR)).sort());
    expect(relative(SCHEMAS_DIR, ordered.at(-1)!)).toBe("grants.sql");
  });

  it("orders globs as Supabase does: each glob sorted, a file kept at its first place, an empty glob refused", async () => {
    const files = await schemaFiles(["./schemas/work/tables/tasks.sql", "./schemas/work/tables/*.sql"]);
    expect(files.map((f) => relative(SCHEMAS_DIR, f))).toEqual(["work/tables/tasks.sql", "work/tables/task_deps.sql"]);
    await expect(schemaFiles(["./schemas/nowhere/*.sql"])).rejects.toThrow(/no file matches/);
  });

  it("a table file holds its table, comment and row-level security; a function file its function and comment", async () => {
    for (const file of await sqlFilesUnder(SCHEMAS_DIR)) {
      const sql = await readFile(file, "utf8");
      const name = basename(file, ".sql");
      const where = relative(SCHEMAS_DIR, file);
      const kind = basename(join(file, ".."));
      if (kind === "tables") {
        expect(sql.match(/^create table coord\.\w+/gm), where).toEqual([`create table coord.${name}`]);
        expect(sql, where).toContain(`comment on table coord.${name} is`);
        expect(sql, where).toContain(`alter table coord.${name} enable row level security;`);
      } else if (kind === "functions" || kind === "api") {
        expect(sql.match(/^create function coord\.\w+/gm), where).toEqual([`create function coord.${name}`]);
        expect(sql, where).toContain(`comment on function coord.${name}(`);
      }
      // Privileges are granted in grants.sql only.
      if (where !== "grants.sql") expect(sql, where).not.toMatch(/^\s*(grant|revoke|alter default privileges)\b/im);
    }
  });

  it("API functions (the api folders) never carry the capability prefix that marks an internal helper", async () => {
    const api = (await sqlFilesUnder(SCHEMAS_DIR)).filter((f) => basename(join(f, "..")) === "api");
    expect(api.length).toBeGreaterThan(40);
    for (const file of api) {
      expect(basename(file, ".sql")).not.toMatch(
        /^(lock|locks|task|tasks|memory|memories|working|verification|webhook)_/,
      );
    }
  });

  it("routes the gateway's own SQL as sensitive (tier 4) with the default policies of seed.sql", async () => {
    const db = await pgliteFromTemplate();
    try {
      const p = await callJson<{ version: string; policies: Policy[] }>(db, "coord.routing_policies");
      const policies = new CompiledPolicies(p.version, p.policies);
      for (const path of [
        "supabase/schemas/verification/api/submit_changeset.sql",
        "supabase/schemas/verification/tables/verification_policies.sql",
        "supabase/schemas/grants.sql",
      ]) {
        expect(policies.route([{ path, status: "modified" }]).base_tier, path).toBe(4);
      }
      const other = policies.route([{ path: "supabase/schemas/work/api/claim_tasks.sql", status: "modified" }]);
      expect(other.base_tier).toBe(2);
    } finally {
      await db.close();
    }
  });
});

// PGlite has pgvector, the Postgres 15 server has not: this comparison is the one that sees the optional embedding
// column and index, built by a `do` block in both the migration and the schema file. migra cannot connect to
// PGlite, so the catalogs are compared directly.
describe("supabase/schemas build what the migrations build [pglite]", () => {
  let migrated: Db;
  let fromSchemas: Db;
  beforeAll(async () => {
    migrated = await pgliteFromTemplate();
    fromSchemas = await createPgliteDb();
    await applySchemaFiles(fromSchemas);
  });
  afterAll(async () => {
    await migrated?.close();
    await fromSchemas?.close();
  });

  it("has the same objects, comments and privileges, pgvector's embedding column included", async () => {
    const definitions = await readDefinitions(fromSchemas);
    expect([...definitions.keys()]).toContain("column coord.memories.embedding");
    // Whole definitions are compared, not a prefix of them.
    expect(definitions.get("function coord.lock_json(coord.locks)")).toContain("'expires_at', l.expires_at");
    expect(diffDefinitions(await readDefinitions(migrated), definitions)).toEqual([]);
    const comments = diffComments(
      await readComments(migrated),
      await readComments(fromSchemas),
      await readObjects(fromSchemas),
    );
    expect(comments.lines).toEqual([]);
    expect(diffPrivileges(await readPrivileges(migrated), await readPrivileges(fromSchemas)).lines).toEqual([]);
  });
});

// The drift check builds two scratch databases on a Postgres server and diffs them with migra, which needs live
// connections to both: it runs when DATABASE_URL names a server, as it always does in CI (.ci/run). Without one,
// the PGlite comparison above still compares the two builds.
describe.skipIf(!DATABASE_URL)("drift check (npm run db:check) [postgres]", () => {
  it("finds no drift between supabase/migrations and supabase/schemas", async () => {
    const drift = await checkDrift(DATABASE_URL!);
    expect(drift.report).toBe("");
    expect(drift.clean).toBe(true);
  });

  it("reports a changed function body, a changed comment and a missing grant", async () => {
    const drift = await checkDrift(DATABASE_URL!, {
      transform(path, sql) {
        const file = relative(SCHEMAS_DIR, path);
        if (file === "locks/api/current_locks.sql") return sql.replace("500)) l)", "499)) l)");
        if (file === "foundation/tables/agents.sql") return sql.replace("(presence).'", "(presence, changed).'");
        if (file === "grants.sql") return sql.replace(/^grant select \(agent_id, agent_type, last_seen_at\).*$/m, "");
        return sql;
      },
    });
    expect(drift.clean).toBe(false);
    expect(drift.objects).toMatch(
      /CREATE OR REPLACE FUNCTION coord\.current_locks\(p_limit integer[^)]*\)[\s\S]*499\)\) l\)/,
    );
    expect(drift.comments.statements).toContainEqual(
      expect.stringMatching(/^comment on table coord\.agents is .*changed/),
    );
    expect(drift.privileges.lines).toEqual(
      expect.arrayContaining([
        "privilege only in the migrations: SELECT on column coord.agents.agent_id for anon",
        "privilege only in the migrations: SELECT on column coord.agents.last_seen_at for authenticated",
      ]),
    );
    expect(drift.report).toContain("coord.current_locks");
  });
});
