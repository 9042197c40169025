import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { Db } from "./port.ts";
import { createPostgresDb } from "./postgres.ts";

export interface OpenedDb {
  db: Db;
  /** Where the data lives: the Postgres URL without its password, or the PGlite directory. */
  location: string;
}

/** Hides the password of a connection URL, for printing. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

/**
 * Opens the database a Node process should use: Postgres when DATABASE_URL is set, else the embedded PGlite
 * in COORDINATOR_DATA_DIR (default ./.coordinator). PGlite is imported only when used.
 */
export async function openDatabase(env: Record<string, string | undefined>): Promise<OpenedDb> {
  if (env.DATABASE_URL) {
    return { db: createPostgresDb(env.DATABASE_URL, { max: Number(env.DATABASE_POOL_SIZE ?? 10) }), location: redactUrl(env.DATABASE_URL) };
  }
  const dataDir = resolve(env.COORDINATOR_DATA_DIR ?? ".coordinator");
  await mkdir(dataDir, { recursive: true });
  const { createPgliteDb } = await import("./pglite.ts");
  return { db: await createPgliteDb({ dataDir: resolve(dataDir, "pgdata") }), location: dataDir };
}
