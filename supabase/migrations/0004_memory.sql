-- 0004 memory: three layers agents read and write.
--   episodic   (coord.memories, layer 'episodic'): experiences, deduplicated per agent + event type + summary per hour;
--   procedural (coord.memories, layer 'procedural'): named skills whose ranking follows their reported outcomes;
--   working    (coord.working_items): one session's budgeted context, compressed deterministically on add.
-- Recall ranks by weighted full-text coverage (summary A > tags B > details/lessons/steps C), blended with recency,
-- outcome, use and (for skills) a smoothed success rate; a trigram pass catches identifiers and typos; pgvector
-- joins by reciprocal rank fusion where the extension exists (PGlite here; not the PG15 server).

create schema if not exists extensions;
grant usage on schema extensions to service_role, anon, authenticated;
create extension if not exists pg_trgm with schema extensions;

-- ---------------------------------------------------------------------------------------------------------------
-- Settings
-- ---------------------------------------------------------------------------------------------------------------

create table coord.memory_settings (
  key   text primary key,
  value jsonb not null
);
comment on table coord.memory_settings is
  'Tunables of the memory layers (working_budget_tokens, retention_days, recall_floor, vector_floor). Defaults are '
  'in supabase/seed.sql; functions fall back to built-in values when a key is missing.';

create function coord.memory_setting(p_key text, p_default float8)
returns float8
language sql
stable
set search_path = ''
as $$ select coalesce((select (value #>> '{}')::float8 from coord.memory_settings where key = p_key), p_default) $$;
comment on function coord.memory_setting(text, float8) is 'A numeric memory setting, or the default when unset.';

-- ---------------------------------------------------------------------------------------------------------------
-- Hygiene helpers
-- ---------------------------------------------------------------------------------------------------------------

create function coord.redact(p_text text)
returns text
language sql
immutable
set search_path = ''
as $$
  select regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
         regexp_replace(regexp_replace(regexp_replace(p_text,
    '-----BEGIN [A-Z ]*PRIVATE KEY-----[^-]*-----END [A-Z ]*PRIVATE KEY-----', '[REDACTED]', 'g'),
    '(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})', '[REDACTED]', 'g'),
    '\m(AKIA|ASIA)[0-9A-Z]{16}\M', '[REDACTED]', 'g'),
    '\msk-[A-Za-z0-9_-]{16,}', '[REDACTED]', 'g'),
    '\mxox[abeprs]-[A-Za-z0-9-]{10,}', '[REDACTED]', 'g'),
    '\meyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}', '[REDACTED]', 'g'),
    '(bearer\s+)[A-Za-z0-9._~+/=-]{8,}', '\1[REDACTED]', 'gi'),
    '((password|passwd|pwd|secret|client_secret|api[_-]?key|access[_-]?token|auth[_-]?token)["'']?\s*[:=]\s*)["'']?[^\s"'',;]+',
    '\1[REDACTED]', 'gi'),
    '(://[^/\s:@]+:)[^/\s@]+@', '\1[REDACTED]@', 'g')
$$;
comment on function coord.redact(text) is
  'Replaces secrets with [REDACTED] before anything is stored: GitHub tokens (ghp_/gho_/github_pat_), AWS key ids, '
  'sk- API keys, Slack xox tokens, JWTs, PEM private keys, Bearer tokens, password=/secret: assignments and '
  'passwords in URLs.';

create function coord.memory_normalize(p_text text)
returns text
language sql
immutable
set search_path = ''
as $$ select btrim(regexp_replace(lower(p_text), '[[:space:]]+', ' ', 'g'), ' .!?;:,') $$;
comment on function coord.memory_normalize(text) is 'The dedup key of a summary: lower case, collapsed whitespace, no trailing punctuation.';

create function coord.estimate_tokens(p_text text)
returns int
language sql
immutable
set search_path = ''
as $$ select greatest(1, ceil(length(coalesce(p_text, '')) / 4.0)::int) $$;
comment on function coord.estimate_tokens(text) is 'Token estimate for working-memory budgets: about four characters per token.';

create function coord.summary_line(p_text text)
returns text
language sql
immutable
set search_path = ''
as $$
  -- The first line (or sentence, for one-line text), at most 160 characters, plus up to five references (paths,
  -- URLs, issue numbers, commit shas) from the rest, so a cut item still points at what it was about.
  with first as (
    select left(btrim(split_part(btrim(p_text), E'\n', 1)), 160) as line
  ), refs as (
    select string_agg(r, ', ') as list from (
      select distinct on (m[1]) m[1] as r
        from regexp_matches(p_text, '(https?://[^\s)]+|[A-Za-z0-9_.-]*/[A-Za-z0-9_./-]+|[A-Za-z0-9_-]+\.(?:ts|js|py|sql|go|rs|json|md|yml|yaml|toml)\M|#[0-9]+|\m[0-9a-f]{7,40}\M)', 'g') as m
       limit 5
    ) s
  )
  select case when f.line <> btrim(p_text) and r.list is not null then f.line || ' [refs: ' || left(r.list, 200) || ']'
              else f.line end
    from first f, refs r
$$;
comment on function coord.summary_line(text) is 'Compresses a long text to its first line and key references (working-memory cuts, evicted summaries).';

