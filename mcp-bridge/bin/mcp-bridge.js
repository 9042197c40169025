#!/usr/bin/env node
// The bin of @agent-coordinator/mcp-bridge: runs the bundle in dist/ (built by `npm run build`; packed tarballs ship it).
import("../dist/mcp-bridge.js").catch((err) => {
  if (err?.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("mcp-bridge.js")) {
    process.stderr.write("mcp-bridge: not built yet: run `npm run build` in the agent-coordinator clone\n");
    process.exit(1);
  }
  throw err;
});
