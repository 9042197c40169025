/**
 * `/dashboard`: one page a person keeps open beside their agents. Plain HTML and JavaScript served by the app (see
 * docs/EVENTS.md for why not JSX), under `Content-Security-Policy: default-src 'self'`. Its API lives under
 * /dashboard/api and runs on a cookie session (session.ts); reads and the approval reuse the operations every other
 * client calls (`coordinator_overview`, `review_changeset`), so the page has no privileges of its own.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { z } from "zod";
import { callJson } from "../db/port.ts";
import { eventsState, viewerOf } from "../events/capability.ts";
import type { StoredEvent } from "../events/feed.ts";
import { openEventStream, streamRequest } from "../events/stream.ts";
import { shape } from "../events/view.ts";
import { requireJson } from "../http/middleware.ts";
import { AgentId } from "../identity/agent-id.ts";
import { defineCapability } from "../ops/capability.ts";
import { defineOperation, invoke, parseInput } from "../ops/operation.ts";
import type { AppDeps, AppEnv } from "../types.ts";
import { reviewChangeset } from "../verification/capability.ts";
import { APP_JS } from "./app-script.ts";
import { APP_CSS } from "./app-style.ts";
import { FAVICON_SVG, PAGE_HTML } from "./page.ts";
import { Overview } from "./schemas.ts";
import { dashboardAuth } from "./session.ts";
import { DASHBOARD_DOCS } from "./docs.ts";

/** `GET /overview`: everything the dashboard shows, for any client (the page reads it through its session). */
export const overview = defineOperation({
  name: "coordinator_overview",
  title: "Coordinator overview",
  description: "Agents, locks, the queue, changesets and the latest events, as the dashboard shows them.",
  input: z.object({}),
  output: Overview,
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "GET", path: "/overview" },
  tool: false,
  run: async (ctx) => {
    const viewer = viewerOf(ctx.identity);
    // The cursor first: a stream opened after it brings every change the state below may lack.
    const cursor = await eventsState(ctx).feed.horizon();
    const state = await callJson<Omit<Overview, "events_cursor" | "recent_events">>(ctx.db, "coord.get_overview", [
      viewer.agentId,
      viewer.admin,
    ]);
    const recent = await callJson<{ events: StoredEvent[] }>(ctx.db, "coord.list_events", [
      viewer.agentId,
      viewer.admin,
      null,
      cursor + 1,
      null,
      null,
      null,
      null,
      true,
      30,
    ]);
    return {
      ...state,
      events_cursor: cursor,
      recent_events: recent.events.map((e) => shape({ ...e, id: Number(e.id) }, viewer)),
    };
  },
  summarize: (o) =>
    `${o.agents.filter((a) => a.alive).length} agents alive, ${o.lock_count} locks, ` +
    `${o.queue.counts.pending ?? 0} pending tasks, ${o.approvals.length} awaiting approval`,
});

const SignIn = z.object({
  key: z.string().min(16, "an API key has 16 characters or more").max(512),
  agent_id: AgentId.optional(),
});

function dashboardRoutes(deps: AppDeps): Hono<AppEnv> {
  const auth = dashboardAuth(deps);
  const ctxOf = (c: Context<AppEnv>) => ({ ...deps, identity: c.get("identity"), requestId: c.get("requestId") });
  const headers: MiddlewareHandler = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      objectSrc: ["'none'"],
    },
    referrerPolicy: "no-referrer",
    crossOriginResourcePolicy: "same-origin",
  });
  const noStore: MiddlewareHandler = async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  };
  const asset = (type: string, body: string) => (c: Context) =>
    c.body(body, 200, { "Content-Type": type, "Cache-Control": "no-cache" });

  return (
    new Hono<AppEnv>()
      .use("/dashboard", headers)
      .use("/dashboard/*", headers)
      .use("/dashboard/api/*", noStore)
      .get("/dashboard", (c) => c.html(PAGE_HTML))
      // The page's relative URLs expect no trailing slash.
      .get("/dashboard/", (c) => c.redirect("../dashboard", 308))
      .get("/dashboard/app.js", asset("text/javascript; charset=utf-8", APP_JS))
      .get("/dashboard/app.css", asset("text/css; charset=utf-8", APP_CSS))
      .get("/dashboard/favicon.svg", asset("image/svg+xml", FAVICON_SVG))
      .get("/dashboard/api/session", async (c) => c.json(await auth.info(c)))
      .post("/dashboard/api/login", requireJson(), async (c) => {
        const input = parseInput(SignIn, await c.req.json().catch(() => ({})));
        return c.json(await auth.signIn(c, input.key, input.agent_id ?? null));
      })
      .post("/dashboard/api/logout", auth.write, async (c) => {
        await auth.signOut(c);
        return c.json({ signed_out: true });
      })
      .get("/dashboard/api/overview", auth.required, async (c) => c.json(await invoke(overview, ctxOf(c), {})))
      .get("/dashboard/api/events", auth.required, (c) =>
        openEventStream(c, deps, eventsState(deps), viewerOf(c.get("identity")), streamRequest(c)),
      )
      .post("/dashboard/api/changesets/:id/review", auth.write, requireJson(), async (c) => {
        const body = await c.req.json().catch(() => ({}));
        const input = parseInput(reviewChangeset.input, { ...(body as object), id: c.req.param("id") });
        return c.json(await invoke(reviewChangeset, ctxOf(c), input));
      })
  );
}

/** The dashboard: its page, its cookie-session API, and the overview operation it reads. */
export const dashboardCapability = defineCapability({
  name: "dashboard",
  operations: [overview],
  routeDocs: DASHBOARD_DOCS,
  routes: (deps) => dashboardRoutes(deps),
});
