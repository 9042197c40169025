/**
 * Ranking quality on a fixture corpus: recall@5 and MRR over labelled queries, and silence on queries nothing
 * answers. The floors below were set from measurement (see docs/MEMORY.md); a ranking change that drops under
 * them fails the suite.
 */
import { beforeAll, expect, it } from "vitest";
import { callJson } from "../db/port.ts";
import { forEachDatabase } from "../../test/helpers.ts";
import {
  corpus,
  type LabelledQuery,
  NO_MATCH_QUERIES,
  PARAPHRASE_QUERIES,
  QUERIES,
  TARGETS,
} from "../../test/fixtures/memory-corpus.ts";
import { type ExpansionOptions, expandQuery } from "./expansion.ts";

const RECALL_AT_5_FLOOR = 0.9;
const MRR_FLOOR = 0.85;
/** Paraphrases with the expansions recall uses (coding vocabulary and WordNet), set from the measurement below. */
const PARAPHRASE_RECALL_AT_5_FLOOR = 0.14;
const PARAPHRASE_MRR_FLOOR = 0.13;

/** Expansion variants measured side by side; `both` is what the app sends. */
const VARIANTS: Record<string, ExpansionOptions | null> = {
  none: null,
  coding: { coding: true, wordnet: false },
  wordnet: { coding: false, wordnet: true },
  both: {},
};

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

  const recall = (task_description: string, variant: ExpansionOptions | null = {}) =>
    callJson<{ results: Hit[]; message: string | null }>(get().db, "coord.recall", [
      "reader",
      null,
      {
        task_description,
        repo: "acme/app",
        limit: 10,
        ...(variant ? { expansions: expandQuery(task_description, variant) } : {}),
      },
    ]);

  async function measure(queries: LabelledQuery[], variant: ExpansionOptions | null) {
    let hits = 0;
    let rr = 0;
    const misses: string[] = [];
    for (const q of queries) {
      const { results } = await recall(q.query, variant);
      const relevant = new Set(q.relevant.map((k) => idOf.get(k)!));
      const rank = results.findIndex((r) => relevant.has(r.id));
      if (rank >= 0 && rank < 5) hits++;
      if (rank >= 0) rr += 1 / (rank + 1);
      if (rank < 0 || rank >= 5)
        misses.push(`${q.query} → rank ${rank < 0 ? "none" : rank + 1}; top: ${results[0]?.summary ?? "(empty)"}`);
    }
    return { recallAt5: hits / queries.length, mrr: rr / queries.length, misses };
  }

  it(`labelled queries: recall@5 >= ${RECALL_AT_5_FLOOR} and MRR >= ${MRR_FLOOR}, with and without expansion`, async () => {
    const lines: string[] = [];
    for (const [name, variant] of Object.entries(VARIANTS)) {
      const m = await measure(QUERIES, variant);
      lines.push(`${name}: recall@5 ${m.recallAt5.toFixed(3)}, MRR ${m.mrr.toFixed(3)}`);
      if (name === "both" && m.misses.length) lines.push(`misses (both):\n  ${m.misses.join("\n  ")}`);
      expect(m.recallAt5, name).toBeGreaterThanOrEqual(RECALL_AT_5_FLOOR);
      expect(m.mrr, name).toBeGreaterThanOrEqual(MRR_FLOOR);
    }
    console.log(
      `[${get().kind}] memory ranking: ${QUERIES.length} labelled queries over ${idOf.size} memories\n${lines.join("\n")}`,
    );
  });

  it("paraphrase queries share at most one content word with their target", async () => {
    const byKey = new Map(TARGETS.map((t) => [t.key, t]));
    expect(PARAPHRASE_QUERIES.length).toBeGreaterThanOrEqual(40);
    const violations: string[] = [];
    for (const q of PARAPHRASE_QUERIES) {
      const [shared] = await get().db.query<{ words: string[] }>(
        `select coalesce(array_agg(x order by x), '{}') as words
           from unnest(tsvector_to_array(to_tsvector('english', $1))) x
          where x = any(tsvector_to_array((select search from coord.memories where id = $2)))`,
        [q.query, idOf.get(q.relevant[0]!)],
      );
      if (shared!.words.length > 1)
        violations.push(`${q.query} shares ${shared!.words.join(", ")} with ${byKey.get(q.relevant[0]!)?.summary}`);
    }
    expect(violations).toEqual([]);
  });

  it("paraphrase queries: recall@5 and MRR per expansion variant, floors on what the app sends", async () => {
    const lines: string[] = [];
    let both = { recallAt5: 0, mrr: 0, misses: [] as string[] };
    for (const [name, variant] of Object.entries(VARIANTS)) {
      const m = await measure(PARAPHRASE_QUERIES, variant);
      lines.push(`${name}: recall@5 ${m.recallAt5.toFixed(3)}, MRR ${m.mrr.toFixed(3)}`);
      if (name === "both") both = m;
    }
    console.log(
      `[${get().kind}] paraphrases: ${PARAPHRASE_QUERIES.length} queries\n${lines.join("\n")}\nmisses (both):\n  ${both.misses.join("\n  ")}`,
    );
    expect(both.recallAt5).toBeGreaterThanOrEqual(PARAPHRASE_RECALL_AT_5_FLOOR);
    expect(both.mrr).toBeGreaterThanOrEqual(PARAPHRASE_MRR_FLOOR);
  });

  it("queries no memory answers return nothing, with a message, expansions included", async () => {
    for (const q of NO_MATCH_QUERIES) {
      for (const variant of Object.values(VARIANTS)) {
        const r = await recall(q, variant);
        expect(r.results, q).toEqual([]);
        expect(r.message).toMatch(/No memory matches/);
      }
    }
  });
});
