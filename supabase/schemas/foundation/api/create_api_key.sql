create function coord.create_api_key(p_key_hash text, p_key_prefix text, p_agent_id text, p_scope text,
                                     p_trust_level int, p_label text, p_expires_at timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  if p_expires_at is not null and p_expires_at <= now() then
    return coord.refusal('invalid_input', jsonb_build_object('field', 'expires_at',
      'message', 'expires_at must be in the future'));
  end if;
  insert into coord.api_keys (key_hash, key_prefix, agent_id, scope, trust_level, label, expires_at)
  values (p_key_hash, p_key_prefix, p_agent_id, p_scope, p_trust_level, p_label, p_expires_at)
  returning id into v_id;
  perform coord.emit('key.created', p_agent_id, null, v_id::text,
                     jsonb_build_object('scope', p_scope, 'trust_level', p_trust_level, 'prefix', p_key_prefix,
                                        'expires_at', p_expires_at));
  return jsonb_build_object('id', v_id, 'agent_id', p_agent_id, 'scope', p_scope, 'trust_level', p_trust_level,
                            'expires_at', p_expires_at);
end;
$$;
comment on function coord.create_api_key(text, text, text, text, int, text, timestamptz) is
  'Stores a new API key by digest, optionally expiring at p_expires_at (refused unless in the future). The plaintext '
  'key is shown once by the caller and never stored. Its agent id is reserved from then on (coord.admit_agent).';
