create function coord.admit_agent(p_agent_id text, p_agent_type text, p_session_id text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- An agent id bound to an active database key is that key's alone (admins aside, who do not come here).
  if exists (select 1 from coord.api_keys
              where agent_id = p_agent_id and revoked_at is null and (expires_at is null or expires_at > now())) then
    return coord.refusal('agent_id_reserved', jsonb_build_object('agent_id', p_agent_id));
  end if;
  -- Presence, liveness and the session's waiting notices, as for any other caller (coord.record_presence).
  return jsonb_build_object('agent_id', p_agent_id,
                            'notices', coord.record_presence(p_agent_id, p_agent_type, p_session_id));
end;
$$;
comment on function coord.admit_agent(text, text, text) is
  'Admits a caller with an unbound key (one that may act as any agent) as p_agent_id and records its presence '
  '(answering the notices waiting for its session, as coord.record_presence does), or refuses agent_id_reserved when '
  'an active database key is bound to that id.';
