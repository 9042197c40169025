/**
 * `client.events()` in a real browser (Debian's Chromium driven by playwright-core): the client bundled for the
 * browser (esbuild, platform "browser"), loaded into a page of the coordinator's own origin, follows a server whose
 * streams end every second. The ids the page received across its reconnects equal the recorded events exactly.
 */
import { existsSync } from "node:fs";
import { build } from "esbuild";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_KEY, forEachDatabase, testApp, testConfig } from "../../test/helpers.ts";
import { listen } from "../../test/server.ts";
import { CHROMIUM, FLAGS } from "../../test/chromium.ts";
import { AgentCoordinationClient } from "./index.ts";

// Chromium is a system package: `.ci/run` installs it. Elsewhere the browser suite cannot run, and says so.
describe.skipIf(!existsSync(CHROMIUM))("client.events() in Chromium", () => {
  let browser: Browser;
  let bundle: string;
  beforeAll(async () => {
    const out = await build({
      entryPoints: [new URL("./index.ts", import.meta.url).pathname],
      bundle: true,
      minify: true,
      format: "iife",
      globalName: "CoordinatorClient",
      platform: "browser",
      write: false,
    });
    bundle = out.outputFiles[0]!.text;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  forEachDatabase("events in the page", (get) => {
    it("resumes across server-side stream ends without loss or repeat", { timeout: 180_000 }, async () => {
      const { app } = testApp(get().db, {
        config: { events: { ...testConfig().events, streamSeconds: 1, wallClockSeconds: 0 } },
      });
      const server = await listen(app);
      const page = await browser.newPage();
      try {
        const lastId = async () =>
          Number(
            (await get().db.query<{ n: string }>("select coalesce(max(id), 0)::text as n from coord.events"))[0]!.n,
          );
        const start = await lastId();
        // A page of the coordinator's origin (no CORS in the way), with the bundle evaluated in it.
        await page.goto(`${server.url}/health`);
        await page.evaluate(`${bundle};globalThis.CoordinatorClient = CoordinatorClient;`);
        const following = page.evaluate(
          async ({ baseUrl, apiKey, after }) => {
            const w = globalThis as unknown as {
              CoordinatorClient: typeof import("./index.ts");
              opens: number;
              received: number[];
            };
            w.opens = 0;
            w.received = [];
            const c = new w.CoordinatorClient.AgentCoordinationClient({ baseUrl, apiKey, agentId: "browser-reader" });
            for await (const e of c.events({ kinds: ["lock."], after, onOpen: () => w.opens++ })) {
              w.received.push(e.id);
              if (e.subject === "browser/stop.ts") break;
            }
            return { opens: w.opens, received: w.received };
          },
          { baseUrl: server.url, apiKey: AGENT_KEY, after: start },
        );
        const writer = new AgentCoordinationClient({ baseUrl: server.url, apiKey: AGENT_KEY, agentId: "browser-w" });
        const opens = () => page.evaluate(() => (globalThis as unknown as { opens?: number }).opens ?? 0);
        let failed: unknown = null;
        following.catch((err: unknown) => (failed = err));
        for (let n = 0; ((await opens()) < 3 || n < 10) && !failed; n++) {
          await writer.acquireLock({ file_path: `browser/${n}.ts` });
          await writer.releaseLock({ file_path: `browser/${n}.ts` });
          await new Promise((r) => setTimeout(r, 50));
        }
        await writer.acquireLock({ file_path: "browser/stop.ts" });
        const stopAt = await lastId();
        const result = await following;
        const recorded = (
          await get().db.query<{ n: string }>(
            "select id::text as n from coord.events where id > $1 and id <= $2 and kind like 'lock.%' order by id",
            [start, stopAt],
          )
        ).map((r) => Number(r.n));
        expect(result.opens).toBeGreaterThanOrEqual(3);
        expect(result.received).toEqual(recorded);
      } finally {
        await page.close();
        await server.close();
        await app.close();
      }
    });
  });
});
