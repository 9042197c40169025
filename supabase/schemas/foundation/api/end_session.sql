create function coord.end_session(p_agent_id text, p_session_id text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_found boolean;
begin
  -- Triggers on ended_at release what the session held (locks, claims).
  update coord.sessions set ended_at = now()
   where agent_id = p_agent_id and session_id = p_session_id and ended_at is null;
  v_found := found;
  if v_found then
    perform coord.emit('session.ended', p_agent_id, p_session_id, p_session_id, '{}'::jsonb);
  end if;
  return jsonb_build_object('session_id', p_session_id, 'ended', v_found);
end;
$$;
comment on function coord.end_session(text, text) is 'Ends a session; capabilities release its locks and claims from triggers on ended_at.';
