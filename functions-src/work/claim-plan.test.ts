/**
 * A typed claim reads its own type's ready tasks, not everyone's: behind 20,000 ready tasks of other types (queued
 * first, so they come first in claim order), claiming one task of a type must touch a handful of index entries.
 * Before the row comparison in coord.claim_tasks the planner walked tasks_ready_idx and filtered, reading all 20,000
 * (12 ms a claim at 100,000). Counted with Postgres's own statistics, so it needs a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, freshPostgres } from "../../test/helpers.ts";
import { callJson } from "../db/port.ts";

describe.runIf(DATABASE_URL)("typed claims and other types' backlog [postgres]", () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  beforeAll(async () => {
    pg = await freshPostgres({ max: 1 });
    await pg.db.query(
      "insert into coord.tasks (task_type, submitted_by) select 'other-' || (g % 4), 'test' from generate_series(1, 20000) g",
    );
    await pg.db.query(
      "insert into coord.tasks (task_type, submitted_by) select 'mine', 'test' from generate_series(1, 50)",
    );
    await pg.db.query("analyze coord.tasks");
  });
  afterAll(async () => {
    await pg?.drop();
  });

  /** Index entries read on coord.tasks so far (flushed to the shared statistics first). */
  const indexReads = async () => {
    await pg.db.query("select pg_stat_force_next_flush()");
    const [row] = await pg.db.query<{ n: string }>(
      "select coalesce(sum(idx_tup_read), 0)::text as n from pg_stat_user_indexes where schemaname = 'coord' and relname = 'tasks'",
    );
    return Number(row!.n);
  };

  it("claims of one type, many times (past the switch to a cached generic plan), each read a few entries", async () => {
    const per: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = await indexReads();
      const r = await callJson<{ tasks: Array<{ task_type: string }> }>(pg.db, "coord.claim_tasks", [
        `w-${i}`,
        null,
        "test",
        ["mine"],
        null,
        1,
        600,
      ]);
      expect(r.tasks.map((t) => t.task_type)).toEqual(["mine"]);
      per.push((await indexReads()) - before);
    }
    // A few probes each (the claim, the reaping, the update): nowhere near the 20,000 ready tasks of other types.
    expect(Math.max(...per)).toBeLessThan(500);
  });

  it("a claim naming several types takes the most urgent across them", async () => {
    await pg.db.query(
      "insert into coord.tasks (task_type, submitted_by, priority) values ('urgent-a', 'test', 1), ('later-b', 'test', 9)",
    );
    const r = await callJson<{ tasks: Array<{ task_type: string }> }>(pg.db, "coord.claim_tasks", [
      "multi",
      null,
      "test",
      ["later-b", "urgent-a", "later-b"],
      null,
      1,
      600,
    ]);
    expect(r.tasks.map((t) => t.task_type)).toEqual(["urgent-a"]);
    const both = await callJson<{ tasks: Array<{ task_type: string }> }>(pg.db, "coord.claim_tasks", [
      "multi",
      null,
      "test",
      ["later-b", "mine"],
      null,
      100,
      600,
    ]);
    // Every remaining task of both types, each once.
    expect(both.tasks.filter((t) => t.task_type === "later-b")).toHaveLength(1);
    expect(both.tasks.filter((t) => t.task_type === "mine")).toHaveLength(42);
  });
});