-- ---------------------------------------------------------------------------------------------------------------
-- Episodic and procedural memories
-- ---------------------------------------------------------------------------------------------------------------

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

create table coord.memory_words (
  word text primary key check (length(word) between 4 and 40)
);
comment on table coord.memory_words is
  'Vocabulary of memory summaries, names and tags. Recall corrects misspelt query words against it by trigram '
  'similarity (a small table), instead of trigram-scanning the memories themselves.';
create index memory_words_trgm_idx on coord.memory_words using gin (word extensions.gin_trgm_ops) with (fastupdate = off);

create function coord.memories_document() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.search :=
    setweight(to_tsvector('english'::regconfig, new.summary || ' ' || coalesce(new.name, '')), 'A') ||
    setweight(to_tsvector('english'::regconfig, array_to_string(new.tags, ' ')), 'B') ||
    setweight(to_tsvector('english'::regconfig,
      concat_ws(' ', new.details, new.lessons, new.preconditions, array_to_string(new.steps, ' '),
                array_to_string(new.file_paths, ' '))), 'C');
  insert into coord.memory_words (word)
  select distinct w
    from regexp_split_to_table(lower(concat_ws(' ', new.summary, new.name, array_to_string(new.tags, ' '))), '[^a-z0-9_]+') as w
   where length(w) between 4 and 40 and w !~ '^[0-9_]+$'
  on conflict do nothing;
  return new;
end;
$$;
comment on function coord.memories_document() is
  'Trigger: the weighted search document (summary and skill name A, tags B, details/lessons/steps/paths C), and '
  'new words of the summary, name and tags into coord.memory_words.';

create trigger memories_document before insert or update of summary, name, tags, details, lessons, preconditions, steps, file_paths
  on coord.memories for each row execute function coord.memories_document();

-- pgvector where the database has it: an optional embedding per memory, ranked by cosine distance.
do $$
begin
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'vector') then
    create extension if not exists vector with schema extensions;
    alter table coord.memories add column embedding extensions.vector(384);
    create index memories_embedding_idx on coord.memories using hnsw (embedding extensions.vector_cosine_ops);
    comment on column coord.memories.embedding is 'Optional 384-dimension embedding (caller-supplied), for vector recall.';
  end if;
end $$;

-- Created after the optional embedding column, so archived rows keep every column.
create table coord.memories_archive (like coord.memories including defaults including constraints);
alter table coord.memories_archive add primary key (id);
alter table coord.memories_archive add column archived_at timestamptz not null default now();
comment on table coord.memories_archive is
  'Episodic memories retention moved out of the hot table (never deleted): still expandable by id, not ranked by recall.';

create function coord.memory_has_vector()
returns boolean
language sql
stable
set search_path = ''
as $$
  select exists (select 1 from pg_catalog.pg_attribute
                  where attrelid = 'coord.memories'::regclass and attname = 'embedding' and not attisdropped)
$$;
comment on function coord.memory_has_vector() is 'Whether this database stores embeddings (pgvector was available at migration time).';

create function coord.memory_vector_literal(p_embedding jsonb)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when jsonb_typeof(p_embedding) = 'array' and jsonb_array_length(p_embedding) = 384
              then '[' || (select string_agg(e, ',') from jsonb_array_elements_text(p_embedding) as e) || ']' end
$$;
comment on function coord.memory_vector_literal(jsonb) is 'A 384-number JSON array as pgvector text input; null for anything else.';

-- ---------------------------------------------------------------------------------------------------------------
-- Writing memories
-- ---------------------------------------------------------------------------------------------------------------

create function coord.memory_insert(p_agent_id text, p_session_id text, p jsonb)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_id bigint;
  v_summary text := coord.redact(p->>'summary');
  v_vec text := coord.memory_vector_literal(p->'embedding');
begin
  insert into coord.memories (layer, repo, visibility, agent_id, session_id, event_type, name, summary, details, outcome,
                              lessons, tags, steps, preconditions, file_paths, commit_sha, task_id, norm_summary)
  values (coalesce(p->>'layer', 'episodic'), coalesce(p->>'repo', ''), coalesce(p->>'visibility', 'shared'),
          p_agent_id, p_session_id, coalesce(p->>'event_type', 'note'), p->>'name', v_summary,
          coord.redact(p->>'details'), p->>'outcome', coord.redact(p->>'lessons'),
          coalesce(array(select lower(coord.redact(t)) from jsonb_array_elements_text(p->'tags') t), '{}'),
          coalesce(array(select coord.redact(t) from jsonb_array_elements_text(p->'steps') t), '{}'),
          coord.redact(p->>'preconditions'),
          coalesce(array(select coord.redact(f) from jsonb_array_elements_text(p->'file_paths') f), '{}'),
          p->>'commit_sha', coord.redact(p->>'task_id'), coord.memory_normalize(v_summary))
  returning id into v_id;
  if v_vec is not null and coord.memory_has_vector() then
    execute 'update coord.memories set embedding = $1::extensions.vector where id = $2' using v_vec, v_id;
  end if;
  return v_id;
end;
$$;
comment on function coord.memory_insert(text, text, jsonb) is
  'Internal: inserts one redacted memory row (episodic or procedural) from a validated jsonb document.';

