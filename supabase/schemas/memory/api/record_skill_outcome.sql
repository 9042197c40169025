create function coord.record_skill_outcome(p_agent_id text, p_session_id text, p_repo text, p_name text, p_outcome text,
                                          p_idempotency_key text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  m coord.memories;
  v_replay boolean := false;
begin
  -- A report sent again with its idempotency key (a retry after an unknown outcome) counts once.
  if p_idempotency_key is not null then
    select * into m from coord.memories
     where layer = 'procedural' and repo = coalesce(p_repo, '') and name = p_name
       and (visibility = 'shared' or agent_id = p_agent_id);
    v_replay := found and exists (
      select 1 from coord.events e
       where e.subject = m.id::text and e.kind = 'memory.skill_outcome' and e.agent_id = p_agent_id
         and e.data ->> 'idempotency_key' = p_idempotency_key);
  end if;
  if v_replay then
    return jsonb_build_object('id', m.id, 'name', m.name, 'successes', m.success_count, 'failures', m.failure_count,
                              'success_rate', round(((m.success_count + 1) / (m.success_count + m.failure_count + 2))::numeric, 3),
                              'deduplicated', true);
  end if;
  update coord.memories
     -- A partial outcome counts half a success and half a failure.
     set success_count = success_count + case p_outcome when 'success' then 1 when 'partial' then 0.5 else 0 end,
         failure_count = failure_count + case p_outcome when 'failure' then 1 when 'partial' then 0.5 else 0 end,
         use_count = use_count + 1, last_used_at = now()
   where layer = 'procedural' and repo = coalesce(p_repo, '') and name = p_name
     and (visibility = 'shared' or agent_id = p_agent_id)
  returning * into m;
  if not found then
    return coord.refusal('unknown_skill', jsonb_build_object('name', p_name, 'repo', coalesce(p_repo, '')));
  end if;
  perform coord.emit('memory.skill_outcome', p_agent_id, p_session_id, m.id::text,
                     jsonb_strip_nulls(jsonb_build_object('name', p_name, 'outcome', p_outcome,
                                                          'idempotency_key', p_idempotency_key)));
  return jsonb_build_object('id', m.id, 'name', m.name, 'successes', m.success_count,
                            'failures', m.failure_count,
                            'success_rate', round(((m.success_count + 1) / (m.success_count + m.failure_count + 2))::numeric, 3));
end;
$$;
comment on function coord.record_skill_outcome(text, text, text, text, text, text) is
  'Records one use of a skill and its outcome (success, failure, partial). Recall ranks skills by a Laplace-smoothed '
  'success rate (s+1)/(s+f+2), so a procedure that keeps failing sinks. The same p_idempotency_key from the same '
  'agent counts once (answered with deduplicated: true).';
