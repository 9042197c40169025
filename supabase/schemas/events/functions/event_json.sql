create function coord.event_json(e coord.events)
returns jsonb
language sql
immutable
parallel safe
set search_path = ''
as $$
  select jsonb_build_object('id', e.id, 'occurred_at', e.occurred_at, 'kind', e.kind, 'agent_id', e.agent_id,
                            'session_id', e.session_id, 'subject', e.subject, 'data', e.data,
                            'audience', coord.event_audience(e.kind))
$$;
comment on function coord.event_json(coord.events) is
  'Internal: one event as the feed and the audit query read it, with its audience; the app cuts what a viewer may '
  'not see before it answers.';