create function coord.remember(p_agent_id text, p_session_id text, p jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_layer text := coalesce(p->>'layer', 'episodic');
  v_repo text := coalesce(p->>'repo', '');
  v_event text := coalesce(p->>'event_type', case when v_layer = 'procedural' then 'skill' else 'note' end);
  v_summary text := coord.redact(p->>'summary');
  v_norm text := coord.memory_normalize(v_summary);
  v_redacted boolean;
  v_id bigint;
  v_occ int := 1;
  v_status text;
begin
  v_redacted := v_summary is distinct from p->>'summary'
             or coord.redact(p->>'details') is distinct from p->>'details'
             or coord.redact(p->>'lessons') is distinct from p->>'lessons'
             or coord.redact((p->'steps')::text) is distinct from (p->'steps')::text
             or coord.redact((p->'tags')::text) is distinct from (p->'tags')::text;

  if v_layer = 'procedural' then
    -- A skill is one row per repository and name: writing it again revises it and keeps its outcome history.
    insert into coord.memories as m (layer, repo, visibility, agent_id, session_id, event_type, name, summary, details,
                                     tags, steps, preconditions, norm_summary)
    values ('procedural', v_repo, coalesce(p->>'visibility', 'shared'), p_agent_id, p_session_id, v_event, p->>'name',
            v_summary, coord.redact(p->>'details'),
            coalesce(array(select lower(coord.redact(t)) from jsonb_array_elements_text(p->'tags') t), '{}'),
            coalesce(array(select coord.redact(t) from jsonb_array_elements_text(p->'steps') t), '{}'),
            coord.redact(p->>'preconditions'), v_norm)
    on conflict (repo, name) where layer = 'procedural' do update
      set summary = excluded.summary, details = coalesce(excluded.details, m.details),
          tags = excluded.tags, steps = case when excluded.steps = '{}' then m.steps else excluded.steps end,
          preconditions = coalesce(excluded.preconditions, m.preconditions), norm_summary = excluded.norm_summary,
          occurrences = m.occurrences + 1, last_seen_at = now()
      where m.visibility = 'shared' or m.agent_id = p_agent_id
    returning id, occurrences into v_id, v_occ;
    if v_id is null then
      -- Another agent's private skill holds the name: neither reveal nor overwrite it.
      return jsonb_build_object('ok', false, 'code', 'skill_name_taken');
    end if;
    v_status := case when v_occ > 1 then 'updated' else 'stored' end;
    perform coord.emit('memory.skill_saved', p_agent_id, p_session_id, v_id::text,
                       jsonb_build_object('name', p->>'name', 'status', v_status));
  else
    -- Same agent, event type and normalised summary within an hour: one row that counts occurrences. The advisory
    -- lock makes the check-then-insert atomic under concurrent writers.
    perform pg_advisory_xact_lock(hashtextextended(p_agent_id || chr(31) || v_event || chr(31) || v_repo || chr(31) || v_norm, 0));
    update coord.memories m
       set occurrences = m.occurrences + 1, last_seen_at = now(),
           outcome = coalesce(p->>'outcome', m.outcome),
           lessons = coalesce(coord.redact(p->>'lessons'), m.lessons),
           tags = array(select distinct t from unnest(m.tags || coalesce(array(select lower(coord.redact(x)) from jsonb_array_elements_text(p->'tags') x), '{}')) t)
     where m.id = (select id from coord.memories
                    where layer = 'episodic' and agent_id = p_agent_id and event_type = v_event and repo = v_repo
                      and norm_summary = v_norm and last_seen_at > now() - interval '1 hour'
                    order by last_seen_at desc limit 1)
    returning m.id, m.occurrences into v_id, v_occ;
    if v_id is not null then
      v_status := 'deduplicated';
      perform coord.emit('memory.deduplicated', p_agent_id, p_session_id, v_id::text,
                         jsonb_build_object('occurrences', v_occ, 'event_type', v_event));
    else
      v_id := coord.memory_insert(p_agent_id, p_session_id, p || jsonb_build_object('layer', 'episodic', 'event_type', v_event));
      v_status := 'stored';
      perform coord.emit('memory.remembered', p_agent_id, p_session_id, v_id::text,
                         jsonb_build_object('layer', 'episodic', 'event_type', v_event, 'repo', v_repo));
    end if;
  end if;

  return jsonb_build_object('id', v_id, 'layer', v_layer, 'status', v_status, 'occurrences', coalesce(v_occ, 1),
                            'redacted', v_redacted);
end;
$$;
comment on function coord.remember(text, text, jsonb) is
  'Stores an episodic memory (deduplicated per agent + event type + normalised summary within one hour: the answer '
  'says deduplicated and the occurrence count) or saves a procedural skill (one per repository and name). Redacts '
  'secrets first. Fields: layer, repo, visibility, event_type, name, summary, details, outcome, lessons, tags, steps, '
  'preconditions, file_paths, commit_sha, task_id, embedding.';

create function coord.skill_outcome(p_agent_id text, p_session_id text, p_repo text, p_name text, p_outcome text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  m coord.memories;
begin
  update coord.memories
     -- A partial outcome counts half a success and half a failure.
     set success_count = success_count + case p_outcome when 'success' then 1 when 'partial' then 0.5 else 0 end,
         failure_count = failure_count + case p_outcome when 'failure' then 1 when 'partial' then 0.5 else 0 end,
         use_count = use_count + 1, last_used_at = now()
   where layer = 'procedural' and repo = coalesce(p_repo, '') and name = p_name
     and (visibility = 'shared' or agent_id = p_agent_id)
  returning * into m;
  if not found then
    return jsonb_build_object('ok', false, 'code', 'unknown_skill');
  end if;
  perform coord.emit('memory.skill_outcome', p_agent_id, p_session_id, m.id::text,
                     jsonb_build_object('name', p_name, 'outcome', p_outcome));
  return jsonb_build_object('ok', true, 'id', m.id, 'name', m.name, 'successes', m.success_count,
                            'failures', m.failure_count,
                            'success_rate', round(((m.success_count + 1) / (m.success_count + m.failure_count + 2))::numeric, 3));
end;
$$;
comment on function coord.skill_outcome(text, text, text, text, text) is
  'Records one use of a skill and its outcome (success, failure, partial). Recall ranks skills by a Laplace-smoothed '
  'success rate (s+1)/(s+f+2), so a procedure that keeps failing sinks.';

-- ---------------------------------------------------------------------------------------------------------------
-- Recall
-- ---------------------------------------------------------------------------------------------------------------

create function coord.memory_similar_words(p_tokens text[])
returns table (tok text, word text, sim float8)
language sql
stable
set search_path = ''
as $$
  select u.t, f.word, f.sim
    from unnest(p_tokens) as u(t),
         lateral (select w.word, extensions.similarity(w.word, u.t)::float8 as sim from coord.memory_words w
                   where w.word operator(extensions.%) u.t
                     -- A typo keeps the length; a shorter or longer word is a different word.
                     and abs(length(w.word) - length(u.t)) <= greatest(2, length(u.t) / 5)
                   order by 2 desc, 1 limit 3) f
$$;
comment on function coord.memory_similar_words(text[]) is
  'Internal to recall: for each unknown query word, up to three vocabulary words of similar length by trigram similarity.';

create function coord.recall(p_agent_id text, p_session_id text, p jsonb)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_text   text := left(coalesce(p->>'task_description', ''), 4000);
  v_limit  int := least(greatest(coalesce((p->>'limit')::int, 10), 1), 50);
  v_tags   text[] := coalesce(array(select lower(jsonb_array_elements_text(p->'tags'))), '{}');
  v_filter boolean := coalesce(p->>'tag_mode', 'boost') = 'filter';
  v_types  text[] := case when jsonb_typeof(p->'event_types') = 'array' then array(select jsonb_array_elements_text(p->'event_types')) end;
  v_layers text[] := case when jsonb_typeof(p->'layers') = 'array' then array(select jsonb_array_elements_text(p->'layers'))
                          else array['episodic', 'procedural'] end;
  v_repo   text := p->>'repo';
  v_floor  float8 := coord.memory_setting('recall_floor', 0.5);
  v_vfloor float8 := coord.memory_setting('vector_floor', 0.6);
  v_vec    text := coord.memory_vector_literal(p->'embedding');
  v_lex    text[];
  v_w      float8[];
  v_qa     tsquery[];
  v_qb     tsquery[];
  v_qc     tsquery[];
  v_stages tsquery[];
  v_stage  tsquery;
  v_cand   bigint[] := '{}';
  v_rows   float8;
  v_denom  float8;
  v_ids    bigint[];
  v_rel    float8[];
  v_why    text[];
  v_vids   bigint[] := '{}';
  v_vsim   float8[] := '{}';
  v_result jsonb;
  v_vector text := 'off';
begin
  -- Query terms, each weighted by rarity from the planner's statistics of the search column (most_common_elems):
  -- frequent terms count little, unknown ones fully. A term is rare when it is in few enough rows that an index
  -- scan for it stays small.
  select greatest(c.reltuples, 0) into v_rows from pg_catalog.pg_class c where c.oid = 'coord.memories'::regclass;
  with terms as (
    select l.lex, coalesce(st.f, 0)::float8 as freq
      from unnest(tsvector_to_array(to_tsvector('english'::regconfig, v_text))) as l(lex)
      left join (select z.e, z.f
                   from pg_catalog.pg_stats s,
                        unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) as z(e, f)
                  where s.schemaname = 'coord' and s.tablename = 'memories' and s.attname = 'search') st on st.e = l.lex
     where l.lex !~ '[''\\[:space:]:&|!()<>*]' and length(l.lex) between 2 and 60
     order by freq, l.lex
     limit 24
  ), ranked as (
    select t.*, t.freq * v_rows <= greatest(500, 0.05 * v_rows) as rare,
           row_number() over (partition by t.freq * v_rows <= greatest(500, 0.05 * v_rows) order by t.freq, t.lex) as nth
      from terms t
  )
  select array_agg(lex order by lex),
         array_agg(least(1.0, greatest(0.1, case when freq <= 0 then 1 else ln(1 / freq) / ln(50) end)) order by lex),
         array_agg((quote_literal(lex) || ':A')::tsquery order by lex),
         array_agg((quote_literal(lex) || ':B')::tsquery order by lex),
         array_agg((quote_literal(lex) || ':C')::tsquery order by lex),
         array[string_agg(quote_literal(lex), ' | ') filter (where rare),
               string_agg(quote_literal(lex), ' & ') filter (where not rare),
               string_agg(quote_literal(lex), ' & ') filter (where not rare and nth <= 2)]::tsquery[]
    into v_lex, v_w, v_qa, v_qb, v_qc, v_stages
    from ranked;

  if v_lex is not null then
    select sum(w) into v_denom from unnest(v_w) as w;
    -- Coverage relative to at most 2.5 term-weights: a long task description need not match every word.
    v_denom := least(v_denom, 2.5);
    -- Candidates in stages, each a bounded index scan: rows with any rare term; if too few, rows with every common
    -- term; if still too few, rows with the two rarest common terms. All query terms then score the candidates.
    foreach v_stage in array v_stages loop
      continue when v_stage is null or coalesce(array_length(v_cand, 1), 0) >= v_limit;
      v_cand := v_cand || array(
        select m.id from coord.memories m
         where m.search @@ v_stage
           and m.layer = any(v_layers)
           and (m.visibility = 'shared' or m.agent_id = p_agent_id)
           and (v_repo is null or m.repo = v_repo)
           and (v_types is null or m.event_type = any(v_types))
           and (not v_filter or m.tags && v_tags)
           and m.id <> all(v_cand)
         limit 100);
    end loop;
    with cand as (
      select m.id, m.search from coord.memories m where m.id = any(v_cand)
    ), hits as (
      select c.id, q.lex, q.w,
             case when c.search @@ q.qa then 1.0
                  when c.search @@ q.qb then 0.6
                  when c.search @@ q.qc then 0.35
                  else 0 end as field
        from cand c, unnest(v_lex, v_w, v_qa, v_qb, v_qc) as q(lex, w, qa, qb, qc)
    ), scored as (
      select id, least(1.0, sum(w * field) / v_denom) as rel,
             string_agg(lex || case when field = 1.0 then '(summary)' when field = 0.6 then '(tags)' else '(details)' end,
                        ' ' order by field desc, lex) filter (where field > 0) as why
        from hits group by id
    )
    select array_agg(id order by rel desc), array_agg(rel order by rel desc), array_agg('terms: ' || why order by rel desc)
      into v_ids, v_rel, v_why
      from scored where rel >= v_floor;
  end if;
  v_ids := coalesce(v_ids, '{}'); v_rel := coalesce(v_rel, '{}'); v_why := coalesce(v_why, '{}');

  -- Typos and half-remembered identifiers: query words (5+ characters) the corpus does not know are matched by trigram
  -- similarity against the vocabulary; memories with the closest known word in their summary, name or tags count
  -- with that similarity as their relevance.
  if coalesce(array_length(v_ids, 1), 0) < v_limit then
    with unknown as (
      select distinct t from regexp_split_to_table(lower(v_text), '[^a-z0-9_]+') as t
       where length(t) between 5 and 40 and t !~ '^[0-9_]+$'
         and not exists (select 1 from coord.memories k
                          where k.search @@ replace(plainto_tsquery('english'::regconfig, t)::text, '&', '|')::tsquery)
       limit 6
    ), fixes as (
      select f.tok, f.word, f.sim from coord.memory_similar_words(array(select t from unknown)) f where f.sim >= v_floor
    ), trig as (
      select m.id, max(f.sim) as sim, (array_agg(format('similar to %s → %s (%s)', f.tok, f.word, round(f.sim::numeric, 2))
                                                 order by f.sim desc))[1] as why
        from fixes f
        join lateral (select m.id from coord.memories m
                       where m.search @@ (select string_agg(quote_literal(x) || ':AB', ' | ')::tsquery
                                            from unnest(tsvector_to_array(to_tsvector('english'::regconfig, f.word))) x)
                         and m.layer = any(v_layers)
                         and (m.visibility = 'shared' or m.agent_id = p_agent_id)
                         and (v_repo is null or m.repo = v_repo)
                         and (v_types is null or m.event_type = any(v_types))
                         and (not v_filter or m.tags && v_tags)
                         and m.id <> all(v_ids)
                       limit 50) m on true
       group by m.id
    )
    select v_ids || coalesce(array_agg(id order by sim desc, id desc), '{}'),
           v_rel || coalesce(array_agg(sim order by sim desc, id desc), '{}'),
           v_why || coalesce(array_agg(why order by sim desc, id desc), '{}')
      into v_ids, v_rel, v_why
      from trig;
  end if;

  -- Vector similarity, when the database has pgvector and the caller sent an embedding.
  if v_vec is not null and coord.memory_has_vector() then
    v_vector := 'on';
    execute $q$
      select coalesce(array_agg(id order by d), '{}'), coalesce(array_agg(1 - d order by d), '{}')
        from (select m.id, m.embedding operator(extensions.<=>) $1::extensions.vector as d
                from coord.memories m
               where m.embedding is not null and m.layer = any($2)
                 and (m.visibility = 'shared' or m.agent_id = $3)
                 and ($4::text is null or m.repo = $4)
                 and ($5::text[] is null or m.event_type = any($5))
                 and (not $6 or m.tags && $7)
               order by d limit 50) v
       where 1 - d >= $8 $q$
      into v_vids, v_vsim
      using v_vec, v_layers, p_agent_id, v_repo, v_types, v_filter, v_tags, v_vfloor;
  elsif v_vec is not null then
    v_vector := 'unavailable';
  end if;

  with lexical as (
    select x.id, x.rel, x.why from unnest(v_ids, v_rel, v_why) as x(id, rel, why)
  ), vec as (
    select y.id, y.sim, row_number() over (order by y.sim desc, y.id desc) as rnk from unnest(v_vids, v_vsim) as y(id, sim)
  ), blended as (
    -- Relevance times modifiers: recency (halves influence over ~30 days, never below 0.5), lessons learned,
    -- occurrences and uses (log-damped), tag boosts, and for skills the Laplace-smoothed success rate.
    -- One lookup of the rows by id (= any: an index probe, whatever the table size).
    select m.id, m.layer, m.summary, m.event_type, m.name, m.outcome, m.occurrences, m.success_count, m.failure_count,
           l.why, v.sim, v.rnk as vrnk,
           l.rel
           * (0.5 + 0.5 * exp(-extract(epoch from now() - m.last_seen_at) / (30 * 86400.0)))
           * (case when m.lessons is not null then 1.1 when m.outcome = 'failure' then 0.95 else 1.0 end)
           * (1 + 0.05 * ln(m.occurrences + m.use_count))
           * (case when cardinality(v_tags) = 0 then 1
                   else 1 + 0.15 * (select count(*) from unnest(m.tags) as t where t = any(v_tags)) end)
           * (case when m.layer = 'procedural'
                   then 0.5 + (m.success_count + 1)::float8 / (m.success_count + m.failure_count + 2) else 1 end)
             as lscore
      from coord.memories m
      left join lexical l on l.id = m.id
      left join vec v on v.id = m.id
     where m.id = any(v_ids || v_vids)
  ), fused as (
    select b.*,
           case when v_vector = 'on'
                then 30 * (coalesce(1.0 / (60 + case when b.lscore is not null
                                                     then row_number() over (partition by b.lscore is null order by b.lscore desc, b.id desc) end), 0)
                           + coalesce(1.0 / (60 + b.vrnk), 0))
                else b.lscore end as score
      from blended b
  ), top as (
    select * from fused order by score desc, id desc limit v_limit
  )
  select coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
           'id', id, 'layer', layer, 'summary', summary, 'score', round(score::numeric, 3),
           'why', concat_ws('; ', why, case when sim is not null then format('embedding %s', round(sim::numeric, 2)) end),
           'event_type', case when layer = 'episodic' then event_type end, 'name', name, 'outcome', outcome,
           'occurrences', case when occurrences > 1 then occurrences end,
           'success_rate', case when layer = 'procedural'
                                then round(((success_count + 1) / (success_count + failure_count + 2))::numeric, 3) end))
         order by score desc, id desc), '[]'::jsonb)
    into v_result
    from top;

  return jsonb_build_object(
    'results', v_result,
    'vector', v_vector,
    'message', case when jsonb_array_length(v_result) = 0
                    then 'No memory matches above the relevance floor; nothing relevant is stored yet.' end);
