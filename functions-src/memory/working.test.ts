/**
 * Working memory invariants, as properties over random sequences of adds: never over budget after an add,
 * pinned items never evicted, every evicted (or cut) item findable through recall by its author.
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import { callJson } from "../db/port.ts";
import { forEachDatabase } from "../../test/helpers.ts";

const WORDS = [
  "refactor",
  "parser",
  "cache",
  "retry",
  "timeout",
  "schema",
  "migration",
  "fixture",
  "handler",
  "queue",
  "token",
  "budget",
  "lock",
  "lease",
  "commit",
  "branch",
  "review",
  "deploy",
  "rollback",
  "index",
  "query",
  "latency",
  "webhook",
  "payload",
  "session",
  "worker",
  "config",
  "flag",
  "snapshot",
  "coverage",
  "billing",
  "invoice",
  "tenant",
  "profile",
  "avatar",
  "thumbnail",
  "checkout",
  "cart",
  "refund",
  "ledger",
  "currency",
  "locale",
  "timezone",
  "cron",
  "scheduler",
  "exporter",
  "importer",
  "csv",
  "pagination",
  "cursor",
  "graphql",
  "resolver",
  "middleware",
  "cors",
  "preflight",
  "redirect",
  "cookie",
  "jwt",
  "oauth",
  "scope",
];
const KINDS = ["goal", "decision", "constraint", "observation", "note"] as const;

interface Add {
  words: string[];
  kind: (typeof KINDS)[number];
  priority: number;
  pinned: boolean;
  multiline: boolean;
}

const addArb: fc.Arbitrary<Add> = fc.record({
  words: fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 90, size: "max" }),
  kind: fc.constantFrom(...KINDS),
  priority: fc.integer({ min: 1, max: 5 }),
  pinned: fc.integer({ min: 0, max: 9 }).map((n) => n < 3),
  multiline: fc.boolean(),
});

/** What coord.add_working_item answers: the item's fate, or (refused) an error. */
interface AddResult {
  error?: { code: string };
  id: number;
  status: string;
  tokens_used: number;
  budget_tokens: number;
  evicted: Array<{ id: number; memory_id: number }>;
  cut: Array<{ id: number; memory_id: number }>;
}
interface Context {
  tokens_used: number;
  budget_tokens: number;
  items: Array<{ id: number; pinned: boolean; tokens: number; content: string }>;
}

let run = 0;
let totalEvicted = 0;
let totalCut = 0;
const statuses: Record<string, number> = {};

