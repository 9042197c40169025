import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { THESAURUS_PATH, thesaurusModule } from "../../scripts/memory/build-thesaurus.ts";
import { CODING_WEIGHT, expandQuery, WORDNET_WEIGHT } from "./expansion.ts";

describe("query expansion", () => {
  it("expands coding abbreviations both ways, weighted below the word itself", () => {
    const e = expandQuery("prod db is down");
    expect(e).toContainEqual({ from: "prod", to: "production", weight: CODING_WEIGHT });
    expect(e).toContainEqual({ from: "db", to: "database", weight: CODING_WEIGHT });
    expect(expandQuery("the repository")).toContainEqual({ from: "repository", to: "repo", weight: CODING_WEIGHT });
    expect(CODING_WEIGHT).toBeLessThan(1);
    expect(WORDNET_WEIGHT).toBeLessThan(CODING_WEIGHT);
  });

  it("adds WordNet synonyms of a word's base form, and nothing for stop words", () => {
    const e = expandQuery("flushing disks");
    expect(e.some((x) => x.from === "disks" && x.weight === WORDNET_WEIGHT)).toBe(true);
    expect(expandQuery("the and of with")).toEqual([]);
    expect(expandQuery("prod db", { coding: false, wordnet: false })).toEqual([]);
  });

  it("bounds the expansions of a long query", () => {
    const long = Array.from({ length: 60 }, (_, i) => `word${i} database`).join(" ");
    expect(expandQuery(`${long} test run fail crash build deploy`).length).toBeLessThanOrEqual(48);
  });

  it("the thesaurus is what scripts/memory/build-thesaurus.ts builds from WordNet (npx tsx … --write)", () => {
    expect(readFileSync(THESAURUS_PATH, "utf8")).toBe(thesaurusModule());
  });
});
