create function coord.close_dashboard_session(p_token_hash text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_agent text;
begin
  delete from coord.dashboard_sessions where token_hash = p_token_hash returning agent_id into v_agent;
  if v_agent is not null then
    perform coord.emit('dashboard.signed_out', v_agent, null, v_agent, '{}'::jsonb);
  end if;
  return jsonb_build_object('closed', v_agent is not null);
end;
$$;
comment on function coord.close_dashboard_session(text) is 'Ends a dashboard session (sign-out). Records dashboard.signed_out.';
