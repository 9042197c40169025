import { mkdir, open, readFile, rm } from "node:fs/promises";
import { resolve } from "node:path";
import type { DatabaseConfig } from "../../functions-src/config.ts";
import type { Db } from "../../functions-src/db/port.ts";
import { createPostgresDb } from "../../functions-src/db/postgres.ts";

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
 * Opens the database a Node process should use: Postgres when a URL is configured (DATABASE_URL), else the embedded
 * PGlite in the data directory (COORDINATOR_DATA_DIR, default ./.coordinator). PGlite is imported only when used.
 */
export async function openDatabase(database: DatabaseConfig): Promise<OpenedDb> {
  if (database.url) {
    return {
      db: createPostgresDb(database.url, {
        max: database.poolSize,
        prepare: database.prepare,
        connectTimeout: database.connectTimeoutSeconds,
        statementTimeoutMs: database.statementTimeoutMs,
      }),
      location: redactUrl(database.url),
    };
  }
  const dataDir = resolve(database.dataDir);
  await mkdir(dataDir, { recursive: true });
  const unlock = await lockDataDir(dataDir);
  try {
    const { createPgliteDb } = await import("./pglite.ts");
    const db = await createPgliteDb({ dataDir: resolve(dataDir, "pgdata") });
    const close = db.close.bind(db);
    return {
      db: {
        ...db,
        close: async () => {
          await close();
          await unlock();
        },
      },
      location: dataDir,
    };
  } catch (err) {
    await unlock();
    throw err;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The lock file of a PGlite data directory: the pid of the process that has it open. */
function lockFile(dataDir: string): string {
  return resolve(dataDir, "pglite.lock");
}

/** The live process holding a PGlite data directory open (`npm start`, or a script), or null when none does. */
export async function dataDirOwner(dataDir: string): Promise<number | null> {
  const owner = Number((await readFile(lockFile(dataDir), "utf8").catch(() => "")).trim());
  return Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner) ? owner : null;
}

/**
 * PGlite is one process's database: a second process opening the same directory (`npm run keys` while `npm start`
 * runs) would corrupt it. A lock file with the owner's pid refuses that with a clear message; a stale one (its
 * process gone) is taken over.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = lockFile(dataDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, "wx", 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = await dataDirOwner(dataDir);
      if (owner !== null) {
        throw new Error(
          `the data directory ${dataDir} is in use by process ${owner} (npm start?): stop it first, ` +
            "or point DATABASE_URL at a Postgres server to share one database between processes",
        );
      }
      await rm(file, { force: true });
    }
  }
  throw new Error(`could not lock the data directory ${dataDir}`);
}
