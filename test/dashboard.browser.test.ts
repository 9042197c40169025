/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, against a real listening server on
 * each database. Signs in, sees a lock taken through the API appear without a reload, approves a tier-4 changeset
 * from the page, signs out; axe-core finds no serious or critical accessibility violations; the page fits a phone.
 * Screenshots go to .ci/artifacts/ (git-ignored; CI keeps them).
 */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Bytes, toHex } from "../functions-src/util/bytes.ts";
import { ADMIN_KEY, agentHeaders, forEachDatabase, testApp, testConfig } from "./helpers.ts";
import { CHROMIUM, FLAGS } from "./chromium.ts";
import { listen } from "./server.ts";

const ARTIFACTS = fileURLToPath(new URL("../.ci/artifacts/", import.meta.url));
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core in the page (evaluated through DevTools, which the page's CSP does not govern); serious and worse. */
async function axeFindings(page: Page): Promise<string[]> {
  await page.evaluate(await readFile(AXE, "utf8"));
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

// Chromium is a system package: `.ci/run` installs it. Elsewhere the browser suite cannot run, and says so.
describe.skipIf(!existsSync(CHROMIUM))("dashboard in Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  forEachDatabase("dashboard page", (get) => {
    let app: ReturnType<typeof testApp>["app"];
    let server: Awaited<ReturnType<typeof listen>>;
    const api = (path: string, agent: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { ...agentHeaders(agent), ...headers },
        body: JSON.stringify(body),
      });

    beforeAll(async () => {
      app = testApp(get().db, {
        config: { events: { ...testConfig().events, streamSeconds: 0, wallClockSeconds: 0 } },
      }).app;
      server = await listen(app);
      // Something to look at: agents holding locks, a queue with every kind of task, a changeset waiting.
      await api(
        "/locks/acquire",
        "claude-1",
        { repo: "acme/app", file_paths: ["src/auth/login.ts", "src/auth/token.ts"], reason: "fix token refresh" },
        { "X-Session-Id": "claude-1-s" },
      );
      await api(
        "/locks/acquire",
        "codex-2",
        { repo: "acme/app", file_path: "docs/", reason: "rewriting the guide" },
        { "X-Session-Id": "codex-2-s" },
      );
      await fetch(`${server.url}/sessions/heartbeat`, {
        method: "POST",
        headers: agentHeaders("claude-1", { "X-Session-Id": "claude-1-s" }),
        body: "{}",
      });
      const batch = await api("/work/tasks/batch", "planner", {
        tasks: [
          { task_type: "implement", task_description: "Add refresh-token rotation", priority: 2 },
          { task_type: "review", task_description: "Review the rotation change", depends_on: [0] },
          { task_type: "test", task_description: "Write integration tests", priority: 4 },
          { task_type: "flaky", task_description: "Reproduce the flaky login test", max_attempts: 1 },
        ],
      });
      expect(batch.status).toBe(201);
      const claim = await api("/work/claim", "codex-2", { task_types: ["flaky"] }, { "X-Session-Id": "codex-2-s" });
      const [flaky] = ((await claim.json()) as { tasks: Array<{ id: string; claim_token: number }> }).tasks;
      await api(
        `/work/tasks/${flaky!.id}/complete`,
        "codex-2",
        { claim_token: flaky!.claim_token, success: false, error_message: "timed out after 3 retries" },
        { "X-Session-Id": "codex-2-s" },
      );
      await api("/work/claim", "claude-1", { task_types: ["implement"] }, { "X-Session-Id": "claude-1-s" });
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      await server?.close();
    });

    it("signs in, shows a lock taken through the API without a reload, approves a tier-4 change, signs out", async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(String(e)));
      let navigations = 0;
      page.on("framenavigated", (f) => {
        if (f === page.mainFrame()) navigations++;
      });
      try {
        await page.goto(`${server.url}/dashboard`);
        await page.getByLabel("API key").waitFor();
        expect(await axeFindings(page), "sign-in form").toEqual([]);
        await page.getByLabel("API key").fill(ADMIN_KEY);
        await page.getByLabel(/Act as/).fill("alice");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.locator("#board").waitFor({ state: "visible" });
        await page.getByText("alice (admin)").waitFor();
        await page.locator('[data-lock="src/auth/login.ts"]').waitFor();
        await page.locator("#live", { hasText: "live" }).waitFor();
        const cookies = await context.cookies();
        expect(cookies.find((c) => c.name === "coord_dashboard")).toMatchObject({ httpOnly: true, sameSite: "Strict" });
        // The key never reaches the page's storage.
        expect(
          await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })),
        ).not.toContain(ADMIN_KEY);

        // A lock taken through the API appears without a reload.
        const before = navigations;
        const took = performance.now();
        const res = await api("/locks/acquire", "gemini-3", {
          repo: "acme/app",
          file_path: "src/live/new-file.ts",
          reason: "appears live",
        });
        expect(res.status).toBe(200);
        await page.locator('[data-lock="src/live/new-file.ts"]').waitFor({ timeout: 20_000 });
        console.log(
          `[dashboard ${get().kind}] a new lock appeared on the page ${(performance.now() - took).toFixed(0)} ms after the request`,
        );
        await page.locator('#timeline [data-kind="lock.acquired"]', { hasText: "src/live/new-file.ts" }).waitFor();
        expect(navigations).toBe(before);

        // A tier-4 change waits for approval; the admin approves it from the page.
        const sha = toHex(await sha256Bytes(`browser-${get().kind}-${Date.now()}`)).slice(0, 40);
        const submitted = await api("/webhook/agent", "claude-1", {
          repo: "acme/app",
          commit_sha: sha,
          files: [{ path: ".github/workflows/deploy.yml", status: "modified" }],
        });
        expect(submitted.status).toBe(201);
        const cs = (await submitted.json()) as { id: string };
        const row = page.locator(`[data-approval="${cs.id}"]`);
        await row.waitFor({ timeout: 20_000 });
        expect(await axeFindings(page), "board").toEqual([]);
        await page.screenshot({ path: `${ARTIFACTS}dashboard-${get().kind}-1280.png`, fullPage: true });

        await row.getByRole("textbox").fill("deploy workflow diff reviewed");
        await row.getByRole("button", { name: "Approve" }).click();
        await row.waitFor({ state: "detached", timeout: 20_000 });
        // Its evidence on the page: tier 4 passed (the lower tiers have no executor here, so it stays pending).
        await page
          .locator(`[data-changeset="${cs.id}"] li`, { hasText: "tier 4" })
          .locator(".badge.passed")
          .waitFor({ timeout: 20_000 });
        const review = await fetch(`${server.url}/changesets/${cs.id}`, { headers: agentHeaders("reader") });
        const tier4 = (
          (await review.json()) as { results: Array<{ tier: number; status: string; reported_by: string }> }
        ).results.find((r) => r.tier === 4);
        expect(tier4).toMatchObject({ status: "passed", reported_by: "alice" });
        expect(navigations).toBe(before);

        // Phone width: one column, nothing wider than the screen.
        await page.setViewportSize({ width: 390, height: 844 });
        await page.waitForTimeout(200);
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
        expect(await axeFindings(page), "board at phone width").toEqual([]);
        await page.screenshot({ path: `${ARTIFACTS}dashboard-${get().kind}-phone.png`, fullPage: true });
        await page.setViewportSize({ width: 1280, height: 900 });

        // Sign out: the form comes back, and a reload stays signed out.
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.getByLabel("API key").waitFor();
        expect((await context.cookies()).find((c) => c.name === "coord_dashboard")).toBeUndefined();
        await page.reload();
        await page.getByLabel("API key").waitFor();
        expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
      } finally {
        await context.close();
      }
    }, 120_000);
  });
});
