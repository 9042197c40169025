create function coord.get_dashboard_session(p_token_hash text)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(
    (select jsonb_build_object('key_hash', s.key_hash, 'agent_id', s.agent_id, 'expires_at', s.expires_at)
       from coord.dashboard_sessions s where s.token_hash = p_token_hash and s.expires_at > now()),
    coord.refusal('no_session'))
$$;
comment on function coord.get_dashboard_session(text) is
  'The dashboard session of a cookie token digest: the key digest to authenticate again and the agent id it acts '
  'as; refuses no_session when there is none or it expired.';
