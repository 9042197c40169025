create function coord.get_overview(p_viewer text, p_admin boolean)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  -- A heartbeating session is alive until its live_until (session liveness); one that never heartbeated (one-shot
  -- REST calls) counts as present while it was seen in the last two minutes.
  with live as (
    select agent_id, session_id from coord.sessions s
     where s.ended_at is null
       and case when s.live_until is not null then s.live_until > now()
                else s.last_seen_at > now() - interval '2 minutes' end
  ), active_locks as (
    select * from coord.locks where expires_at > now()
  )
  select jsonb_build_object(
    'now', now(),
    'agents', coalesce((
      select jsonb_agg(x.j order by (x.j ->> 'alive')::boolean desc, x.last_seen_at desc)
        from (select g.last_seen_at, jsonb_build_object(
                'agent_id', g.agent_id, 'agent_type', g.agent_type, 'last_seen_at', g.last_seen_at,
                'alive', g.last_seen_at > now() - interval '2 minutes'
                         or exists (select 1 from live s where s.agent_id = g.agent_id),
                'last_heartbeat_at', (select max(s.last_heartbeat_at) from coord.sessions s where s.agent_id = g.agent_id),
                'sessions', coalesce((
                  select jsonb_agg(jsonb_build_object(
                           'session_id', case when p_admin or s.agent_id = p_viewer then s.session_id end,
                           'started_at', s.started_at, 'last_heartbeat_at', s.last_heartbeat_at,
                           'ended_at', s.ended_at,
                           'live_until', s.live_until,
                           'alive', exists (select 1 from live l where l.agent_id = s.agent_id
                                                                   and l.session_id = s.session_id))
                           order by s.started_at desc)
                    from (select * from coord.sessions s where s.agent_id = g.agent_id
                           order by s.started_at desc limit 5) s), '[]'::jsonb),
                'locks', (select count(*) from active_locks l where l.agent_id = g.agent_id),
                'lock_keys', coalesce((select jsonb_agg(l.key order by l.key)
                                         from (select key from active_locks l where l.agent_id = g.agent_id
                                                order by key limit 5) l), '[]'::jsonb),
                'claims', coalesce((select jsonb_agg(jsonb_build_object('id', t.id, 'task_type', t.task_type))
                                      from (select id, task_type from coord.tasks t
                                             where t.status = 'claimed' and t.claimed_by = g.agent_id
                                             order by t.claimed_at limit 10) t), '[]'::jsonb)) as j
                from (select * from coord.agents order by last_seen_at desc limit 100) g) x), '[]'::jsonb),
    'locks', coalesce((
      select jsonb_agg(jsonb_build_object(
               'repo', l.repo, 'key', l.key, 'agent_id', l.agent_id, 'reason', l.reason,
               'acquired_at', l.acquired_at, 'expires_at', l.expires_at,
               'holder_alive', l.session_id is null
                               or exists (select 1 from live s where s.agent_id = l.agent_id and s.session_id = l.session_id))
               order by l.repo, l.key)
        from (select * from active_locks order by repo, key limit 500) l), '[]'::jsonb),
    'lock_count', (select count(*) from active_locks),
    'queue', jsonb_build_object(
      'counts', coalesce((select jsonb_object_agg(status, n) from (select status, count(*) as n from coord.tasks group by status) c), '{}'::jsonb),
      'ready', coalesce((
        select jsonb_agg(jsonb_build_object('id', t.id, 'task_type', t.task_type, 'description', left(t.task_description, 200),
                                            'priority', t.priority, 'submitted_by', t.submitted_by,
                                            'attempts', t.attempts, 'created_at', t.created_at)
                         order by t.priority, t.created_at)
          from (select * from coord.tasks
                 where status = 'pending' and pending_deps = 0 and not_before <= now() and (deadline is null or deadline > now())
                 order by priority, created_at limit 20) t), '[]'::jsonb),
      'claimed', coalesce((
        select jsonb_agg(jsonb_build_object('id', t.id, 'task_type', t.task_type, 'description', left(t.task_description, 120),
                                            'claimed_by', t.claimed_by, 'lease_expires_at', t.lease_expires_at,
                                            'attempts', t.attempts)
                         order by t.lease_expires_at)
          from (select * from coord.tasks where status = 'claimed' order by lease_expires_at limit 50) t), '[]'::jsonb),
      'waiting', coalesce((
        select jsonb_agg(jsonb_build_object('id', t.id, 'task_type', t.task_type, 'description', left(t.task_description, 120),
                                            'pending_deps', t.pending_deps,
                                            'depends_on', (select coalesce(jsonb_agg(jsonb_build_object('id', d.id, 'task_type', d.task_type,
                                                                                                        'status', d.status)
                                                                                     order by d.created_at), '[]'::jsonb)
                                                             from coord.tasks d where d.id = any (t.depends_on)))
                         order by t.created_at)
          from (select * from coord.tasks where status = 'pending' and pending_deps > 0 order by created_at limit 30) t), '[]'::jsonb),
      'dead', coalesce((
        select jsonb_agg(jsonb_build_object('id', t.id, 'task_type', t.task_type, 'error_message', left(t.error_message, 300),
                                            'attempts', t.attempts, 'finished_at', t.finished_at)
                         order by t.finished_at desc)
          from (select * from coord.tasks where status = 'failed' order by finished_at desc nulls last limit 20) t), '[]'::jsonb)),
    'changesets', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', c.id, 'repo', c.repo, 'branch', c.branch, 'commit_sha', c.commit_sha, 'agent_id', c.agent_id,
               'tier', c.tier, 'state', c.state, 'required_tiers', to_jsonb(c.required_tiers), 'file_count', c.file_count,
               'created_at', c.created_at, 'updated_at', c.updated_at,
               'awaiting_approval', exists (select 1 from coord.verification_results r
                                             where r.changeset_id = c.id and r.status = 'awaiting_approval'),
               'results', coalesce((select jsonb_agg(jsonb_build_object('tier', r.tier, 'status', r.status, 'executor', r.executor,
                                                                        'summary', left(r.summary, 200), 'updated_at', r.updated_at)
                                                     order by r.tier)
                                      from coord.verification_results r where r.changeset_id = c.id), '[]'::jsonb))
               order by c.created_at desc)
        from (select * from coord.changesets order by created_at desc limit 30) c), '[]'::jsonb),
    'approvals', coalesce((
      select jsonb_agg(jsonb_build_object('changeset_id', c.id, 'repo', c.repo, 'commit_sha', c.commit_sha,
                                          'agent_id', c.agent_id, 'waiting_since', r.created_at)
                       order by r.created_at)
        from (select * from coord.verification_results where status = 'awaiting_approval' order by created_at limit 50) r
        join coord.changesets c on c.id = r.changeset_id), '[]'::jsonb))
$$;
comment on function coord.get_overview(text, boolean) is
  'Everything the dashboard shows, in one read: agents (alive or not, last heartbeat, what each holds), active locks, '
  'the queue (counts per status, ready, claimed, waiting on dependencies, dead-lettered), recent changesets with '
  'their evidence, and the approval queue. Bounded lists; session ids only to admins and their own agent.';
