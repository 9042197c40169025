/**
 * The generated operation types and route table must match the operation declarations: regenerate them with the
 * build's own script into a temporary file and compare with the committed one. Fails when an operation changed and
 * nobody ran `npm run build` (which regenerates `client/src/generated/operations.ts`).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const COMMITTED = join(ROOT, "client/src/generated/operations.ts");

it("client/src/generated/operations.ts is what the generator makes from the current declarations", () => {
  const out = join(mkdtempSync(join(tmpdir(), "client-gen-")), "operations.ts");
  execFileSync(process.execPath, ["--import", "tsx", "client/scripts/generate.ts", out], { cwd: ROOT, stdio: "pipe" });
  const fresh = readFileSync(out, "utf8");
  const committed = readFileSync(COMMITTED, "utf8");
  // On drift: run `npm run build` (root or client workspace) and commit client/src/generated/operations.ts.
  expect(committed === fresh, "client/src/generated/operations.ts is out of date: run `npm run build`").toBe(true);
  // Generating twice gives the same bytes (the file is reproducible).
  const again = join(mkdtempSync(join(tmpdir(), "client-gen-")), "operations.ts");
  execFileSync(process.execPath, ["--import", "tsx", "client/scripts/generate.ts", again], {
    cwd: ROOT,
    stdio: "pipe",
  });
  expect(readFileSync(again, "utf8")).toBe(fresh);
  for (const file of [out, again]) rmSync(join(file, ".."), { recursive: true, force: true });
});
