/**
 * MCP resource subscriptions and session messages, served by the bridge (the coordinator's `/mcp` is stateless and
 * cannot hold a subscription). The bridge follows one `GET /events` stream for its session (the client's `events()`:
 * resumed with Last-Event-ID across disconnects, reconnecting with backoff) and turns what it reads into MCP
 * notifications for the agent:
 *
 * - `notifications/resources/updated` for `locks://current` and `work://pending` when the agent subscribed to them and
 *   they changed — at most one per resource every `debounceMs`, the last change always announced;
 * - `notifications/message` (MCP logging) for what concerns this session alone: a lock or claim it lost, a task
 *   handed over to it, a changeset of its verified, failed or rejected, the session itself declared dead.
 *
 * The stream opens lazily, when something needs it: the first subscription, or the first tool call (from then on the
 * session may hold something it can lose). What an event means is decided in `interpret`, a pure function.
 */
import type { AgentCoordinationClient, CoordinatorEvent, EventStream, StreamEvent } from "../../client/src/index.ts";

/** The resources an agent may subscribe to, and the event kinds that change each. */
export const SUBSCRIBABLE: Readonly<Record<string, (kind: string) => boolean>> = {
  // Heartbeats renew every lock of a session (lock.renewed): only its expiry moved, nobody gained or lost a lock.
  "locks://current": (k) => k.startsWith("lock.") && k !== "lock.renewed",
  "work://pending": (k) => k.startsWith("task.") && k !== "task.renewed",
};

/** The event kinds the bridge's stream asks for. */
export const STREAM_KINDS = ["lock.", "task.", "verification.", "session."];

/** MCP logging levels (RFC 5424 severities), least severe first. */
export const LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"] as const;
export type Level = (typeof LEVELS)[number];

/** Who this bridge speaks for. */
export interface Me {
  agentId: string;
  sessionId: string;
}

/** A `notifications/message` for the agent: a level, one line to read, and the facts behind it. */
export interface SessionMessage {
  level: Level;
  message: string;
  /** lock_lost, claim_lost, task_cancelled, task_handed_over, changeset_verified, changeset_failed, … */
  about: string;
  subject: string | null;
  event_id: number;
  [key: string]: unknown;
}

/** Claims this session holds, by task id → claim token, as read from its own `task.claimed` events. */
export type Claims = Map<string, number | null>;

