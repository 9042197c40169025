create function coord.authenticate(p_key_hash text, p_agent_id text, p_agent_type text, p_session_id text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  k coord.api_keys;
  v_agent text;
  v_notices int;
begin
  select * into k from coord.api_keys where key_hash = p_key_hash and revoked_at is null;
  if not found then
    return coord.refusal('invalid_key');
  end if;
  if k.expires_at is not null and k.expires_at <= now() then
    return coord.refusal('key_expired', jsonb_build_object('expired_at', k.expires_at, 'prefix', k.key_prefix));
  end if;

  if k.scope = 'agent' and p_agent_id is not null and p_agent_id <> k.agent_id then
    return coord.refusal('key_bound_to_other_agent', jsonb_build_object('bound_agent_id', k.agent_id, 'agent_id', p_agent_id));
  end if;
  v_agent := coalesce(p_agent_id, k.agent_id);

  v_notices := coord.record_presence(v_agent, p_agent_type, p_session_id);
  -- last_used_at is for operators, not for auditing each call: write it at most once a minute.
  update coord.api_keys set last_used_at = now()
   where id = k.id and (last_used_at is null or last_used_at < now() - interval '1 minute');

  -- bound: the caller acts as the key's own agent (always, for an agent key). key: names the key in events without
  -- revealing it. notices: how many lost-lock/claim notices wait for its session.
  return jsonb_build_object('agent_id', v_agent, 'scope', k.scope, 'trust_level', k.trust_level,
                            'bound', v_agent = k.agent_id, 'key', k.key_prefix, 'notices', v_notices);
end;
$$;
comment on function coord.authenticate(text, text, text, text) is
  'Resolves a database API key (by SHA-256 digest) to an identity and records the agent in the same round trip, with '
  'the number of notices waiting for its session. Refuses invalid_key for unknown/revoked keys, key_expired past '
  'expires_at, and key_bound_to_other_agent for an agent key used under another id. bound says whether the caller '
  'acts as the key''s own agent.';
