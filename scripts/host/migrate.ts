import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { Db } from "../../functions-src/db/port.ts";

/** Where `supabase db push` finds them too. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL("../../supabase/migrations/", import.meta.url));
export const DEFAULT_SEED_FILE = fileURLToPath(new URL("../../supabase/seed.sql", import.meta.url));

export interface MigrateOptions {
  migrationsDir?: string;
  /** The seed file to apply after the migrations; `null` skips it. */
  seedFile?: string | null;
}

export interface MigrateResult {
  /** Names of the migrations this run applied, in order. */
  applied: string[];
  /** The newest migration now recorded. */
  schemaVersion: string;
}

/** A migration run was refused or failed; nothing of the failing file was kept. */
export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migration?: string,
  ) {
    super(message);
    this.name = "MigrationError";
  }
}

// Supabase's roles, created as stand-ins on plain Postgres and PGlite so the same migrations run everywhere.
// Roles are cluster-wide: two runners on two databases of one cluster may race to create them.
const ROLE_STAND_INS = `
do $$
declare r text;
begin
  foreach r in array array['anon', 'authenticated', 'service_role'] loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = r) then
      begin
        execute format('create role %I nologin', r);
      exception when duplicate_object or unique_violation then null;
      end;
    end if;
  end loop;
end $$;`;

const BOOKKEEPING = `
create schema if not exists coord_migrations;
create table if not exists coord_migrations.applied (
  name       text primary key,
  checksum   text not null,
  applied_at timestamptz not null default now()
);
comment on table coord_migrations.applied is 'Migrations applied by the Agent Coordinator runner: file name and SHA-256 of its text.';`;

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Applies `supabase/migrations/*.sql` in name order, each in its own transaction, then the seed.
 * Refuses to run at all when a file that was already applied has changed since (forward-only: write a new
 * migration instead). Stops at the first failing migration, which leaves nothing behind.
 */
export async function migrate(db: Db, options: MigrateOptions = {}): Promise<MigrateResult> {
  const dir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();

  await db.exec(ROLE_STAND_INS);
  await db.exec(BOOKKEEPING);

  const recorded = new Map(
    (await db.query<{ name: string; checksum: string }>("select name, checksum from coord_migrations.applied")).map(
      (r) => [r.name, r.checksum],
    ),
  );

  const migrations = await Promise.all(
    files.map(async (name) => {
      const sql = await readFile(join(dir, name), "utf8");
      return { name, sql, checksum: await sha256Hex(sql) };
    }),
  );

  for (const m of migrations) {
    const was = recorded.get(m.name);
    if (was !== undefined && was !== m.checksum) {
      throw new MigrationError(
        `migration ${m.name} changed after it was applied (checksum ${was.slice(0, 12)}… → ${m.checksum.slice(0, 12)}…); ` +
          "applied migrations are immutable: restore the file and add a new migration instead",
        m.name,
      );
    }
  }

  const applied: string[] = [];
  for (const m of migrations) {
    if (recorded.has(m.name)) continue;
    try {
      const done = await db.transaction(async (tx) => {
        // Serialises concurrent runners on one database (two hosts starting at once).
        await tx.query("select pg_advisory_xact_lock(hashtext('coord_migrations'))");
        const again = await tx.query("select 1 from coord_migrations.applied where name = $1", [m.name]);
        if (again.length > 0) return false;
        await tx.exec(m.sql);
        await tx.query("insert into coord_migrations.applied (name, checksum) values ($1, $2)", [m.name, m.checksum]);
        return true;
      });
      if (done) applied.push(m.name);
    } catch (err) {
      throw new MigrationError(`migration ${m.name} failed and was rolled back: ${(err as Error).message}`, m.name);
    }
  }

  const seedFile = options.seedFile === undefined ? DEFAULT_SEED_FILE : options.seedFile;
  if (seedFile) {
    const seed = await readFile(seedFile, "utf8");
    await db.transaction((tx) => tx.exec(seed));
  }

  const [row] = await db.query<{ v: string | null }>("select max(name) as v from coord_migrations.applied");
  return { applied, schemaVersion: row?.v ?? "none" };
}