/** What one event means to this bridge: resources it changed, and a message for this session (if any). */
export interface Meaning {
  resources: string[];
  message: SessionMessage | null;
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const where = (repo: unknown) => (typeof repo === "string" && repo !== "default" ? ` in repo ${repo}` : "");
const tokenText = (t: unknown) => (typeof t === "number" ? ` (token ${t})` : "");

function lockLostWhy(cause: string | null, by: string | null): string {
  switch (cause) {
    case "session_expired":
      return "this session sent no heartbeat for its timeout and was declared dead";
    case "ttl_expired":
      return "its TTL ran out with nothing renewing it";
    case "force_released":
      return `an admin (${by ?? "unknown"}) force-released it`;
    default:
      return cause ?? "it ended";
  }
}

/**
 * What an event means to the session `me`: which subscribable resources it changed, and the message (if any) this
 * session must hear. `claims` is updated with the session's claims as their events pass (task.cancelled names only the
 * agent that held the task, not its session: the bridge tells it only to the session whose claim it saw).
 */
export function interpret(event: StreamEvent, me: Me, claims: Claims): Meaning {
  const resources = Object.keys(SUBSCRIBABLE).filter((uri) => event.kind === "reset" || SUBSCRIBABLE[uri]!(event.kind));
  if (event.kind === "reset") return { resources, message: null };
  const e = event as CoordinatorEvent;
  const d = e.data;
  const mine = e.agent_id === me.agentId && e.session_id === me.sessionId;
  const base = { subject: e.subject, event_id: e.id };
  let message: SessionMessage | null = null;

  switch (e.kind) {
    case "lock.expired":
    case "lock.force_released": {
      const forced = e.kind === "lock.force_released";
      const held = forced ? d.holder === me.agentId && d.holder_session === me.sessionId : mine;
      const cause = forced ? "force_released" : str(d.cause);
      // A lock its own session's end released (cause session_ended) was given up, not taken.
      if (!held || cause === "session_ended") break;
      const key = e.subject ?? "?";
      message = {
        level: "warning",
        about: "lock_lost",
        ...base,
        repo: str(d.repo),
        token: d.token ?? null,
        cause,
        message:
          `Lock on ${key}${where(d.repo)}${tokenText(d.token)} lost: ${lockLostWhy(cause, e.agent_id)}. Stop editing ` +
          `${key}: another agent may hold it now. acquire_lock it again and re-read the file before any further change.`,
      };
      break;
    }
    case "task.claimed": {
      if (!mine || !e.subject) break;
      claims.set(e.subject, typeof d.claim_token === "number" ? d.claim_token : null);
      const attempt = typeof d.attempt === "number" ? d.attempt : 1;
      if (attempt > 1) {
        message = {
          level: "info",
          about: "task_handed_over",
          ...base,
          attempt,
          message:
            `Task ${e.subject} was handed over to you (attempt ${attempt}): an earlier attempt ended without ` +
            "completing it. Its handoff in the get_work answer says who held it, why it came back and their notes.",
        };
      }
      break;
    }
    case "task.released":
    case "task.failed": {
      if (e.subject) claims.delete(e.subject);
      // Lost, not reported: the claim ran out or its session died (lost_by names the holder).
      if (!mine || d.lost_by !== me.agentId) break;
      const back = e.kind === "task.released" ? "it went back to the queue" : "it failed (no attempts left)";
      message = {
        level: "warning",
        about: "claim_lost",
        ...base,
        cause: str(d.reason),
        message:
          `Claim on task ${e.subject} lost: ${str(d.reason) ?? "its lease ended"}; ${back}. Stop working on it and ` +
          "discard its result (complete_work would be refused); call get_work for new work.",
      };
      break;
    }
    case "task.cancelled": {
      const claimed = e.subject !== null && claims.has(e.subject);
      if (e.subject) claims.delete(e.subject);
      if (!claimed || d.was_claimed_by !== me.agentId) break;
      const reason = str(d.reason);
      message = {
        level: "warning",
        about: "claim_lost",
        ...base,
        cause: "cancelled",
        by: e.agent_id,
        message:
          `Task ${e.subject} you are working on was cancelled by ${e.agent_id}${reason ? ` (${reason})` : ""}. ` +
          "Stop working on it: complete_work would be refused.",
      };
      break;
    }
    case "task.completed":
    case "task.retry_scheduled":
      if (e.subject) claims.delete(e.subject);
      break;
    case "verification.verified":
    case "verification.failed":
    case "verification.rejected": {
      // A changeset submitted without a session belongs to the agent, not to one of its sessions: each is told.
      if (e.agent_id !== me.agentId || (e.session_id != null && e.session_id !== me.sessionId)) break;
      const outcome = e.kind.slice("verification.".length);
      const sha = str(d.commit_sha)?.slice(0, 12) ?? "?";
      const what = `Changeset ${e.subject}${where(d.repo)} (commit ${sha})`;
      message = {
        level: outcome === "verified" ? "info" : "warning",
        about: `changeset_${outcome}`,
        ...base,
        repo: str(d.repo),
        commit_sha: str(d.commit_sha),
        message:
          outcome === "verified"
            ? `${what} is verified: every required tier passed.`
            : `${what} ${outcome === "failed" ? "failed verification" : "was rejected"}: verification_status says which tier and why.`,
      };
      break;
    }
    case "session.expired":
      if (e.subject !== me.sessionId || e.agent_id !== me.agentId) break;
      message = {
        level: "warning",
        about: "session_expired",
        ...base,
        message:
          "This session sent no heartbeat for its timeout and was declared dead: its locks and claims were released " +
          "(each is named in its own message and at the top of your next tool answer). Heartbeats revive it with nothing.",
      };
      break;
  }
  return { resources, message };
}

/** A notification the bridge sends the agent on stdout. */
export interface Notification {
  jsonrpc: "2.0";
  method: string;
  params: Record<string, unknown>;
}

export interface SubscriptionsOptions {
  client: AgentCoordinationClient;
  me: Me;
  send: (n: Notification) => void;
  log: (line: string) => void;
  /** At most one `resources/updated` per resource in this window (ms). */
  debounceMs?: number;
}

/**
 * Folds bursts of changes per key: the first change of a key starts a window of `ms`; every change within it is part
 * of the same announcement, made when the window ends. So a key is announced at most once per window, and the last
 * change is always announced (a change after the announcement starts the next window).
 */
export class Debouncer {
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly ms: number,
    private readonly fire: (key: string) => void,
  ) {}

  touch(key: string): void {
    if (this.#timers.has(key)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.fire(key);
    }, this.ms);
    this.#timers.set(key, timer);
  }

  cancel(key: string): void {
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
  }

  cancelAll(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}

/** The MCP logger name on the bridge's messages. */
export const LOGGER = "agent-coordinator";

/** How long the first tool call waits for the stream to open before it goes ahead anyway. */
const OPEN_WAIT_MS = 5000;
/** After the stream ends with a refusal (a revoked key), how long before it is tried again. */
const REFUSED_RETRY_MS = 30_000;

/**
 * One bridge's subscriptions and its session's event stream. `subscribe`/`unsubscribe` answer the agent's requests;
 * `needed()` opens the stream (the first tool call awaits it, so a claim it makes is seen); `close()` ends it.
 */
export class Subscriptions {
  readonly #o: Required<SubscriptionsOptions>;
  readonly #subscribed = new Set<string>();
  readonly #debounce: Debouncer;
  readonly #claims: Claims = new Map();
  #level: Level = "debug";
  #stream: EventStream | null = null;
  #started: Promise<void> | null = null;
  #closed = false;
  #refusedWait: ReturnType<typeof setTimeout> | null = null;

