import { expect, it } from "vitest";
import { callJson } from "../db/port.ts";
import { agentHeaders, forEachDatabase, testApp } from "../../test/helpers.ts";

/** With nobody claiming, any live session's heartbeat is the queue's clock: expired leases go back to the queue. */
forEachDatabase("work reaping on heartbeat", (get) => {
  it("returns a dead worker's task to the queue when another session heartbeats", async () => {
    const db = get().db;
    const {
      tasks: [submitted],
    } = await callJson<{ tasks: Array<{ id: string }> }>(db, "coord.submit_tasks", [
      "reap-orchestrator",
      null,
      [{ task_type: "reap-me" }],
    ]);
    await callJson(db, "coord.claim_tasks", ["reap-dead-worker", "dead-session", null, ["reap-me"], null, 1, 600]);
    // The worker died: its lease ran out and it will never heartbeat again.
    await db.query("update coord.tasks set lease_expires_at = now() - interval '1 second' where id = $1", [
      submitted!.id,
    ]);

    const { app } = testApp(db);
    const res = await app.request("/sessions/heartbeat", {
      method: "POST",
      headers: agentHeaders("reap-bystander", { "X-Session-Id": "alive" }),
      body: "{}",
    });
    expect(res.status).toBe(200);

    const [task] = await db.query<{ status: string; lease_lost_by: string }>(
      "select status, lease_lost_by from coord.tasks where id = $1",
      [submitted!.id],
    );
    expect(task).toEqual({ status: "pending", lease_lost_by: "reap-dead-worker" });
  });
});
