create function coord.release_locks(p_repo text, p_agent_id text, p_keys text[], p_force boolean default false)
returns jsonb
language plpgsql
security definer
set search_path = ''
-- A hot path of small plans: JIT compiling one (past jit_above_cost on a large table) costs more than it saves.
set jit = off
as $$
declare
  v_keys text[];
  v_now timestamptz;
  v_foreign jsonb;
  v_released jsonb;
  v_not_held jsonb;
  r coord.locks;
begin
  if not coord.lock_repo_known(p_repo) then
    return coord.refusal('unknown_repo', jsonb_build_object('repo', p_repo));
  end if;
  select array_agg(distinct k order by k) into v_keys from unnest(p_keys) as k;
  if v_keys is null or cardinality(v_keys) > 50 then
    return coord.refusal('invalid_input', jsonb_build_object('message', 'send 1 to 50 keys'));
  end if;

  perform coord.lock_guard(p_repo, v_keys);
  v_now := clock_timestamp();

  -- All or nothing: without p_force, a key another agent holds live deletes none. The check rides in the delete
  -- (one statement on the common path); only a call that released less than it named looks for who holds the rest.
  v_released := '[]'::jsonb;
  for r in
    delete from coord.locks l
     where l.repo = p_repo and l.key = any(v_keys) and (p_force or l.agent_id = p_agent_id)
       and (p_force or not exists (select 1 from coord.locks f
                                    where f.repo = p_repo and f.key = any(v_keys) and f.expires_at > v_now
                                      and f.agent_id <> p_agent_id))
    returning l.*
  loop
    if r.expires_at <= v_now then
      perform coord.lock_lost(r, 'lock.expired');
      continue;
    end if;
    if r.agent_id = p_agent_id then
      perform coord.emit('lock.released', p_agent_id, r.session_id, r.key,
                         jsonb_build_object('repo', p_repo, 'token', r.token));
    else
      perform coord.lock_lost(r, 'lock.force_released', p_agent_id);
    end if;
    v_released := v_released || jsonb_build_object('key', r.key, 'token', r.token, 'holder', r.agent_id);
  end loop;

  if not p_force and jsonb_array_length(v_released) < cardinality(v_keys) then
    select jsonb_agg(coord.lock_holder_json(l, v_now) order by l.key) into v_foreign
      from coord.locks l
     where l.repo = p_repo and l.key = any(v_keys) and l.expires_at > v_now and l.agent_id <> p_agent_id;
    if v_foreign is not null then
      -- Nothing was deleted (the delete's own check saw the same holder under the guard).
      return coord.refusal('not_holder', jsonb_build_object('repo', p_repo, 'held', v_foreign, 'now', v_now));
    end if;
  end if;

  -- For each key not released: who (if anyone) holds a lock covering it now, e.g. your own scope src/.
  select jsonb_agg(jsonb_build_object('key', k, 'held_by', (
           select jsonb_build_object('agent_id', c.agent_id, 'key', c.key, 'expires_at', c.expires_at)
             from coord.lock_conflicts(p_repo, array[k], v_now) c
            order by length(c.key) limit 1)) order by k)
    into v_not_held
    from unnest(v_keys) as k
   where not exists (select 1 from jsonb_array_elements(v_released) e where e.value ->> 'key' = k);

  return jsonb_build_object('repo', p_repo, 'released', v_released,
                            'not_held', coalesce(v_not_held, '[]'::jsonb), 'released_at', v_now);
end;
$$;
comment on function coord.release_locks(text, text, text[], boolean) is
  'Releases the agent''s live locks on exactly these keys (p_force: anyone''s, recorded as lock.force_released). '
  'Refuses the whole call with not_holder when another agent holds one of them and p_force is false. Answers '
  'released:[{key, token, holder}], not_held:[{key, held_by}] and released_at.';
