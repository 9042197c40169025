create function coord.check_locks(p_repo text, p_keys text[], p_limit int default 200)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_locks jsonb;
  v_limit int := least(greatest(coalesce(p_limit, 200), 1), 500);
  v_total int;
begin
  if not coord.lock_repo_known(p_repo) then
    return coord.refusal('unknown_repo', jsonb_build_object('repo', p_repo));
  end if;
  if p_keys is null or cardinality(p_keys) = 0 then
    select count(*) into v_total from coord.locks where repo = p_repo and expires_at > now();
    select jsonb_agg(coord.lock_json(l) order by l.key) into v_locks
      from (select * from coord.locks where repo = p_repo and expires_at > now() order by key limit v_limit) l;
  else
    select count(*) into v_total from coord.lock_conflicts(p_repo, p_keys, now());
    select jsonb_agg(coord.lock_json(c) order by c.key) into v_locks
      from (select * from coord.lock_conflicts(p_repo, p_keys, now()) order by key limit v_limit) c;
  end if;
  return jsonb_build_object('repo', p_repo, 'locks', coalesce(v_locks, '[]'::jsonb),
                            'truncated', v_total > v_limit, 'now', now());
end;
$$;
comment on function coord.check_locks(text, text[], int) is
  'Live locks in a repo overlapping the given keys (the keys themselves, scopes covering them, locks inside a '
  'requested scope), or all live locks in the repo when no keys are given. Never shows expired locks. Bounded.';
