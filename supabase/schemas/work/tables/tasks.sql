-- The work queue: tasks with priorities, dependencies, leases (fencing tokens shared with locks), retries with
-- backoff, deadlines, idempotent submit, and batch claims with FOR UPDATE SKIP LOCKED.
--
-- Lifecycle: pending → claimed → completed | (retry) pending | failed; pending/claimed → cancelled.
-- A task is *ready* when it is pending, all its dependencies are completed (pending_deps = 0), its backoff has
-- passed (not_before <= now()) and its deadline has not. Terminal states: completed, failed, cancelled.

create table coord.tasks (
  id                    uuid primary key default gen_random_uuid(),
  task_type             text not null check (task_type ~ '^[A-Za-z0-9._:/-]{1,64}$'),
  task_description      text not null default '' check (length(task_description) <= 10000),
  input_data            jsonb not null default '{}'::jsonb,
  priority              int not null default 5 check (priority between 1 and 10),
  status                text not null default 'pending'
                          check (status in ('pending', 'claimed', 'completed', 'failed', 'cancelled')),
  submitted_by          text not null,
  submitted_session     text,
  idempotency_key       text check (length(idempotency_key) between 1 and 200),
  depends_on            uuid[] not null default '{}',
  pending_deps          int not null default 0 check (pending_deps >= 0),
  deadline              timestamptz,
  max_attempts          int not null default 3 check (max_attempts between 1 and 20),
  retry_backoff_seconds int not null default 5 check (retry_backoff_seconds between 0 and 3600),
  required_agent_type   text,
  required_capabilities text[],
  exclude_submitter     boolean not null default false,
  not_before            timestamptz not null default now(),
  attempts              int not null default 0,
  claimed_by            text,
  claimed_session       text,
  claim_token           bigint,
  claimed_at            timestamptz,
  lease_seconds         int not null default 600,
  lease_expires_at      timestamptz,
  lease_lost_by         text,
  result                jsonb,
  error_message         text,
  created_at            timestamptz not null default now(),
  updated_at            timestamptz not null default now(),
  finished_at           timestamptz,
  handoff               jsonb,
  notes                 jsonb not null default '[]'::jsonb,
  -- The idempotency key of the claim that took the task (get_work's), so a retried claim finds it again.
  claim_key             text,
  check ((status = 'claimed') = (claimed_by is not null and lease_expires_at is not null))
);
comment on table coord.tasks is
  'The work queue. One row per task; status pending|claimed|completed|failed|cancelled. claim_token is the fencing '
  'token of the current (or last) claim, from coord.next_fencing_token(); only the claimant holding it may complete. '
  'failed rows are the dead-letter queue: they stay, with error_message and attempts, for inspection. handoff '
  'describes the last claim that ended without completing (who, since when, why it came back) for the next claimant; '
  'notes are the progress notes claimants left (the last 10).';

-- The claim path reads only this small index: ready-shaped pending rows, most urgent and oldest first.
create index tasks_ready_idx on coord.tasks (priority, created_at) where status = 'pending' and pending_deps = 0;
create index tasks_ready_type_idx on coord.tasks (task_type, priority, created_at) where status = 'pending' and pending_deps = 0;
create index tasks_lease_idx on coord.tasks (lease_expires_at) where status = 'claimed';
create index tasks_claimant_idx on coord.tasks (claimed_by, claimed_session) where status = 'claimed';
create index tasks_deadline_idx on coord.tasks (deadline) where status = 'pending' and deadline is not null;
create index tasks_status_type_idx on coord.tasks (status, task_type);
-- The pending-task quota counts an agent's open submissions.
create index tasks_submitter_open_idx on coord.tasks (submitted_by) where status in ('pending', 'claimed');
create unique index tasks_idempotency_idx on coord.tasks (submitted_by, idempotency_key) where idempotency_key is not null;

alter table coord.tasks enable row level security;
-- Ready-task summaries are what any agent may read directly with the anon key; inputs and results are not: anon
-- gets only the columns grants.sql names.
create policy tasks_pending_read on coord.tasks for select to anon, authenticated using (status = 'pending');
