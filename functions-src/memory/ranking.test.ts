/**
 * Ranking quality on a fixture corpus: recall@5 and MRR over labelled queries, and silence on queries nothing
 * answers. The floors below were set from measurement (see docs/MEMORY.md); a ranking change that drops under
 * them fails the suite.
 */
import { beforeAll, expect, it } from "vitest";
import { callJson } from "../db/port.ts";
import { forEachDatabase } from "../../test/helpers.ts";
import { corpus, NO_MATCH_QUERIES, QUERIES } from "../../test/fixtures/memory-corpus.ts";

const RECALL_AT_5_FLOOR = 0.9;
const MRR_FLOOR = 0.85;

interface Hit {
  id: number;
  summary: string;
  score: number;
  why: string;
}

forEachDatabase("memory ranking", (get) => {
  const idOf = new Map<string, number>();

  beforeAll(async () => {
    const { db } = get();
    let i = 0;
    for (const m of corpus()) {
      const { key, ...memory } = m;
      const r = await callJson<{ id: number }>(db, "coord.remember", [
        `fixture-agent-${i++ % 7}`,
        null,
        { ...memory, repo: "acme/app" },
      ]);
      idOf.set(key, r.id);
    }
    // Term weights come from column statistics; the retention job refreshes them on a schedule.
    await db.query("analyze coord.memories");
  }, 120_000);

  const recall = (task_description: string) =>
    callJson<{ results: Hit[]; message: string | null }>(get().db, "coord.recall", [
      "reader",
      null,
      { task_description, repo: "acme/app", limit: 10 },
    ]);

  it(`labelled queries: recall@5 >= ${RECALL_AT_5_FLOOR} and MRR >= ${MRR_FLOOR}`, async () => {
    let hits = 0;
    let rr = 0;
    const misses: string[] = [];
    for (const q of QUERIES) {
      const { results } = await recall(q.query);
      const relevant = new Set(q.relevant.map((k) => idOf.get(k)!));
      const rank = results.findIndex((r) => relevant.has(r.id));
      if (rank >= 0 && rank < 5) hits++;
      if (rank >= 0) rr += 1 / (rank + 1);
      if (rank < 0 || rank >= 5)
        misses.push(`${q.query} → rank ${rank < 0 ? "none" : rank + 1}; top: ${results[0]?.summary ?? "(empty)"}`);
    }
    const recallAt5 = hits / QUERIES.length;
    const mrr = rr / QUERIES.length;
    console.log(
      `[${get().kind}] memory ranking: ${QUERIES.length} queries over ${idOf.size} memories: recall@5 ${recallAt5.toFixed(3)}, MRR ${mrr.toFixed(3)}`,
    );
    if (misses.length) console.log(`misses:\n  ${misses.join("\n  ")}`);
    expect(recallAt5).toBeGreaterThanOrEqual(RECALL_AT_5_FLOOR);
    expect(mrr).toBeGreaterThanOrEqual(MRR_FLOOR);
  });

  it("queries no memory answers return nothing, with a message", async () => {
    for (const q of NO_MATCH_QUERIES) {
      const r = await recall(q);
      expect(r.results, q).toEqual([]);
      expect(r.message).toMatch(/No memory matches/);
    }
  });
});
