/**
 * `npm run fuzz -- [--runs N] [--seed S]`: the fuzz suite (test/fuzz.test.ts) with more inputs per operation and
 * tool than CI's 200, or another seed. On PGlite, and on Postgres as well when DATABASE_URL is set, like `npm test`.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { runs: { type: "string" }, seed: { type: "string" } } });
const env = { ...process.env };
for (const [flag, name] of [
  ["runs", "FUZZ_RUNS"],
  ["seed", "FUZZ_SEED"],
] as const) {
  const v = values[flag];
  if (v === undefined) continue;
  if (!/^\d+$/.test(v)) {
    process.stderr.write(`fuzz: --${flag} must be a whole number\n`);
    process.exit(2);
  }
  env[name] = v;
}
const vitest = fileURLToPath(new URL("../node_modules/vitest/vitest.mjs", import.meta.url));
const r = spawnSync(process.execPath, [vitest, "run", "test/fuzz.test.ts"], {
  cwd: fileURLToPath(new URL("../", import.meta.url)),
  env,
  stdio: "inherit",
});
process.exit(r.status ?? 1);
