/**
 * `.env.example` lists every variable the configuration loaders and hosts read, each with its comment: a variable
 * added to a loader without a line here fails this test.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
// Where the environment is read: the app's loaders (config.ts composes verification's), the bridge, the verify runner.
const READERS = [
  "functions-src/config.ts",
  "functions-src/verification/config.ts",
  "mcp-bridge/src/config.ts",
  "scripts/verify-runner.ts",
];

function variablesRead(file: string): string[] {
  const text = readFileSync(`${ROOT}${file}`, "utf8");
  const names = [
    ...text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g),
    ...text.matchAll(/\(env, "([A-Z][A-Z0-9_]+)"/g),
    ...text.matchAll(/\bconst \{ ([A-Z_, ]+) \} = process\.env/g),
  ].flatMap((m) => m[1]!.split(",").map((n) => n.trim()));
  return [...new Set(names)].filter(Boolean);
}

describe(".env.example", () => {
  const lines = readFileSync(`${ROOT}.env.example`, "utf8").split("\n");
  const listed = new Map<string, string>();
  lines.forEach((line, i) => {
    const m = /^# ([A-Z][A-Z0-9_]+)=/.exec(line);
    if (m) listed.set(m[1]!, lines[i - 1] ?? "");
  });

  it("lists every variable the app, the hosts, the bridge and the runner read", () => {
    const read = READERS.flatMap(variablesRead);
    expect(read.length).toBeGreaterThan(30);
    expect(read.filter((name) => !listed.has(name))).toEqual([]);
  });

  it("gives each one a comment line above it", () => {
    for (const [name, comment] of listed) {
      expect(comment, name).toMatch(/^# [A-Z(a-z].{10,}/);
      expect(comment, name).not.toMatch(/^# [A-Z][A-Z0-9_]+=/);
    }
  });
});
