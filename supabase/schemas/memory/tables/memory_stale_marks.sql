create table coord.memory_stale_marks (
  memory_id    bigint primary key references coord.memories (id) on delete cascade,
  commit_sha   text not null,
  changeset_id uuid,
  files        text[] not null,
  changes      int not null default 1,
  marked_at    timestamptz not null default now()
);
comment on table coord.memory_stale_marks is
  'Memories possibly out of date: a push, pull request or agent changeset (coord.changesets) touched files the memory '
  'names in file_paths. commit_sha is the first such commit (stale since), files the changed paths it names (at most '
  '20), changes how many changesets touched them since. Recall ranks a marked memory lower and labels it; '
  'memory_details with confirm=true clears the mark.';

alter table coord.memory_stale_marks enable row level security;