forEachDatabase("working memory properties", (get) => {
  it("never over budget, pinned stay, evicted and cut items are recallable", async () => {
    const db = get().db;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 100, max: 400 }),
        fc.array(addArb, { minLength: 1, maxLength: 16 }),
        async (budget, adds) => {
          const session = `prop-${get().kind}-${++run}`;
          const agent = "prop-agent";
          const pinned = new Set<number>();
          const markerOf = new Map<number, string>();
          const moved: Array<{ memory_id: number; marker: string }> = [];
          for (const [i, a] of adds.entries()) {
            // A unique marker leads every item, so recall can look for exactly that item.
            const marker = `mk${run}q${i}z`;
            const body = a.words.join(" ");
            const content = a.multiline
              ? `${marker} ${a.words.slice(0, 5).join(" ")}\n${body} see src/${a.words[0]}.ts`
              : `${marker} ${body}`;
            const before = await callJson<Context>(db, "coord.get_working_context", [agent, session]);
            const r = await callJson<AddResult>(db, "coord.add_working_item", [
              agent,
              session,
              { content, kind: a.kind, priority: a.priority, pinned: a.pinned, budget_tokens: budget },
            ]);
            const after = await callJson<Context>(db, "coord.get_working_context", [agent, session]);
            const outcome = r.error ? "refused" : r.status;
            statuses[outcome] = (statuses[outcome] ?? 0) + 1;
            if (r.error) {
              // Refused: only for pinned content that cannot fit, and nothing changed.
              expect(a.pinned || pinned.size > 0).toBe(true);
              expect(after.items.map((x) => x.id)).toEqual(before.items.map((x) => x.id));
              continue;
            }
            expect(after.tokens_used).toBeLessThanOrEqual(budget);
            expect(r.tokens_used).toBe(after.tokens_used);
            expect(after.items.reduce((s, x) => s + x.tokens, 0)).toBe(after.tokens_used);
            // Every item starts with its marker (cuts keep the first line); a merge keeps the longer text.
            const merged = before.items.find((x) => x.id === r.id);
            markerOf.set(
              r.id,
              !merged || content.length >= merged.content.length ? marker : merged.content.split(" ")[0]!,
            );
            for (const x of after.items) markerOf.set(x.id, x.content.split(" ")[0]!);
            if (a.pinned) pinned.add(r.id);
            const present = new Set(after.items.map((x) => x.id));
            for (const p of pinned) expect(present.has(p), `pinned item ${p} evicted`).toBe(true);
            for (const e of r.evicted) {
              expect(pinned.has(e.id)).toBe(false);
              expect(present.has(e.id)).toBe(false);
              moved.push({ memory_id: e.memory_id, marker: markerOf.get(e.id)! });
            }
            totalEvicted += r.evicted.length;
            totalCut += r.cut.length;
            for (const c of r.cut) moved.push({ memory_id: c.memory_id, marker: markerOf.get(c.id)! });
          }
          for (const m of moved) {
            const found = await callJson<{ results: Array<{ id: number }> }>(db, "coord.recall", [
              agent,
              session,
              { task_description: m.marker, event_types: ["working_evicted", "working_cut"], limit: 50 },
            ]);
            expect(
              found.results.map((x) => x.id),
              `memory ${m.memory_id} (${m.marker}) not recalled`,
            ).toContain(m.memory_id);
          }
        },
      ),
      { numRuns: 40, seed: 20261125 },
    );
    // The generated sequences must exercise compression, or the properties above prove little.
    expect(totalEvicted).toBeGreaterThan(20);
    expect(totalCut).toBeGreaterThan(20);
    console.log(
      `[${get().kind}] working memory: ${totalEvicted} evictions, ${totalCut} cuts checked ${JSON.stringify(statuses)}`,
    );
    totalEvicted = 0;
    totalCut = 0;
    for (const k of Object.keys(statuses)) delete statuses[k];
  }, 120_000);

  it("compresses deterministically: cut long items first, then evict the lowest priority", async () => {
    const db = get().db;
    const add = (content: string, extra: Record<string, unknown> = {}) =>
      callJson<AddResult>(db, "coord.add_working_item", [
        "det-agent",
        "det",
        { content, budget_tokens: 100, ...extra },
      ]);
    await add("Goal: migrate the billing worker to the new queue", { kind: "goal", pinned: true, priority: 5 });
    const low = await add(
      "note: the staging dashboard is slow on Mondays because the nightly report job still holds its connections open until about ten",
      { priority: 1 },
    );
    const long = await add(
      `Decision: keep retries in the worker, see src/queue/retry.ts and #412\n${"details ".repeat(40)}`,
      { kind: "decision", priority: 4 },
    );
    expect(long.cut).toEqual([{ id: long.id, memory_id: expect.any(Number) }]);
    const ctx = await callJson<{ items: Array<{ id: number; content: string; cut: boolean }> }>(
      db,
      "coord.get_working_context",
      ["det-agent", "det"],
    );
    expect(ctx.items.find((i) => i.id === long.id)).toMatchObject({
      cut: true,
      content: expect.stringMatching(/^Decision: keep retries.*\[refs: .*src\/queue\/retry\.ts/),
    });
    const obs = await add(
      "observation: queue depth peaks at 9am when invoices are generated for every customer account in the region",
      { kind: "observation", priority: 3 },
    );
    expect(obs.evicted).toEqual([]);
    const r = await add(
      "constraint: the invoice exporter must finish before the ledger closes at midnight UTC each day",
      { kind: "constraint", priority: 3 },
    );
    expect(r.evicted.map((e) => e.id)).toEqual([low.id]);
    const dup = await add(
      "Observation: queue depth peaks at 9am when invoices are generated for every customer account in the region.",
      { kind: "observation" },
    );
    expect(dup).toMatchObject({ id: obs.id, status: "merged", evicted: [] });
    const tooBig = await add("pinned ".repeat(120), { pinned: true });
    expect(tooBig).toMatchObject({ error: { code: "pinned_over_budget", budget_tokens: 100 } });
  });
});
