create function coord.current_locks(p_limit int default 200)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'locks', coalesce((select jsonb_agg(coord.lock_json(l) || jsonb_build_object('repo', l.repo) order by l.repo, l.key)
                         from (select * from coord.locks where expires_at > now() order by repo, key
                               limit least(greatest(coalesce(p_limit, 200), 1), 500)) l), '[]'::jsonb),
    'total', (select count(*) from coord.locks where expires_at > now()),
    'now', now())
$$;
comment on function coord.current_locks(int) is 'Live locks in every repo (bounded), for the locks://current resource.';
