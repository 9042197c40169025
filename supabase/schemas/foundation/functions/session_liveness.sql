create function coord.session_liveness(p_agent_id text, p_session_id text, p_now timestamptz)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  s coord.sessions;
  v_last timestamptz;
begin
  if p_session_id is not null then
    select * into s from coord.sessions where agent_id = p_agent_id and session_id = p_session_id;
  end if;
  if s.timeout_seconds is null then
    -- No heartbeating session: what it holds is bounded by its own TTL or lease.
    return jsonb_build_object('state', 'none');
  end if;
  -- live_until is the last heartbeat (or call) plus the timeout.
  v_last := s.live_until - make_interval(secs => s.timeout_seconds);
  return jsonb_build_object(
    'state', case when s.end_cause = 'expired' or s.live_until <= p_now then 'dead'
                  -- More than half the timeout without a sign of life: at least one heartbeat missed.
                  when p_now - v_last > make_interval(secs => s.timeout_seconds / 2.0) then 'unresponsive'
                  else 'alive' end,
    'last_heartbeat_at', v_last,
    'live_until', s.live_until,
    'timeout_seconds', s.timeout_seconds);
end;
$$;
comment on function coord.session_liveness(text, text, timestamptz) is
  'Internal: a holder''s liveness at p_now for refusals: state alive | unresponsive (no heartbeat for over half the '
  'timeout) | dead | none (no heartbeating session), last_heartbeat_at (last heartbeat or call), live_until, '
  'timeout_seconds.';
