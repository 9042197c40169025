/**
 * Group commit (db/group.ts): calls that arrive together share one statement, each keeps its own answer, and a
 * group that fails is run again call by call so one call's error stays its own. On both databases; the concurrent
 * HTTP suites (locks/concurrency, work/concurrency) prove mutual exclusion and exactly-once through it, and the
 * admin force-release test that an acting admin's call keeps its actor (such calls go alone).
 */
import { expect, it } from "vitest";
import { forEachDatabase, silentLog } from "../../test/helpers.ts";
import { callJson } from "./port.ts";
import { groupCommits } from "./group.ts";

interface Acquired {
  locks?: Array<{ key: string; token: number; agent_id: string }>;
  error?: { code: string; conflicts?: Array<{ agent_id: string }> };
}

forEachDatabase("group commit", (get) => {
  it("concurrent acquires of one key share statements, and exactly one agent gets the key", async () => {
    const db = groupCommits(get().db, silentLog);
    const N = 24;
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        callJson<Acquired>(db, "coord.acquire_locks", ["grp1", `agent-${i}`, null, ["one.ts"], null, 600, null]),
      ),
    );
    const winners = answers.filter((a) => a.locks);
    expect(winners).toHaveLength(1);
    // Every loser was refused naming the winner: later calls in a group see the earlier calls' writes.
    const winner = winners[0]!.locks![0]!.agent_id;
    for (const a of answers.filter((x) => x.error)) {
      expect(a.error!.code).toBe("lock_conflict");
      expect(a.error!.conflicts!.map((c) => c.agent_id)).toEqual([winner]);
    }
    // The first call went alone; the others waited for it and went together.
    expect(db.groupStats.calls).toBe(N);
    expect(db.groupStats.statements).toBeLessThan(N);
    const [{ n }] = (await get().db.query<{ n: number }>(
      "select count(*)::int as n from coord.events where kind = 'lock.acquired' and data->>'repo' = 'grp1'",
    )) as [{ n: number }];
    expect(n).toBe(1);
  });

  it("distinct keys in concurrent groups each get a grant with its own fencing token, and release", async () => {
    const db = groupCommits(get().db, silentLog);
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        callJson<Acquired>(db, "coord.acquire_locks", ["grp2", `agent-${i}`, null, [`f${i}.ts`], null, 600, null]),
      ),
    );
    const tokens = answers.map((a) => a.locks![0]!.token);
    expect(new Set(tokens).size).toBe(16);
    const released = await Promise.all(
      answers.map((_, i) =>
        callJson<{ released: unknown[] }>(db, "coord.release_locks", ["grp2", `agent-${i}`, [`f${i}.ts`], false]),
      ),
    );
    expect(released.every((r) => r.released.length === 1)).toBe(true);
    expect(await get().db.query("select 1 from coord.locks where repo = 'grp2'")).toHaveLength(0);
  });

  it("a group that fails runs again call by call: the failing call gets its error, the others their answers", async () => {
    // A group whose runner cannot run one of its functions: the statement fails for the whole group.
    const db = groupCommits(get().db, silentLog, [
      { runner: "coord.run_lock_calls", functions: ["coord.acquire_locks", "coord.schema_version"] },
    ]);
    const calls = Array.from({ length: 6 }, (_, i) =>
      i === 3
        ? callJson<unknown>(db, "coord.schema_version", [])
        : callJson<Acquired>(db, "coord.acquire_locks", ["grp3", `agent-${i}`, null, [`g${i}.ts`], null, 600, null]),
    );
    const answers = await Promise.all(calls);
    expect(db.groupStats.fallbacks).toBeGreaterThanOrEqual(1);
    expect(typeof answers[3]).toBe("string");
    for (const i of [0, 1, 2, 4, 5]) expect((answers[i] as Acquired).locks![0]!.key).toBe(`g${i}.ts`);
    // Nothing was granted twice: the failed group committed nothing.
    const [{ n }] = (await get().db.query<{ n: number }>(
      "select count(*)::int as n from coord.events where kind = 'lock.acquired' and data->>'repo' = 'grp3'",
    )) as [{ n: number }];
    expect(n).toBe(5);
  });
});
