-- Created after the optional embedding column (memories.sql), so archived rows keep every column.
create table coord.memories_archive (like coord.memories including defaults including constraints);
alter table coord.memories_archive add primary key (id);
alter table coord.memories_archive add column archived_at timestamptz not null default now();
comment on table coord.memories_archive is
  'Episodic memories retention moved out of the hot table (never deleted): still expandable by id, not ranked by recall.';

alter table coord.memories_archive enable row level security;
