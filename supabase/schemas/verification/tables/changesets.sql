-- The verification gateway: routing policies, changesets, per-tier results (the evidence), agent trust, webhook
-- deliveries, and the bridge from the work queue (tiers 2 and 3 run as coord.tasks of type verify:*).
--
-- Tiers: 0 STATIC (inline), 1 UNIT (GitHub Actions), 2 INTEGRATION (sandbox or runner), 3 SYSTEM (runner),
-- 4 MANUAL (admin approval). A change routed to tier T requires a passing result for every tier 0..T, each tied to
-- the changeset's commit sha; only then is the changeset `verified`. Nothing here is readable with the anon key:
-- changesets may name the paths of secrets.

create table coord.changesets (
  id              uuid primary key default gen_random_uuid(),
  source          text not null check (source in ('agent', 'github')),
  repo            text not null check (repo ~ '^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$'),
  branch          text check (length(branch) between 1 and 255),
  commit_sha      text not null check (commit_sha ~ '^[0-9a-f]{40}$'),
  agent_id        text not null,
  session_id      text,
  task_id         text,
  lock_tokens     jsonb not null default '[]'::jsonb,
  file_count      int not null check (file_count >= 0),
  files           jsonb not null default '[]'::jsonb,
  base_tier       int not null check (base_tier between 0 and 4),
  floor_tier      int not null check (floor_tier between 0 and 4),
  tier            int not null check (tier between 0 and 4),
  required_tiers  int[] not null,
  decision        jsonb not null,
  state           text not null default 'pending' check (state in ('pending', 'verified', 'failed', 'rejected')),
  installation_id bigint,
  pr_number       int,
  check_run_id    bigint,
  check_claimed_at timestamptz,
  version         int not null default 1,
  check_synced_version int not null default 0,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  fencing         jsonb,
  -- Whether agent_id was bound to the submitter's key (or vouched for by GitHub): only then does it earn trust.
  agent_bound     boolean not null default true,
  unique (repo, commit_sha)
);
comment on table coord.changesets is
  'One change to verify, per repository commit: who submitted it, its files, the routing decision (matched policies, '
  'trust arithmetic), the required tiers and the resulting state. version counts state changes so the GitHub check '
  'run can be brought up to date (check_synced_version). fencing is the evidence from the lock-token trailers of the '
  'commits seen for it (coord.verification_fencing); null when no commit was seen. agent_bound false: submitted under '
  'an unbound key, so the agent id may be anyone''s; such changesets neither earn nor spend trust.';
create index changesets_agent_idx on coord.changesets (agent_id, created_at desc);
create index changesets_unsynced_idx on coord.changesets (id) where check_synced_version < version;

alter table coord.changesets enable row level security;