end;
$$;
comment on function coord.recall(text, text, jsonb) is
  'Ranks episodic and procedural memories for a task description: weighted full-text coverage of the query terms '
  '(rare terms weigh more) above a relevance floor, a trigram pass for identifiers and typos, blended with recency, '
  'lessons, occurrences, uses, tag boosts (or a tag filter with tag_mode=filter) and skill success rates; with an '
  'embedding and pgvector, fused with vector similarity by reciprocal rank. Answers compact rows; empty with a '
  'message when nothing clears the floor.';

create function coord.memory_details(p_agent_id text, p_session_id text, p_ids bigint[])
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_found jsonb;
begin
  -- Expanding a memory is what "using" it means: it feeds the use count that recall's ranking reads.
  with used as (
    update coord.memories m set use_count = use_count + 1, last_used_at = now()
     where m.id = any(p_ids) and (m.visibility = 'shared' or m.agent_id = p_agent_id)
    returning m.*, null::timestamptz as archived_at
  ), archived as (
    select a.* from coord.memories_archive a
     where a.id = any(p_ids) and (a.visibility = 'shared' or a.agent_id = p_agent_id)
  ), rows as (
    select id, layer, repo, visibility, agent_id, event_type, name, summary, details, outcome, lessons, tags, steps,
           preconditions, file_paths, commit_sha, task_id, occurrences, use_count, success_count, failure_count,
           created_at, last_seen_at, archived_at from used
    union all
    select id, layer, repo, visibility, agent_id, event_type, name, summary, details, outcome, lessons, tags, steps,
           preconditions, file_paths, commit_sha, task_id, occurrences, use_count, success_count, failure_count,
           created_at, last_seen_at, archived_at from archived
  )
  select coalesce(jsonb_agg(jsonb_strip_nulls(to_jsonb(r)) order by r.id), '[]'::jsonb) into v_found from rows r;

  if jsonb_array_length(v_found) > 0 then
    perform coord.emit('memory.used', p_agent_id, p_session_id,
                       (select string_agg(e->>'id', ',') from jsonb_array_elements(v_found) e), '{}'::jsonb);
  end if;
  return jsonb_build_object(
    'memories', v_found,
    'missing', coalesce((select jsonb_agg(i) from unnest(p_ids) i
                          where not exists (select 1 from jsonb_array_elements(v_found) e where (e->>'id')::bigint = i)),
                        '[]'::jsonb));
