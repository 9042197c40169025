create function coord.open_dashboard_session(p_token_hash text, p_key_hash text, p_agent_id text, p_hours int)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_expires timestamptz := now() + make_interval(hours => least(greatest(p_hours, 1), 168));
begin
  -- Expired sessions go on the way in: sign-ins are rare, so the table stays small without a sweeper.
  delete from coord.dashboard_sessions where expires_at < now();
  insert into coord.dashboard_sessions (token_hash, key_hash, agent_id, expires_at)
  values (p_token_hash, p_key_hash, p_agent_id, v_expires);
  perform coord.emit('dashboard.signed_in', p_agent_id, null, p_agent_id, '{}'::jsonb);
  return jsonb_build_object('agent_id', p_agent_id, 'expires_at', v_expires);
end;
$$;
comment on function coord.open_dashboard_session(text, text, text, int) is
  'Opens a dashboard session for a key the app has just checked: stores the digests of the cookie token and of the '
  'key, for p_hours (1–168). Records dashboard.signed_in.';
