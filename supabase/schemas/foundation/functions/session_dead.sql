create function coord.session_dead(p_agent_id text, p_session_id text)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  -- plpgsql for a cached plan: it names the cause of every expiry the sweeps record. clock_timestamp(), not now():
  -- a caller that waited for its lock guard decided the expiry after its transaction began.
  return exists (select 1 from coord.sessions s
                  where s.agent_id = p_agent_id and s.session_id = p_session_id and s.timeout_seconds is not null
                    and (s.end_cause = 'expired' or (s.ended_at is null and s.live_until <= clock_timestamp())));
end;
$$;
comment on function coord.session_dead(text, text) is
  'Internal: whether a session with liveness has stopped heartbeating past its timeout (or was ended for it). Names '
  'the cause of an expiry: session_expired rather than the TTL or lease running out.';
