create table coord.task_deps (
  task_id    uuid not null references coord.tasks (id) on delete cascade,
  depends_on uuid not null references coord.tasks (id) on delete cascade,
  primary key (task_id, depends_on)
);
comment on table coord.task_deps is 'Dependency edges (task_id waits for depends_on): finds the dependents of a task when it finishes.';
create index task_deps_depends_on_idx on coord.task_deps (depends_on);

alter table coord.task_deps enable row level security;
