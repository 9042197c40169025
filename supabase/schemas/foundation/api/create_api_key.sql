create function coord.create_api_key(p_key_hash text, p_key_prefix text, p_agent_id text, p_scope text,
                                     p_trust_level int, p_label text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  insert into coord.api_keys (key_hash, key_prefix, agent_id, scope, trust_level, label)
  values (p_key_hash, p_key_prefix, p_agent_id, p_scope, p_trust_level, p_label)
  returning id into v_id;
  perform coord.emit('key.created', p_agent_id, null, v_id::text,
                     jsonb_build_object('scope', p_scope, 'trust_level', p_trust_level, 'prefix', p_key_prefix));
  return jsonb_build_object('id', v_id, 'agent_id', p_agent_id, 'scope', p_scope, 'trust_level', p_trust_level);
end;
$$;
comment on function coord.create_api_key(text, text, text, text, int, text) is
  'Stores a new API key by digest. The plaintext key is shown once by the caller and never stored.';
