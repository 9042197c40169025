/** The overview the dashboard renders (coord.get_overview plus the feed's cursor and the latest events). */
import { z } from "zod";
import { EventOut } from "../events/view.ts";

const Time = z.string();

const Session = z.object({
  session_id: z.string().nullable(),
  started_at: Time,
  last_heartbeat_at: Time.nullable(),
  ended_at: Time.nullable(),
  alive: z.boolean(),
});

const Agent = z.object({
  agent_id: z.string(),
  agent_type: z.string(),
  last_seen_at: Time,
  alive: z.boolean(),
  last_heartbeat_at: Time.nullable(),
  sessions: z.array(Session),
  locks: z.number().int(),
  lock_keys: z.array(z.string()),
  claims: z.array(z.object({ id: z.string(), task_type: z.string() })),
});

const Lock = z.object({
  repo: z.string(),
  key: z.string(),
  agent_id: z.string(),
  reason: z.string().nullable(),
  acquired_at: Time,
  expires_at: Time,
  holder_alive: z.boolean(),
});

const TaskRow = z.object({ id: z.string(), task_type: z.string() }).loose();

const Result = z.object({
  tier: z.number().int(),
  status: z.string(),
  executor: z.string(),
  summary: z.string().nullable(),
  updated_at: Time,
});

const Changeset = z.object({
  id: z.string(),
  repo: z.string(),
  branch: z.string().nullable(),
  commit_sha: z.string(),
  agent_id: z.string(),
  tier: z.number().int(),
  state: z.string(),
  required_tiers: z.array(z.number().int()),
  file_count: z.number().int(),
  created_at: Time,
  updated_at: Time,
  awaiting_approval: z.boolean(),
  results: z.array(Result),
});

export const Overview = z.object({
  now: Time,
  agents: z.array(Agent),
  locks: z.array(Lock),
  lock_count: z.number().int(),
  queue: z.object({
    counts: z.record(z.string(), z.number().int()),
    ready: z.array(TaskRow),
    claimed: z.array(TaskRow),
    waiting: z.array(TaskRow),
    dead: z.array(TaskRow),
  }),
  changesets: z.array(Changeset),
  approvals: z.array(
    z.object({
      changeset_id: z.string(),
      repo: z.string(),
      commit_sha: z.string(),
      agent_id: z.string(),
      waiting_since: Time,
    }),
  ),
  /** The feed's cursor when the overview was read: a stream opened after it misses nothing the overview lacks. */
  events_cursor: z.number().int(),
  /** The latest events the caller may see, newest first. */
  recent_events: z.array(EventOut),
});
export type Overview = z.output<typeof Overview>;
