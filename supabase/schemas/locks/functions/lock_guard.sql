create function coord.lock_guard(p_repo text, p_keys text[])
returns void
language plpgsql
set search_path = ''
as $$
declare
  r record;
begin
  -- Ascending id order with shared/exclusive merged per id: the one global order that makes waits acyclic.
  for r in
    select id, bool_or(excl) as excl
      from (select hashtextextended(p_repo || E'\x1f' || k, 7321) as id, true as excl
              from unnest(p_keys) as k
            union all
            select hashtextextended(p_repo || E'\x1f' || a, 7321), false
              from unnest(p_keys) as k, unnest(coord.lock_ancestors(k)) as a) s
     group by id
     order by id
  loop
    if r.excl then
      perform pg_advisory_xact_lock(r.id);
    else
      perform pg_advisory_xact_lock_shared(r.id);
    end if;
  end loop;
end;
$$;
comment on function coord.lock_guard(text, text[]) is
  'Internal: takes the hierarchical advisory locks (exclusive on each key, shared on its ancestor scopes) in '
  'ascending id order, for the rest of the transaction. Every writer of coord.locks except the sweep calls it first.';
