create table coord.working_items (
  id         bigint generated always as identity primary key,
  agent_id   text not null,
  session_id text not null,
  kind       text not null check (kind in ('goal', 'decision', 'constraint', 'observation', 'note')),
  content    text not null check (length(content) between 1 and 8000),
  priority   int not null default 3 check (priority between 1 and 5),
  pinned     boolean not null default false,
  tokens     int not null,
  use_count  int not null default 0,
  cut        boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  task_id    text check (length(task_id) <= 128),
  foreign key (agent_id, session_id) references coord.working_sessions (agent_id, session_id) on delete cascade
);
comment on table coord.working_items is
  'Working memory: the active context of one agent session, kept within its token budget by coord.add_working_item. '
  'task_id ties an item to a work-queue task: if the task comes back to the queue, its next claimant is handed the '
  'items (coord.task_handoff).';
create index working_items_session_idx on coord.working_items (agent_id, session_id);

alter table coord.working_items enable row level security;
