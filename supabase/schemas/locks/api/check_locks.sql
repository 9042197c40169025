create function coord.check_locks(p_repo text, p_keys text[], p_limit int default 200, p_after text default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_locks jsonb;
  v_limit int := least(greatest(coalesce(p_limit, 200), 1), 500);
  v_rows coord.locks[];
  v_total int;
begin
  if not coord.lock_repo_known(p_repo) then
    return coord.refusal('unknown_repo', jsonb_build_object('repo', p_repo));
  end if;
  -- Keyset paging by key: p_after is the last key of the previous page. One row past the page says there is more.
  if p_keys is null or cardinality(p_keys) = 0 then
    select count(*) into v_total from coord.locks where repo = p_repo and expires_at > now();
    v_rows := array(select l from coord.locks l
                     where l.repo = p_repo and l.expires_at > now() and (p_after is null or l.key > p_after collate "C")
                     order by l.key limit v_limit + 1);
  else
    select count(*) into v_total from coord.lock_conflicts(p_repo, p_keys, now());
    v_rows := array(select c from coord.lock_conflicts(p_repo, p_keys, now()) c
                     where p_after is null or c.key > p_after collate "C"
                     order by c.key limit v_limit + 1);
  end if;
  select jsonb_agg(coord.lock_json(v_rows[i]) order by i) into v_locks
    from generate_subscripts(v_rows, 1) as i where i <= v_limit;
  return jsonb_build_object('repo', p_repo, 'locks', coalesce(v_locks, '[]'::jsonb),
                            'truncated', v_total > v_limit,
                            'next_cursor', case when cardinality(v_rows) > v_limit then to_jsonb(v_rows[v_limit].key) end,
                            'now', now());
end;
$$;
comment on function coord.check_locks(text, text[], int, text) is
  'Live locks in a repo overlapping the given keys (the keys themselves, scopes covering them, locks inside a '
  'requested scope), or all live locks in the repo when no keys are given. Never shows expired locks. Bounded and '
  'paged by key: next_cursor (the last key shown) is set when more follow; pass it as p_after.';
