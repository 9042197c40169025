create function coord.heartbeat(p_agent_id text, p_session_id text, p_agent_type text, p_timeout_seconds int default 90)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  s coord.sessions;
begin
  -- Presence first: it creates the row, and declares this session dead if it comes back after its timeout (what it
  -- held is then released and noticed before it lives again).
  perform coord.record_presence(p_agent_id, p_agent_type, p_session_id);
  -- Then this session's row lock, before expiring others: many sessions coming back at once (after an outage) each
  -- hold their own row and skip the others', so none waits for another (expire_sessions skips locked rows).
  perform 1 from coord.sessions where agent_id = p_agent_id and session_id = p_session_id for update;
  -- Heartbeats arrive from every bridge every 30 s: the natural clock for declaring other sessions dead. Before the
  -- update below, whose triggers take this session's lock guards: the expiry takes none.
  perform coord.expire_sessions(100);
  -- Triggers of later capabilities hang on this column: they renew the session's lock and task leases, each to no
  -- later than live_until, so a session that stops heartbeating holds nothing past it.
  update coord.sessions
     set last_heartbeat_at = now(), last_seen_at = now(), ended_at = null, end_cause = null,
         timeout_seconds = p_timeout_seconds, live_until = now() + make_interval(secs => p_timeout_seconds)
   where agent_id = p_agent_id and session_id = p_session_id
  returning * into s;
  return jsonb_build_object('session_id', s.session_id, 'heartbeat_at', s.last_heartbeat_at,
                            'live_until', s.live_until, 'timeout_seconds', s.timeout_seconds);
end;
$$;
comment on function coord.heartbeat(text, text, text, int) is
  'Marks a session alive until now + p_timeout_seconds (the server''s COORDINATOR_SESSION_TIMEOUT_SECONDS). '
  'Capabilities renew the leases of live sessions from triggers on last_heartbeat_at, capped at live_until. Also '
  'declares dead sessions dead (coord.expire_sessions). A heartbeat after the timeout revives the session with '
  'nothing: what it held was released (and the session is told on its next MCP tool call).';
