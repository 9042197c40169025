create function coord.event_audience(p_kind text)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case
    -- Operator events: key management, webhook deliveries, check-run syncs, retention, dashboard logins.
    when p_kind like 'key.%' or p_kind like 'webhook.%' or p_kind like 'checkrun.%' or p_kind like 'dashboard.%'
      or p_kind = 'memory.archived' then 'admin'
    -- Memory is an agent's own: private memories and working memory never reach other agents, and shared ones are
    -- found with recall, not announced.
    when p_kind like 'memory.%' then 'agent'
    else 'all'
  end
$$;
comment on function coord.event_audience(text) is
  'Who may see an event of this kind: all (every key; fencing tokens and session ids of other agents are still cut '
  'by the app), agent (the event''s own agent and admins) or admin. The one rule both the live feed and the audit '
  'query apply.';
