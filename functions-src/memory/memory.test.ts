import { describe, expect, it } from "vitest";
import { callJson } from "../db/port.ts";
import {
  adminHeaders,
  agentHeaders,
  DATABASE_URL,
  forEachDatabase,
  freshPostgres,
  testApp,
} from "../../test/helpers.ts";
import { EMBEDDING_DIMENSIONS } from "./schemas.ts";

type Json = Record<string, any>;

forEachDatabase("memory", (get) => {
  const app = () => testApp(get().db).app;
  const post = async (path: string, body: unknown, agent = "mem-agent", extra: Record<string, string> = {}) => {
    const res = await app().request(path, {
      method: "POST",
      headers: agentHeaders(agent, extra),
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const getJson = async (path: string, agent = "mem-agent", extra: Record<string, string> = {}) => {
    const res = await app().request(path, { headers: agentHeaders(agent, extra) });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const recall = (body: Json, agent = "mem-agent") => post("/memory/recall", body, agent);
  const redact = async (text: string) =>
    (await get().db.query<{ r: string }>("select coord.redact($1) as r", [text]))[0]!.r;

  describe("episodic dedup", () => {
    it("the same agent, event type and normalised summary within an hour counts an occurrence", async () => {
      const a = await post("/memory", {
        event_type: "test_failure",
        summary: "Checkout total test fails on rounding",
        tags: ["checkout"],
      });
      expect(a.status).toBe(201);
      expect(a.body).toMatchObject({ layer: "episodic", status: "stored", occurrences: 1, redacted: false });
      const b = await post("/memory", {
        event_type: "test_failure",
        summary: "  checkout TOTAL test fails on rounding. ",
      });
      expect(b.body).toMatchObject({ id: a.body.id, status: "deduplicated", occurrences: 2 });
      const kinds = await get().db.query<{ kind: string }>(
        "select kind from coord.events where subject = $1 order by id",
        [String(a.body.id)],
      );
      expect(kinds.map((k) => k.kind)).toEqual(["memory.remembered", "memory.deduplicated"]);
    });

    it("another agent, another event type, or outside the hour stores a new row", async () => {
      const base = { event_type: "build_fix", summary: "Pinned sharp to 0.33 after a libvips crash" };
      const first = await post("/memory", base);
      expect((await post("/memory", base, "other-agent")).body.status).toBe("stored");
      expect((await post("/memory", { ...base, event_type: "api_quirk" })).body.status).toBe("stored");
      await get().db.query("update coord.memories set last_seen_at = now() - interval '61 minutes' where id = $1", [
        first.body.id,
      ]);
      const later = await post("/memory", base);
      expect(later.body.status).toBe("stored");
      expect(later.body.id).not.toBe(first.body.id);
    });
  });

  describe("hygiene", () => {
    const secrets = {
      github: "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
      pat: "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
      aws: "AKIAIOSFODNN7EXAMPLE",
      openai: "sk-proj-abcdefghijklmnopqrstuvwx",
      slack: "xoxb-123456789012-abcdefghij",
      jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
      pem: "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nabc+/=\n-----END RSA PRIVATE KEY-----",
    };

    it("redacts tokens, keys and password assignments before storing, in SQL for every layer", async () => {
      const r = await redact(
        `${Object.values(secrets).join(" ")} password=hunter2 secret: "s3cr3t" Authorization: Bearer abc.def-123456 postgres://app:pw@db/x`,
      );
      for (const s of [...Object.values(secrets), "hunter2", "s3cr3t", "abc.def-123456", ":pw@"])
        expect(r).not.toContain(s);
      expect(r).toContain("password=[REDACTED]");

      const res = await post("/memory", {
        event_type: "build_fix",
        summary: `CI failed: token ${secrets.github} was expired`,
        details: `export AWS_ACCESS_KEY_ID=${secrets.aws}\n${secrets.pem}`,
        lessons: "rotate: password=hunter2",
        tags: ["ci"],
      });
      expect(res.body.redacted).toBe(true);
      const [row] = await get().db.query<Json>("select summary, details, lessons from coord.memories where id = $1", [
        res.body.id,
      ]);
      expect(JSON.stringify(row)).not.toMatch(/ghp_|AKIA|BEGIN RSA|hunter2/);
      const events = await get().db.query<Json>(
        "select data::text as d, subject from coord.events where subject = $1",
        [String(res.body.id)],
      );
      expect(JSON.stringify(events)).not.toMatch(/ghp_|AKIA|hunter2/);

      const w = await post(
        "/memory",
        { layer: "working", summary: `use key ${secrets.openai} for the test` },
        "mem-agent",
        { "X-Session-Id": "s-redact" },
      );
      expect(w.body).toMatchObject({ layer: "working", redacted: true });
      const ctx = await getJson("/memory/context", "mem-agent", { "X-Session-Id": "s-redact" });
      expect(JSON.stringify(ctx.body)).not.toContain("sk-proj");
    });

    it("leaves ordinary text alone", async () => {
      const plain =
        "Billing worker test fails: expected 200, got 500 in src/billing/charge.ts (commit 1a2b3c4d); token budget 4000";
      expect(await redact(plain)).toBe(plain);
    });

    it("retention archives old unused episodic rows (admin only), which stay expandable but leave recall", async () => {
      const old = await post("/memory", {
        event_type: "observation",
        summary: "Zanzibar cache warmed slowly on cold start",
      });
      const fresh = await post("/memory", {
        event_type: "observation",
        summary: "Zanzibar cache warms in two seconds now",
      });
      await get().db.query(
        "update coord.memories set last_seen_at = now() - interval '200 days', created_at = now() - interval '200 days' where id = $1",
        [old.body.id],
      );
      const refused = await post("/memory/retention", { age_days: 90 });
      expect(refused.status).toBe(403);
      const res = await app().request("/memory/retention", {
        method: "POST",
        headers: adminHeaders(),
        body: JSON.stringify({ age_days: 90 }),
      });
      expect(res.status).toBe(200);
      expect((await res.json()).archived).toBeGreaterThanOrEqual(1);
      const ids = (await recall({ task_description: "zanzibar cache" })).body.results.map((r: Json) => r.id);
      expect(ids).toContain(fresh.body.id);
      expect(ids).not.toContain(old.body.id);
      const details = await getJson(`/memory/details?ids=${old.body.id}`);
      expect(details.status).toBe(200);
      expect(details.body.memories[0]).toMatchObject({
        id: old.body.id,
        summary: "Zanzibar cache warmed slowly on cold start",
      });
      expect(details.body.memories[0].archived_at).toBeTruthy();
      const ev = await get().db.query("select 1 from coord.events where kind = 'memory.archived'");
      expect(ev.length).toBeGreaterThanOrEqual(1);

      // Without age_days the configured retention_days applies; used memories stay hot.
      const aged = await post("/memory", { event_type: "observation", summary: "Yak shaving notes for the build" });
      const usedOne = await post("/memory", {
        event_type: "observation",
        summary: "Yak shaving notes someone still reads",
      });
      await get().db.query("update coord.memories set last_seen_at = now() - interval '40 days' where id = any($1)", [
        [aged.body.id, usedOne.body.id],
      ]);
      await getJson(`/memory/details?ids=${usedOne.body.id}`);
      await get().db.query(
        "insert into coord.memory_settings (key, value) values ('retention_days', '30') on conflict (key) do update set value = excluded.value",
      );
      try {
        const byConfig = await app().request("/memory/retention", {
          method: "POST",
          headers: adminHeaders(),
          body: "{}",
        });
        expect(await byConfig.json()).toMatchObject({ age_days: 30, archived: 1 });
        const hot = await get().db.query<{ id: number }>("select id from coord.memories where id = any($1)", [
          [aged.body.id, usedOne.body.id],
        ]);
        expect(hot.map((r) => Number(r.id))).toEqual([usedOne.body.id]);
      } finally {
        await get().db.query("update coord.memory_settings set value = '90' where key = 'retention_days'");
      }
    });
  });

  describe("recall", () => {
    it("answers compact rows with why, expands by id, and says so when nothing matches", async () => {
      const m = await post("/memory", {
        event_type: "api_quirk",
        summary: "Octokit paginate is needed to list more than 30 check runs",
        details: "octokit.rest.checks.listForRef returns one page",
        tags: ["github", "octokit"],
        repo: "acme/web",
      });
      const r = await recall({ task_description: "list all check runs with octokit", repo: "acme/web" });
      expect(r.status).toBe(200);
      expect(r.body.results[0]).toMatchObject({
        id: m.body.id,
        layer: "episodic",
        summary: expect.any(String),
        why: expect.stringMatching(/octokit/),
      });
      expect(r.body.results[0].details).toBeUndefined();
      const d = await getJson(`/memory/details?ids=${m.body.id},999999`);
      expect(d.body.memories[0]).toMatchObject({
        details: "octokit.rest.checks.listForRef returns one page",
        use_count: 1,
      });
      expect(d.body.missing).toEqual([999999]);
      const none = await recall({ task_description: "bake sourdough bread at home" });
      expect(none.body).toMatchObject({ results: [], message: expect.stringMatching(/No memory matches/) });
    });

    it("tags boost by default and filter on request; event types and repo narrow", async () => {
      const a = await post("/memory", {
        event_type: "convention",
        summary: "Quokka handlers return Result objects",
        tags: ["quokka-api"],
        repo: "r1",
      });
      const b = await post("/memory", {
        event_type: "test_failure",
        summary: "Quokka handlers test failed on Result objects",
        tags: ["other"],
        repo: "r1",
      });
      const boosted = await recall({
        task_description: "quokka handlers result objects",
        tags: ["quokka-api"],
        repo: "r1",
      });
      expect(boosted.body.results.map((x: Json) => x.id)).toEqual([a.body.id, b.body.id]);
      const filtered = await recall({
        task_description: "quokka handlers result objects",
        tags: ["other"],
        tag_mode: "filter",
        repo: "r1",
      });
      expect(filtered.body.results.map((x: Json) => x.id)).toEqual([b.body.id]);
      const typed = await recall({
        task_description: "quokka handlers result objects",
        event_types: ["convention"],
        repo: "r1",
      });
      expect(typed.body.results.map((x: Json) => x.id)).toEqual([a.body.id]);
      expect((await recall({ task_description: "quokka handlers", repo: "r2" })).body.results).toEqual([]);
    });

    it("private memories are visible only to their author", async () => {
      const p = await post(
        "/memory",
        { event_type: "note", summary: "Wombat staging password rotated weekly", visibility: "private" },
        "owner-agent",
      );
      expect((await recall({ task_description: "wombat staging rotation" }, "owner-agent")).body.results[0]?.id).toBe(
        p.body.id,
      );
      expect((await recall({ task_description: "wombat staging rotation" }, "someone-else")).body.results).toEqual([]);
      expect((await getJson(`/memory/details?ids=${p.body.id}`, "someone-else")).status).toBe(404);
    });

    it("a trigram pass finds misspelt identifiers", async () => {
      const m = await post("/memory", {
        event_type: "bug",
        summary: "LedgerReconciler drops entries with null currency",
      });
      const r = await recall({ task_description: "LedgerReconciller null currency" });
      expect(r.body.results.map((x: Json) => x.id)).toContain(m.body.id);
      // A misspelling the stemmer does not fold into the same lexeme.
      const typo = await recall({ task_description: "LegderReconciler" });
      expect(typo.body.results[0]).toMatchObject({ id: m.body.id, why: expect.stringMatching(/similar to/) });
    });

    it("uses vector similarity by reciprocal rank fusion where pgvector exists", async () => {
      const v = (await get().db.query<{ v: boolean }>("select coord.memory_has_vector() as v"))[0]!.v;
      const unit = (i: number) => Array.from({ length: EMBEDDING_DIMENSIONS }, (_, j) => (j === i ? 1 : 0));
      const m = await post("/memory", {
        event_type: "observation",
        summary: "Platypus renders are slow on first paint",
        embedding: unit(3),
      });
      // No word in common (nor a synonym): only the vector can find it.
      const r = await recall({ task_description: "quokka vortex zephyr", embedding: unit(3) });
      if (get().kind === "pglite") {
        expect(v).toBe(true);
        expect(r.body.vector).toBe("on");
        expect(r.body.results[0]).toMatchObject({ id: m.body.id, why: expect.stringMatching(/embedding 1/) });
        const far = await recall({ task_description: "quokka vortex zephyr", embedding: unit(7) });
        expect(far.body.results.map((x: Json) => x.id)).not.toContain(m.body.id);
      } else {
        // The PG15 server has no pgvector: the embedding is ignored and lexical recall still works.
        expect(v).toBe(false);
        expect(r.body.vector).toBe("unavailable");
        expect(
          (await recall({ task_description: "platypus first paint", embedding: unit(3) })).body.results[0].id,
        ).toBe(m.body.id);
      }
    });
  });

  describe("procedural", () => {
    it("skills are saved once per repo and name; reported failures sink them below a succeeding one", async () => {
      const a = await post("/memory", {
        layer: "procedural",
        name: "release-hotfix",
        summary: "Release a hotfix to production",
        steps: ["branch from tag", "cherry-pick", "tag and deploy"],
        repo: "p1",
      });
      const b = await post("/memory", {
        layer: "procedural",
        name: "release-hotfix-fast",
        summary: "Release a hotfix to production quickly",
        steps: ["deploy from main"],
        repo: "p1",
      });
      expect(a.body).toMatchObject({ layer: "procedural", status: "stored" });
      expect(b.body).toMatchObject({ layer: "procedural", status: "stored" });
      const again = await post("/memory", {
        layer: "procedural",
        name: "release-hotfix",
        summary: "Release a hotfix to production",
        repo: "p1",
      });
      expect(again.body).toMatchObject({ id: a.body.id, status: "updated" });
      const order = async () =>
        (
          await recall({ task_description: "release a hotfix to production", layers: ["procedural"], repo: "p1" })
        ).body.results.map((x: Json) => x.name);
      const [top, second] = await order();
      expect(new Set([top, second])).toEqual(new Set(["release-hotfix", "release-hotfix-fast"]));
      for (let i = 0; i < 3; i++) {
        expect((await post("/memory/skills/outcome", { name: top, outcome: "failure", repo: "p1" })).status).toBe(200);
        await post("/memory/skills/outcome", { name: second, outcome: "success", repo: "p1" });
      }
      expect(await order()).toEqual([second, top]);
      await post("/memory/skills/outcome", { name: "release-hotfix", outcome: "success", repo: "p1" });
      const out = await post("/memory/skills/outcome", { name: "release-hotfix", outcome: "partial", repo: "p1" });
      // 3 + 1 (or 0 + 1) successes, each partial half of each; Laplace smoothing (s+1)/(s+f+2).
      const s = out.body.successes as number;
      const f = out.body.failures as number;
      expect(s + f).toBe(5);
      expect(out.body.success_rate).toBeCloseTo((s + 1) / (s + f + 2), 3);
      expect((await post("/memory/skills/outcome", { name: "no-such-skill", outcome: "success" })).status).toBe(404);
      const mine = await post(
        "/memory",
        { layer: "procedural", name: "secret-sauce", summary: "My private way", visibility: "private", repo: "p1" },
        "skill-owner",
      );
      expect(mine.status).toBe(201);
      const taken = await post(
        "/memory",
        { layer: "procedural", name: "secret-sauce", summary: "Overwrite it", repo: "p1" },
        "skill-thief",
      );
      expect(taken.status).toBe(409);
      expect(taken.body.error.code).toBe("skill_name_taken");
      expect(
        (await post("/memory/skills/outcome", { name: "secret-sauce", outcome: "failure", repo: "p1" }, "skill-thief"))
          .status,
      ).toBe(404);
    });
  });

  describe("bad input", () => {
    it("refuses empty, oversized and mistyped fields with the field named", async () => {
      const cases: Array<[Json, string]> = [
        [{ summary: "" }, "summary"],
        [{ summary: "   " }, "summary"],
        [{ summary: "x".repeat(501) }, "summary"],
        [{ summary: "ok", details: "x".repeat(8001) }, "details"],
        [{ summary: "ok", tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, "tags"],
        [{ summary: "ok", outcome: "great" }, "outcome"],
        [{ summary: 42 }, "summary"],
        [{ summary: "ok", layer: "procedural" }, "name"],
        [{ summary: "ok", event_type: "Has Spaces" }, "event_type"],
        [{ summary: "ok", embedding: [1, 2, 3] }, "embedding"],
        [{ summary: "ok", layer: "working", priority: 9 }, "priority"],
      ];
      for (const [body, field] of cases) {
        const r = await post("/memory", body);
        expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
        expect(r.body.error.fields.map((f: Json) => f.field)).toContain(field);
      }
      expect((await recall({ task_description: "" })).status).toBe(400);
      expect((await recall({ task_description: "x", limit: 500 })).status).toBe(400);
      expect((await getJson("/memory/details?ids=abc")).status).toBe(400);
      expect((await getJson("/memory/details?ids=424242")).status).toBe(404);
    });

    it("working memory needs a session", async () => {
      const r = await post("/memory", { layer: "working", summary: "goal" });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("missing_session_id");
      expect((await getJson("/memory/context")).status).toBe(400);
    });
  });

  describe("MCP", () => {
    it("lists the memory tools and runs remember and recall", async () => {
      const rpc = async (method: string, params: Json) => {
        const res = await app().request("/mcp", {
          method: "POST",
          headers: agentHeaders("mcp-mem", { Accept: "application/json, text/event-stream", "X-Session-Id": "s-mcp" }),
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
        });
        return (await res.json()) as Json;
      };
      const tools = (await rpc("tools/list", {})).result.tools.map((t: Json) => t.name);
      expect(tools).toEqual(
        expect.arrayContaining(["remember", "recall", "memory_details", "get_context", "report_skill_outcome"]),
      );
      expect(tools).not.toContain("memory_retention");
      const stored = await rpc("tools/call", {
        name: "remember",
        arguments: { event_type: "convention", summary: "Narwhal services log with request ids", tags: ["logging"] },
      });
      expect(stored.result.isError).toBeFalsy();
      expect(stored.result.content[0].text).toMatch(/episodic memory \d+ stored/);
      const found = await rpc("tools/call", {
        name: "recall",
        arguments: { task_description: "narwhal logging request ids", limit: 3 },
      });
      expect(found.result.structuredContent.results[0].summary).toBe("Narwhal services log with request ids");
      const work = await rpc("tools/call", {
        name: "remember",
        arguments: { layer: "working", kind: "goal", summary: "Ship the narwhal logger", pinned: true },
      });
      expect(work.result.structuredContent).toMatchObject({ layer: "working", status: "added" });
      const ctx = await rpc("tools/call", { name: "get_context", arguments: {} });
      expect(ctx.result.content[0].text).toMatch(/\* \[goal p3\] Ship the narwhal logger/);
      const bad = await rpc("tools/call", { name: "recall", arguments: { task_description: "" } });
      expect(bad.result.isError).toBe(true);
    });
  });
});

// Dedup under concurrent writers: only meaningful on the real server (PGlite serialises every query).
describe.runIf(!!DATABASE_URL)("memory dedup under concurrency [postgres]", () => {
  it("twenty concurrent identical remembers make one row with twenty occurrences", async () => {
    const pg = await freshPostgres({ max: 20 });
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          callJson<{ id: number; status: string }>(pg.db, "coord.remember", [
            "racer",
            null,
            { event_type: "test_failure", summary: "Same failure at once" },
          ]),
        ),
      );
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      expect(results.filter((r) => r.status === "stored")).toHaveLength(1);
      const [row] = await pg.db.query<{ occurrences: number; n: string }>(
        "select max(occurrences) as occurrences, count(*)::text as n from coord.memories where agent_id = 'racer'",
      );
      expect(row).toEqual({ occurrences: 20, n: "1" });
    } finally {
      await pg.drop();
    }
  });
});
