create function coord.session_dead(p_agent_id text, p_session_id text, p_held_seconds int default null)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  -- plpgsql for a cached plan: it names the cause of every expiry the sweeps record. clock_timestamp(), not now():
  -- a caller that waited for its lock guard decided the expiry after its transaction began. A lock or claim held for
  -- at least the session's timeout can only have lapsed with the session's liveness (heartbeats renew it to
  -- live_until), even if a late heartbeat has brought the session back since.
  return exists (select 1 from coord.sessions s
                  where s.agent_id = p_agent_id and s.session_id = p_session_id and s.timeout_seconds is not null
                    and (p_held_seconds >= s.timeout_seconds or s.end_cause = 'expired'
                         or (s.ended_at is null and s.live_until <= clock_timestamp())));
end;
$$;
comment on function coord.session_dead(text, text, int) is
  'Internal: whether something a session held (for p_held_seconds: its TTL or lease) lapsed because the session '
  'stopped heartbeating past its timeout rather than by its own TTL or lease. Names the cause of an expiry: '
  'session_expired.';
