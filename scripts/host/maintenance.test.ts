import { expect, it } from "vitest";
import { callJson } from "../../functions-src/db/port.ts";
import { CAPABILITIES } from "../../functions-src/app.ts";
import { runMaintenance } from "./maintenance.ts";
import { forEachDatabase, testApp } from "../../test/helpers.ts";

/**
 * The upkeep a long-lived host runs on a timer: dead sessions ended, expired locks swept, lost leases reaped, old
 * memories archived.
 */
forEachDatabase("maintenance", (get) => {
  it("ends dead sessions, sweeps expired locks, returns lost tasks to the queue and archives stale memories", async () => {
    const db = get().db;
    await callJson(db, "coord.acquire_locks", ["default", "mnt-agent", null, ["mnt/old.ts"], null, 600]);
    await db.query("update coord.locks set expires_at = now() - interval '1 minute' where key = 'mnt/old.ts'");
    const {
      tasks: [task],
    } = await callJson<{ tasks: Array<{ id: string }> }>(db, "coord.submit_tasks", [
      "mnt-agent",
      null,
      [{ task_type: "mnt" }],
    ]);
    await callJson(db, "coord.claim_tasks", ["mnt-worker", null, null, ["mnt"], null, 1, 600]);
    await db.query("update coord.tasks set lease_expires_at = now() - interval '1 second' where id = $1", [task!.id]);
    const mem = await callJson<{ id: number }>(db, "coord.remember", [
      "mnt-agent",
      null,
      { event_type: "build_fix", summary: "an old lesson nobody used" },
    ]);
    await db.query("update coord.memories set last_seen_at = now() - interval '400 days' where id = $1", [mem.id]);
    // A session that heartbeated once and went silent past its timeout.
    await callJson(db, "coord.heartbeat", ["mnt-ghost", "ghost-1", null, 60]);
    await db.query("update coord.sessions set live_until = now() - interval '1 second' where session_id = 'ghost-1'");

    const report = await runMaintenance(testApp(db).app);
    expect(Object.keys(report).sort()).toEqual(["identity", "locks", "memory", "work"]);
    expect(report.identity).toMatchObject({ expired: 1 });
    expect(await db.query("select end_cause from coord.sessions where session_id = 'ghost-1'")).toEqual([
      { end_cause: "expired" },
    ]);

    expect(await db.query("select 1 from coord.locks where key = 'mnt/old.ts'")).toHaveLength(0);
    expect(await db.query("select status from coord.tasks where id = $1", [task!.id])).toEqual([{ status: "pending" }]);
    expect(await db.query("select 1 from coord.memories where id = $1", [mem.id])).toHaveLength(0);
    expect(await db.query("select 1 from coord.memories_archive where id = $1", [mem.id])).toHaveLength(1);
  });

  it("keeps going when one capability's upkeep fails", async () => {
    const failing = {
      name: "broken",
      operations: [],
      maintenance: async () => {
        throw new Error("boom");
      },
    };
    const report = await runMaintenance(testApp(get().db, { capabilities: [failing, ...CAPABILITIES] }).app);
    expect(report.broken).toEqual({ error: "boom" });
    expect(report.locks).toBeTruthy();
  });
});
