create function coord.lock_conflicts(p_repo text, p_keys text[], p_now timestamptz)
returns setof coord.locks
language plpgsql
stable
set search_path = ''
as $$
declare
  v_probe text[] := p_keys;
  v_scopes text[];
  k text;
begin
  -- Equal keys and ancestor scopes are point lookups: one index probe with every key and every ancestor at once.
  -- The array carries the column's collation ("C"), or the planner cannot probe the index with it.
  foreach k in array p_keys loop
    v_probe := v_probe || coord.lock_ancestors(k);
  end loop;
  v_scopes := array(select d from unnest(p_keys) as d where right(d, 1) = '/');
  if cardinality(v_scopes) = 0 then
    return query
      select * from coord.locks x where x.repo = p_repo and x.key = any(v_probe collate "C") and x.expires_at > p_now;
    return;
  end if;
  -- A requested scope also conflicts with everything inside it: in the C collation, the range
  -- [scope, scope-without-/ || '0').
  return query
    select * from coord.locks x where x.repo = p_repo and x.key = any(v_probe collate "C") and x.expires_at > p_now
    union
    select x.* from unnest(v_scopes) as d
      join coord.locks x on x.repo = p_repo and x.key > d collate "C" and x.key < (left(d, -1) || '0') collate "C"
     where x.expires_at > p_now;
end;
$$;
comment on function coord.lock_conflicts(text, text[], timestamptz) is
  'Internal: live locks (at p_now) in a repo that overlap any of the keys, whoever holds them.';
