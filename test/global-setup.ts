import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPgliteDb } from "../scripts/host/pglite.ts";
import { migrate } from "../scripts/host/migrate.ts";

/**
 * A fresh PGlite takes seconds to initialise. Migrate one once, dump its data directory, and let each test
 * file start from the dump (about half a second).
 */
export default async function setup() {
  const dir = await mkdtemp(join(tmpdir(), "coord-test-"));
  const db = await createPgliteDb();
  await migrate(db);
  const dump = await db.pglite.dumpDataDir("none");
  await db.close();
  const file = join(dir, "template.tar");
  await writeFile(file, new Uint8Array(await dump.arrayBuffer()));
  process.env.COORD_TEST_PGLITE_TEMPLATE = file;
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
