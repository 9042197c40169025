/**
 * Measures how far working memory's token estimate (`coord.estimate_tokens`: ⌈characters / 4⌉) is from real BPE
 * token counts (OpenAI's o200k_base and cl100k_base via `gpt-tokenizer`), on memory-like prose (the ranking
 * fixture), code (this repository's .ts and .sql, 800-character chunks) and docs (.md chunks). gpt-tokenizer is not
 * a dependency (1–2.4 MB of ranks per encoding for the edge bundle, and the agents' own tokenizers — Claude's among
 * them — differ anyway); install it to run this: `npm i --no-save gpt-tokenizer@4 && npx tsx scripts/memory/measure-tokens.ts`.
 * The figures are in docs/MEMORY.md ("Tokens").
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { corpus } from "../../test/fixtures/memory-corpus.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const estimate = (t: string) => Math.max(1, Math.ceil(t.length / 4));

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    if (e === "node_modules" || e.startsWith(".") || e === "migrations") continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|sql|md)$/.test(e) && !e.startsWith("thesaurus-data")) out.push(p);
  }
  return out;
}

async function main() {
  const encodings: Record<string, { encode(t: string): number[] }> = {
    o200k_base: await import("gpt-tokenizer/encoding/o200k_base" as string),
    cl100k_base: await import("gpt-tokenizer/encoding/cl100k_base" as string),
  };
  const sets: Record<string, string[]> = {
    "memory prose": corpus().map((m) => [m.summary, m.details, m.lessons].filter(Boolean).join("\n")),
    code: [],
    docs: [],
  };
  for (const f of walk(ROOT)) {
    const text = readFileSync(f, "utf8");
    for (let i = 0; i + 200 < text.length; i += 900)
      sets[f.endsWith(".md") ? "docs" : "code"]!.push(text.slice(i, i + 800));
  }
  for (const [name, enc] of Object.entries(encodings)) {
    for (const [kind, texts] of Object.entries(sets)) {
      const errs = texts.map((t) => {
        const real = enc.encode(t).length;
        return (estimate(t) - real) / real;
      });
      const abs = errs.map(Math.abs).sort((a, b) => a - b);
      const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
      process.stdout.write(
        `${name} ${kind}: n=${texts.length}, bias ${pct(errs.reduce((a, b) => a + b, 0) / errs.length)}, ` +
          `mean |error| ${pct(abs.reduce((a, b) => a + b, 0) / abs.length)}, p90 |error| ${pct(abs[Math.floor(abs.length * 0.9)]!)}\n`,
      );
    }
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
