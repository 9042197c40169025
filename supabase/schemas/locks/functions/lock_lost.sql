create function coord.lock_lost(l coord.locks, p_kind text, p_by text default null)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_cause text;
begin
  -- Why the holder lost it: an admin took it, its session stopped heartbeating (the lock lived only as long as the
  -- session), or its TTL ran out with nobody renewing it.
  v_cause := case when p_kind = 'lock.force_released' then 'force_released'
                  when coord.session_dead(l.agent_id, l.session_id, l.ttl_seconds) then 'session_expired'
                  else 'ttl_expired' end;
  if p_kind = 'lock.force_released' then
    perform coord.emit(p_kind, p_by, null, l.key,
                       jsonb_build_object('repo', l.repo, 'token', l.token, 'holder', l.agent_id,
                                          'holder_session', l.session_id, 'cause', v_cause));
  else
    perform coord.emit(p_kind, l.agent_id, l.session_id, l.key,
                       jsonb_build_object('repo', l.repo, 'token', l.token, 'expires_at', l.expires_at, 'cause', v_cause));
  end if;
  perform coord.session_notice(l.agent_id, l.session_id, 'lock_lost', l.key, l.repo, l.token, v_cause, p_by,
                               case when p_kind = 'lock.force_released' then clock_timestamp() else l.expires_at end,
                               jsonb_build_object('reason', l.reason));
end;
$$;
comment on function coord.lock_lost(coord.locks, text, text) is
  'Internal: records a lock taken from its holder — lock.expired (cause session_expired or ttl_expired) or '
  'lock.force_released (by p_by) — and leaves a notice for the holder''s session. The caller has deleted the row.';
