create function coord.touch_agent(p_agent_id text, p_agent_type text, p_session_id text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into coord.agents as a (agent_id, agent_type, last_session_id)
  values (p_agent_id, coalesce(p_agent_type, 'unknown'), p_session_id)
  on conflict (agent_id) do update
    set last_seen_at = now(),
        agent_type = coalesce(p_agent_type, a.agent_type),
        last_session_id = coalesce(p_session_id, a.last_session_id);

  if p_session_id is not null then
    insert into coord.sessions as s (agent_id, session_id, agent_type)
    values (p_agent_id, p_session_id, coalesce(p_agent_type, 'unknown'))
    on conflict (agent_id, session_id) do update
      set last_seen_at = now();
  end if;
end;
$$;
comment on function coord.touch_agent(text, text, text) is
  'Records that an agent (and its session, when given) made an authenticated call: presence for everyone else.';
