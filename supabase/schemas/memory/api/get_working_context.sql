create function coord.get_working_context(p_agent_id text, p_session_id text)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'session_id', p_session_id,
    'budget_tokens', coalesce((select budget_tokens from coord.working_sessions where agent_id = p_agent_id and session_id = p_session_id),
                              coord.memory_setting('working_budget_tokens', 4000)::int),
    'tokens_used', coalesce((select sum(tokens) from coord.working_items where agent_id = p_agent_id and session_id = p_session_id), 0),
    'items', coalesce((select jsonb_agg(jsonb_build_object('id', id, 'kind', kind, 'content', content, 'priority', priority,
                                                           'pinned', pinned, 'tokens', tokens, 'cut', cut)
                                        order by pinned desc, priority desc, updated_at desc, id desc)
                         from coord.working_items where agent_id = p_agent_id and session_id = p_session_id), '[]'::jsonb))
$$;
comment on function coord.get_working_context(text, text) is
  'One session''s whole working memory, pinned and most important first, newest first within a priority.';
