create function coord.session_notice(p_agent_id text, p_session_id text, p_kind text, p_subject text, p_repo text,
                                     p_token bigint, p_cause text, p_by text, p_lost_at timestamptz,
                                     p_detail jsonb default '{}'::jsonb)
returns void
language plpgsql
set search_path = ''
as $$
begin
  -- Only sessions can be told: a lock or claim taken without a session id has nobody to hear about its loss.
  if p_session_id is null then
    return;
  end if;
  insert into coord.session_notices (agent_id, session_id, kind, subject, repo, token, cause, by_agent, lost_at, detail)
  values (p_agent_id, p_session_id, p_kind, p_subject, p_repo, p_token, p_cause, p_by, p_lost_at,
          coalesce(p_detail, '{}'::jsonb));
end;
$$;
comment on function coord.session_notice(text, text, text, text, text, bigint, text, text, timestamptz, jsonb) is
  'Internal: records that a lock or claim was taken from a session (kind lock_lost or claim_lost, the cause, who took '
  'it, when it stopped being valid), in the transaction of the loss, for the session''s next MCP tool answer.';
