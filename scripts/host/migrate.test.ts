import { cp, mkdtemp, readdir, rm, writeFile, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, freshPostgres } from "../../test/helpers.ts";
import { DEFAULT_MIGRATIONS_DIR, migrate, MigrationError } from "./migrate.ts";
import { createPgliteDb } from "./pglite.ts";
import type { Db } from "../../functions-src/db/port.ts";

/** The runner's contract, on a database that starts empty. */
function runnerSuite(kind: string, open: () => Promise<{ db: Db; close(): Promise<void> }>) {
  describe(`migration runner [${kind}]`, () => {
    let db: Db;
    let close: () => Promise<void>;
    let dir: string;

    beforeAll(async () => {
      ({ db, close } = await open());
      dir = await mkdtemp(join(tmpdir(), "coord-mig-"));
      await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    });
    afterAll(async () => {
      await close();
      await rm(dir, { recursive: true, force: true });
    });

    it("applies every migration in order on a fresh database, with the role stand-ins", async () => {
      const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
      const r = await migrate(db, { migrationsDir: dir });
      expect(r.applied).toEqual(files);
      expect(r.schemaVersion).toBe(files.at(-1));
      const roles = await db.query<{ rolname: string }>(
        "select rolname from pg_roles where rolname in ('anon','authenticated','service_role') order by 1",
      );
      expect(roles.map((r) => r.rolname)).toEqual(["anon", "authenticated", "service_role"]);
      const [v] = await db.query<{ v: string }>("select coord.schema_version() as v");
      expect(v!.v).toBe(files.at(-1));
    });

    it("re-running applies nothing and keeps the recorded checksums", async () => {
      const before = await db.query("select name, checksum from coord_migrations.applied order by name");
      const r = await migrate(db, { migrationsDir: dir });
      expect(r.applied).toEqual([]);
      expect(await db.query("select name, checksum from coord_migrations.applied order by name")).toEqual(before);
    });

    it("refuses to run when an applied migration's file has changed", async () => {
      await appendFile(join(dir, "0001_foundation.sql"), "\n-- edited after the fact\n");
      await writeFile(join(dir, "9998_would_apply.sql"), "create table coord.should_not_exist (id int);");
      await expect(migrate(db, { migrationsDir: dir })).rejects.toThrow(
        /0001_foundation\.sql changed after it was applied/,
      );
      // Refused up front: the pending migration after it did not run either.
      expect(await db.query("select to_regclass('coord.should_not_exist') as t")).toEqual([{ t: null }]);
      await cp(join(DEFAULT_MIGRATIONS_DIR, "0001_foundation.sql"), join(dir, "0001_foundation.sql"));
      await rm(join(dir, "9998_would_apply.sql"));
    });

    it("stops at a failing migration and leaves nothing of it behind", async () => {
      await writeFile(join(dir, "9990_good.sql"), "create table coord.mig_good (id int);");
      await writeFile(
        join(dir, "9991_bad.sql"),
        "create table coord.mig_half (id int);\ninsert into coord.mig_half values (1);\nselect no_such_function();",
      );
      await writeFile(join(dir, "9992_after.sql"), "create table coord.mig_after (id int);");
      const err = await migrate(db, { migrationsDir: dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as MigrationError).migration).toBe("9991_bad.sql");
      const [t] = await db.query<{ good: string | null; half: string | null; after: string | null }>(
        "select to_regclass('coord.mig_good')::text as good, to_regclass('coord.mig_half')::text as half, to_regclass('coord.mig_after')::text as after",
      );
      expect(t).toEqual({ good: "coord.mig_good", half: null, after: null });
      const names = (await db.query<{ name: string }>("select name from coord_migrations.applied")).map((r) => r.name);
      expect(names).toContain("9990_good.sql");
      expect(names).not.toContain("9991_bad.sql");
    });
  });
}

runnerSuite("pglite", async () => {
  const db = await createPgliteDb();
  return { db, close: () => db.close() };
});

// The runner on the real server is part of the Postgres suites, which run when DATABASE_URL is set (as in CI).
if (DATABASE_URL) {
  runnerSuite("postgres", async () => {
    const pg = await freshPostgres({ migrate: false });
    return { db: pg.db, close: pg.drop };
  });
}
