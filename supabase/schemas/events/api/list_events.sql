create function coord.list_events(p_viewer text, p_admin boolean, p_after bigint, p_before bigint, p_kinds text[],
                                  p_repo text, p_since timestamptz, p_until timestamptz, p_descending boolean,
                                  p_limit int)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_limit int := least(greatest(p_limit, 1), 5000);
  v_events jsonb;
begin
  -- Two statements rather than one ordered by a case expression, so each walks the primary key in its direction.
  if p_descending then
    select jsonb_agg(coord.event_json(x) order by x.id desc) into v_events from (
      select e.* from coord.events e
       where e.id > coalesce(p_after, 0) and (p_before is null or e.id < p_before)
         and (p_kinds is null or exists (select 1 from unnest(p_kinds) k
                                          where e.kind = k or (right(k, 1) = '.' and left(e.kind, length(k)) = k)))
         and (p_repo is null or e.data ->> 'repo' = p_repo)
         and (p_since is null or e.occurred_at >= p_since) and (p_until is null or e.occurred_at < p_until)
         and (p_admin or coord.event_audience(e.kind) = 'all'
              or (coord.event_audience(e.kind) = 'agent' and e.agent_id = p_viewer))
       order by e.id desc limit v_limit) x;
  else
    select jsonb_agg(coord.event_json(x) order by x.id) into v_events from (
      select e.* from coord.events e
       where e.id > coalesce(p_after, 0) and (p_before is null or e.id < p_before)
         and (p_kinds is null or exists (select 1 from unnest(p_kinds) k
                                          where e.kind = k or (right(k, 1) = '.' and left(e.kind, length(k)) = k)))
         and (p_repo is null or e.data ->> 'repo' = p_repo)
         and (p_since is null or e.occurred_at >= p_since) and (p_until is null or e.occurred_at < p_until)
         and (p_admin or coord.event_audience(e.kind) = 'all'
              or (coord.event_audience(e.kind) = 'agent' and e.agent_id = p_viewer))
       order by e.id limit v_limit) x;
  end if;
  return jsonb_build_object('events', coalesce(v_events, '[]'::jsonb));
end;
$$;
comment on function coord.list_events(text, boolean, bigint, bigint, text[], text, timestamptz, timestamptz, boolean, int) is
  'The audit query and the backlog of a resumed stream: events between two ids (exclusive), filtered by kind (exact, '
  'or a prefix ending in a dot), repository (data.repo) and time, in id order or newest first, bounded. Shows the '
  'viewer what coord.event_audience allows: everything to an admin; to an agent the shared events and its own.';
