create function coord.lock_json(l coord.locks)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- plpgsql for a cached plan (see coord.lock_ancestors): it shapes every lock of every answer.
  return jsonb_build_object('key', l.key, 'agent_id', l.agent_id, 'reason', l.reason, 'token', l.token,
                            'acquired_at', l.acquired_at, 'expires_at', l.expires_at);
end;
$$;
comment on function coord.lock_json(coord.locks) is 'Internal: the public shape of a lock row (no session id).';
