/**
 * Drift between the two ways to build the database: applying supabase/migrations (what `supabase db push` deploys)
 * and applying supabase/schemas (the source of truth). Both are built in scratch databases on a local Postgres and
 * compared: objects by migra (`@pgkit/migra`); comments, privileges and functions' SET clauses from the catalogs (migra
 * compares none of them).
 */
import { createClient } from "@pgkit/client";
import { Migration } from "@pgkit/migra";
import postgres from "postgres";
import { migrate } from "../host/migrate.ts";
import { createPostgresDb } from "../../functions-src/db/postgres.ts";
import {
  type CatalogDifference,
  diffComments,
  diffPrivileges,
  readComments,
  readObjects,
  readPrivileges,
  readSettings,
  diffSettings,
} from "./catalog.ts";
import { type ApplyOptions, applySchemaFiles, MIGRATIONS_DIR } from "./schema-files.ts";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * Creates `count` empty databases on the server of `baseUrl`, runs `fn` with their URLs and drops them again,
 * also when `fn` fails or the process is interrupted. Names start with coord_scratch_ (.ci/run sweeps leftovers).
 */
export async function withScratchDatabases<T>(
  baseUrl: string,
  count: number,
  fn: (urls: string[]) => Promise<T>,
): Promise<T> {
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  const stem = `coord_scratch_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const names = Array.from({ length: count }, (_, i) => `${stem}_${i}`);
  const created: string[] = [];
  const dropAll = async () => {
    for (const name of created.splice(0)) await admin.unsafe(`drop database if exists ${name} with (force)`);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void dropAll().finally(() => process.kill(process.pid, signal));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    for (const name of names) {
      await admin.unsafe(`create database ${name}`);
      created.push(name);
    }
    return await fn(
      names.map((name) => {
        const url = new URL(baseUrl);
        url.pathname = `/${name}`;
        return url.toString();
      }),
    );
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    try {
      await dropAll();
    } finally {
      await admin.end();
    }
  }
}

/** Applies the migrations with the project's own runner (which also creates the Supabase role stand-ins). */
export async function buildFromMigrations(url: string, migrationsDir = MIGRATIONS_DIR): Promise<void> {
  const db = createPostgresDb(url, { max: 1 });
  try {
    await migrate(db, { migrationsDir, seedFile: null });
  } finally {
    await db.close();
  }
}

/** Applies the schema files in the order of supabase/config.toml, after the same role stand-ins. */
export async function buildFromSchemas(url: string, options: ApplyOptions = {}): Promise<void> {
  const db = createPostgresDb(url, { max: 1 });
  try {
    await applySchemaFiles(db, options);
  } finally {
    await db.close();
  }
}

/** migra's statements that turn database `fromUrl` into database `toUrl` (drops included), or "". */
export async function migraDiff(fromUrl: string, toUrl: string): Promise<string> {
  const options = { pgpOptions: { initialize: { noWarnings: true } } };
  const from = createClient(fromUrl, options);
  const to = createClient(toUrl, options);
  try {
    const m = await Migration.create(from, to, {});
    m.set_safety(false);
    m.add_all_changes(true);
    return m.sql.trim();
  } finally {
    await Promise.all([from.end(), to.end()]);
  }
}

export interface Drift {
  /** True when the two databases are the same in objects, comments, privileges and functions' SET clauses. */
  clean: boolean;
  /** migra's statements (objects and table privileges). */
  objects: string;
  comments: CatalogDifference;
  privileges: CatalogDifference;
  settings: CatalogDifference;
  /** Everything that differs, for people; "" when clean. */
  report: string;
  /** The statements that turn the `from` database into the `to` one (without the grants file). */
  statements: string;
}

/** Compares two built databases: what turns `fromUrl` (the migrations) into `toUrl` (the schema files). */
export async function compareDatabases(fromUrl: string, toUrl: string): Promise<Drift> {
  const objects = await migraDiff(fromUrl, toUrl);
  const from = createPostgresDb(fromUrl, { max: 1 });
  const to = createPostgresDb(toUrl, { max: 1 });
  try {
    const comments = diffComments(await readComments(from), await readComments(to), await readObjects(to));
    const privileges = diffPrivileges(await readPrivileges(from), await readPrivileges(to));
    const settings = diffSettings(await readSettings(from), await readSettings(to));
    const sections: string[] = [];
    if (objects)
      sections.push(
        `Objects (migra; statements that turn the migrations' database into the schema files'):\n${objects}`,
      );
    if (comments.lines.length) sections.push(`Comments:\n${comments.lines.map((l) => `  ${l}`).join("\n")}`);
    if (privileges.lines.length) sections.push(`Privileges:\n${privileges.lines.map((l) => `  ${l}`).join("\n")}`);
    if (settings.lines.length) sections.push(`Function settings:\n${settings.lines.map((l) => `  ${l}`).join("\n")}`);
    const statements = [
      // migra turns off body checks (it orders functions by name, not by what calls what); only for this migration.
      objects.includes("set check_function_bodies = off;") ? `${objects}\n\nreset check_function_bodies;` : objects,
      comments.statements.length ? `-- Comments (migra does not compare them).\n${comments.statements.join("\n")}` : "",
      privileges.statements.length
        ? `-- Privileges on existing objects (migra compares only table privileges).\n${privileges.statements.join("\n")}`
        : "",
      settings.statements.length
        ? `-- SET clauses of existing functions (migra does not compare them).\n${settings.statements.join("\n")}`
        : "",
    ].filter(Boolean);
    return {
      clean: sections.length === 0,
      objects,
      comments,
      privileges,
      settings,
      report: sections.join("\n\n"),
      statements: statements.join("\n\n"),
    };
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
}

export interface DriftOptions extends ApplyOptions {
  migrationsDir?: string;
}

/** Builds both databases in scratch databases on the server of `baseUrl` and compares them. */
export async function checkDrift(baseUrl: string, options: DriftOptions = {}): Promise<Drift> {
  return withScratchDatabases(baseUrl, 2, async ([fromMigrations, fromSchemas]) => {
    await buildFromMigrations(fromMigrations!, options.migrationsDir);
    await buildFromSchemas(fromSchemas!, options);
    return compareDatabases(fromMigrations!, fromSchemas!);
  });
}
