create function coord.verify_lock(p_repo text, p_agent_id text, p_key text, p_token bigint)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_current jsonb;
begin
  if not coord.lock_repo_known(p_repo) then
    return coord.refusal('unknown_repo', jsonb_build_object('repo', p_repo));
  end if;
  select jsonb_agg(coord.lock_json(c) order by c.key) into v_current
    from coord.lock_conflicts(p_repo, array[p_key], clock_timestamp()) c
   where c.key = p_key or c.key = any(coord.lock_ancestors(p_key) collate "C");
  return jsonb_build_object('repo', p_repo, 'key', p_key, 'agent_id', p_agent_id, 'token', p_token,
                            'held', coord.lock_token_valid(p_repo, p_agent_id, p_key, p_token),
                            'current', coalesce(v_current, '[]'::jsonb));
end;
$$;
comment on function coord.verify_lock(text, text, text, bigint) is
  'Whether an agent still holds a key (directly or through a covering scope) under a given fencing token, plus the '
  'live locks covering the key now: what a git hook or CI step asks before trusting work done under a lock.';
