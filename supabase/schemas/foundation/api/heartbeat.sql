create function coord.heartbeat(p_agent_id text, p_session_id text, p_agent_type text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  s coord.sessions;
begin
  perform coord.touch_agent(p_agent_id, p_agent_type, p_session_id);
  -- Triggers of later capabilities hang on this column: they renew the session's lock and task leases.
  update coord.sessions set last_heartbeat_at = now(), ended_at = null
   where agent_id = p_agent_id and session_id = p_session_id
  returning * into s;
  return jsonb_build_object('session_id', s.session_id, 'heartbeat_at', s.last_heartbeat_at);
end;
$$;
comment on function coord.heartbeat(text, text, text) is
  'Marks a session alive. Capabilities renew the leases of live sessions from triggers on last_heartbeat_at.';
