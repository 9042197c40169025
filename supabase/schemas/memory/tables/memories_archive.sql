-- Created after the optional embedding column (memories.sql), so archived rows keep every column.
create table coord.memories_archive (like coord.memories including defaults including constraints);
alter table coord.memories_archive add primary key (id);
alter table coord.memories_archive add column archived_at timestamptz not null default now();
comment on table coord.memories_archive is
  'Episodic memories retention moved out of the hot table (never deleted): still expandable by id, not ranked by recall.';

-- Columns added after the archive existed, in both tables, here: a database built from these files then has the
-- column order the migrations give an existing one (archive_memories copies by name; the drift check compares order).
-- The model of the embedding when the app's provider computed it (null: none yet, or supplied by the caller). Recall
-- compares only vectors of one model; a new model's backfill replaces the old ones.
alter table coord.memories add column embedding_model text check (length(embedding_model) <= 200);
alter table coord.memories_archive add column embedding_model text check (length(embedding_model) <= 200);

alter table coord.memories_archive enable row level security;
