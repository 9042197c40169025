create function coord.unsynced_changesets(p_limit int)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(jsonb_agg(id), '[]'::jsonb)
  from (select id from coord.changesets where check_synced_version < version order by updated_at limit least(greatest(p_limit, 1), 100)) x
$$;
comment on function coord.unsynced_changesets(int) is 'Changesets whose GitHub check run is behind their state (bounded).';