end;
$$;
comment on function coord.memory_details(text, text, bigint[]) is
  'Expands memories by id (hot or archived) the caller may see, counting a use of each; unknown or invisible ids '
  'are listed as missing.';

-- ---------------------------------------------------------------------------------------------------------------
-- Working memory
-- ---------------------------------------------------------------------------------------------------------------

create table coord.working_sessions (
  agent_id      text not null,
  session_id    text not null,
  repo          text not null default '',
  budget_tokens int not null check (budget_tokens between 100 and 100000),
  updated_at    timestamptz not null default now(),
  primary key (agent_id, session_id)
);
comment on table coord.working_sessions is 'The token budget (and repository) of one agent session''s working memory; its row lock serialises adds.';

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
  foreign key (agent_id, session_id) references coord.working_sessions (agent_id, session_id) on delete cascade
);
comment on table coord.working_items is
  'Working memory: the active context of one agent session, kept within its token budget by coord.working_add.';
create index working_items_session_idx on coord.working_items (agent_id, session_id);

create function coord.working_context(p_agent_id text, p_session_id text)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'session_id', p_session_id,
    'budget_tokens', coalesce((select budget_tokens from coord.working_sessions where agent_id = p_agent_id and session_id = p_session_id),
                              coord.memory_setting('working_budget_tokens', 4000)::int),
    'tokens_used', coalesce((select sum(tokens) from coord.working_items where agent_id = p_agent_id and session_id = p_session_id), 0),
    'items', coalesce((select jsonb_agg(jsonb_build_object('id', id, 'kind', kind, 'content', content, 'priority', priority,
                                                           'pinned', pinned, 'tokens', tokens, 'cut', cut)
                                        order by pinned desc, priority desc, updated_at desc, id desc)
                         from coord.working_items where agent_id = p_agent_id and session_id = p_session_id), '[]'::jsonb))
