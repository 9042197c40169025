/**
 * The Claude Code plugin shipped in the bridge package (`.claude-plugin/plugin.json`, plus a one-plugin
 * `marketplace.json` so the installed package can be added as a marketplace), checked against the documented format:
 * Claude Code's plugins reference (manifest fields, kebab-case name, semantic version, `./` component paths,
 * `${CLAUDE_PLUGIN_ROOT}`), its hooks reference (events, matcher groups of `{ type: "command", command, timeout }`)
 * and its MCP configuration (stdio servers: `command`, `args`, `env`, `${VAR}` / `${VAR:-default}` expansion).
 * `test/packages.test.ts` runs the manifest's hook and MCP server from the installed tarball.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EDIT_TOOLS } from "./hook.ts";

const PKG = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => JSON.parse(readFileSync(join(PKG, path), "utf8"));

// Fields of plugin.json in the plugins reference.
const MANIFEST_FIELDS = new Set([
  "name",
  "version",
  "description",
  "author",
  "homepage",
  "repository",
  "license",
  "keywords",
  "commands",
  "agents",
  "skills",
  "hooks",
  "mcpServers",
  "outputStyles",
  "lspServers",
  "userConfig",
]);
// Hook events of the hooks reference.
const HOOK_EVENTS = new Set([
  "PreToolUse",
  "PostToolUse",
  "Notification",
  "UserPromptSubmit",
  "Stop",
  "SubagentStop",
  "PreCompact",
  "SessionStart",
  "SessionEnd",
]);
const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const EXPANSION = /\$\{([^}]*)\}/g;

/** Files a `${CLAUDE_PLUGIN_ROOT}/…` reference points at, relative to the plugin root. */
function pluginRootRefs(text: string): string[] {
  return [...text.matchAll(/\$\{CLAUDE_PLUGIN_ROOT\}\/([^"'\s\\]+)/g)].map((m) => m[1]!);
}

describe("Claude Code plugin manifest", () => {
  const manifest = read(".claude-plugin/plugin.json");
  const pkg = read("package.json");

  it("has the documented metadata: kebab-case name, the package's semantic version, known fields only", () => {
    expect(manifest.name).toMatch(KEBAB);
    expect(manifest.version).toMatch(SEMVER);
    expect(manifest.version).toBe(pkg.version);
    // The packages are versioned with the app: bridge, client and plugin carry the root package's version.
    const root = JSON.parse(readFileSync(join(PKG, "../package.json"), "utf8"));
    const client = JSON.parse(readFileSync(join(PKG, "../client/package.json"), "utf8"));
    expect([
      pkg.version,
      client.version,
      read(".claude-plugin/marketplace.json").plugins[0].version ?? root.version,
    ]).toEqual([root.version, root.version, root.version]);
    expect(typeof manifest.description).toBe("string");
    expect(manifest.author).toEqual({ name: expect.any(String) });
    expect(manifest.keywords.every((k: unknown) => typeof k === "string")).toBe(true);
    for (const key of Object.keys(manifest)) expect(MANIFEST_FIELDS, `unknown field ${key}`).toContain(key);
  });

  it("declares the PreToolUse hook for the edit tools, as command hooks running `mcp-bridge hook`", () => {
    for (const [event, groups] of Object.entries(manifest.hooks as Record<string, unknown[]>)) {
      expect(HOOK_EVENTS).toContain(event);
      expect(Array.isArray(groups)).toBe(true);
      for (const group of groups as Array<Record<string, unknown>>) {
        for (const key of Object.keys(group)) expect(["matcher", "hooks"]).toContain(key);
        if (group.matcher !== undefined) expect(() => new RegExp(group.matcher as string)).not.toThrow();
        for (const hook of group.hooks as Array<Record<string, unknown>>) {
          for (const key of Object.keys(hook)) expect(["type", "command", "timeout"]).toContain(key);
          expect(hook.type).toBe("command");
          expect(typeof hook.command).toBe("string");
          if (hook.timeout !== undefined) expect(hook.timeout).toBeGreaterThan(0);
        }
      }
    }
    const [group] = manifest.hooks.PreToolUse;
    const matcher = new RegExp(`^(?:${group.matcher})$`);
    for (const tool of EDIT_TOOLS) expect(matcher.test(tool), tool).toBe(true);
    for (const tool of ["Read", "Bash", "Glob"]) expect(matcher.test(tool), tool).toBe(false);
    expect(group.hooks[0].command).toMatch(/ hook$/);
  });

  it("declares the bridge as a stdio MCP server configured from the user's environment", () => {
    const servers = manifest.mcpServers as Record<string, Record<string, unknown>>;
    expect(Object.keys(servers)).toEqual(["coordinator"]);
    const server = servers.coordinator!;
    for (const key of Object.keys(server)) expect(["command", "args", "env"]).toContain(key);
    expect(server.command).toBe("node");
    expect((server.args as unknown[]).every((a) => typeof a === "string")).toBe(true);
    const env = server.env as Record<string, string>;
    for (const value of Object.values(env)) {
      for (const [, inner] of value.matchAll(EXPANSION)) expect(inner).toMatch(/^[A-Z_][A-Z0-9_]*(:-.*)?$/);
    }
    // What the bridge needs is passed through; AGENT_ID may be left unset (a key bound to one agent).
    // Claude Code's own expansion syntax, literally: `${VAR}`, and `${VAR:-}` for an optional one.
    const ref = (name: string, fallback?: string) => `\${${name}${fallback === undefined ? "" : `:-${fallback}`}}`;
    expect(env).toMatchObject({
      COORDINATOR_URL: ref("COORDINATOR_URL"),
      COORDINATION_API_KEY: ref("COORDINATION_API_KEY"),
      AGENT_ID: ref("AGENT_ID", ""),
    });
  });

  it("references only files the package ships, inside the plugin root", () => {
    const refs = pluginRootRefs(JSON.stringify(manifest));
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.startsWith("../")).toBe(false);
      const top = ref.split("/")[0]!;
      expect(pkg.files, `${ref} is not in package.json "files"`).toContain(top);
      // bin/ is committed; dist/ is built (npm pack builds it first).
      if (top === "bin") expect(existsSync(join(PKG, ref)), ref).toBe(true);
    }
    expect(pkg.files).toContain(".claude-plugin");
  });

  it("ships a one-plugin marketplace whose entry is the package root", () => {
    const market = read(".claude-plugin/marketplace.json");
    expect(market.name).toMatch(KEBAB);
    expect(market.owner).toEqual({ name: expect.any(String) });
    expect(market.plugins).toHaveLength(1);
    expect(market.plugins[0]).toMatchObject({ name: manifest.name, source: "./" });
  });
});
