import { describe, expect, it } from "vitest";
import { MAX_FILE_BYTES, runStaticChecks } from "./static.ts";

const checks = (r: ReturnType<typeof runStaticChecks>) => r.details.findings.map((f) => [f.check, f.path, f.line]);

describe("tier 0 static checks", () => {
  it("passes clean files and says how many carried content", () => {
    const r = runStaticChecks([
      { path: "a.ts", status: "modified", content: "export const a = 1;\n" },
      { path: "b.md", status: "added" },
    ]);
    expect(r).toMatchObject({ passed: true, details: { checked_files: 2, content_files: 1 } });
  });

  it("finds secrets by kind without echoing them", () => {
    const key = `ghp_${"a".repeat(36)}`;
    const r = runStaticChecks([
      { path: "cfg.ts", status: "modified", content: `const t = "${key}";` },
      { path: "k.txt", status: "added", content: "-----BEGIN RSA PRIVATE KEY-----\nMII..." },
      { path: "aws.ts", status: "added", diff: "@@ -1,0 +5,1 @@\n+const id = 'AKIAABCDEFGHIJKLMNOP';" },
    ]);
    expect(r.passed).toBe(false);
    expect(checks(r)).toEqual([
      ["secret", "cfg.ts", 1],
      ["secret", "k.txt", 1],
      ["secret", "aws.ts", 5],
    ]);
    expect(JSON.stringify(r)).not.toContain(key);
  });

  it("finds conflict markers in contents and in the added lines of a diff only", () => {
    const r = runStaticChecks([
      { path: "a.ts", status: "modified", content: "x\n<<<<<<< HEAD\ny\n=======\nz\n>>>>>>> main\n" },
      {
        path: "b.ts",
        status: "modified",
        diff: "@@ -1,2 +1,2 @@\n-<<<<<<< old removed line\n context\n+>>>>>>> theirs\n",
      },
    ]);
    expect(checks(r)).toEqual([
      ["conflict_marker", "a.ts", 2],
      ["conflict_marker", "a.ts", 4],
      ["conflict_marker", "a.ts", 6],
      ["conflict_marker", "b.ts", 2],
    ]);
  });

  it("refuses oversized files and forbidden paths (but not their removal)", () => {
    const r = runStaticChecks([
      { path: "dump.bin", status: "added", size: MAX_FILE_BYTES + 1 },
      { path: "web/node_modules/x/index.js", status: "added" },
      { path: "terraform.tfstate", status: "removed" },
    ]);
    expect(checks(r)).toEqual([
      ["oversized", "dump.bin", undefined],
      ["forbidden_path", "web/node_modules/x/index.js", undefined],
    ]);
  });

  it("checks JSON, YAML and TOML syntax of full contents", () => {
    const r = runStaticChecks([
      { path: "ok.json", status: "added", content: '{"a": 1}' },
      { path: "bad.json", status: "added", content: '{"a": 1,' },
      { path: "ok.yml", status: "added", content: "a:\n  - b\n" },
      { path: "bad.yaml", status: "added", content: "a: [b\nc: d:\n" },
      { path: "ok.toml", status: "added", content: 'a = "b"\n[t]\nx = 1\n' },
      { path: "bad.toml", status: "added", content: "a = \n" },
      { path: "tsconfig.json", status: "added", content: "{ // comments allowed\n}" },
      { path: ".vscode/settings.json", status: "added", content: "{ /* also */ }" },
    ]);
    expect(checks(r).map((c) => c[1])).toEqual(["bad.json", "bad.yaml", "bad.toml"]);
  });
});
