import { expect, it } from "vitest";
import { callJson } from "../functions-src/db/port.ts";
import { forEachDatabase } from "./helpers.ts";

/**
 * The hybrid read pattern: agents may read a little directly with Supabase's anon key (presence, active locks,
 * ready-task summaries); everything else, and every write, goes through the API. Checked as the `anon` role itself.
 */
forEachDatabase("row-level security for the anon key", (get) => {
  /** Runs one statement as `anon`, in its own transaction, answering its rows or the SQLSTATE it failed with. */
  async function asAnon(sql: string): Promise<{ rows?: Array<Record<string, unknown>>; code?: string }> {
    try {
      return {
        rows: await get().db.transaction(async (tx) => {
          await tx.query("set local role anon");
          return tx.query(sql);
        }),
      };
    } catch (err) {
      return { code: (err as { code?: string }).code ?? "unknown" };
    }
  }

  it("shows presence, active locks and pending task summaries — and nothing else", async () => {
    const db = get().db;
    await db.query("select coord.record_presence('rls-agent', 'claude_code', 'rls-session')");
    await callJson(db, "coord.acquire_locks", ["default", "rls-agent", null, ["rls/live.ts"], "visible", 600]);
    await callJson(db, "coord.acquire_locks", ["default", "rls-agent", null, ["rls/stale.ts"], "expired", 600]);
    await db.query("update coord.locks set expires_at = now() - interval '1 minute' where key = 'rls/stale.ts'");
    await callJson(db, "coord.submit_tasks", [
      "rls-agent",
      null,
      [
        { task_type: "rls-pending", task_description: "readable", input_data: { secret: "not for anon" } },
        { task_type: "rls-claimed", task_description: "claimed" },
      ],
    ]);
    await callJson(db, "coord.claim_tasks", ["rls-worker", null, null, ["rls-claimed"], null, 1, 600]);

    expect(
      (await asAnon("select agent_id, agent_type, last_seen_at from coord.agents where agent_id = 'rls-agent'")).rows,
    ).toHaveLength(1);
    const locks = await asAnon("select key, agent_id, reason, expires_at from coord.locks where key like 'rls/%'");
    expect(locks.rows!.map((r) => r.key)).toEqual(["rls/live.ts"]);
    const tasks = await asAnon(
      "select task_type, task_description, status from coord.tasks where task_type like 'rls-%'",
    );
    expect(tasks.rows).toEqual([{ task_type: "rls-pending", task_description: "readable", status: "pending" }]);
  });

  it("refuses columns and tables that are not public, and every write and function call", async () => {
    const denied = "42501"; // insufficient_privilege
    for (const sql of [
      "select token from coord.locks",
      "select session_id from coord.locks",
      "select input_data from coord.tasks",
      "select last_session_id from coord.agents",
      "select * from coord.api_keys",
      "select * from coord.events",
      "select * from coord.sessions",
      "select * from coord.memories",
      "select * from coord.changesets",
      "insert into coord.agents (agent_id) values ('anon-writer')",
      "delete from coord.locks",
      "select coord.acquire_locks('default', 'anon', null, array['x.ts'], null, 600)",
      "select coord.submit_tasks('anon', null, '[]'::jsonb)",
      "select coord.status()",
    ]) {
      expect((await asAnon(sql)).code, sql).toBe(denied);
    }
  });
});
