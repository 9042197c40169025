/**
 * Builds the bridge into `dist/`: one ESM bundle (`mcp-bridge.js`, plus chunks loaded per subcommand) holding the
 * bridge, the client and the parts of the MCP SDK it uses, so the package installs with no dependencies (nothing of
 * the server: no PGlite, postgres or hono) and starts without resolving a module tree. The licences of the bundled
 * packages go to `dist/THIRD_PARTY_LICENSES.txt`.
 *
 *   tsx mcp-bridge/scripts/build.ts [OUTDIR]
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";

const PKG_DIR = fileURLToPath(new URL("..", import.meta.url));

/** Bundles the bridge into `outdir` and returns the metafile. */
export async function buildBridge(outdir = join(PKG_DIR, "dist")): Promise<Metafile> {
  const pkg = JSON.parse(readFileSync(join(PKG_DIR, "package.json"), "utf8"));
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: { "mcp-bridge": join(PKG_DIR, "src/main.ts") },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    minify: true,
    legalComments: "none",
    chunkNames: "chunks/[name]-[hash]",
    define: { __BRIDGE_VERSION__: JSON.stringify(pkg.version) },
    // Bundled CommonJS dependencies may `require` Node built-ins; ESM output needs a `require` for them.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    metafile: true,
    logLevel: "warning",
  });
  await writeFile(join(outdir, "THIRD_PARTY_LICENSES.txt"), await licenses(result.metafile));
  return result.metafile;
}

/** The licence text of every npm package the bundle contains. */
async function licenses(metafile: Metafile): Promise<string> {
  const roots = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input.replaceAll("\\", "/"));
    if (m) roots.add(resolve(m[1]!));
  }
  const parts: string[] = [];
  for (const root of [...roots].sort()) {
    const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
    const file = (await readdir(root)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = file ? await readFile(join(root, file), "utf8") : `License: ${pkg.license ?? "unknown"}`;
    parts.push(`${pkg.name}@${pkg.version} (${pkg.license ?? "unknown"})\n\n${text.trim()}\n`);
  }
  return `The bridge bundle contains these packages:\n\n${parts.join(`\n${"-".repeat(78)}\n\n`)}`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = process.argv[2] ? resolve(process.argv[2]) : undefined;
  const meta = await buildBridge(outdir);
  const outputs = Object.values(meta.outputs);
  const kb = outputs.reduce((n, o) => n + o.bytes, 0) / 1024;
  if (!existsSync(outdir ?? join(PKG_DIR, "dist"))) throw new Error("build produced nothing");
  process.stdout.write(`mcp-bridge: built ${outputs.length} files, ${kb.toFixed(0)} KB\n`);
}
