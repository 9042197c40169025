-- Memory: three layers agents read and write.
--   episodic   (coord.memories, layer 'episodic'): experiences, deduplicated per agent + event type + summary per hour;
--   procedural (coord.memories, layer 'procedural'): named skills whose ranking follows their reported outcomes;
--   working    (coord.working_items): one session's budgeted context, compressed deterministically on add.
-- Recall ranks by weighted full-text coverage (summary A > tags B > details/lessons/steps C), blended with recency,
-- outcome, use and (for skills) a smoothed success rate; a trigram pass catches identifiers and typos; pgvector
-- joins by reciprocal rank fusion where the extension exists (PGlite here; not the PG15 server).
-- Memory is read through the API only: no table here has an anon policy.

create table coord.memories (
  id             bigint generated always as identity primary key,
  layer          text not null default 'episodic' check (layer in ('episodic', 'procedural')),
  repo           text not null default '' check (length(repo) <= 200),
  visibility     text not null default 'shared' check (visibility in ('shared', 'private')),
  agent_id       text not null,
  session_id     text,
  event_type     text not null check (event_type ~ '^[a-z0-9_.:-]{1,64}$'),
  name           text check (name ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
  summary        text not null check (length(summary) between 1 and 500),
  details        text check (length(details) <= 8000),
  outcome        text check (outcome in ('success', 'failure', 'partial')),
  lessons        text check (length(lessons) <= 4000),
  tags           text[] not null default '{}',
  steps          text[] not null default '{}',
  preconditions  text check (length(preconditions) <= 2000),
  file_paths     text[] not null default '{}',
  commit_sha     text,
  task_id        text,
  norm_summary   text not null,
  occurrences    int not null default 1,
  use_count      int not null default 0,
  success_count  float8 not null default 0,
  failure_count  float8 not null default 0,
  created_at     timestamptz not null default now(),
  last_seen_at   timestamptz not null default now(),
  last_used_at   timestamptz,
  search         tsvector not null,
  check ((layer = 'procedural') = (name is not null))
);
comment on table coord.memories is
  'Episodic memories (experiences) and procedural memories (named skills) of agents, scoped to a repository '
  '(shared by default, private to the writing agent on request). Redacted before storage. Old unused episodic rows '
  'move to coord.memories_archive.';

-- fastupdate off: a pending list makes searches scan it linearly until (auto)vacuum merges it, and PGlite has no
-- autovacuum. Inserts pay a little more; recall latency stays flat.
create index memories_search_idx on coord.memories using gin (search) with (fastupdate = off);
create index memories_dedup_idx on coord.memories (agent_id, event_type, norm_summary, last_seen_at) where layer = 'episodic';
create unique index memories_skill_idx on coord.memories (repo, name) where layer = 'procedural';
create index memories_retention_idx on coord.memories (last_seen_at) where layer = 'episodic';
-- Staleness: which memories name the files a change touched (coord.memory_files_changed).
create index memories_files_idx on coord.memories using gin (file_paths) with (fastupdate = off) where file_paths <> '{}';

-- pgvector where the database has it: an optional embedding per memory, ranked by cosine distance. A `do` block, so
-- the same file builds a database with and without the extension (the diff tooling's Postgres has none).
do $$
begin
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'vector') then
    create extension if not exists vector with schema extensions;
    alter table coord.memories add column embedding extensions.vector(384);
    create index memories_embedding_idx on coord.memories using hnsw (embedding extensions.vector_cosine_ops);
    comment on column coord.memories.embedding is 'Optional 384-dimension embedding (caller-supplied), for vector recall.';
  end if;
end $$;

alter table coord.memories enable row level security;