  constructor(options: SubscriptionsOptions) {
    this.#o = { debounceMs: 250, ...options };
    this.#debounce = new Debouncer(this.#o.debounceMs, (uri) => {
      if (this.#subscribed.has(uri) && !this.#closed) {
        this.#o.send({ jsonrpc: "2.0", method: "notifications/resources/updated", params: { uri } });
      }
    });
  }

  /** Whether `uri` can be subscribed to. */
  static subscribable(uri: string): boolean {
    return Object.hasOwn(SUBSCRIBABLE, uri);
  }

  /** Subscribes to `uri`; resolves once the stream is open (see `needed`). */
  subscribe(uri: string): Promise<void> {
    this.#subscribed.add(uri);
    return this.needed();
  }

  unsubscribe(uri: string): void {
    this.#subscribed.delete(uri);
    this.#debounce.cancel(uri);
  }

  /** `logging/setLevel`: messages below it are not sent. */
  setLevel(level: Level): void {
    this.#level = level;
  }

  /** Opens the session's stream if it is not open yet; resolves once it is (or after a bounded wait). */
  needed(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#started ??= new Promise<void>((opened) => {
      void this.#follow(opened);
      setTimeout(opened, OPEN_WAIT_MS).unref?.();
    });
    return this.#started;
  }

  close(): void {
    this.#closed = true;
    this.#stream?.close();
    if (this.#refusedWait) clearTimeout(this.#refusedWait);
    this.#debounce.cancelAll();
  }

  async #follow(opened: () => void): Promise<void> {
    let after: string | null = null;
    while (!this.#closed) {
      const stream = this.#o.client.events({
        kinds: STREAM_KINDS,
        after,
        onOpen: () => opened(),
        onError: (err, delay) => this.#o.log(`event stream: ${err.message}; retrying in ${Math.round(delay)} ms`),
      });
      this.#stream = stream;
      try {
        for await (const e of stream) await this.#handle(e);
      } catch (err) {
        // A refusal (a revoked key, a server without /events): tool calls say so too; try again now and then.
        this.#o.log(`event stream refused: ${(err as Error).message}; trying again in ${REFUSED_RETRY_MS / 1000} s`);
        opened();
        await new Promise<void>((r) => {
          this.#refusedWait = setTimeout(r, REFUSED_RETRY_MS);
        });
      }
      after = stream.lastEventId;
    }
  }

  async #handle(e: StreamEvent): Promise<void> {
    const { resources, message } = interpret(e, this.#o.me, this.#claims);
    for (const uri of resources) if (this.#subscribed.has(uri)) this.#changed(uri);
    if (message) this.#tell(message);
    if (e.kind === "reset") await this.#reread(String(e.data.reason));
  }

  /** Announces a change of `uri` after the debounce window, folding in every change until then. */
  #changed(uri: string): void {
    this.#debounce.touch(uri);
  }

  #tell(m: SessionMessage): void {
    if (LEVELS.indexOf(m.level) < LEVELS.indexOf(this.#level) || this.#closed) return;
    const { level, ...data } = m;
    this.#o.send({ jsonrpc: "2.0", method: "notifications/message", params: { level, logger: LOGGER, data } });
  }

  /**
   * After a `reset` the events in between are gone: the subscribed resources were announced as changed (the agent
   * re-reads them), and the claims this session tracked are read again — one that ended meanwhile is told now.
   */
  async #reread(reason: string): Promise<void> {
    this.#o.log(`event stream reset (${reason}): re-reading this session's claims`);
    for (const [taskId, token] of [...this.#claims]) {
      try {
        const t = await this.#o.client.inspectWork({ task_id: taskId }, { timeoutMs: 10_000 });
        if (
          t.status === "claimed" &&
          t.claimed_by === this.#o.me.agentId &&
          (token === null || t.claim_token === token)
        ) {
          continue;
        }
        this.#claims.delete(taskId);
        // Taken away, not finished by this session's own report: cancelled, or its claim handed back with a reason
        // other than a failure report ("failed: …").
        const handoff = (t.handoff ?? {}) as { agent_id?: unknown; claim_token?: unknown; why?: unknown };
        const lost =
          t.status === "cancelled" ||
          (t.status !== "completed" &&
            handoff.agent_id === this.#o.me.agentId &&
            (token === null || handoff.claim_token === token) &&
            !String(handoff.why ?? "").startsWith("failed: "));
        if (!lost) continue;
        this.#tell({
          level: "warning",
          about: "claim_lost",
          subject: taskId,
          event_id: 0,
          cause: t.status,
          message:
            `Claim on task ${taskId} ended while the bridge's event stream was behind (the task is ${t.status} now). ` +
            "If you are still working on it, stop: complete_work would be refused; call get_work for new work.",
        });
      } catch (err) {
        this.#o.log(`could not re-read task ${taskId}: ${(err as Error).message}`);
      }
    }
  }
}
