create function coord.list_memories(p_agent_id text, p_layer text, p_repo text, p_limit int, p_after bigint default null)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  -- Newest first, keyset paging on id; what the caller may see (shared, or its own private ones), compact rows.
  with page as (
    select m.*, row_number() over (order by m.id desc) as n
      from (select * from coord.memories m
             where (m.visibility = 'shared' or m.agent_id = p_agent_id)
               and (p_layer is null or m.layer = p_layer)
               and (p_repo is null or m.repo = p_repo)
               and (p_after is null or m.id < p_after)
             order by m.id desc
             limit least(greatest(coalesce(p_limit, 50), 1), 200) + 1) m
  )
  select jsonb_build_object(
    'memories', coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
        'id', p.id, 'layer', p.layer, 'repo', p.repo, 'visibility', p.visibility, 'agent_id', p.agent_id,
        'event_type', p.event_type, 'name', p.name, 'summary', p.summary, 'outcome', p.outcome,
        'occurrences', p.occurrences, 'created_at', p.created_at)) order by p.n)
      filter (where p.n <= least(greatest(coalesce(p_limit, 50), 1), 200)), '[]'::jsonb),
    'next_cursor', case when count(*) > least(greatest(coalesce(p_limit, 50), 1), 200)
                        then to_jsonb(min(p.id) filter (where p.n <= least(greatest(coalesce(p_limit, 50), 1), 200))) end)
  from page p
$$;
comment on function coord.list_memories(text, text, text, int, bigint) is
  'Lists the episodic and procedural memories an agent may see (shared, or its own private ones), newest first, '
  'optionally by layer and repo; at most 200 a page, next_cursor (the last id shown, set when more follow) goes back '
  'as p_after. Compact rows: memory_details expands them.';
