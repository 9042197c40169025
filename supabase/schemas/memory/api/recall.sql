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
  -- The app passes the floor of its provider's model (similarity scales differ between models); else the setting.
  v_vfloor float8 := coalesce((p->>'vector_floor')::float8, coord.memory_setting('vector_floor', 0.6));
  -- Vectors of the app's provider carry their model; a caller-supplied query vector compares with caller-supplied ones.
  v_model  text := p->>'embedding_model';
  v_vec    text := coord.memory_vector_literal(p->'embedding');
  v_lex    text[];
  v_w      float8[];
  v_grp    text[];
  v_gw     float8[];
  v_f      float8[];
  v_stages tsquery[];
  v_xstages tsquery[];
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
  -- Query terms are the query's own lexemes (factor 1) plus, in the same group, expansions the app sends (synonyms,
  -- coding abbreviations: p.expansions = [{from, to, weight}], weight < 1). A group is credited with its best member,
  -- so a synonym never adds to an exact match and counts below it; coverage is measured against the query's own terms.
  with stats as (
    select z.e, z.f
      from pg_catalog.pg_stats s,
           unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) as z(e, f)
     where s.schemaname = 'coord' and s.tablename = 'memories' and s.attname = 'search'
  ), own as (
    select l.lex, coalesce(st.f, 0)::float8 as freq
      from unnest(tsvector_to_array(to_tsvector('english'::regconfig, v_text))) as l(lex)
      left join stats st on st.e = l.lex
     where l.lex !~ '[''\\[:space:]:&|!()<>*]' and length(l.lex) between 2 and 60
     order by freq, l.lex
     limit 24
  ), expanded as (
    -- Each expansion: its lexemes (all must match: "pull request"), grouped under the lexeme of the word it expands.
    select distinct on (g.lex, x.parts) g.lex as grp, x.parts, least(0.95, greatest(0.05, (e->>'weight')::float8)) as f
      from jsonb_array_elements(case when jsonb_typeof(p->'expansions') = 'array' then p->'expansions' else '[]'::jsonb end) e,
           lateral (select (tsvector_to_array(to_tsvector('english'::regconfig, left(e->>'from', 60))))[1] as lex) g,
           lateral (select tsvector_to_array(to_tsvector('english'::regconfig, left(e->>'to', 60))) as parts) x
     where g.lex in (select lex from own)
       and cardinality(x.parts) between 1 and 3 and x.parts <> array[g.lex]
       and not exists (select 1 from unnest(x.parts) xp where xp ~ '[''\\[:space:]:&|!()<>*]')
     order by g.lex, x.parts, f desc
  ), members as (
    select o.lex as grp, o.lex as label, array[o.lex] as parts, 1.0::float8 as f, o.freq from own o
    union all
    select x.grp, array_to_string(x.parts, ' '), x.parts, x.f,
           (select coalesce(min(st.f), 0) from unnest(x.parts) xp left join stats st on st.e = xp)
      from (select * from expanded limit 64) x
  ), weighted as (
    select m.*, least(1.0, greatest(0.1, case when m.freq <= 0 then 1 else ln(1 / m.freq) / ln(50) end)) as w,
           m.freq * v_rows <= greatest(500, 0.05 * v_rows) as rare
      from members m
  ), ranked as (
    select t.*, row_number() over (partition by t.f = 1 and not t.rare order by t.freq, t.label) as nth
      from weighted t
  )
  select array_agg(label order by f desc, label),
         array_agg(w order by f desc, label),
         array_agg(grp order by f desc, label),
         -- A member counts at most as much as its group's own term weighs.
         array_agg((select least(r.w, o.w) from weighted o where o.f = 1 and o.label = r.grp) order by f desc, label),
         array_agg(f order by f desc, label),
         -- Candidates: any rare own term; all common own terms; the two rarest common own terms.
         array[string_agg(quote_literal(label), ' | ') filter (where f = 1 and rare),
               string_agg(quote_literal(label), ' & ') filter (where f = 1 and not rare),
               string_agg(quote_literal(label), ' & ') filter (where f = 1 and not rare and nth <= 2)]::tsquery[],
         -- And each rare expansion on its own: one OR of dozens of terms makes the planner give up the index.
         array_agg((select string_agg(quote_literal(x), ' & ') from unnest(parts) x)::tsquery order by freq, label)
           filter (where f < 1 and rare)
    into v_lex, v_w, v_grp, v_gw, v_f, v_stages, v_xstages
    from ranked r;

  if v_lex is not null then
    select sum(w) into v_denom from unnest(v_w, v_f) as t(w, f) where f = 1;
    -- Coverage relative to at most 2.5 term-weights: a long task description need not match every word.
    v_denom := least(v_denom, 2.5);
    -- Candidates in stages, each a bounded index scan: rows with any rare term; if too few, rows with every common
    -- term; if still too few, rows with the two rarest common terms. All query terms then score the candidates.
    foreach v_stage in array v_stages[1:1] || coalesce(v_xstages, '{}') || v_stages[2:3] loop
      -- Rare expansions always bring their (few) rows, so a paraphrase's target is scored even when the query's own
      -- rare words found plenty; the common-term stages run only while candidates are short.
      continue when v_stage is null
                 or (coalesce(array_length(v_cand, 1), 0) >= v_limit and not v_stage = any(coalesce(v_xstages, '{}')));
      v_cand := v_cand || array(
        select m.id from coord.memories m
         where m.search @@ v_stage
           and m.layer = any(v_layers)
           and (m.visibility = 'shared' or m.agent_id = p_agent_id)
           and (v_repo is null or m.repo = v_repo)
           and (v_types is null or m.event_type = any(v_types))
           and (not v_filter or m.tags && v_tags)
           and m.id <> all(v_cand)
         limit case when v_stage = any(coalesce(v_xstages, '{}')) then 20 else 100 end);
    end loop;
    -- Scoring joins each candidate's lexemes (with their weights: A summary, B tags, C the rest) to the query's
    -- members by lexeme, instead of testing every member's query against every candidate. A member of several
    -- lexemes ("pull request") needs all of them and counts with its weakest field.
    with cand as (
      select m.id, m.search from coord.memories m where m.id = any(v_cand)
    ), q as (
      select * from unnest(v_lex, v_grp, v_gw, v_f) with ordinality as q(label, grp, gw, f, k)
    ), qp as (
      select q.k, p.part, cardinality(string_to_array(q.label, ' ')) as n
        from q, unnest(string_to_array(q.label, ' ')) as p(part)
    ), cl as (
      select c.id, u.lexeme,
             case when 'A' = any(u.weights) then 1.0 when 'B' = any(u.weights) then 0.6
                  when 'C' = any(u.weights) then 0.35 else 0 end as field
        from cand c, unnest(c.search) as u
       where u.lexeme in (select part from qp)
    ), matched as (
      select cl.id, qp.k, min(cl.field) as field
        from cl join qp on qp.part = cl.lexeme
       group by cl.id, qp.k, qp.n
      having count(*) = qp.n
    ), hits as (
      select m.id, q.label as lex, q.grp, q.gw * q.f as w, q.f, m.field
        from matched m join q on q.k = m.k
    ), best as (
      -- Per group, the best member: an exact match, else the best-weighted expansion.
      select distinct on (id, grp) id, grp, lex, f, w * field as credit, field
        from hits where field > 0
       order by id, grp, w * field desc, f desc
    ), scored as (
      select id, least(1.0, sum(credit) / v_denom) as rel,
             string_agg(case when f < 1 then grp || '~' || replace(lex, ' ', '+') else lex end
                        || case when field = 1.0 then '(summary)' when field = 0.6 then '(tags)' else '(details)' end,
                        ' ' order by field desc, lex) as why
        from best group by id
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
                 and m.embedding_model is not distinct from $9
               order by d limit 50) v
       where 1 - d >= $8 $q$
      into v_vids, v_vsim
      using v_vec, v_layers, p_agent_id, v_repo, v_types, v_filter, v_tags, v_vfloor, v_model;
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
           case when sm.memory_id is not null
                then format('stale since %s: %s changed', left(sm.commit_sha, 7),
                            array_to_string(sm.files[1:3], ', ')
                            || case when cardinality(sm.files) > 3 then format(' and %s more', cardinality(sm.files) - 3) else '' end)
           end as stale,
           l.rel
           * (0.5 + 0.5 * exp(-extract(epoch from now() - m.last_seen_at) / (30 * 86400.0)))
           * (case when m.lessons is not null then 1.1 when m.outcome = 'failure' then 0.95 else 1.0 end)
           * (1 + 0.05 * ln(m.occurrences + m.use_count))
           * (case when cardinality(v_tags) = 0 then 1
                   else 1 + 0.15 * (select count(*) from unnest(m.tags) as t where t = any(v_tags)) end)
           * (case when m.layer = 'procedural'
                   then 0.5 + (m.success_count + 1)::float8 / (m.success_count + m.failure_count + 2) else 1 end)
           -- Files it names changed since: possibly out of date, so below an equally relevant current memory.
           * (case when sm.memory_id is not null then 0.7 else 1 end)
             as lscore
      from coord.memories m
      left join lexical l on l.id = m.id
      left join vec v on v.id = m.id
      left join coord.memory_stale_marks sm on sm.memory_id = m.id
     where m.id = any(v_ids || v_vids)
  ), fused as (
    select b.*,
           case when v_vector = 'on'
                then 30 * (coalesce(1.0 / (60 + case when b.lscore is not null
                                                     then row_number() over (partition by b.lscore is null order by b.lscore desc, b.id desc) end), 0)
                           + coalesce(1.0 / (60 + b.vrnk), 0) * (case when b.stale is not null then 0.7 else 1 end))
                else b.lscore end as score
      from blended b
  ), top as (
    select * from fused order by score desc, id desc limit v_limit
  )
  select coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
           'id', id, 'layer', layer, 'summary', summary, 'score', round(score::numeric, 3),
           'why', concat_ws('; ', why, case when sim is not null then format('embedding %s', round(sim::numeric, 2)) end),
           'event_type', case when layer = 'episodic' then event_type end, 'name', name, 'outcome', outcome,
           'occurrences', case when occurrences > 1 then occurrences end, 'stale', stale,
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
  'lessons, occurrences, uses, tag boosts (or a tag filter with tag_mode=filter), skill success rates and staleness '
  '(files named changed since: ranked lower, labelled); query expansions (p.expansions) count below exact terms; with an '
  'embedding and pgvector, fused with vector similarity by reciprocal rank. Answers compact rows; empty with a '
  'message when nothing clears the floor.';
