create function coord.end_session(p_agent_id text, p_session_id text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_found boolean;
begin
  -- Triggers on ended_at release what the session held (locks, claims) and fold its working memory.
  update coord.sessions set ended_at = now(), end_cause = 'ended'
   where agent_id = p_agent_id and session_id = p_session_id and ended_at is null;
  v_found := found;
  if v_found then
    perform coord.emit('session.ended', p_agent_id, p_session_id, p_session_id, '{}'::jsonb);
  end if;
  -- The process is leaving on its own: nobody is left to tell what it lost.
  delete from coord.session_notices where agent_id = p_agent_id and session_id = p_session_id;
  return jsonb_build_object('session_id', p_session_id, 'ended', v_found);
end;
$$;
comment on function coord.end_session(text, text) is
  'Ends a session (end_cause ended); capabilities release its locks and claims and fold its working memory from '
  'triggers on ended_at. Drops the notices waiting for it.';
