/**
 * What a viewer sees of an event. The audience of each kind is decided in SQL (coord.event_audience, shared with the
 * audit query); here the fields only an event's own agent (and admins) may see are cut for everyone else: fencing
 * tokens of locks and claims (proof of holding, which `verify_lock` and completions check) and session ids.
 */
import { z } from "zod";
import type { StoredEvent } from "./feed.ts";

/** Who is looking. */
export interface Viewer {
  agentId: string;
  admin: boolean;
}

/** Which events a subscriber asked for: kinds (exact, or prefixes ending in a dot) and one repository. */
export interface EventFilter {
  kinds: string[] | null;
  repo: string | null;
}

/** One kind filter entry: `lock.acquired`, a prefix `lock.`, or a capability `lock` (read as `lock.`). */
export const KindFilter = z
  .string()
  .regex(/^[a-z_]+(\.[a-z_.]*)?$/, "a kind (lock.acquired), a prefix ending in a dot (lock.) or a capability (lock)")
  .transform((k) => (k.includes(".") ? k : `${k}.`));

/** The event as clients receive it (SSE `data:` and the audit query). */
export const EventOut = z.object({
  id: z.number().int(),
  kind: z.string(),
  occurred_at: z.string(),
  agent_id: z.string().nullable(),
  session_id: z.string().nullable().optional(),
  subject: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});
export type EventOut = z.output<typeof EventOut>;

// Fields of `data` that prove holding a lock or a claim, and the session of a lock's holder (lock.force_released):
// only their own agent sees them, like the event's own session_id.
const OWNER_ONLY = new Set(["token", "claim_token", "holder_session"]);

/** Whether the viewer may see the event at all (the same rule coord.list_events applies). */
export function visible(e: StoredEvent, viewer: Viewer): boolean {
  return viewer.admin || e.audience === "all" || (e.audience === "agent" && e.agent_id === viewer.agentId);
}

/**
 * Whether the viewer sees the event whole: admins, the agent that acted, and the holder whose lock an admin took
 * (`lock.force_released` names it in `data.holder`; the token it loses is its own).
 */
function whole(e: StoredEvent, viewer: Viewer): boolean {
  if (viewer.admin) return true;
  return (e.agent_id !== null && e.agent_id === viewer.agentId) || e.data.holder === viewer.agentId;
}

/** Whether the event passes the subscriber's filter (the same rule coord.list_events applies). */
export function matches(e: StoredEvent, filter: EventFilter): boolean {
  if (filter.repo !== null && e.data.repo !== filter.repo) return false;
  if (filter.kinds === null) return true;
  return filter.kinds.some((k) => e.kind === k || (k.endsWith(".") && e.kind.startsWith(k)));
}

/** The event as this viewer receives it. */
export function shape(e: StoredEvent, viewer: Viewer): EventOut {
  return shaped(e, whole(e, viewer));
}

function shaped(e: StoredEvent, isWhole: boolean): EventOut {
  if (isWhole) {
    return {
      id: e.id,
      kind: e.kind,
      occurred_at: e.occurred_at,
      agent_id: e.agent_id,
      session_id: e.session_id,
      subject: e.subject,
      data: e.data,
    };
  }
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.data)) if (!OWNER_ONLY.has(k)) data[k] = v;
  return { id: e.id, kind: e.kind, occurred_at: e.occurred_at, agent_id: e.agent_id, subject: e.subject, data };
}

// Each event is serialised at most twice (whole, cut), however many streams it goes to.
const frames = new WeakMap<StoredEvent, { whole?: string; cut?: string }>();

/** The SSE frame of the event for this viewer: `id`, `event` (the kind) and `data` (compact JSON), cached. */
export function frame(e: StoredEvent, viewer: Viewer): string {
  const isWhole = whole(e, viewer);
  let f = frames.get(e);
  if (!f) {
    f = {};
    frames.set(e, f);
  }
  const key = isWhole ? "whole" : "cut";
  f[key] ??= `id: ${e.id}\nevent: ${e.kind}\ndata: ${JSON.stringify(shaped(e, isWhole))}\n\n`;
  return f[key];
}
