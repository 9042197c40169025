create function coord.record_presence(p_agent_id text, p_agent_type text, p_session_id text)
returns int
language plpgsql
security definer
set search_path = ''
as $$
declare
  s coord.sessions;
begin
  if p_session_id is not null then
    select * into s from coord.sessions where agent_id = p_agent_id and session_id = p_session_id;
    -- Seen a moment ago (5 s, or a quarter of a short timeout) under the same type: presence and liveness are fresh,
    -- so the call writes nothing (no commit to flush). Every MCP request of a session comes through here.
    if found and s.agent_type = coalesce(p_agent_type, s.agent_type) and s.end_cause is distinct from 'expired'
       and s.last_seen_at > now() - least(interval '5 seconds', make_interval(secs => coalesce(s.timeout_seconds, 20) / 4.0))
    then
      return (select count(*) from coord.session_notices n where n.agent_id = p_agent_id and n.session_id = p_session_id);
    end if;
  end if;

  perform coord.touch_agent(p_agent_id, p_agent_type, p_session_id);
  if p_session_id is null then
    return 0;
  end if;
  select * into s from coord.sessions where agent_id = p_agent_id and session_id = p_session_id for update;
  -- A session that stopped heartbeating past its timeout is dead, even if nothing declared it yet: declare it now, so
  -- what it lost is recorded (and told in this very answer) before its process goes on.
  if s.ended_at is null and s.live_until <= now() then
    perform coord.session_expire(s);
  end if;
  -- Any call of the session is a sign of life: it extends the liveness (never the leases: heartbeats renew those),
  -- and brings back a session that was declared dead — with nothing: what it held is gone.
  update coord.sessions x
     set live_until = case when x.timeout_seconds is null then null
                           else greatest(x.live_until, now() + make_interval(secs => x.timeout_seconds)) end,
         ended_at = case when x.end_cause = 'expired' then null else x.ended_at end,
         end_cause = case when x.end_cause = 'expired' then null else x.end_cause end
   where x.agent_id = p_agent_id and x.session_id = p_session_id;
  return (select count(*) from coord.session_notices n where n.agent_id = p_agent_id and n.session_id = p_session_id);
end;
$$;
comment on function coord.record_presence(text, text, text) is
  'Records that an agent (and its session, when given) made an authenticated call (coord.touch_agent): presence for '
  'everyone else, and a sign of life that extends a heartbeating session''s liveness (a session dead past its timeout '
  'is declared dead first, then revived with nothing). Writes at most every 5 s per session. Answers how many notices '
  'wait for the session (what was taken from it), so the MCP route looks them up only when there are some.';
