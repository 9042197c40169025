create function coord.session_lease_end(p_agent_id text, p_session_id text, p_now timestamptz, p_seconds int)
returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
declare
  s coord.sessions;
begin
  if p_session_id is not null then
    select * into s from coord.sessions where agent_id = p_agent_id and session_id = p_session_id;
  end if;
  if s.timeout_seconds is null then
    -- No heartbeating session: the TTL or lease alone bounds it.
    return p_now + make_interval(secs => p_seconds);
  end if;
  -- Never past the session's liveness: when it stops heartbeating, what it holds is free with it. (A caller whose
  -- liveness has lapsed is alive after all — it is calling: give it one timeout; its next heartbeat revives it.)
  return least(p_now + make_interval(secs => p_seconds),
               case when s.live_until > p_now then s.live_until
                    else p_now + make_interval(secs => s.timeout_seconds) end);
end;
$$;
comment on function coord.session_lease_end(text, text, timestamptz, int) is
  'Internal: when a lock or claim granted (or renewed) at p_now for p_seconds ends: p_now + p_seconds, capped at the '
  'holding session''s live_until when it heartbeats, so nothing outlives its session''s liveness.';
