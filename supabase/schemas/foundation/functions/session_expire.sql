create function coord.session_expire(s coord.sessions)
returns void
language plpgsql
set search_path = ''
as $$
begin
  -- The caller holds the session's row lock and has seen it dead (live_until passed, not ended).
  perform coord.emit('session.expired', s.agent_id, s.session_id, s.session_id,
                     jsonb_build_object('live_until', s.live_until, 'timeout_seconds', s.timeout_seconds,
                                        'last_heartbeat_at', s.last_heartbeat_at, 'last_seen_at', s.last_seen_at));
  -- The ended_at triggers of the capabilities release what it held, naming the expiry (end_cause expired).
  update coord.sessions set ended_at = now(), end_cause = 'expired'
   where agent_id = s.agent_id and session_id = s.session_id and ended_at is null;
end;
$$;
comment on function coord.session_expire(coord.sessions) is
  'Internal: declares one session dead: records session.expired first, then ends it with end_cause expired, so the '
  'capabilities'' ended_at triggers release its locks and claims and fold its working memory, each naming the cause. '
  'Takes no lock guard: the triggers delete only the expired locks and skip rows someone else holds (those expire on '
  'their own), so it may run in any transaction.';
