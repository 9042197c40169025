create function coord.get_agent_trust(p_agent_id text)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$ select coord.verification_trust_of(p_agent_id) $$;
comment on function coord.get_agent_trust(text) is 'An agent''s current (decayed) trust score and tier adjustment.';
