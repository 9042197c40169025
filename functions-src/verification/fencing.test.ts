import { expect, it } from "vitest";
import { agentHeaders, forEachDatabase, testApp } from "../../test/helpers.ts";

/** A change made under locks carries their fencing tokens; the gateway refuses one made under a lock since lost. */
forEachDatabase("verification fencing", (get) => {
  const app = () => testApp(get().db).app;
  const post = (path: string, agent: string, body: unknown) =>
    app().request(path, { method: "POST", headers: agentHeaders(agent), body: JSON.stringify(body) });
  const change = (sha: string, tokens: unknown[]) => ({
    repo: "acme/fenced",
    commit_sha: sha.repeat(40),
    files: [{ path: "src/fenced.ts", status: "modified" }],
    lock_tokens: tokens,
  });

  it("accepts a change whose lock tokens still hold, and refuses one whose lock was lost, recording nothing", async () => {
    const acquired = await (
      await post("/locks/acquire", "fencer", { repo: "acme/fenced", file_path: "src/fenced.ts" })
    ).json();
    const token = acquired.locks[0].token as number;

    const ok = await post("/webhook/agent", "fencer", change("1", [{ path: "./src/fenced.ts", token }]));
    expect(ok.status).toBe(201);

    // The lock goes and another agent takes the file: the first agent's token is stale now.
    await post("/locks/release", "fencer", { repo: "acme/fenced", file_path: "src/fenced.ts" });
    const other = await (
      await post("/locks/acquire", "other-fencer", { repo: "acme/fenced", file_path: "src/fenced.ts" })
    ).json();
    expect(other.locks[0].token).toBeGreaterThan(token);

    const stale = await post("/webhook/agent", "fencer", change("2", [{ path: "src/fenced.ts", token }]));
    expect(stale.status).toBe(409);
    const body = await stale.json();
    expect(body.error).toMatchObject({ code: "lock_lost", lost: [{ path: "src/fenced.ts", token }] });
    expect(body.error.message).toMatch(/re-acquire/);
    const rows = await get().db.query("select 1 from coord.changesets where commit_sha = $1", ["2".repeat(40)]);
    expect(rows).toHaveLength(0);

    // Someone else's token does not vouch for this agent either.
    const borrowed = await post(
      "/webhook/agent",
      "fencer",
      change("3", [{ path: "src/fenced.ts", token: other.locks[0].token }]),
    );
    expect(borrowed.status).toBe(409);
  });

  it("checks locks taken in the default repo when the change's repo has none", async () => {
    const acquired = await (await post("/locks/acquire", "fencer-d", { file_path: "lib/x.ts" })).json();
    const res = await post("/webhook/agent", "fencer-d", {
      repo: "acme/nolocks",
      commit_sha: "4".repeat(40),
      files: [{ path: "lib/x.ts", status: "modified" }],
      lock_tokens: [{ path: "lib/x.ts", token: acquired.locks[0].token }],
    });
    expect(res.status).toBe(201);
  });
});