$$;
comment on function coord.working_context(text, text) is
  'One session''s whole working memory, pinned and most important first, newest first within a priority.';

create function coord.working_add(p_agent_id text, p_session_id text, p jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_budget   int;
  v_repo     text;
  v_content  text := coord.redact(p->>'content');
  v_kind     text := coalesce(p->>'kind', 'note');
  v_prio     int := coalesce((p->>'priority')::int, 3);
  v_pinned   boolean := coalesce((p->>'pinned')::boolean, false);
  v_tokens   int := coord.estimate_tokens(coord.redact(p->>'content'));
  v_dup      coord.working_items;
  v_victim   coord.working_items;
  v_id       bigint;
  v_status   text;
  v_used     int;
  v_mem      bigint;
  v_evicted  jsonb := '[]'::jsonb;
  v_cut      jsonb := '[]'::jsonb;
  v_pinned_total int;
begin
  -- The session row's lock serialises concurrent adds of one session, so compression sees a stable set.
  insert into coord.working_sessions as s (agent_id, session_id, repo, budget_tokens)
  values (p_agent_id, p_session_id, coalesce(p->>'repo', ''),
          coalesce((p->>'budget_tokens')::int, coord.memory_setting('working_budget_tokens', 4000)::int))
  on conflict (agent_id, session_id) do update
    set budget_tokens = coalesce((p->>'budget_tokens')::int, s.budget_tokens),
        repo = coalesce(p->>'repo', s.repo), updated_at = now()
  returning budget_tokens, repo into v_budget, v_repo;

  -- Near-duplicates (same kind, same text or trigram similarity >= 0.8) merge into the existing item.
  select * into v_dup from coord.working_items w
   where w.agent_id = p_agent_id and w.session_id = p_session_id and w.kind = v_kind
     and (coord.memory_normalize(w.content) = coord.memory_normalize(v_content)
          or extensions.similarity(w.content, v_content) >= 0.8)
   order by extensions.similarity(w.content, v_content) desc, w.id
   limit 1;

  select coalesce(sum(tokens), 0) into v_pinned_total from coord.working_items
   where agent_id = p_agent_id and session_id = p_session_id and pinned and id is distinct from v_dup.id;
  if (v_pinned or coalesce(v_dup.pinned, false))
     and v_pinned_total + greatest(v_tokens, coalesce(v_dup.tokens, 0)) > v_budget then
    return jsonb_build_object('ok', false, 'code', 'pinned_over_budget', 'budget_tokens', v_budget,
                              'pinned_tokens', v_pinned_total, 'item_tokens', v_tokens);
  end if;

  if v_dup.id is not null then
    update coord.working_items
       set content = case when length(v_content) >= length(content) then v_content else content end,
           tokens = greatest(tokens, v_tokens), cut = cut and length(v_content) < length(content),
           priority = greatest(priority, v_prio), pinned = pinned or v_pinned,
           use_count = use_count + 1, updated_at = now()
     where id = v_dup.id;
    v_id := v_dup.id;
    v_status := 'merged';
  else
    insert into coord.working_items (agent_id, session_id, kind, content, priority, pinned, tokens)
    values (p_agent_id, p_session_id, v_kind, v_content, v_prio, v_pinned, v_tokens)
    returning id into v_id;
    v_status := 'added';
  end if;

  -- Compress until within budget: cut the longest unpinned item to its summary line (its full text goes to
  -- episodic memory), then evict the lowest-value unpinned item (priority, uses, age) into episodic memory.
  loop
    select coalesce(sum(tokens), 0) into v_used from coord.working_items
     where agent_id = p_agent_id and session_id = p_session_id;
    exit when v_used <= v_budget;

    select * into v_victim from coord.working_items
     where agent_id = p_agent_id and session_id = p_session_id and not pinned and not cut and tokens > 40
     order by tokens desc, id
     limit 1;
    if found then
      v_mem := coord.memory_insert(p_agent_id, p_session_id, jsonb_build_object(
        'layer', 'episodic', 'repo', v_repo, 'visibility', 'private', 'event_type', 'working_cut',
        'summary', left(coord.summary_line(v_victim.content), 500), 'details', v_victim.content,
        'tags', jsonb_build_array('working', v_victim.kind)));
      update coord.working_items
         set content = left(coord.summary_line(v_victim.content), 500), cut = true,
             tokens = coord.estimate_tokens(left(coord.summary_line(v_victim.content), 500))
       where id = v_victim.id;
      v_cut := v_cut || jsonb_build_object('id', v_victim.id, 'memory_id', v_mem);
      continue;
    end if;

    select * into v_victim from coord.working_items
     where agent_id = p_agent_id and session_id = p_session_id and not pinned
     order by priority, use_count, updated_at, id
     limit 1;
    exit when not found;  -- unreachable: pinned items alone fit (checked above)
    v_mem := coord.memory_insert(p_agent_id, p_session_id, jsonb_build_object(
      'layer', 'episodic', 'repo', v_repo, 'visibility', 'private', 'event_type', 'working_evicted',
      'summary', left(coord.summary_line(v_victim.content), 500), 'details', v_victim.content,
      'tags', jsonb_build_array('working', v_victim.kind)));
    delete from coord.working_items where id = v_victim.id;
    v_evicted := v_evicted || jsonb_build_object('id', v_victim.id, 'memory_id', v_mem);
  end loop;

  perform coord.emit('memory.working_' || v_status, p_agent_id, p_session_id, v_id::text,
                     jsonb_build_object('kind', v_kind, 'tokens_used', v_used, 'evicted', jsonb_array_length(v_evicted),
                                        'cut', jsonb_array_length(v_cut)));
  return jsonb_build_object('ok', true, 'id', v_id, 'layer', 'working', 'status', v_status,
                            'redacted', v_content is distinct from p->>'content',
                            'tokens_used', v_used, 'budget_tokens', v_budget, 'evicted', v_evicted, 'cut', v_cut);
end;
$$;
comment on function coord.working_add(text, text, jsonb) is
  'Adds an item (kind, content, priority 1-5, pinned) to a session''s working memory and compresses it '
  'deterministically to its token budget: near-duplicates merge, long unpinned items are cut to their summary line, '
  'the lowest-value unpinned items move to episodic memory (private, event types working_cut/working_evicted). '
  'Pinned items stay; an add whose pinned total would exceed the budget is refused (pinned_over_budget).';

-- ---------------------------------------------------------------------------------------------------------------
-- Retention
-- ---------------------------------------------------------------------------------------------------------------

create function coord.memory_retention(p_age_days int default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_days int := coalesce(p_age_days, coord.memory_setting('retention_days', 90)::int);
  v_moved int;
begin
  -- Episodic rows nobody has seen again or used within the window move to the archive; skills never expire.
  with moved as (
    delete from coord.memories m
     where m.layer = 'episodic'
       and m.last_seen_at < now() - make_interval(days => v_days)
       and (m.last_used_at is null or m.last_used_at < now() - make_interval(days => v_days))
    returning m.*
  )
  insert into coord.memories_archive
  select * from moved;
  get diagnostics v_moved = row_count;
  if v_moved > 0 then
    perform coord.emit('memory.archived', null, null, null, jsonb_build_object('rows', v_moved, 'age_days', v_days));
  end if;
  -- Fresh statistics keep recall's term weights current (PGlite has no autovacuum).
  analyze coord.memories;
  analyze coord.memory_words;
  return jsonb_build_object('archived', v_moved, 'age_days', v_days);
end;
$$;
comment on function coord.memory_retention(int) is
  'Moves episodic memories unseen and unused for p_age_days (default setting retention_days, 90) to '
  'coord.memories_archive and refreshes statistics. Run on a schedule (pg_cron, or POST /memory/retention).';

-- ---------------------------------------------------------------------------------------------------------------
-- Privileges and row-level security (memory is read through the API only: no anon policies)
-- ---------------------------------------------------------------------------------------------------------------

alter table coord.memory_settings   enable row level security;
alter table coord.memories          enable row level security;
alter table coord.memory_words      enable row level security;
alter table coord.memories_archive  enable row level security;
alter table coord.working_sessions  enable row level security;
alter table coord.working_items     enable row level security;

grant all on coord.memory_settings, coord.memory_words, coord.memories, coord.memories_archive, coord.working_sessions, coord.working_items to service_role;
grant execute on function coord.remember(text, text, jsonb), coord.recall(text, text, jsonb),
  coord.memory_details(text, text, bigint[]), coord.working_add(text, text, jsonb), coord.working_context(text, text),
  coord.skill_outcome(text, text, text, text, text), coord.memory_retention(int), coord.redact(text) to service_role;

-- Nothing in coord is executable by PUBLIC or the API roles (see 0001): only through the app's connection.
revoke execute on all functions in schema coord from public, anon, authenticated;
