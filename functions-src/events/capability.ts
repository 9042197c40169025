import { type Context, Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import { callJson } from "../db/port.ts";
import { ApiError } from "../http/errors.ts";
import { defineCapability } from "../ops/capability.ts";
import { defineOperation, invoke, parseInput, queryInput } from "../ops/operation.ts";
import type { AppDeps, AppEnv, Identity } from "../types.ts";
import { decodeBase64, encodeBase64Url } from "../util/bytes.ts";
import type { StoredEvent } from "./feed.ts";
import { type EventsState, openEventStream, type Outbox, streamRequest } from "./stream.ts";
import { EventOut, KindFilter, shape, type Viewer } from "./view.ts";
import { EVENTS_DOCS } from "./docs.ts";

/** The viewer an identity is: admins see every event whole. */
export function viewerOf(identity: Identity): Viewer {
  return { agentId: identity.agentId, admin: identity.scope === "admin" };
}

/** The events capability's state in an app (the feed, open streams). */
export const eventsState = (deps: AppDeps): EventsState => deps.state(eventsCapability);

const Timestamp = z.iso.datetime({ offset: true });

// The cursor is opaque to clients: the direction and the last id of the page, base64url.
function encodeCursor(descending: boolean, id: number): string {
  return encodeBase64Url(new TextEncoder().encode(`${descending ? "d" : "a"}${id}`));
}

function decodeCursor(cursor: string): { descending: boolean; id: number } {
  let text = "";
  try {
    text = new TextDecoder().decode(decodeBase64(cursor.replaceAll("-", "+").replaceAll("_", "/")));
  } catch {
    // reported below
  }
  const m = /^([ad])(\d{1,16})$/.exec(text);
  if (!m) {
    throw new ApiError(
      400,
      "invalid_input",
      "Invalid input — cursor: pass next_cursor of a previous answer as it is.",
      {
        fields: [{ field: "cursor", message: "not a cursor this server issued" }],
      },
    );
  }
  return { descending: m[1] === "d", id: Number(m[2]) };
}

/** `GET /events/log` (also `GET /events?format=json`): the audit trail, paged. */
export const listEvents = defineOperation({
  name: "list_events",
  title: "Event log",
  description:
    "Recorded events (the audit trail), newest first unless order=asc, filtered by kind, repo and time; page with cursor.",
  input: z.object({
    kinds: z.array(KindFilter).max(20).optional().describe("Kinds or prefixes (lock., task.completed)"),
    repo: z.string().min(1).max(200).optional().describe("Only events of this repository (data.repo)"),
    since: Timestamp.optional().describe("Events at or after this time (ISO 8601)"),
    until: Timestamp.optional().describe("Events before this time (ISO 8601)"),
    after: z.number().int().min(0).optional().describe("Events after this id, oldest first"),
    order: z.enum(["desc", "asc"]).default("desc"),
    limit: z.number().int().min(1).max(500).default(100),
    cursor: z.string().max(64).optional().describe("next_cursor of the previous page"),
  }),
  output: z.object({ events: z.array(EventOut), next_cursor: z.string().nullable() }),
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "GET", path: "/events/log" },
  tool: false,
  run: async (ctx, i) => {
    const viewer = viewerOf(ctx.identity);
    // Only final events are listed (none can still appear below the horizon), so paging forward never skips one.
    const horizon = await eventsState(ctx).feed.horizon();
    const at = i.cursor ? decodeCursor(i.cursor) : null;
    const descending = at ? at.descending : i.after === undefined && i.order === "desc";
    const after = descending ? null : (at?.id ?? i.after ?? 0);
    const before = descending ? Math.min(at?.id ?? horizon + 1, horizon + 1) : horizon + 1;
    const { events } = await callJson<{ events: StoredEvent[] }>(ctx.db, "coord.list_events", [
      viewer.agentId,
      viewer.admin,
      after,
      before,
      i.kinds ?? null,
      i.repo ?? null,
      i.since ?? null,
      i.until ?? null,
      descending,
      i.limit,
    ]);
    const out = events.map((e) => shape({ ...e, id: Number(e.id) }, viewer));
    const last = out[out.length - 1];
    return { events: out, next_cursor: out.length === i.limit && last ? encodeCursor(descending, last.id) : null };
  },
  summarize: (o) => `${o.events.length} event(s)${o.next_cursor ? ", more with next_cursor" : ""}`,
});

/** `GET /events`: the live stream, or with `?format=json` the audit query. */
function eventRoutes(deps: AppDeps, auth: MiddlewareHandler<AppEnv>) {
  return new Hono<AppEnv>().get("/events", auth, async (c: Context<AppEnv>) => {
    const identity = c.get("identity");
    if (c.req.query("format") === "json") {
      const raw = queryInput(c, listEvents.input);
      delete raw.format;
      const input = parseInput(listEvents.input, raw);
      return c.json(await invoke(listEvents, { ...deps, identity, requestId: c.get("requestId") }, input));
    }
    return openEventStream(c, deps, eventsState(deps), viewerOf(identity), streamRequest(c));
  });
}

/**
 * The event stream (`GET /events`, SSE) and the audit query over `coord.events`. Its state is the app's one feed,
 * which follows the table while anyone listens, and the streams it serves.
 */
export const eventsCapability = defineCapability({
  name: "events",
  operations: [listEvents],
  routeDocs: EVENTS_DOCS,
  setup: (deps): EventsState => ({
    feed: deps.feed,
    config: deps.config.events,
    startedAt: Date.now(),
    open: new Set<Outbox>(),
  }),
  stop(state) {
    for (const box of state.open) box.close("shutdown");
  },
  routes: (deps, auth) => eventRoutes(deps, auth),
});
