/**
 * The declarative schema: the files under supabase/schemas, in the order `[db.migrations] schema_paths` of
 * supabase/config.toml gives them (the setting Supabase's CLI reads, so there is one order), and a way to build a
 * database from them.
 */
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";
import { migrate } from "../host/migrate.ts";
import type { Db } from "../../functions-src/db/port.ts";

export const SUPABASE_DIR = fileURLToPath(new URL("../../supabase/", import.meta.url));
export const CONFIG_FILE = join(SUPABASE_DIR, "config.toml");
export const MIGRATIONS_DIR = join(SUPABASE_DIR, "migrations");
export const GRANTS_FILE = join(SUPABASE_DIR, "schemas", "grants.sql");

/** The `schema_paths` globs of supabase/config.toml, relative to the supabase folder. */
export async function schemaPaths(configFile = CONFIG_FILE): Promise<string[]> {
  const config = parseToml(await readFile(configFile, "utf8")) as { db?: { migrations?: { schema_paths?: unknown } } };
  const paths = config.db?.migrations?.schema_paths;
  if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === "string")) {
    throw new Error(`${configFile}: [db.migrations] schema_paths must be a non-empty list of globs`);
  }
  return paths;
}

/** One path segment of a glob (`*`, `?`, `[…]`; no `**`, as in Go's path.Match) as a regular expression. */
function segmentPattern(segment: string): RegExp {
  let re = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = segment.indexOf("]", i + 1);
      if (end < 0) throw new Error(`unterminated [ in glob segment ${segment}`);
      re += `[${segment.slice(i + 1, end).replace(/^!/, "^")}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

async function expand(baseDir: string, pattern: string): Promise<string[]> {
  let found = [""];
  const segments = pattern.replace(/^\.\//, "").split("/").filter(Boolean);
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    const next: string[] = [];
    for (const dir of found) {
      if (!/[*?[]/.test(segment)) {
        const path = join(dir, segment);
        if (last ? await stat(join(baseDir, path)).catch(() => null) : await isDirectory(join(baseDir, path))) {
          next.push(path);
        }
        continue;
      }
      const re = segmentPattern(segment);
      const entries = await readdir(join(baseDir, dir), { withFileTypes: true }).catch(() => []);
      for (const e of entries) if (re.test(e.name) && (last || e.isDirectory())) next.push(join(dir, e.name));
    }
    found = next;
  }
  return found;
}

/**
 * The schema files in apply order, as Supabase's CLI orders them: the globs in the order listed, the matches of
 * each sorted by path, a file matched again later kept at its first place. A glob that matches nothing is an error.
 * Answers absolute paths.
 */
export async function schemaFiles(patterns?: string[], baseDir = SUPABASE_DIR): Promise<string[]> {
  const result: string[] = [];
  const seen = new Set<string>();
  for (const pattern of patterns ?? (await schemaPaths())) {
    const matches = (await expand(baseDir, pattern)).sort();
    if (matches.length === 0) throw new Error(`schema_paths: no file matches ${pattern}`);
    for (const m of matches) {
      if (seen.has(m)) continue;
      seen.add(m);
      result.push(join(baseDir, m));
    }
  }
  return result;
}

export interface ApplyOptions {
  /** Rewrites a file's text before it runs (tests use it to build a deliberately different database). */
  transform?: (path: string, sql: string) => string;
}

/**
 * Builds a database from the schema files: first the Supabase role stand-ins and the runner's bookkeeping (by the
 * project's own migration runner, given no migrations), so it differs from a migrated database only in what the SQL
 * files say; then every file in order, in one transaction.
 */
export async function applySchemaFiles(db: Db, options: ApplyOptions = {}): Promise<void> {
  const empty = await mkdtemp(join(tmpdir(), "coord-no-migrations-"));
  try {
    await migrate(db, { migrationsDir: empty, seedFile: null });
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
  const files = await schemaFiles();
  await db.transaction(async (tx) => {
    for (const file of files) {
      const text = await readFile(file, "utf8");
      try {
        await tx.exec(options.transform ? options.transform(file, text) : text);
      } catch (err) {
        throw new Error(`${relative(SUPABASE_DIR, file)}: ${(err as Error).message}`);
      }
    }
  });
}
