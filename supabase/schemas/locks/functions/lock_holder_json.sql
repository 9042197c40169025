create function coord.lock_holder_json(l coord.locks, p_now timestamptz)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  -- Refusals only (a handful of rows): who holds it and whether that holder is still alive.
  return coord.lock_json(l) || jsonb_build_object('holder', coord.session_liveness(l.agent_id, l.session_id, p_now));
end;
$$;
comment on function coord.lock_holder_json(coord.locks, timestamptz) is
  'Internal: a lock as refusals show it: its public shape plus holder, the liveness of the holding session '
  '(alive, unresponsive, dead or none, with its last heartbeat), so an agent knows whether waiting will help.';
