/**
 * Lost-lock and lost-claim notices: what was taken from a session while its process may still be running (its
 * liveness lapsed during a network partition, an admin force-released a lock, a lease ran out, a task was cancelled).
 * SQL records them in the transaction of the loss; the per-request presence call (`coord.record_presence`) says how
 * many wait, so the MCP route fetches them only then, and the session's next tool answer starts with them.
 */
import { callJson, type Queryable } from "../db/port.ts";

/** One notice as `coord.take_session_notices` hands it out. */
export interface SessionNotice {
  kind: "lock_lost" | "claim_lost";
  /** The lock key, or the task id. */
  subject: string;
  repo: string | null;
  /** The fencing token of the lost lock, or the claim token of the lost claim. */
  token: number | null;
  /** session_expired | ttl_expired | force_released (locks); session expired | lease expired | cancelled (claims). */
  cause: string;
  /** Who took it (force-release, cancellation). */
  by: string | null;
  lost_at: string;
  detail: Record<string, unknown>;
}

interface Taken {
  notices: SessionNotice[];
  more: number;
}

/** HH:MM:SSZ, like the lock refusals. */
const clock = (iso: string) => `${new Date(iso).toISOString().slice(11, 19)}Z`;

function why(n: SessionNotice): string {
  switch (n.cause) {
    case "session_expired":
    case "session expired":
      return "this session sent no heartbeat for its timeout and was declared dead (a network partition, a suspended or overloaded process)";
    case "ttl_expired":
      return "its TTL ran out with nothing renewing it";
    case "lease expired":
      return "its lease ran out with nothing renewing it";
    case "force_released":
      return `an admin (${n.by}) force-released it`;
    case "cancelled":
      return `${n.by} cancelled the task`;
    default:
      return n.cause;
  }
}

/** One line per notice: what was lost, when, why, and what to do now. */
export function renderNotice(n: SessionNotice): string {
  const when = clock(n.lost_at);
  if (n.kind === "lock_lost") {
    const where = n.repo && n.repo !== "default" ? ` in repo ${n.repo}` : "";
    return (
      `- Lock on ${n.subject}${where} (token ${n.token}) lost at ${when}: ${why(n)}. Stop editing ${n.subject}: ` +
      "another agent may hold it now. acquire_lock it again and re-read the file before any further change; work done " +
      `under token ${n.token} after ${when} is not protected.`
    );
  }
  const requeued = n.detail.status === "failed" ? "it failed (no attempts left)" : "it went back to the queue";
  return (
    `- Claim on task ${n.subject} (claim_token ${n.token}) lost at ${when}: ${why(n)}; ${requeued}. Stop working on ` +
    "it and discard its result (complete_work would be refused); call get_work for new work."
  );
}

/** Takes (and deletes) the session's waiting notices and renders them as the text an answer starts with. */
export async function takeNotices(db: Queryable, agentId: string, sessionId: string): Promise<string | null> {
  const taken = await callJson<Taken>(db, "coord.take_session_notices", [agentId, sessionId, 20]);
  if (taken.notices.length === 0) return null;
  const more = taken.more > 0 ? `\n(${taken.more} more notices follow in your next answers.)` : "";
  return `NOTICE — taken from this session while it was running:\n${taken.notices.map(renderNotice).join("\n")}${more}`;
}
