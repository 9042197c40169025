create function coord.status()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return jsonb_build_object(
    'schema_version', coord.schema_version(),
    'agents', (select count(*) from coord.agents),
    -- Heartbeating sessions are live until their liveness lapses; others count while seen in the last 2 minutes.
    'live_sessions', (select count(*) from coord.sessions
                       where ended_at is null and coalesce(live_until > now(), last_seen_at > now() - interval '2 minutes')),
    'locks', coord.count_if_exists('coord.locks', 'expires_at > now()'),
    'tasks', coord.count_if_exists('coord.tasks', 'status in (''pending'', ''claimed'')'),
    'now', now()
  );
end;
$$;
comment on function coord.status() is 'Counts for the coordinator://status resource: agents, live sessions, active locks, open tasks.';
