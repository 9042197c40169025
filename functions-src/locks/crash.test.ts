import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson } from "../db/port.ts";
import { createPostgresDb } from "../db/postgres.ts";
import { migrate } from "../../scripts/host/migrate.ts";
import type { Db } from "../db/port.ts";
import { DATABASE_URL } from "../../test/helpers.ts";
import { createPrivateCluster, type PrivateCluster } from "../../test/private-cluster.ts";

/** An acquire's answer: the locks, or (refused) an error. */
interface Granted {
  locks: Array<{ key: string; token: number }>;
  error?: { code: string };
}

/**
 * The crash case. Lock state commits durably (synchronous_commit stays on; docs/LOCKS.md says why), so a grant an
 * agent was told about survives a server crash, and fencing tokens handed out after recovery are above every token
 * handed out before it. Crashes a private cluster, never the shared server.
 */
describe.runIf(!!DATABASE_URL)("locks across a database crash (private Postgres cluster)", () => {
  let cluster: PrivateCluster;
  let db: Db;

  beforeAll(async () => {
    cluster = createPrivateCluster();
    db = createPostgresDb(cluster.url, { max: 16 });
    await migrate(db);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    cluster?.destroy();
  });

  it("keeps every acknowledged grant and keeps tokens increasing after recovery", async () => {
    const acknowledged: Array<{ key: string; token: number }> = [];
    // Grants in flight while the server dies: those answered before the crash are acknowledged.
    const inflight = Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; i < 1000; i++) {
        try {
          const r = await callJson<Granted>(db, "coord.acquire_locks", [
            "default",
            `crash-agent-${w}`,
            null,
            [`crash/${w}/${i}.ts`],
            "crash test",
            3600,
          ]);
          if (!r.error) acknowledged.push(...r.locks);
        } catch {
          return; // the connection died with the server
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    cluster.crash();
    await Promise.all(inflight);
    expect(acknowledged.length).toBeGreaterThan(20);

    cluster.start();
    // postgres.js reconnects on the next query.
    const rows = await db.query<{ key: string; token: string }>(
      "select key, token::text from coord.locks where key like 'crash/%'",
    );
    const stored = new Map(rows.map((r) => [r.key, Number(r.token)]));
    for (const g of acknowledged) expect(stored.get(g.key), `grant of ${g.key} survived`).toBe(g.token);

    const before = Math.max(...acknowledged.map((g) => g.token));
    const after = await callJson<Granted>(db, "coord.acquire_locks", [
      "default",
      "after-crash",
      null,
      ["crash/after.ts"],
      null,
      600,
    ]);
    expect(after.error).toBeUndefined();
    expect(after.locks[0]!.token).toBeGreaterThan(before);
  }, 120_000);
});
