/**
 * Every check and unique constraint in `coord` is either one a caller's input can reach, mapped to a 400 naming the
 * field (the capability's `constraints`), or listed here as internal (a violation is a bug, answered 500 with the
 * request id). A new constraint fails this test until someone decides which it is.
 */
import { expect, it } from "vitest";
import { CAPABILITIES } from "../app.ts";
import { asApiError } from "../http/errors.ts";
import { forEachDatabase } from "../../test/helpers.ts";

/** Constraints no caller input reaches: the app or SQL sets these columns itself. */
const INTERNAL = new Set([
  "api_keys.api_keys_agent_id_check", // scripts validate --agent first
  "api_keys.api_keys_key_hash_check",
  "api_keys.api_keys_key_hash_key",
  "api_keys.api_keys_scope_check",
  "api_keys.api_keys_trust_level_check",
  "events.events_kind_check",
  "tasks.tasks_check", // status/claim consistency, kept by the SQL functions
  "tasks.tasks_pending_deps_check",
  "tasks.tasks_status_check",
  "memory_words.memory_words_word_check",
  "verification_policies.verification_policies_description_check", // seed data
  "verification_policies.verification_policies_id_check",
  "verification_policies.verification_policies_min_tier_check",
  "verification_policies.verification_policies_patterns_check",
  "changesets.changesets_base_tier_check",
  "changesets.changesets_file_count_check",
  "changesets.changesets_floor_tier_check",
  "changesets.changesets_repo_commit_sha_key", // submit_changeset answers the existing changeset instead
  "changesets.changesets_source_check",
  "changesets.changesets_state_check",
  "changesets.changesets_tier_check",
  "verification_results.verification_results_changeset_id_tier_key",
  "verification_results.verification_results_commit_sha_check",
  "verification_results.verification_results_executor_check",
  "verification_results.verification_results_status_check",
  "verification_results.verification_results_tier_check",
  "webhook_deliveries.webhook_deliveries_source_check",
  "webhook_deliveries.webhook_deliveries_state_check",
  // Session liveness: written by the SQL functions alone (the timeout comes from the host's validated configuration).
  "session_notices.session_notices_kind_check",
  "sessions.sessions_end_cause_check",
  "sessions.sessions_timeout_seconds_check",
  "memories.memories_embedding_model_check", // set by the embedding worker from its configured model
  // Dashboard sessions: digests and ids the server makes itself.
  "dashboard_sessions.dashboard_sessions_token_hash_check",
  "dashboard_sessions.dashboard_sessions_agent_id_check",
  "dashboard_sessions.dashboard_sessions_key_hash_check",
]);

const MAPPED = Object.assign({}, ...CAPABILITIES.map((c) => c.constraints ?? {})) as Record<string, unknown>;

forEachDatabase("database constraints", (get) => {
  it("each is mapped to a field or listed as internal, and no mapping names a constraint that is gone", async () => {
    const rows = await get().db.query<{ name: string }>(
      `select c.relname || '.' || k.conname as name
         from pg_constraint k join pg_class c on c.oid = k.conrelid
        where k.connamespace = 'coord'::regnamespace and k.contype in ('c', 'u', 'x')
          and c.relname <> 'memories_archive'`, // a copy of memories' shape: only archive_memories writes it
    );
    const names = rows.map((r) => r.name);
    expect(names.filter((n) => !Object.hasOwn(MAPPED, n) && !INTERNAL.has(n))).toEqual([]);
    expect(Object.keys(MAPPED).filter((n) => !names.includes(n))).toEqual([]);
    expect([...INTERNAL].filter((n) => !names.includes(n))).toEqual([]);
  });

  it("a violation the adapter reports maps to a 400 naming the field", async () => {
    const err = await get()
      .db.query(
        `insert into coord.memories (layer, agent_id, event_type, summary, norm_summary, search, name)
         values ('episodic', 'x', 'note', 's', 's', to_tsvector('s'), 'n')`,
      )
      .then(
        () => null,
        (e: unknown) => e,
      );
    const api = asApiError(err, MAPPED as never);
    expect(api?.status).toBe(400);
    expect(api?.details.fields).toEqual([{ field: "name", message: expect.stringMatching(/procedural/) }]);
  });
});
