/**
 * `mcp-bridge`: the stdio bridge by default; `--check` to test the set-up; `hook` (Claude Code) and `guard` (git)
 * subcommands. Each path loads only what it needs, so the hook — run before every edit — starts fast.
 */
import { BridgeConfigError } from "./config.ts";

declare const __BRIDGE_VERSION__: string | undefined;
export const VERSION = typeof __BRIDGE_VERSION__ === "string" ? __BRIDGE_VERSION__ : "dev";

const USAGE = `mcp-bridge ${VERSION} — Agent Coordinator for local agents

  mcp-bridge                 the MCP stdio bridge (run by your agent; pipes to \${COORDINATOR_URL}/mcp)
  mcp-bridge --check         says what it would connect to and whether the key works
  mcp-bridge hook            Claude Code PreToolUse hook (JSON event on stdin); --print-config for settings.json
  mcp-bridge guard install   git pre-commit and commit-msg hooks (--require, --fail=closed); guard uninstall

Environment: COORDINATOR_URL, COORDINATION_API_KEY, AGENT_ID, AGENT_TYPE, SESSION_ID, BRIDGE_HEARTBEAT_MS,
COORDINATOR_REPO (hook, guard), COORDINATOR_HOOK_MODE=acquire|check, COORDINATOR_GUARD_MODE=check|require,
COORDINATOR_FAIL=open|closed. See docs/MCP_INTEGRATION.md.
`;

async function main(argv: string[]): Promise<number | null> {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
      await (await import("./bridge.ts")).runBridge(process.env);
      return null; // keeps running until stdin closes
    case "--check":
      return (await import("./check.ts")).check(process.env);
    case "hook":
      return (await import("./hook.ts")).hookMain(rest);
    case "guard":
      return (await import("./guard.ts")).guardMain(rest);
    case "--version":
    case "-v":
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`mcp-bridge: unknown argument ${first}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit at once (an idle keep-alive connection must not hold a hook for seconds), after stdout is flushed.
    if (code !== null) process.stdout.write("", () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(
      `mcp-bridge: ${err instanceof BridgeConfigError ? err.message : `failed: ${(err as Error)?.message ?? err}`}\n`,
    );
    process.exit(1);
  },
);
