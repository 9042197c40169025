/**
 * `npm run bench`: runs every capability's benchmark module and prints one table. Postgres rows need
 * DATABASE_URL (the admin URL of a server; each module makes its own database); without it only PGlite rows run.
 * `--quick` shortens every run (for a smoke test), `--only NAME[,NAME…]` runs only those modules (add `references` to
 * get the ratios).
 */
import { printTable, type BenchContext, type BenchRow } from "./bench/harness.ts";
import { bench as foundation } from "./bench/foundation.ts";
import { bench as locks } from "./bench/locks.ts";
import { bench as verification } from "./bench/verification.ts";
import { bench as work } from "./bench/work.ts";
import { bench as memory } from "./bench/memory.ts";
import { bench as references } from "./bench/references.ts";
import { bench as events } from "./bench/events.ts";
import { bench as edge } from "./bench/edge.ts";

// references first: the other modules state their ratios to it.
const MODULES: Record<string, (ctx: BenchContext) => Promise<BenchRow[]>> = {
  references,
  foundation,
  locks,
  work,
  memory,
  verification,
  events,
  edge,
};

async function main() {
  const args = process.argv.slice(2);
  const only = args.includes("--only") ? args[args.indexOf("--only") + 1]?.split(",") : undefined;
  const ctx: BenchContext = {
    adminUrl: process.env.DATABASE_URL || undefined,
    scale: args.includes("--quick") ? 0.2 : 1,
    log: (line) => process.stderr.write(`${line}\n`),
  };
  const rows: BenchRow[] = [];
  for (const [name, run] of Object.entries(MODULES)) {
    if (only && !only.includes(name)) continue;
    ctx.log(`bench: ${name}…`);
    rows.push(...(await run(ctx)));
  }
  process.stdout.write(
    `\n${printTable(rows)}\n\nmachine: ${(await import("node:os")).cpus().length} cores, node ${process.version}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
