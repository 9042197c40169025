create table coord.verification_results (
  id           uuid primary key default gen_random_uuid(),
  changeset_id uuid not null references coord.changesets (id) on delete cascade,
  tier         int not null check (tier between 0 and 4),
  commit_sha   text check (commit_sha ~ '^[0-9a-f]{40}$'),
  executor     text not null check (executor in ('inline', 'github_actions', 'queue', 'e2b', 'approval', 'unconfigured')),
  status       text not null check (status in ('pending', 'running', 'awaiting_approval', 'passed', 'failed', 'rejected')),
  external_id  text,
  summary      text check (length(summary) <= 2000),
  details      jsonb not null default '{}'::jsonb,
  reported_by  text,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  completed_at timestamptz,
  unique (changeset_id, tier)
);
comment on table coord.verification_results is
  'The evidence: one row per required tier of a changeset. commit_sha is the commit the executor reports it verified; '
  'a pass counts only when it equals the changeset''s sha. Tier-4 rows are the approval queue.';
create index verification_results_external_idx on coord.verification_results (executor, external_id) where external_id is not null;
create index verification_results_approval_idx on coord.verification_results (created_at) where status = 'awaiting_approval';

alter table coord.verification_results enable row level security;
