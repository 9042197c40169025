/**
 * coord.lock_tokens_live_at: was a fencing token live for a path when a commit was made? Judged from the lock history
 * in coord.events, with a clock-skew tolerance. Boundaries are tested on histories placed an hour in the past (rows
 * written exactly as acquire_locks and release_locks write them), since a commit time after "now" is refused as
 * `future`; the end-to-end suite (fenced-commits.test.ts) drives real locks and real commits.
 */
import postgres from "postgres";
import { expect, it } from "vitest";
import { agentHeaders, adminHeaders, DATABASE_URL, forEachDatabase, testApp } from "../../test/helpers.ts";

interface Judged {
  i: number;
  status: string;
  lock_key: string | null;
  holder: string | null;
  acquired_at: string | null;
  ended: string | null;
  ended_at: string | null;
  next_holder: string | null;
  next_token: number | null;
}

forEachDatabase("lock history (fenced commits)", (get) => {
  const db = () => get().db;
  const judge = async (
    claims: Array<{ repo: string; path: string; token: number | string; agent: string; at: string }>,
    skew: number,
  ): Promise<Judged[]> =>
    (
      await db().query<{ j: Judged }>("select to_jsonb(x) as j from coord.lock_tokens_live_at($1::jsonb, $2) x", [
        claims.map((c, i) => ({ ...c, i })),
        skew,
      ])
    ).map((r) => {
      // Times as ISO strings in UTC, whichever way the database spelled them.
      const iso = (v: string | null) => (v === null ? null : new Date(v).toISOString());
      return { ...r.j, acquired_at: iso(r.j.acquired_at), ended_at: iso(r.j.ended_at) };
    });

  /** Seconds relative to an hour ago, as an ISO time: the base of the synthetic histories. */
  let base = 0;
  const t = (s: number) => new Date(base + s * 1000).toISOString();
  const token = async () =>
    Number((await db().query<{ t: string }>("select coord.next_fencing_token()::text as t"))[0]!.t);
  /** One lock event at `s` seconds after the base, shaped as the lock functions write it. */
  const event = (kind: string, agent: string, key: string, data: Record<string, unknown>, s: number) =>
    db().query(
      "insert into coord.events (kind, agent_id, subject, data, occurred_at) values ($1, $2, $3, $4::jsonb, $5)",
      [kind, agent, key, data, t(s)],
    );

  it("holds within the grant, with the tolerance on both ends and git's one-second resolution", async () => {
    base = Date.now() - 3600_000;
    const tok = await token();
    await event("lock.acquired", "hist-a", "src/a.ts", { repo: "acme/h", token: tok, expires_at: t(1800) }, 0);
    await event("lock.refreshed", "hist-a", "src/a.ts", { repo: "acme/h", token: tok, expires_at: t(2000) }, 50);
    await event("lock.released", "hist-a", "src/a.ts", { repo: "acme/h", token: tok }, 100);
    const at = (s: number) => ({ repo: "acme/h", path: "src/a.ts", token: tok, agent: "hist-a", at: t(s) });
    const r = await judge([at(50), at(-5), at(-6), at(104), at(105), at(99)], 5);
    expect(r.map((x) => x.status)).toEqual(["held", "held", "not_yet_held", "held", "lock_lost", "held"]);
    expect(r[4]).toMatchObject({ lock_key: "src/a.ts", holder: "hist-a", ended: "released", ended_at: t(100) });
    // Without tolerance, a commit stamped in the second the lock was taken (git truncates) still counts.
    const exact = await judge([at(0), at(-1), at(99), at(100)], 0);
    expect(exact.map((x) => x.status)).toEqual(["held", "not_yet_held", "held", "lock_lost"]);
  });

  it("a late expiry event ends the grant at its expires_at; a forced release names who took the file next", async () => {
    base = Date.now() - 3600_000;
    const lapsed = await token();
    await event("lock.acquired", "hist-b", "lib/x.ts", { repo: "acme/h", token: lapsed, expires_at: t(200) }, 0);
    // Swept long after it lapsed (expired locks are removed lazily).
    await event("lock.expired", "hist-b", "lib/x.ts", { repo: "acme/h", token: lapsed, expires_at: t(200) }, 900);
    const forced = await token();
    const next = await token();
    await event("lock.acquired", "hist-b", "doc/y.ts", { repo: "acme/h", token: forced, expires_at: t(1000) }, 0);
    await event("lock.force_released", "admin", "doc/y.ts", { repo: "acme/h", token: forced, holder: "hist-b" }, 100);
    await event("lock.acquired", "hist-c", "doc/", { repo: "acme/h", token: next, expires_at: t(2000) }, 101);
    const r = await judge(
      [
        { repo: "acme/h", path: "lib/x.ts", token: lapsed, agent: "hist-b", at: t(300) },
        { repo: "acme/h", path: "doc/y.ts", token: forced, agent: "hist-b", at: t(150) },
      ],
      5,
    );
    expect(r[0]).toMatchObject({ status: "lock_lost", ended: "expired", ended_at: t(200), next_holder: null });
    expect(r[1]).toMatchObject({
      status: "lock_lost",
      ended: "force_released",
      ended_at: t(100),
      next_holder: "hist-c",
      next_token: next,
    });
    // A grant whose end was never recorded and whose row is gone cannot vouch for anything.
    const orphan = await token();
    await event("lock.acquired", "hist-b", "lib/z.ts", { repo: "acme/h", token: orphan, expires_at: t(999) }, 0);
    const [o] = await judge([{ repo: "acme/h", path: "lib/z.ts", token: orphan, agent: "hist-b", at: t(10) }], 5);
    expect(o).toMatchObject({ status: "lock_lost", ended: "unknown", ended_at: null });
  });

  it("live locks, directory scopes, and tokens that are not the committer's, not the path's or not anyone's", async () => {
    const app = testApp(db()).app;
    const acquire = async (agent: string, body: Record<string, unknown>) =>
      (await (
        await app.request("/locks/acquire", {
          method: "POST",
          headers: agentHeaders(agent),
          body: JSON.stringify(body),
        })
      ).json()) as { locks: Array<{ token: number; acquired_at: string }> };
    const scope = (await acquire("live-a", { repo: "acme/live", file_path: "src/" })).locks[0]!;
    const file = (await acquire("live-b", { repo: "acme/live", file_path: "docs/x.md" })).locks[0]!;
    const now = new Date().toISOString();
    const claim = (path: string, tok: number, agent: string, repo = "acme/live") => ({
      repo,
      path,
      token: tok,
      agent,
      at: now,
    });
    const r = await judge(
      [
        claim("src/deep/a.ts", scope.token, "live-a"),
        claim("srcx/a.ts", scope.token, "live-a"),
        claim("docs/x.md", file.token, "live-a"),
        claim("docs/x.md", file.token, "live-b", "acme/other"),
        claim("docs/x.md", 987_654_321_012, "live-b"),
        { ...claim("docs/x.md", file.token, "live-b"), at: new Date(Date.now() + 3600_000).toISOString() },
        claim("docs/x.md", file.token, "live-b"),
      ],
      60,
    );
    expect(r.map((x) => x.status)).toEqual([
      "held",
      "other_path",
      "other_agent",
      "other_repo",
      "unknown_token",
      "future",
      "held",
    ]);
    expect(r[0]).toMatchObject({ lock_key: "src/", holder: "live-a", ended: null, ended_at: null });
    expect(r[2]).toMatchObject({ lock_key: "docs/x.md", holder: "live-b" });

    // A lock past its expiry but not swept yet has ended at its expires_at; the sweep's event says the same. The
    // row is made to lapse the moment it was granted, rather than waiting out the one-minute minimum TTL.
    await db().query("update coord.locks set expires_at = acquired_at where repo = 'acme/live' and key = 'docs/x.md'");
    const late = { ...claim("docs/x.md", file.token, "live-b"), at: new Date().toISOString() };
    const [lapsed] = await judge([late], 0);
    expect(lapsed).toMatchObject({ status: "lock_lost", ended: "expired" });
    expect(lapsed!.ended_at).toBe(new Date(file.acquired_at).toISOString());
    const swept = await app.request("/locks/sweep", { method: "POST", headers: adminHeaders(), body: "{}" });
    expect(swept.status).toBe(200);
    expect(await db().query("select 1 from coord.locks where token = $1", [file.token])).toHaveLength(0);
    const [again] = await judge([late], 0);
    expect(again).toMatchObject({ status: "lock_lost", ended: "expired" });
    expect(again!.ended_at).toBe(new Date(file.acquired_at).toISOString());
  });

  it.runIf(DATABASE_URL)("looks a token up through events_lock_token_idx, however large the log", async (ctx) => {
    // Postgres only: the plans of the statements inside the function come from auto_explain, which PGlite lacks.
    if (get().kind !== "postgres") ctx.skip();
    await db().query(
      `insert into coord.events (kind, agent_id, subject, data)
       select case when g % 3 = 0 then 'lock.released' else 'lock.acquired' end, 'bulk-' || (g % 50),
              'bulk/' || (g % 5000) || '.ts', jsonb_build_object('repo', 'acme/bulk', 'token', 1000000000 + g)
         from generate_series(1, 200000) g`,
    );
    await db().query("analyze coord.events");
    const granted = (
      await db().query<{ r: { locks: Array<{ token: number }> } }>(
        "select coord.acquire_locks('acme/bulk', 'bulk-1', null, array['bulk/'], null, 600) as r",
      )
    )[0]!.r.locks[0]!.token;
    const sql = postgres(get().url!, { max: 1, onnotice: (n) => plans.push(String(n.message)) });
    const plans: string[] = [];
    try {
      await sql.unsafe("load 'auto_explain'");
      await sql.unsafe("set auto_explain.log_min_duration = 0");
      await sql.unsafe("set auto_explain.log_nested_statements = on");
      await sql.unsafe("set auto_explain.log_level = notice");
      const claims = [{ i: 0, repo: "acme/bulk", path: "bulk/1.ts", token: granted, agent: "bulk-1", at: new Date() }];
      const rows = await sql.unsafe("select status from coord.lock_tokens_live_at($1::jsonb, 60)", [claims as never]);
      expect(rows[0]!.status).toBe("held");
    } finally {
      await sql.end();
    }
    const inner = plans.filter((p) => p.includes("coord.events"));
    expect(inner.length).toBeGreaterThan(0);
    const text = inner.join("\n");
    expect(text).toMatch(/events_lock_token_idx/);
    expect(text).not.toMatch(/Seq Scan on events/);
  });
});
