import { expect, it } from "vitest";
import { adminHeaders, agentHeaders, forEachDatabase, testApp } from "../../test/helpers.ts";

/**
 * Every list pages by keyset: `limit` and an opaque `cursor` in, `next_cursor` out (null on the last page). Walking
 * the pages yields every row once, in order, even while rows are added ahead of the cursor.
 */
forEachDatabase("paging", (get) => {
  const app = () => testApp(get().db).app;
  const get_ = async (path: string, headers = agentHeaders("pager")) => {
    const res = await app().request(path, { headers });
    return { status: res.status, body: (await res.json()) as any };
  };
  const post = async (path: string, body: unknown, headers = agentHeaders("pager")) =>
    (await app().request(path, { method: "POST", headers, body: JSON.stringify(body) })).json() as Promise<any>;

  /** Follows next_cursor from `first` until the last page; answers every row and the number of pages. */
  async function walk(first: string, rows: string, headers?: Record<string, string>) {
    const all: any[] = [];
    let url = first;
    let pages = 0;
    for (;;) {
      const page = await get_(url, headers);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      all.push(...page.body[rows]);
      pages++;
      if (!page.body.next_cursor) return { all, pages };
      url = `${first}&cursor=${page.body.next_cursor}`;
    }
  }

  it("tasks: every task once, most urgent pending first, then newest; 7 tasks in pages of 3", async () => {
    const type = `page-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await post("/work/tasks", { task_type: type, priority: 1 + (i % 3) })).id);
    }
    const { all, pages } = await walk(`/work/tasks?task_type=${type}&limit=3`, "tasks");
    expect(pages).toBe(3);
    expect(all.map((t) => t.id).sort()).toEqual([...ids].sort());
    expect(all.map((t) => t.priority)).toEqual([...all.map((t) => t.priority)].sort((a, b) => a - b));
  });

  it("locks: every live lock of a repo once, by key; also for the locks under a directory", async () => {
    const keys = Array.from({ length: 9 }, (_, i) => `paged/f${i}.ts`);
    await post("/locks/acquire", { repo: "paging-repo", file_paths: keys });
    const { all, pages } = await walk("/locks?repo=paging-repo&limit=4", "locks");
    expect(pages).toBe(3);
    expect(all.map((l) => l.key)).toEqual([...keys].sort());
    const under = await walk("/locks?repo=paging-repo&file_path=paged/&limit=5", "locks");
    expect(under.all.map((l) => l.key)).toEqual([...keys].sort());
  });

  it("memories: every visible memory once, newest first; another agent's private ones never", async () => {
    const repo = `paging-${Date.now()}`;
    for (let i = 0; i < 5; i++) await post("/memory", { summary: `shared note ${i} about paging`, repo });
    await post(
      "/memory",
      { summary: "someone else's private note", repo, visibility: "private" },
      agentHeaders("other-agent"),
    );
    const { all, pages } = await walk(`/memory?repo=${repo}&limit=2`, "memories");
    expect(pages).toBe(3);
    expect(all).toHaveLength(5);
    expect(all.map((m) => m.id)).toEqual([...all.map((m) => m.id)].sort((a, b) => b - a));
  });

  it("approvals: the tier-4 queue pages oldest first", async () => {
    const shas = Array.from({ length: 3 }, (_, i) => `${"c".repeat(39)}${i}`);
    for (const sha of shas) {
      await post("/webhook/agent", {
        repo: "acme/paging",
        commit_sha: sha,
        files: [{ path: "CODEOWNERS", status: "modified" }],
      });
    }
    const { all } = await walk("/approvals?limit=1", "approvals", adminHeaders());
    const ours = all.filter((a) => a.repo === "acme/paging");
    expect(ours.map((a) => a.commit_sha)).toEqual(shas);
  });

  it("a forged or foreign cursor is a 400 naming the field, never a 500", async () => {
    const forged = [
      "not!base64",
      Buffer.from("[1,2]").toString("base64url"),
      Buffer.from('[1,"2024-02-30T00:00:00Z","00000000-0000-4000-8000-000000000000"]').toString("base64url"),
      Buffer.from('{"x":1}').toString("base64url"),
      Buffer.from("\u0000").toString("base64url"),
    ];
    for (const cursor of forged) {
      for (const path of ["/work/tasks?limit=2", "/locks?repo=paging-repo", "/memory?limit=2"]) {
        const r = await get_(`${path}&cursor=${encodeURIComponent(cursor)}`);
        expect(r.status, `${path} ${cursor}`).toBe(400);
        expect(r.body.error.code).toMatch(/invalid_cursor|invalid_input/);
      }
      const approvals = await get_(`/approvals?cursor=${encodeURIComponent(cursor)}`, adminHeaders());
      expect(approvals.status).toBe(400);
    }
  });
});
